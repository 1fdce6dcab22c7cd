import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { hasTool } from '../../test/support/external-tools.ts'
import { crossSection, phantomDc, phantomKspace, shapeKspace, shapesFor, sphereProfile } from './kspace.ts'
import type { Complex } from './kspace.ts'
import { discPhantom, sheppLogan2d, sheppLogan3d, TISSUES } from './phantom.ts'
import type { ContrastTiming, Ellipse, Ellipsoid, Phantom2D, Phantom3D } from './phantom.ts'

const PLAIN: ContrastTiming = { kind: 'OTHER', teS: 0, trS: 1, flipAngleDeg: 90 }

function ellipsePhantom (e: Ellipse): Phantom2D {
  return { dimensions: 2, name: 'one', ellipses: [e], heightM: 0.1 }
}

/** Brute-force ∫ρ(r)exp(−i2πk·r)dr over a fine grid: an independent check of the closed forms. */
function numericTransform2d (e: Ellipse, kx: number, ky: number, n = 800): Complex {
  const reach = Math.max(...e.semiAxesM) + Math.hypot(...e.centreM)
  const h = (2 * reach) / n
  let re = 0
  let im = 0
  const c = Math.cos(e.angleRad)
  const s = Math.sin(e.angleRad)
  for (let j = 0; j < n; j++) {
    const y = -reach + (j + 0.5) * h
    for (let i = 0; i < n; i++) {
      const x = -reach + (i + 0.5) * h
      const dx = x - e.centreM[0]
      const dy = y - e.centreM[1]
      const u = (dx * c + dy * s) / e.semiAxesM[0]
      const v = (-dx * s + dy * c) / e.semiAxesM[1]
      if (u * u + v * v > 1) continue
      const phi = -2 * Math.PI * (kx * x + ky * y)
      re += Math.cos(phi)
      im += Math.sin(phi)
    }
  }
  return { re: re * h * h * (e.intensity ?? 1), im: im * h * h * (e.intensity ?? 1) }
}

function at (phantom: Phantom2D | Phantom3D, kx: number, ky: number, kz = 0): Complex {
  const r = phantomKspace(phantom, { kx: [kx], ky: [ky], kz: [kz], tS: [0] }, { timing: PLAIN })
  return { re: r.re[0], im: r.im[0] }
}

describe('analytic k-space of an ellipse', () => {
  it('equals π·a·b·ρ at k = 0', () => {
    const e: Ellipse = { centreM: [0.01, -0.02], semiAxesM: [0.03, 0.05], angleRad: 0.4, intensity: 0.7 }
    const s = at(ellipsePhantom(e), 0, 0)
    expect(s.re).toBeCloseTo(Math.PI * 0.03 * 0.05 * 0.7, 15)
    expect(s.im).toBeCloseTo(0, 15)
  })

  it('matches a brute-force Fourier integral of a shifted, rotated ellipse (cycles per metre, metres)', () => {
    const e: Ellipse = { centreM: [0.02, -0.01], semiAxesM: [0.04, 0.015], angleRad: 0.5, intensity: 1 }
    for (const [kx, ky] of [[0, 0], [10, 0], [0, -17], [23, 31], [-40, 12]]) {
      const exact = at(ellipsePhantom(e), kx, ky)
      const numeric = numericTransform2d(e, kx, ky)
      const scale = Math.PI * 0.04 * 0.015
      expect(Math.abs(exact.re - numeric.re) / scale).toBeLessThan(2e-3)
      expect(Math.abs(exact.im - numeric.im) / scale).toBeLessThan(2e-3)
    }
  })

  it('has its first zero where J1 has, at 2πκ = 3.8317', () => {
    const e: Ellipse = { centreM: [0, 0], semiAxesM: [0.05, 0.02], angleRad: 0, intensity: 1 }
    const kZero = 3.8317059702075125 / (2 * Math.PI * 0.05)
    expect(Math.abs(at(ellipsePhantom(e), kZero, 0).re)).toBeLessThan(1e-15)
  })
})

