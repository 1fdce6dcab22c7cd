// The small stages after accumulation: fft, crop-to-recon-space, scale.
import { describe, expect, it } from 'vitest'
import { fftc, ifftc } from '../fft/fftn.ts'
import { createFftPool, InThreadFft, type FftRunner } from '../fft/pool.ts'
import { nrmse, randomComplex } from '../fft/test-support.ts'
import { alloc, fromData, index, type Dims } from './complex-array.ts'
import { cropToReconSpace } from './crop-to-recon-space.ts'
import { fft } from './fft.ts'
import { maxScaleFactor, scale } from './scale.ts'
import { defaults, type BufferMeta, type ImageMessage, type Message, type StageContext } from './stage.ts'

function meta (reconMatrix: [number, number, number], fovMm: [number, number, number] = [200, 100, 5]): BufferMeta {
  return {
    slice: 0, contrast: 0, phase: 0, repetition: 0, set: 0, measurementUid: 0, acquisitionTimeStamp: 0,
    position: [0, 0, 0], readDir: [1, 0, 0], phaseDir: [0, 1, 0], sliceDir: [0, 0, 1], patientTablePosition: [0, 0, 0],
    fovMm, reconMatrix, reconFovMm: fovMm, scale: 1, sampleTimeUs: 5
  }
}

function ctx<S> (state: S, fftRunner: FftRunner = new InThreadFft()): StageContext<S> {
  return { header: {} as never, fft: fftRunner, state, warn: () => {} }
}

describe('fft stage', () => {
  it('transforms 2-D k-space buffers (per coil) to images like ifftc over READ|PHS1', async () => {
    const dims: Dims = [12, 10, 1, 3]
    const x = randomComplex(360, 1)
    const expected = new Float32Array(x.length)
    ifftc(dims, 3, expected, x)
    const [out] = await fft.run({ kind: 'buffer', domain: 'kspace', array: fromData(dims, new Float32Array(x)), meta: meta([12, 10, 1]) }, {}, ctx(undefined))
    expect(out.kind === 'buffer' && out.domain).toBe('image')
    if (out.kind === 'buffer') expect(nrmse(out.array.data, expected)).toBeLessThan(1e-7)
  })

  it('transforms 3-D buffers over PHS2 too, on the worker pool', async () => {
    const pool = createFftPool({ size: 2, minParallelElements: 1 })
    try {
      const dims: Dims = [10, 8, 6, 1]
      const array = alloc(dims, { shared: true })
      array.data.set(randomComplex(480, 2))
      const expected = new Float32Array(array.data.length)
      ifftc(dims, 7, expected, array.data)
      const [out] = await fft.run({ kind: 'buffer', domain: 'kspace', array, meta: meta([10, 8, 6]) }, {}, ctx(undefined, pool))
      if (out.kind === 'buffer') expect(nrmse(out.array.data, expected)).toBe(0)
    } finally {
      await pool.close()
    }
  })

  it('passes image buffers through', async () => {
    const m: Message = { kind: 'buffer', domain: 'image', array: alloc([2, 2, 1, 1]), meta: meta([2, 2, 1]) }
    expect((await fft.run(m, {}, ctx(undefined)))[0]).toBe(m)
  })
})

describe('crop to recon space', () => {
  it('crops the centre of an image buffer to the recon matrix and scales the field of view', () => {
    const array = alloc([16, 10, 1, 2])
    for (let i = 0; i < array.data.length / 2; i++) array.data[2 * i] = i
    const [out] = cropToReconSpace.run({ kind: 'buffer', domain: 'image', array, meta: meta([8, 10, 1], [400, 100, 5]) }, {}, ctx(undefined)) as Message[]
    if (out.kind !== 'buffer') throw new Error('expected a buffer')
    expect(out.array.dims).toEqual([8, 10, 1, 2])
    expect(out.array.data[2 * index(out.array.dims, 0, 3, 0, 1)]).toBe(array.data[2 * index(array.dims, 4, 3, 0, 1)])
    expect(out.meta.fovMm).toEqual([200, 100, 5])
  })

  it('crops magnitude images as well, and leaves images of the right size alone', () => {
    const pixels = Float32Array.from({ length: 7 * 6 }, (_, i) => i)
    const [out] = cropToReconSpace.run({ kind: 'image', dims: [7, 6, 1], pixels, meta: meta([3, 6, 1]) }, {}, ctx(undefined)) as ImageMessage[]
    expect(out.dims).toEqual([3, 6, 1])
    // x from floor(7/2) - floor(3/2) = 2
    expect(Array.from(out.pixels.subarray(0, 3))).toEqual([2, 3, 4])
    const right: Message = { kind: 'image', dims: [3, 6, 1], pixels: out.pixels, meta: meta([3, 6, 1]) }
    expect((cropToReconSpace.run(right, {}, ctx(undefined)) as Message[])[0]).toBe(right)
  })

  it('after the FFT, equals removing the oversampling before it', () => {
    const n = 64
    const k = randomComplex(2 * n * n, 4) // [2n, n]
    const full = new Float32Array(k)
    ifftc([2 * n, n], 3, full, full)
    const [cropped] = cropToReconSpace.run({ kind: 'buffer', domain: 'image', array: fromData([2 * n, n, 1, 1], full), meta: meta([n, n, 1]) }, {}, ctx(undefined)) as Message[]
    // oversampling removal per readout as the stage does: ifft, centre, fft, / n
    const reduced = new Float32Array(2 * n * n)
    const line = new Float32Array(4 * n)
    for (let y = 0; y < n; y++) {
      ifftc([2 * n], 1, line, k.subarray(4 * n * y, 4 * n * (y + 1)))
      const centre = line.slice(n, 3 * n)
      fftc([n], 1, centre, centre)
      reduced.set(centre.map((v) => v / n), 2 * n * y)
    }
    ifftc([n, n], 3, reduced, reduced)
    if (cropped.kind === 'buffer') expect(nrmse(reduced, cropped.array.data)).toBeLessThan(1e-5)
  })
})

describe('scale', () => {
  const image = (values: number[]): ImageMessage => ({ kind: 'image', dims: [values.length, 1, 1], pixels: Float32Array.from(values), meta: meta([values.length, 1, 1]) })

  it('brings the maximum to the target and records the factor', () => {
    const p = defaults(scale.params)
    const [out] = scale.run(image([1, 2, 4]), p, ctx(scale.init!(p, {} as never))) as ImageMessage[]
    expect(Array.from(out.pixels)).toEqual([4095 / 4, 4095 / 2, 4095])
    expect(out.meta.scale).toBe(4095 / 4)
    expect(maxScaleFactor(new Float32Array(3), 10)).toBe(1)
  })

  it('keeps the first image\'s factor in mode first, and multiplies in mode fixed', () => {
    const p = { ...defaults(scale.params), mode: 'first' as const, target: 100 }
    const c = ctx(scale.init!(p, {} as never))
    scale.run(image([1, 10]), p, c)
    const [second] = scale.run(image([1, 20]), p, c) as ImageMessage[]
    expect(Array.from(second.pixels)).toEqual([10, 200])
    const fixed = { ...defaults(scale.params), mode: 'fixed' as const, factor: 3 }
    const [out] = scale.run(image([1, 2]), fixed, ctx(scale.init!(fixed, {} as never))) as ImageMessage[]
    expect(Array.from(out.pixels)).toEqual([3, 6])
    expect(out.meta.scale).toBe(3)
  })
})
