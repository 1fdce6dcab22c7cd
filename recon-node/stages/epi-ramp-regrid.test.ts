import { describe, expect, it } from 'vitest'
import { InThreadFft } from '../fft/pool.ts'
import { nrmse } from '../fft/test-support.ts'
import { epiRampRegrid, gridStep, RampRegridError, type RampRegridState } from './epi-ramp-regrid.ts'
import { ReconRefusedError } from './errors.ts'
import { flagsOf, IS_NOISE_MEASUREMENT, IS_REVERSE } from './flags.ts'
import { defaults, type AcquisitionMessage, type Message, type ReconHeader, type StageContext } from './stage.ts'
import { makeAcquisition, makeHeader } from './test-acquisitions.ts'

// A 1-D object of Gaussian blobs, x in mm: its k-space (k in cycles/mm) is analytic,
// S(k) = Σ A σ√(2π) exp(−2π²σ²k²) exp(−i2π k x0).
const BLOBS = [
  { x0: -40, sigma: 4, re: 1, im: 0.3 },
  { x0: 12, sigma: 2.5, re: 0.6, im: -0.5 },
  { x0: 55, sigma: 6, re: -0.4, im: 0.8 }
]

function objectK (k: number): [number, number] {
  let re = 0
  let im = 0
  for (const b of BLOBS) {
    const m = b.sigma * Math.sqrt(2 * Math.PI) * Math.exp(-2 * Math.PI * Math.PI * b.sigma * b.sigma * k * k)
    const phi = -2 * Math.PI * k * b.x0
    re += m * (b.re * Math.cos(phi) - b.im * Math.sin(phi))
    im += m * (b.re * Math.sin(phi) + b.im * Math.cos(phi))
  }
  return [re, im]
}

const RECON_FOV = 256
const RECON_MATRIX = 64
const DX = RECON_FOV / RECON_MATRIX

/** Readout oversampling 2: 128 samples over the same kx extent as the 64 of the recon matrix. */
const HEADER: ReconHeader = makeHeader([128, 64, 1], [64, 64, 1], { encoded: [512, 256, 5], recon: [256, 256, 5] })

/**
 * Normalised kx (k·Δx) of `count` samples at uniform times across a trapezoidal gradient with ramps of
 * `rampFraction` of the readout on each side, from −kmax to +kmax.
 */
function trapezoidKx (count: number, rampFraction: number, kmax: number): Float64Array {
  const ramp = rampFraction
  const flat = 1 - 2 * ramp
  const area = ramp + flat
  const integral = (t: number): number => {
    if (t <= ramp) return t * t / (2 * ramp)
    if (t <= ramp + flat) return ramp / 2 + (t - ramp)
    const left = 1 - t
    return area - left * left / (2 * ramp)
  }
  const kx = new Float64Array(count)
  for (let s = 0; s < count; s++) kx[s] = -kmax + 2 * kmax * integral((s + 0.5) / count) / area
  return kx
}

/** A readout (channels alike up to a complex factor per channel) at these normalised kx, with its trajectory. */
function readoutAt (kx: ArrayLike<number>, channels: number, flags = 0n, ky = 0): AcquisitionMessage {
  const n = kx.length
  const acq = makeAcquisition({ samples: n, channels, flags })
  const traj = new Float32Array(2 * n)
  for (let s = 0; s < n; s++) {
    traj[2 * s] = kx[s]
    traj[2 * s + 1] = ky
    const [re, im] = objectK(kx[s] / DX)
    for (let c = 0; c < channels; c++) {
      const wr = 1 + 0.2 * c
      const wi = -0.3 * c
      acq.data[2 * (c * n + s)] = wr * re - wi * im
      acq.data[2 * (c * n + s) + 1] = wr * im + wi * re
    }
  }
  acq.head.trajectoryDimensions = 2
  acq.traj = traj
  return { kind: 'acquisition', acquisition: acq }
}

/** The readout sampled on the uniform grid of `n` samples, k = 0 at floor(n/2), ascending kx. */
function uniformReadout (n: number, step: number, channels: number): Float32Array {
  const kx = Array.from({ length: n }, (_, j) => (j - Math.floor(n / 2)) * step)
  return readoutAt(kx, channels).acquisition.data
}