describe('analytic k-space of an ellipsoid', () => {
  it('equals (4/3)π·abc·ρ at k = 0, and its profile is smooth through the series branch', () => {
    const e: Ellipsoid = { centreM: [0.01, 0, -0.02], semiAxesM: [0.03, 0.04, 0.05], angleRad: 0.3, intensity: 2 }
    const p: Phantom3D = { dimensions: 3, name: 'one', ellipsoids: [e] }
    expect(at(p, 0, 0, 0).re).toBeCloseTo((4 / 3) * Math.PI * 0.03 * 0.04 * 0.05 * 2, 15)
    expect(Math.abs(sphereProfile(0.05 - 1e-9) - sphereProfile(0.05 + 1e-9))).toBeLessThan(1e-10)
    expect(sphereProfile(0)).toBe(1 / 3)
  })

  it('shows a sphere\'s z profile: the transform along kz of a centred sphere equals that along kx', () => {
    const p = discPhantom({ radiusM: 0.05, dimensions: 3, tissue: TISSUES.water })
    const x = phantomKspace(p, { kx: [13], ky: [0], kz: [0], tS: [0] }, { timing: PLAIN })
    const z = phantomKspace(p, { kx: [0], ky: [0], kz: [13], tS: [0] }, { timing: PLAIN })
    expect(z.re[0]).toBeCloseTo(x.re[0], 15)
  })

  it('cuts an ellipsoid into the ellipse of a slice, and a 2D phantom into a slab in 3D', () => {
    const e: Ellipsoid = { centreM: [0, 0, 0.01], semiAxesM: [0.03, 0.04, 0.05], angleRad: 0 }
    const [a, b] = crossSection(e, 0.01 + 0.03) ?? [0, 0]
    expect(a).toBeCloseTo(0.03 * 0.8, 12)
    expect(b).toBeCloseTo(0.04 * 0.8, 12)
    expect(crossSection(e, 0.07)).toBeUndefined()
    const disc = discPhantom({ radiusM: 0.05, heightM: 0.08 })
    const [slab] = shapesFor(disc, 3)
    const out = { re: 0, im: 0 }
    expect(shapeKspace(slab, 0, 0, 0, out).re).toBeCloseTo(Math.PI * 0.05 * 0.05 * 0.08, 15)
    expect(Math.abs(shapeKspace(slab, 0, 0, 1 / 0.08, out).re)).toBeLessThan(1e-16)
  })
})

describe('tissue weighting and off-resonance in k-space', () => {
  it('weights k = 0 by the tissues and replaces the tissue underneath (phantomDc)', () => {
    const gre: ContrastTiming = { kind: 'GRE', teS: 0.005, trS: 0.1, flipAngleDeg: 20 }
    const p = sheppLogan2d({ radiusM: 0.1 })
    const s = phantomKspace(p, { kx: [0], ky: [0], kz: [0], tS: [gre.teS] }, { timing: gre })
    expect(s.re[0]).toBeCloseTo(phantomDc(p, gre), 14)
  })

  it('turns the phase of each sample by 2π·Δf·t', () => {
    const p = discPhantom({ radiusM: 0.05 })
    const t = [0, 0.001, 0.0025]
    const s = phantomKspace(p, { kx: [0, 0, 0], ky: [0, 0, 0], kz: [0, 0, 0], tS: t }, { timing: PLAIN, offResonanceHz: 100 })
    for (let i = 0; i < 3; i++) expect(Math.atan2(s.im[i], s.re[i])).toBeCloseTo(Math.atan2(Math.sin(2 * Math.PI * 100 * t[i]), Math.cos(2 * Math.PI * 100 * t[i])), 12)
  })
})

// BART's `phantom -k` (src/simu/phantom.c kkernel, src/simu/shepplogan.c kellipsis, kellipsis3d), as
// read in its source and confirmed here:
// - Cartesian sample (i, j, l) lies at K = ((i − N/2)/2, (j − N/2)/2, (l − N/2)/2) cycles per table unit:
//   the image spans [−1, 1) table units, FOV = 2 units.
// - BART turns the table by 90° (p90 = (−K1, K0, K2)), so, with table units of L metres, BART's axes
//   (dim0, dim1, dim2) are our (−y, x, −z): our k = (K1, −K0, −K2)/L.
// - Values: 2D: a·b·jinc(2πκ)·exp(+i2π p90·c)·2/√(2π), jinc(x) = 2J1(x)/x, so BART = S·2/(π√(2π))/L².
//   3D: abc·(sin u − u cos u)/u³·exp(…)·√(8/π), so BART = S·√(8/π)/(4π)/L³.
// - BART 0.8's 3D kernel evaluates the shape term of an off-centre ellipsoid at k + centre instead of k
//   (the centre is added before the rotation), so its 3D k-space is not exactly the transform of its own
//   image: for the 3D Shepp-Logan at 16³ this leaves an NRMSE of 1.4% against the exact transform.
function readCfl (base: string): { dims: number[], data: Float32Array } {
  const dims = readFileSync(`${base}.hdr`, 'utf8').split('\n')[1].trim().split(/\s+/).map(Number)
  const bytes = readFileSync(`${base}.cfl`)
  return { dims, data: new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4) }
}

function nrmse (ours: { re: Float64Array, im: Float64Array }, theirs: Float32Array, scale: number): number {
  let num = 0
  let den = 0
  for (let p = 0; p < ours.re.length; p++) {
    num += (ours.re[p] * scale - theirs[2 * p]) ** 2 + (ours.im[p] * scale - theirs[2 * p + 1]) ** 2
    den += theirs[2 * p] ** 2 + theirs[2 * p + 1] ** 2
  }
  return Math.sqrt(num / den)
}

