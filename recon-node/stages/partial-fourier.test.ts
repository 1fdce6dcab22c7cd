import { describe, expect, it } from 'vitest'
import { fftc, ifftc } from '../fft/fftn.ts'
import { createFftPool, InThreadFft, type FftRunner } from '../fft/pool.ts'
import { nrmse } from '../fft/test-support.ts'
import { rssCoils } from './coil-combine-rss.ts'
import { alloc, type ComplexArray, type Dims } from './complex-array.ts'
import { ReconRefusedError } from './errors.ts'
import { partialFourier, PartialFourierError } from './partial-fourier.ts'
import { defaults, type BufferMessage, type BufferMeta, type Message, type ParamValues } from './stage.ts'

type Params = ParamValues<typeof partialFourier.params>

/**
 * Coil images of an object with sharp edges (two ellipses and a bar) and a smooth phase, seen by coils
 * with smooth complex sensitivities: [nx, ny, nz, coils].
 */
function objectImages (dims: Dims): ComplexArray {
  const [nx, ny, nz, coils] = dims
  const out = alloc(dims)
  for (let c = 0; c < coils; c++) {
    const angle = (2 * Math.PI * c) / coils
    for (let z = 0; z < nz; z++) {
      for (let y = 0; y < ny; y++) {
        for (let x = 0; x < nx; x++) {
          const u = (x - nx / 2) / nx
          const v = (y - ny / 2) / ny
          const w = nz > 1 ? (z - nz / 2) / nz : 0
          let m = 0
          if ((u / 0.38) ** 2 + (v / 0.42) ** 2 + (w / 0.45) ** 2 < 1) m += 1
          if (((u - 0.1) / 0.12) ** 2 + ((v + 0.15) / 0.08) ** 2 < 1) m += 0.8
          if (Math.abs(u + 0.15) < 0.04 && Math.abs(v - 0.1) < 0.2) m -= 0.5
          const phase = 1.2 * u - 0.9 * v + 2 * (u * u + v * v) + 0.5 * w + 0.4
          const sensitivity = 1 + 0.6 * Math.cos(2 * Math.PI * (u * Math.cos(angle) + v * Math.sin(angle)))
          const coilPhase = 1.5 * (u * Math.sin(angle) - v * Math.cos(angle))
          const i = 2 * (x + nx * (y + ny * (z + nz * c)))
          out.data[i] = m * sensitivity * Math.cos(phase + coilPhase)
          out.data[i + 1] = m * sensitivity * Math.sin(phase + coilPhase)
        }
      }
    }
  }
  return out
}

function meta (sampled: Uint8Array): BufferMeta {
  return {
    slice: 0, contrast: 0, phase: 0, repetition: 0, set: 0, measurementUid: 0, acquisitionTimeStamp: 0,
    position: [0, 0, 0], readDir: [1, 0, 0], phaseDir: [0, 1, 0], sliceDir: [0, 0, 1], patientTablePosition: [0, 0, 0],
    fovMm: [200, 200, 5], reconMatrix: [64, 64, 1], reconFovMm: [200, 200, 5], scale: 1, sampleTimeUs: 5, sampled
  }
}

/** The object's k-space with only lines where `keep(y, z)` is true, as accumulate leaves it. */
function partialBuffer (images: ComplexArray, keep: (y: number, z: number) => boolean): BufferMessage {
  const dims = images.dims
  const [nx, ny, nz, coils] = dims
  const flags = nz > 1 ? 7 : 3
  const k = alloc(dims)
  fftc(dims, flags, k.data, images.data)
  const sampled = new Uint8Array(ny * nz)
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      if (keep(y, z)) {
        sampled[y + ny * z] = 1
        continue
      }
      for (let c = 0; c < coils; c++) k.data.fill(0, 2 * nx * (y + ny * (z + nz * c)), 2 * nx * (y + ny * (z + nz * c) + 1))
    }
  }
  return { kind: 'buffer', domain: 'kspace', array: k, meta: meta(sampled) }
}

async function run (input: BufferMessage, params: Partial<Params> = {}, fft: FftRunner = new InThreadFft()): Promise<BufferMessage> {
  const out = await partialFourier.run(input, { ...defaults(partialFourier.params), ...params }, { header: {} as never, fft, state: undefined, warn: () => {} }) as Message[]
  expect(out).toHaveLength(1)
  const m = out[0]
  if (m.kind !== 'buffer') throw new Error('expected a buffer')
  return m
}

/** Magnitude (RSS) image of a k-space buffer. */
function rssImage (k: ComplexArray): Float32Array {
  const img = alloc(k.dims)
  ifftc(k.dims, k.dims[2] > 1 ? 7 : 3, img.data, k.data)
  return rssCoils(img)
}

function reference (images: ComplexArray): Float32Array {
  // the images of the full k-space through the same unnormalised FFT pair
  return rssImage(partialBuffer(images, () => true).array)
}

