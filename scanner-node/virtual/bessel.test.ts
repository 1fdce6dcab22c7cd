import { describe, expect, it } from 'vitest'
import { besselJ1, besselJ1Exact, besselJ1OverX } from './bessel.ts'

/** Bessel's integral J1(x) = (1/π)∫₀^π cos(τ − x sin τ) dτ; the midpoint rule converges geometrically for this periodic integrand. */
function besselIntegral (x: number): number {
  const n = 4000
  let sum = 0
  for (let i = 0; i < n; i++) {
    const tau = (Math.PI * (i + 0.5)) / n
    sum += Math.cos(tau - x * Math.sin(tau))
  }
  return sum / n
}

describe('besselJ1', () => {
  it('matches tabulated values (Abramowitz & Stegun table 9.1, and 10-digit references)', () => {
    expect(besselJ1(1)).toBeCloseTo(0.4400505857, 10)
    expect(besselJ1(5)).toBeCloseTo(-0.3275791376, 10)
    expect(besselJ1(2)).toBeCloseTo(0.5767248078, 10)
    expect(besselJ1(10)).toBeCloseTo(0.0434727462, 10)
    expect(besselJ1(20)).toBeCloseTo(0.0668331242, 10)
    expect(besselJ1(50)).toBeCloseTo(-0.0975118281, 10)
    expect(besselJ1(100)).toBeCloseTo(-0.0771453520, 10)
  })

  it('vanishes at its first zeros', () => {
    for (const zero of [3.8317059702075125, 7.015586669815619, 10.173468135062722, 13.323691936314223]) {
      expect(Math.abs(besselJ1(zero))).toBeLessThan(1e-14)
    }
    expect(besselJ1(3.8316)).toBeGreaterThan(0)
    expect(besselJ1(3.8318)).toBeLessThan(0)
  })

  it('agrees with Bessel\'s integral to 1e-13 from 0 to 400, on both sides of each branch (20, 40)', () => {
    let worst = 0
    for (let x = 0; x < 400; x += 0.173) worst = Math.max(worst, Math.abs(besselJ1(x) - besselIntegral(x)))
    for (const x of [19.999999, 20, 20.000001, 39.999999, 40, 40.000001]) {
      worst = Math.max(worst, Math.abs(besselJ1(x) - besselIntegral(x)), Math.abs(besselJ1Exact(x) - besselIntegral(x)))
    }
    expect(worst).toBeLessThan(1e-13)
  })

  it('reads its table as accurately as the exact methods it was fitted to', () => {
    let worst = 0
    for (let x = 0; x < 40; x += 0.0071) worst = Math.max(worst, Math.abs(besselJ1(x) - besselJ1Exact(x)))
    expect(worst).toBeLessThan(5e-15)
  })

  it('is odd and small near zero', () => {
    expect(besselJ1(-5)).toBe(-besselJ1(5))
    expect(besselJ1(0)).toBe(0)
    expect(besselJ1(1e-9)).toBeCloseTo(5e-10, 20)
  })

  it('gives J1(x)/x with the limit 1/2 at 0', () => {
    expect(besselJ1OverX(0)).toBe(0.5)
    expect(besselJ1OverX(1e-5)).toBeCloseTo(0.5, 10)
    expect(besselJ1OverX(2)).toBeCloseTo(0.5767248078 / 2, 10)
    expect(besselJ1OverX(-2)).toBeCloseTo(0.5767248078 / 2, 10)
  })
})
