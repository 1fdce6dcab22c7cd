import { describe, expect, it } from 'vitest'
import { createFftPool, InThreadFft } from '../fft/pool.ts'
import { gaussian, nrmse, seededRandom } from '../fft/test-support.ts'
import { alloc } from './complex-array.ts'
import { ChannelCountError } from './errors.ts'
import { flagsOf, IS_NOISE_MEASUREMENT } from './flags.ts'
import { accumulateNoise, choleskyInverse, noisePrewhitening } from './noise-prewhitening.ts'
import { defaults, type Message, type StageContext } from './stage.ts'
import { makeAcquisition, makeHeader } from './test-acquisitions.ts'
import type { NoiseState } from './noise-prewhitening.ts'

const C = 4
// A lower-triangular mixing matrix, row-major complex: noise A z has covariance A A^H, strongly correlated.
const A = [
  [[1, 0], [0, 0], [0, 0], [0, 0]],
  [[0.8, 0.3], [0.5, 0], [0, 0], [0, 0]],
  [[0.4, -0.2], [0.3, 0.1], [0.9, 0], [0, 0]],
  [[0.1, 0.1], [-0.6, 0.2], [0.2, -0.3], [2, 0]]
]

/** channel-major noise of `samples` samples with covariance gain^2 A A^H */
function correlatedNoise (samples: number, seed: number, gain = 1): Float32Array {
  const g = gaussian(seededRandom(seed))
  const z = Array.from({ length: C }, () => Array.from({ length: samples }, () => [g() / Math.SQRT2, g() / Math.SQRT2]))
  const out = new Float32Array(2 * C * samples)
  for (let c = 0; c < C; c++) {
    for (let s = 0; s < samples; s++) {
      let re = 0
      let im = 0
      for (let d = 0; d <= c; d++) {
        const [ar, ai] = A[c][d]
        const [zr, zi] = z[d][s]
        re += ar * zr - ai * zi
        im += ar * zi + ai * zr
      }
      out[2 * (c * samples + s)] = gain * re
      out[2 * (c * samples + s) + 1] = gain * im
    }
  }
  return out
}

function covariance (data: Float32Array, samples: number): Float64Array {
  const sum = new Float64Array(2 * C * C)
  accumulateNoise(sum, data, C, samples)
  return sum.map((v) => v / samples)
}

function distanceFromIdentity (cov: Float64Array): number {
  let worst = 0
  for (let i = 0; i < C; i++) {
    for (let j = 0; j < C; j++) {
      const re = cov[2 * (i * C + j)] - (i === j ? 1 : 0)
      const im = cov[2 * (i * C + j) + 1]
      worst = Math.max(worst, Math.hypot(re, im))
    }
  }
  return worst
}

function context (): { ctx: StageContext<NoiseState>, warnings: string[] } {
  const warnings: string[] = []
  const p = defaults(noisePrewhitening.params)
  const header = makeHeader([64, 64, 1])
  return { ctx: { header, fft: new InThreadFft(), state: noisePrewhitening.init!(p, header), warn: (m) => warnings.push(m) }, warnings }
}

const noiseFlag = flagsOf(IS_NOISE_MEASUREMENT)
const p = defaults(noisePrewhitening.params)

function run (ctx: StageContext<NoiseState>, m: Message): Message[] {
  return noisePrewhitening.run(m, p, ctx) as Message[]
}