describe('partial-fourier', () => {
  const dims: Dims = [64, 64, 1, 4]
  const images = objectImages(dims)
  const full = reference(images)
  // 5/8: lines 0..39 of 64 (k = −32..+7), centre 32
  const fiveEighths = (y: number): boolean => y < 40

  it('POCS fills 5/8 partial Fourier to an NRMSE well below zero filling', async () => {
    const zeroFilled = nrmse(rssImage(partialBuffer(images, fiveEighths).array), full)
    const out = await run(partialBuffer(images, fiveEighths))
    const pocs = nrmse(rssImage(out.array), full)
    expect(zeroFilled).toBeGreaterThan(0.05)
    expect(pocs).toBeLessThan(zeroFilled / 5) // measured 0.0069 against 0.072
    // filled lines are marked as sampled
    expect(Array.from(out.meta.sampled ?? [])).toEqual(new Array(64).fill(1))
  })

  it('gives the same result on the worker pool', async () => {
    const pool = createFftPool({ size: 2, minParallelElements: 1 })
    try {
      const inThread = await run(partialBuffer(images, fiveEighths))
      const onPool = await run(partialBuffer(images, fiveEighths), {}, pool)
      expect(nrmse(onPool.array.data, inThread.array.data)).toBeLessThan(1e-6)
    } finally {
      await pool.close()
    }
  })

  it('fills the low side alike (lines 24..63 acquired)', async () => {
    const keep = (y: number): boolean => y >= 24
    const zeroFilled = nrmse(rssImage(partialBuffer(images, keep).array), full)
    const pocs = nrmse(rssImage((await run(partialBuffer(images, keep))).array), full)
    expect(pocs).toBeLessThan(zeroFilled / 3)
  })

  it('keeps the acquired lines of POCS as they were', async () => {
    const input = partialBuffer(images, fiveEighths)
    const acquired = input.array.data.slice()
    const out = await run(input)
    for (let c = 0; c < 4; c++) {
      const from = 2 * 64 * 64 * c
      expect(nrmse(out.array.data.subarray(from, from + 2 * 64 * 40), acquired.subarray(from, from + 2 * 64 * 40))).toBeLessThan(1e-6)
    }
  })

  it('homodyne beats zero filling too', async () => {
    const zeroFilled = nrmse(rssImage(partialBuffer(images, fiveEighths).array), full)
    const homodyne = nrmse(rssImage((await run(partialBuffer(images, fiveEighths), { method: 'homodyne' })).array), full)
    expect(homodyne).toBeLessThan(zeroFilled / 2) // measured 0.028 against 0.072
  })

  it('zerofill, symmetric and fully sampled buffers pass through unchanged', async () => {
    const partial = partialBuffer(images, fiveEighths)
    expect((await run(partial, { method: 'zerofill' }))).toBe(partial)
    const whole = partialBuffer(images, () => true)
    expect(await run(whole)).toBe(whole)
    // zero filling to a larger matrix (lines 16..47 of 64) is symmetric: not partial Fourier
    const centre = partialBuffer(images, (y) => y >= 16 && y < 48)
    expect(await run(centre)).toBe(centre)
    // one line more on one side is how even line counts are centred
    const oneMore = partialBuffer(images, (y) => y >= 1)
    expect(await run(oneMore)).toBe(oneMore)
  })

  it('fills a 3-D buffer partial along PHS1 and PHS2', async () => {
    const dims3: Dims = [32, 32, 16, 2]
    const images3 = objectImages(dims3)
    const full3 = reference(images3)
    const keep = (y: number, z: number): boolean => y < 22 && z < 12
    const zeroFilled = nrmse(rssImage(partialBuffer(images3, keep).array), full3)
    const out = await run(partialBuffer(images3, keep))
    expect(nrmse(rssImage(out.array), full3)).toBeLessThan(zeroFilled / 2)
    expect(Array.from(out.meta.sampled ?? []).every((s) => s === 1)).toBe(true)
  })

  it('refuses a symmetric centre too small to estimate the phase, saying how many lines it needs and had', async () => {
    // lines 0..34: the centre 32 has 2 lines above it, so 5 symmetric lines
    const input = partialBuffer(images, (y) => y < 35)
    await expect(run(input)).rejects.toThrow(PartialFourierError)
    await expect(run(partialBuffer(images, (y) => y < 35))).rejects.toThrow(ReconRefusedError)
    await expect(run(partialBuffer(images, (y) => y < 35))).rejects.toThrow(/needs at least 6 lines .* there were 5/)
    // the centre itself missing
    await expect(run(partialBuffer(images, (y) => y < 30))).rejects.toThrow(/there were 0/)
  })

  it('refuses lines missing inside the acquired region (undersampling)', async () => {
    const input = partialBuffer(images, (y) => y < 40 && y % 2 === 0)
    await expect(run(input)).rejects.toThrow(/19 lines are missing inside the acquired region/)
  })

  it('refuses homodyne with two partial axes', async () => {
    const dims3: Dims = [16, 32, 16, 1]
    const input = partialBuffer(objectImages(dims3), (y, z) => y < 22 && z >= 4)
    await expect(run(input, { method: 'homodyne', minCentreLines: 7 })).rejects.toThrow(/homodyne handles one partial-Fourier axis/)
  })
})