describe('against BART', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scanhub-virtual-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const L = 0.12

  it.skipIf(!hasTool('bart'))('matches `bart phantom -k -x 64` (modified Shepp-Logan) to float precision', () => {
    const n = 64
    execFileSync('bart', ['phantom', '-k', '-x', String(n), join(dir, 'k2')])
    const bart = readCfl(join(dir, 'k2'))
    expect(bart.dims.slice(0, 3)).toEqual([n, n, 1])
    const kx = new Float64Array(n * n)
    const ky = new Float64Array(n * n)
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < n; i++) {
        kx[j * n + i] = (j - n / 2) / 2 / L
        ky[j * n + i] = -(i - n / 2) / 2 / L
      }
    }
    const ours = phantomKspace(sheppLogan2d({ radiusM: L, contrast: 'table' }), { kx, ky, kz: new Float64Array(n * n), tS: new Float64Array(n * n) }, { timing: PLAIN })
    expect(nrmse(ours, bart.data, 2 / (Math.PI * Math.sqrt(2 * Math.PI)) / L ** 2)).toBeLessThan(1e-6)
  })

  it.skipIf(!hasTool('bart'))('matches `bart phantom -3 -k -x 16` (3D Shepp-Logan) within BART\'s own 3D deviation', () => {
    const n = 16
    execFileSync('bart', ['phantom', '-3', '-k', '-x', String(n), join(dir, 'k3')])
    const bart = readCfl(join(dir, 'k3'))
    expect(bart.dims.slice(0, 3)).toEqual([n, n, n])
    const total = n * n * n
    const kx = new Float64Array(total)
    const ky = new Float64Array(total)
    const kz = new Float64Array(total)
    for (let l = 0; l < n; l++) {
      for (let j = 0; j < n; j++) {
        for (let i = 0; i < n; i++) {
          const p = (l * n + j) * n + i
          kx[p] = (j - n / 2) / 2 / L
          ky[p] = -(i - n / 2) / 2 / L
          kz[p] = -(l - n / 2) / 2 / L
        }
      }
    }
    const ours = phantomKspace(sheppLogan3d({ radiusM: L, contrast: 'table' }), { kx, ky, kz, tS: new Float64Array(total) }, { timing: PLAIN })
    const error = nrmse(ours, bart.data, Math.sqrt(8 / Math.PI) / (4 * Math.PI) / L ** 3)
    expect(error).toBeLessThan(0.05)
    expect(error).toBeGreaterThan(0.005) // BART's centre shift (see above); if this fails, BART was fixed: tighten the bound
  })
})

describe('an excited slab', () => {
  it('keeps ellipsoids inside it whole, drops those outside, and steps those its faces cut', () => {
    const inside: Ellipsoid = { centreM: [0, 0, 0], semiAxesM: [0.02, 0.02, 0.01], angleRad: 0, intensity: 1 }
    const outside: Ellipsoid = { centreM: [0, 0, 0.05], semiAxesM: [0.02, 0.02, 0.01], angleRad: 0, intensity: 1 }
    const cut: Ellipsoid = { centreM: [0, 0, 0.01], semiAxesM: [0.03, 0.03, 0.03], angleRad: 0, intensity: 1 }
    const phantom: Phantom3D = { dimensions: 3, name: 'three', ellipsoids: [inside, outside, cut] }
    const slab = { centreM: 0, thicknessM: 0.03, stepM: 0.001 }
    const shapes = shapesFor(phantom, 3, 0, slab)
    expect(shapes.filter((s) => s.source === inside)).toHaveLength(1)
    expect(shapes.filter((s) => s.source === outside)).toHaveLength(0)
    // the cut one spans −0.02..0.04, the slab −0.015..0.015: 30 steps of 1 mm between its faces
    expect(shapes.filter((s) => s.source === cut)).toHaveLength(30)
    // at k = 0: the volumes inside the slab, the cut one π·a²·∫(1 − (z − z0)²/c²)dz over the slab, within the steps' error
    const k0 = phantomKspace(phantom, { kx: [0], ky: [0], kz: [0], tS: [0] }, { timing: PLAIN, encoding: 3, slab }).re[0]
    const capped = (z: number): number => Math.PI * 0.03 ** 2 * (z - (z - 0.01) ** 3 / (3 * 0.03 ** 2))
    expect(k0 / ((4 / 3) * Math.PI * 0.02 * 0.02 * 0.01 + capped(0.015) - capped(-0.015))).toBeCloseTo(1, 3)
  })
})