describe('noise prewhitening', () => {
  it('turns correlated noise into white noise (covariance ~ identity)', () => {
    const { ctx } = context()
    const samples = 1024
    for (let r = 0; r < 8; r++) {
      expect(run(ctx, { kind: 'acquisition', acquisition: makeAcquisition({ samples, channels: C, flags: noiseFlag, data: correlatedNoise(samples, r) }) })).toEqual([])
    }
    const fresh = correlatedNoise(8192, 99)
    expect(distanceFromIdentity(covariance(fresh, 8192))).toBeGreaterThan(1) // far from white before
    const [out] = run(ctx, { kind: 'acquisition', acquisition: makeAcquisition({ samples: 8192, channels: C, data: fresh }) })
    if (out.kind !== 'acquisition') throw new Error('expected an acquisition')
    expect(distanceFromIdentity(covariance(out.acquisition.data, 8192))).toBeLessThan(0.06)
  })

  it('whitens its own noise samples to the identity exactly', () => {
    const { ctx } = context()
    const noise = correlatedNoise(2048, 5)
    run(ctx, { kind: 'acquisition', acquisition: makeAcquisition({ samples: 2048, channels: C, flags: noiseFlag, data: noise }) })
    const [out] = run(ctx, { kind: 'acquisition', acquisition: makeAcquisition({ samples: 2048, channels: C, data: noise }) })
    if (out.kind !== 'acquisition') throw new Error('expected an acquisition')
    expect(distanceFromIdentity(covariance(out.acquisition.data, 2048))).toBeLessThan(1e-5)
    expect(out.acquisition.data).not.toBe(noise) // input untouched
  })

  it('writes over an owned readout and gives the same samples as a copy would, keeping it owned', () => {
    const { ctx } = context()
    run(ctx, { kind: 'acquisition', acquisition: makeAcquisition({ samples: 2048, channels: C, flags: noiseFlag, data: correlatedNoise(2048, 7) }) })
    const shared = correlatedNoise(512, 8)
    const [copied] = run(ctx, { kind: 'acquisition', acquisition: makeAcquisition({ samples: 512, channels: C, data: shared }) })
    const owned = shared.slice()
    const [inPlace] = run(ctx, { kind: 'acquisition', acquisition: makeAcquisition({ samples: 512, channels: C, data: owned }), owned: true })
    if (copied.kind !== 'acquisition' || inPlace.kind !== 'acquisition') throw new Error('expected acquisitions')
    expect(shared).toEqual(correlatedNoise(512, 8)) // not owned: untouched
    expect(inPlace.acquisition.data).toBe(owned)
    expect(inPlace.owned).toBe(true)
    expect(Array.from(inPlace.acquisition.data)).toEqual(Array.from(copied.acquisition.data))
  })

  it('scales by sqrt(dwell data / dwell noise) when the noise was sampled at another bandwidth', () => {
    const { ctx } = context()
    run(ctx, { kind: 'acquisition', acquisition: makeAcquisition({ samples: 8192, channels: C, flags: noiseFlag, sampleTimeUs: 10, data: correlatedNoise(8192, 1) }) })
    // twice the bandwidth: twice the noise variance
    const data = correlatedNoise(8192, 2, Math.SQRT2)
    const [out] = run(ctx, { kind: 'acquisition', acquisition: makeAcquisition({ samples: 8192, channels: C, sampleTimeUs: 5, data }) })
    if (out.kind !== 'acquisition') throw new Error('expected an acquisition')
    expect(distanceFromIdentity(covariance(out.acquisition.data, 8192))).toBeLessThan(0.06)
  })

  it('whitens whole buffers [X, Y, Z, C] like their readouts, on the pool', async () => {
    const { ctx } = context()
    run(ctx, { kind: 'acquisition', acquisition: makeAcquisition({ samples: 4096, channels: C, flags: noiseFlag, sampleTimeUs: 10, data: correlatedNoise(4096, 11) }) })
    const data = correlatedNoise(6 * 5 * 2, 12)
    const perReadout = run(ctx, { kind: 'acquisition', acquisition: makeAcquisition({ samples: 60, channels: C, sampleTimeUs: 5, data }) })[0]
    const meta = { sampleTimeUs: 5 } as never
    const pool = createFftPool({ size: 2, minParallelElements: 1 })
    try {
      const array = alloc([6, 5, 2, C], { shared: true })
      array.data.set(data)
      const [out] = await noisePrewhitening.run({ kind: 'buffer', domain: 'kspace', array, meta }, p, { ...ctx, fft: pool })
      if (out.kind !== 'buffer' || perReadout.kind !== 'acquisition') throw new Error('expected a buffer')
      expect(out.array.data).toBe(array.data) // in place
      expect(nrmse(out.array.data, perReadout.acquisition.data)).toBeLessThan(1e-6)
    } finally {
      await pool.close()
    }
  })

  it('passes everything through without noise readouts, and buffers in any case', () => {
    const { ctx } = context()
    const m: Message = { kind: 'acquisition', acquisition: makeAcquisition({ samples: 8, channels: C }) }
    expect(run(ctx, m)[0]).toBe(m)
    const image: Message = { kind: 'image', dims: [1, 1, 1], pixels: new Float32Array(1), meta: {} as never }
    expect(run(ctx, image)[0]).toBe(image)
  })

  it('reports a covariance that is not positive definite and leaves the data alone', () => {
    const { ctx, warnings } = context()
    const noise = correlatedNoise(256, 3)
    noise.fill(0, 2 * 2 * 256, 2 * 3 * 256) // channel 2 dead
    run(ctx, { kind: 'acquisition', acquisition: makeAcquisition({ samples: 256, channels: C, flags: noiseFlag, data: noise }) })
    const m: Message = { kind: 'acquisition', acquisition: makeAcquisition({ samples: 8, channels: C }) }
    expect(run(ctx, m)[0]).toBe(m)
    expect(warnings[0]).toMatch(/not positive definite/)
  })

  it('refuses data with another number of channels than the noise', () => {
    const { ctx } = context()
    run(ctx, { kind: 'acquisition', acquisition: makeAcquisition({ samples: 256, channels: C, flags: noiseFlag, data: correlatedNoise(256, 4) }) })
    expect(() => run(ctx, { kind: 'acquisition', acquisition: makeAcquisition({ samples: 8, channels: 2 }) })).toThrow(ChannelCountError)
  })

  it('inverts the Cholesky factor: W Psi W^H = I', () => {
    const psi = covariance(correlatedNoise(512, 8), 512)
    const w = choleskyInverse(psi, C)!
    // W Psi W^H
    const at = (m: Float64Array, i: number, j: number): [number, number] => [m[2 * (i * C + j)], m[2 * (i * C + j) + 1]]
    for (let i = 0; i < C; i++) {
      for (let j = 0; j < C; j++) {
        let re = 0
        let im = 0
        for (let k = 0; k < C; k++) {
          for (let l = 0; l < C; l++) {
            const [ar, ai] = at(w, i, k)
            const [br, bi] = at(psi, k, l)
            const [cr, ci] = at(w, j, l) // conj
            const tr = ar * br - ai * bi
            const ti = ar * bi + ai * br
            re += tr * cr + ti * ci
            im += ti * cr - tr * ci
          }
        }
        expect(re).toBeCloseTo(i === j ? 1 : 0, 10)
        expect(im).toBeCloseTo(0, 10)
      }
    }
  })
})