function ctx (header: ReconHeader = HEADER, warnings: string[] = []): StageContext<RampRegridState> {
  return { header, fft: new InThreadFft(), state: epiRampRegrid.init!(defaults(epiRampRegrid.params), header), warn: (m) => warnings.push(m) }
}

function run (message: Message, context: StageContext<RampRegridState>): AcquisitionMessage {
  const out = epiRampRegrid.run(message, defaults(epiRampRegrid.params), context) as Message[]
  expect(out).toHaveLength(1)
  const m = out[0]
  if (m.kind !== 'acquisition') throw new Error('expected an acquisition')
  return m
}

/** Samples in accumulate's order: IS_REVERSE readouts flipped. */
function placed (data: Float32Array, n: number, channels: number, reverse: boolean): Float32Array {
  if (!reverse) return data
  const out = new Float32Array(data.length)
  for (let c = 0; c < channels; c++) {
    for (let s = 0; s < n; s++) {
      out[2 * (c * n + s)] = data[2 * (c * n + n - 1 - s)]
      out[2 * (c * n + s) + 1] = data[2 * (c * n + n - 1 - s) + 1]
    }
  }
  return out
}

describe('epi-ramp-regrid', () => {
  it('derives the grid step from the fields of view: 1/(2·reconMatrix) with readout oversampling 2', () => {
    expect(gridStep(HEADER)).toBeCloseTo(1 / 128, 12)
    expect(gridStep(makeHeader([64, 64, 1]))).toBeCloseTo(1 / 64, 12)
  })

  it.each([
    ['forward', false],
    ['reversed (IS_REVERSE, +kx to −kx)', true]
  ])('regrids a ramp-sampled readout onto the uniform one: %s', (_name, reverse) => {
    const channels = 3
    const kx = trapezoidKx(180, 0.2, 0.5)
    const acquired = reverse ? kx.slice().reverse() : kx
    const input = readoutAt(acquired, channels, reverse ? flagsOf(IS_REVERSE) : 0n, 0.1)
    const before = input.acquisition.data.slice()
    const out = run(input, ctx())
    const head = out.acquisition.head
    expect(head.numberOfSamples).toBe(128)
    expect(head.centerSample).toBe(64)
    expect(head.trajectoryDimensions).toBe(0)
    expect(out.acquisition.traj).toHaveLength(0)
    expect(head.flags).toBe(input.acquisition.head.flags)
    // the input is not modified
    expect(input.acquisition.data).toEqual(before)
    expect(input.acquisition.head.numberOfSamples).toBe(180)
    const expected = uniformReadout(128, 1 / 128, channels)
    const got = placed(out.acquisition.data, 128, channels, reverse)
    const error = nrmse(got, expected)
    expect(error).toBeLessThan(1e-3) // measured 1.3e-4
    // a plain linear interpolation in kx is an order of magnitude worse: the test can tell
    expect(error).toBeLessThan(linearInterpolationError(kx, channels, expected) / 10) // linear: 2.5e-2
  })

  it.each([
    ['forward', false],
    ['reversed, counted from the reversed end as accumulate does', true]
  ])('leaves discard_pre/post samples out of the fit: %s', (_name, reverse) => {
    const kx = trapezoidKx(180, 0.2, 0.5)
    const acquired = reverse ? kx.slice().reverse() : kx
    const flags = reverse ? flagsOf(IS_REVERSE) : 0n
    const input = readoutAt(acquired, 2, flags)
    input.acquisition.head.discardPre = 4
    input.acquisition.head.discardPost = 3
    // the same readout with those samples cut off: discard_pre from the start of accumulate's order
    const [first, last] = reverse ? [3, 180 - 4] : [4, 180 - 3]
    const cut = readoutAt(acquired.slice(first, last), 2, flags)
    const out = run(input, ctx())
    expect(out.acquisition.head.discardPre).toBe(0)
    expect(out.acquisition.head.discardPost).toBe(0)
    expect(nrmse(out.acquisition.data, run(cut, ctx()).acquisition.data)).toBeLessThan(1e-6)
    // and the kept samples still give the uniform readout
    expect(nrmse(placed(out.acquisition.data, 128, 2, reverse), uniformReadout(128, 1 / 128, 2))).toBeLessThan(1e-3)
  })

  it('leaves uniformly sampled readouts as they are (to float rounding)', () => {
    const kx = Array.from({ length: 128 }, (_, j) => (j - 64) / 128)
    const input = readoutAt(kx, 2)
    const out = run(input, ctx())
    expect(nrmse(out.acquisition.data, input.acquisition.data)).toBeLessThan(1e-4)
  })

  it('passes readouts without trajectory and noise readouts through', () => {
    const plain: Message = { kind: 'acquisition', acquisition: makeAcquisition({ samples: 64, channels: 2 }) }
    expect(epiRampRegrid.run(plain, defaults(epiRampRegrid.params), ctx())).toEqual([plain])
    const noise = readoutAt(trapezoidKx(180, 0.2, 0.5), 2, flagsOf(IS_NOISE_MEASUREMENT))
    expect(epiRampRegrid.run(noise, defaults(epiRampRegrid.params), ctx())).toEqual([noise])
  })

  it('builds the operator once per trajectory', () => {
    const context = ctx()
    const kx = trapezoidKx(180, 0.2, 0.5)
    for (let line = 0; line < 4; line++) run(readoutAt(line % 2 === 0 ? kx : kx.slice().reverse(), 1, line % 2 === 0 ? 0n : flagsOf(IS_REVERSE), line * 0.01), context)
    expect(context.state.operators.size).toBe(2)
  })

  it('warns when the trajectory runs against the IS_REVERSE flag', () => {
    const warnings: string[] = []
    run(readoutAt(trapezoidKx(180, 0.2, 0.5).reverse(), 1), ctx(HEADER, warnings))
    expect(warnings.join('\n')).toMatch(/IS_REVERSE is not set/)
  })

  it('refuses samples sparser than the encoded field of view needs', () => {
    // 100 samples over the extent of 128 grid steps
    const input = readoutAt(trapezoidKx(100, 0.1, 0.5), 1)
    expect(() => run(input, ctx())).toThrow(RampRegridError)
    expect(() => run(input, ctx())).toThrow(ReconRefusedError)
    expect(() => run(input, ctx())).toThrow(/grid steps apart.*needs at most 1/)
  })

  it('refuses readouts that are not Cartesian lines (ky changes along the readout)', () => {
    const kx = trapezoidKx(180, 0.2, 0.5)
    const input = readoutAt(kx, 1)
    for (let s = 0; s < kx.length; s++) input.acquisition.traj[2 * s + 1] = kx[s] // a radial spoke at 45°
    expect(() => run(input, ctx())).toThrow(RampRegridError)
    expect(() => run(input, ctx())).toThrow(/not a Cartesian line/)
  })
})

/** nrmse of linear interpolation of the acquired samples onto the grid (what a naive stage would do). */
function linearInterpolationError (kx: Float64Array, channels: number, expected: Float32Array): number {
  const acquired = readoutAt(kx, channels).acquisition.data
  const n = 128
  const order = Array.from(kx.keys()).sort((a, b) => kx[a] - kx[b])
  const out = new Float32Array(2 * n * channels)
  for (let j = 0; j < n; j++) {
    const k = (j - 64) / 128
    let i = 0
    while (i < order.length - 2 && kx[order[i + 1]] < k) i++
    const a = order[i]
    const b = order[i + 1]
    const f = Math.min(1, Math.max(0, (k - kx[a]) / (kx[b] - kx[a])))
    for (let c = 0; c < channels; c++) {
      const m = kx.length
      out[2 * (c * n + j)] = (1 - f) * acquired[2 * (c * m + a)] + f * acquired[2 * (c * m + b)]
      out[2 * (c * n + j) + 1] = (1 - f) * acquired[2 * (c * m + a) + 1] + f * acquired[2 * (c * m + b) + 1]
    }
  }
  return nrmse(out, expected)
}
