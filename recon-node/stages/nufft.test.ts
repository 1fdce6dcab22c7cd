import { afterAll, describe, expect, it } from 'vitest'
import type { Acquisition } from '../../protocol/mrd/types.ts'
import { ifftc } from '../fft/fftn.ts'
import { createFftPool, InThreadFft } from '../fft/pool.ts'
import { nrmse } from '../fft/test-support.ts'
import { pipeMenonWeights } from '../gridding/density.ts'
import { footprints, planGrid } from '../gridding/grid.ts'
import { besselI0, kaiserBessel, kernelTransform, kernelValue } from '../gridding/kaiser-bessel.ts'
import { SampleSet } from '../gridding/samples.ts'
import type { Chain } from '../pipeline/chain.ts'
import type { ReconImage } from '../pipeline/image.ts'
import { runPipeline } from '../pipeline/run.ts'
import { PHS1_FLAG, READ_FLAG } from './complex-array.ts'
import { flagsOf, IS_NOISE_MEASUREMENT, IS_PARALLEL_CALIBRATION, LAST_IN_SLICE } from './flags.ts'
import { nufft, type NufftState } from './nufft.ts'
import {
  besselJ1, halfSpokeReadouts, nonCartesianAcquisitions, phantomKspace, phantomValue, radialReadouts, spiralReadouts,
  testCoils, testPhantom, type Coil, type Readout, type Shape
} from './nufft-test-phantom.ts'
import type { Message, ReconHeader, StageContext } from './stage.ts'
import { makeAcquisition, makeHeader } from './test-acquisitions.ts'

const pool = createFftPool({ size: 2 })
afterAll(async () => { await pool.close() })

const CHAIN: Chain = [{ stage: 'nufft' }, { stage: 'coil-combine-rss' }]

async function reconstruct (acquisitions: Acquisition[], header: ReconHeader, chain: Chain = CHAIN, warnings: string[] = []): Promise<ReconImage[]> {
  const images: ReconImage[] = []
  await runPipeline(acquisitions, header, chain, { onImage: (i) => { images.push(i) }, fft: pool, onWarning: (m) => warnings.push(m) })
  return images
}

/**
 * What an ideal reconstruction of the same band gives: per coil, the object's transform on the Nyquist
 * lattice of the N x N matrix within |k| ≤ 0.5 (the disc radial spokes and spirals cover), inverse
 * DFT; then root sum of squares. The scale is the Cartesian chain's (unnormalised inverse FFT).
 */
function bandLimitedReference (shapes: Shape[], coils: Coil[], n: number): Float32Array {
  const sum = new Float64Array(n * n)
  const k = new Float32Array(2 * n * n)
  for (const coil of coils) {
    k.fill(0)
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        const kx = (x - n / 2) / n
        const ky = (y - n / 2) / n
        if (Math.hypot(kx, ky) > 0.5) continue
        const [re, im] = phantomKspace(shapes, kx - coil.fx, ky - coil.fy)
        k[2 * (x + n * y)] = coil.amplitude * re
        k[2 * (x + n * y) + 1] = coil.amplitude * im
      }
    }
    ifftc([n, n], READ_FLAG | PHS1_FLAG, k, k)
    for (let i = 0; i < n * n; i++) sum[i] += k[2 * i] ** 2 + k[2 * i + 1] ** 2
  }
  return Float32Array.from(sum, Math.sqrt)
}

function header (n: number): ReconHeader {
  return makeHeader([n, n, 1], [n, n, 1], { encoded: [220, 220, 5], recon: [220, 220, 5] })
}

async function reconstructPhantom (readouts: Readout[], n: number, coils = testCoils(4), chain: Chain = CHAIN): Promise<{ image: Float32Array, reference: Float32Array, warnings: string[] }> {
  const shapes = testPhantom(n)
  const warnings: string[] = []
  const images = await reconstruct(nonCartesianAcquisitions(readouts, shapes, coils), header(n), chain, warnings)
  expect(images).toHaveLength(1)
  expect([images[0].width, images[0].height]).toEqual([n, n])
  return { image: images[0].pixels, reference: bandLimitedReference(shapes, coils, n), warnings }
}

describe('Kaiser–Bessel kernel', () => {
  it('has the closed-form transform of its table, and Beatty\'s β', () => {
    const kernel = kaiserBessel(4, 2)
    expect(kernel.beta).toBeCloseTo(Math.PI * Math.sqrt(4 * 2.25 - 0.8), 12)
    expect(besselI0(1)).toBeCloseTo(1.2660658777520082, 14)
    for (const nu of [0, 0.1, 0.25, 0.37, 0.5]) {
      // midpoint rule over the table's kernel, 0.001-cell steps
      let integral = 0
      for (let u = -2 + 0.0005; u < 2; u += 0.001) integral += kernelValue(kernel, Math.abs(u)) * Math.cos(2 * Math.PI * nu * u) * 0.001
      expect(Math.abs(integral - kernelTransform(kernel, nu)) / kernelTransform(kernel, 0)).toBeLessThan(1e-5)
    }
  })
})

describe('test phantom', () => {
  it('has J1 right to 1e-7 (Bessel\'s integral) and an ellipse transform that matches a pixel sum', () => {
    for (const x of [0.3, 1, 2.9, 3.1, 7.5, 20, 63.2]) {
      let j = 0
      const steps = 4000
      for (let i = 0; i < steps; i++) { const t = Math.PI * (i + 0.5) / steps; j += Math.cos(t - x * Math.sin(t)) / steps }
      expect(Math.abs(besselJ1(x) - j)).toBeLessThan(1e-7)
    }
    // the DFT of the finely sampled object approximates its transform at low k (to the 2 % its
    // staircase edges allow at 4 x 4 points per pixel)
    const shapes = testPhantom(64)
    const sub = 4
    for (const [kx, ky] of [[0, 0], [0.03, -0.02], [-0.05, 0.04]]) {
      let re = 0
      let im = 0
      for (let y = -32; y < 32; y += 1 / sub) {
        for (let x = -32; x < 32; x += 1 / sub) {
          const v = phantomValue(shapes, x, y) / (sub * sub)
          re += v * Math.cos(-2 * Math.PI * (kx * x + ky * y))
          im += v * Math.sin(-2 * Math.PI * (kx * x + ky * y))
        }
      }
      const [are, aim] = phantomKspace(shapes, kx, ky)
      expect(Math.hypot(re - are, im - aim) / Math.hypot(are, aim)).toBeLessThan(0.02)
    }
  })
})

describe('Pipe–Menon density compensation', () => {
  // Pipe's weights estimate the inverse density well where samples lie close together along the
  // readouts (radial, spirals): their sum is the area of k-space covered, in Nyquist cells
  it('gives radial spokes and spiral interleaves the area of the disc they cover', () => {
    const n = 32
    const plan = planGrid(n, n, 2, 4)
    const radial = new SampleSet(1)
    for (const r of radialReadouts(64, 101)) radial.addReadout(r, 2, new Float32Array(128), 64, 0, 64, () => true)
    const wr = pipeMenonWeights(footprints(radial.kx, radial.ky, radial.count, plan), plan, 20)
    const total = wr.reduce((a, b) => a + b, 0)
    // the spokes sample the disc of radius n/2 Nyquist cells
    expect(total / (Math.PI * (n / 2) ** 2)).toBeGreaterThan(0.95)
    expect(total / (Math.PI * (n / 2) ** 2)).toBeLessThan(1.06)
    const spiral = new SampleSet(1)
    for (const r of spiralReadouts(300, 8, 3)) spiral.addReadout(r, 2, new Float32Array(600), 300, 0, 300, () => true)
    const ws = pipeMenonWeights(footprints(spiral.kx, spiral.ky, spiral.count, plan), plan, 20)
    const spiralTotal = ws.reduce((a, b) => a + b, 0)
    expect(spiralTotal / (Math.PI * (n / 2) ** 2)).toBeGreaterThan(0.95)
    expect(spiralTotal / (Math.PI * (n / 2) ** 2)).toBeLessThan(1.06)
  })
})

describe('nufft stage', () => {
  // tolerances: NRMSE of the RSS image against the band-limited reference, both at the Cartesian
  // chain's scale (no normalisation), so that a wrong scale, a flip or a shift fails as much as blur
  it('reconstructs radial spokes (128 samples x 201, 4 coils) of an analytic phantom within 2 %', async () => {
    const { image, reference, warnings } = await reconstructPhantom(radialReadouts(128, 201), 64)
    expect(warnings).toEqual([])
    expect(nrmse(image, reference)).toBeLessThan(0.02)
  })

  it('reconstructs golden-angle spokes within 2.5 %', async () => {
    const { image, reference } = await reconstructPhantom(radialReadouts(128, 233, 'golden'), 64)
    expect(nrmse(image, reference)).toBeLessThan(0.025)
  })

  it('reconstructs centre-out half-spokes (UTE) within 2.5 %', async () => {
    const { image, reference } = await reconstructPhantom(halfSpokeReadouts(64, 402), 64)
    expect(nrmse(image, reference)).toBeLessThan(0.025)
  })

  it('reconstructs a 16-interleave spiral within 2 %', async () => {
    const { image, reference } = await reconstructPhantom(spiralReadouts(600, 16, 3), 64)
    expect(nrmse(image, reference)).toBeLessThan(0.02)
  })

  it('matches the object itself inside its flat regions to 2 % (absolute scale N² as the Cartesian chain)', async () => {
    const n = 64
    const shapes = testPhantom(n)
    const coil: Coil[] = [{ amplitude: 1, fx: 0, fy: 0 }]
    const { image } = await reconstructPhantom(radialReadouts(128, 201), n, coil)
    let checked = 0
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        const cx = x - n / 2
        const cy = y - n / 2
        // pixels whose 7 x 7 neighbourhood is flat (no edge within 3 pixels), where Gibbs ringing is small
        const v = phantomValue(shapes, cx, cy)
        let flat = true
        for (let dy = -3; dy <= 3 && flat; dy++) for (let dx = -3; dx <= 3 && flat; dx++) flat = Math.abs(phantomValue(shapes, cx + dx, cy + dy) - v) < 0.02
        if (!flat || v < 0.3) continue
        expect(Math.abs(image[x + n * y] / (n * n) - v)).toBeLessThan(0.02 + 0.03 * v)
        checked++
      }
    }
    expect(checked).toBeGreaterThan(150)
  })

  it('reconstructs with a kernel of width 6 and 20 density iterations within 2.5 %', async () => {
    const { image, reference } = await reconstructPhantom(radialReadouts(128, 201), 64, testCoils(2), [{ stage: 'nufft', params: { kernelWidth: 6, densityIterations: 20 } }, { stage: 'coil-combine-rss' }])
    expect(nrmse(image, reference)).toBeLessThan(0.025)
  })

  it('without density compensation the image is wrong (the test can fail)', async () => {
    const { image, reference } = await reconstructPhantom(radialReadouts(128, 201), 64, testCoils(1), [{ stage: 'nufft', params: { density: 'none' } }, { stage: 'coil-combine-rss' }])
    const scale = reference.reduce((a, b) => a + b, 0) / image.reduce((a, b) => a + b, 0)
    expect(nrmse(image.map((v) => v * scale), reference)).toBeGreaterThan(0.2)
  })

  it('makes one image per slice on LAST_IN_SLICE, positioned by its readouts, and passes noise and calibration-only readouts on', async () => {
    const n = 32
    const shapes = testPhantom(n)
    const coils = testCoils(2)
    const readouts = radialReadouts(64, 101)
    const noise = makeAcquisition({ samples: 64, channels: 2, flags: flagsOf(IS_NOISE_MEASUREMENT) })
    const slices = [0, 1].map((slice) => nonCartesianAcquisitions(readouts, shapes, coils, { slice }))
    slices[1].forEach((a) => { a.head.position = [0, 0, 7] })
    const stage = nufft
    const params = { oversampling: 2, kernelWidth: 4, density: 'pipe' as const, densityIterations: 10 }
    const ctx: StageContext<NufftState> = { header: header(n), fft: new InThreadFft(), state: stage.init!(params, header(n)), warn: () => {} }
    expect(await stage.run({ kind: 'acquisition', acquisition: noise }, params, ctx)).toEqual([{ kind: 'acquisition', acquisition: noise }])
    const [calibration] = nonCartesianAcquisitions(radialReadouts(64, 1), shapes, coils)
    calibration.head.flags = flagsOf(IS_PARALLEL_CALIBRATION)
    expect(await stage.run({ kind: 'acquisition', acquisition: calibration }, params, ctx)).toEqual([{ kind: 'acquisition', acquisition: calibration }])
    const out: Message[] = []
    for (const acq of [...slices[0], ...slices[1]]) {
      const emitted = await stage.run({ kind: 'acquisition', acquisition: acq }, params, ctx)
      if (acq.head.flags === 0n) expect(emitted).toEqual([])
      out.push(...emitted)
    }
    expect(await stage.end!(params, ctx)).toEqual([])
    expect(out).toHaveLength(2)
    for (const [i, m] of out.entries()) {
      if (m.kind !== 'buffer') throw new Error('expected a buffer')
      expect(m.domain).toBe('image')
      expect(m.array.dims).toEqual([n, n, 1, 2])
      expect(m.meta.slice).toBe(i)
      expect(m.meta.position).toEqual(i === 0 ? [0, 0, 0] : [0, 0, 7])
      expect(m.meta.fovMm).toEqual([220, 220, 5])
      expect(m.meta.reconMatrix).toEqual([n, n, 1])
      expect(m.meta.scale).toBe(1)
    }
    // the same trajectory gives the same density weights: both slices are the same image
    const [a, b] = out as Array<Message & { kind: 'buffer' }>
    expect(nrmse(b.array.data, a.array.data)).toBeLessThan(1e-6)
  })

  it('emits what it holds at the end of the stream when no flag says a slice is complete', async () => {
    const n = 32
    const acqs = nonCartesianAcquisitions(radialReadouts(64, 101), testPhantom(n), testCoils(1))
    for (const a of acqs) a.head.flags = 0n
    const images = await reconstruct(acqs, header(n))
    expect(images).toHaveLength(1)
  })
})

describe('nufft on a stack of stars', () => {
  // ρ(x, y, z) = phantom(x, y) · exp(−z²/2s²): the transform is the product of the 2-D one and
  // √(2π)·s·exp(−2π²s²kz²), so the ideal image is the 2-D band-limited reference times the inverse
  // DFT of the partitions' kz samples
  const n = 48
  const s = 1.3
  const zTransform = (kz: number): number => Math.sqrt(2 * Math.PI) * s * Math.exp(-2 * Math.PI ** 2 * s * s * kz * kz)

  it.each([
    { encoded: 8, depth: 8, fov: 40, dims: 2 },
    // slab oversampling: 10 partitions over 50 mm, 8 of 5 mm kept; kz stored as a third dimension
    { encoded: 10, depth: 8, fov: 50, dims: 3 }
  ])('reconstructs $encoded partitions into $depth within 2 % ($dims-D trajectory)', async ({ encoded, depth, fov, dims }) => {
    const shapes = testPhantom(n)
    const coils = testCoils(2)
    const centre = Math.floor(encoded / 2)
    const acqs: Acquisition[] = []
    for (let e = 0; e < encoded; e++) {
      // normalised kz = k·Δz, Δz = 5 mm, partitions 1/FOV_encoded apart
      const kz = (e - centre) * (5 / fov)
      const g = zTransform(kz)
      for (const acq of nonCartesianAcquisitions(radialReadouts(96, 151), shapes, coils)) {
        for (let i = 0; i < acq.data.length; i++) acq.data[i] *= g
        acq.head.idx.kspaceEncodeStep2 = e
        acq.head.flags = 0n
        if (dims === 3) {
          acq.head.trajectoryDimensions = 3
          acq.traj = Float32Array.from({ length: 3 * 96 }, (_, i) => i % 3 === 2 ? kz : acq.traj[2 * Math.floor(i / 3) + (i % 3)])
        }
        acqs.push(acq)
      }
    }
    acqs[acqs.length - 1].head.flags = flagsOf(LAST_IN_SLICE)
    const head = makeHeader([n, n, encoded], [n, n, depth], { encoded: [220, 220, fov], recon: [220, 220, depth * 5] })
    head.encodingLimits = { kspaceEncodingStep2: { minimum: 0, maximum: encoded - 1, center: centre } }
    const images = await reconstruct(acqs, head)
    expect(images).toHaveLength(depth)
    const plane = bandLimitedReference(shapes, coils, n)
    let num = 0
    let den = 0
    for (const image of images) {
      expect(image.depth).toBe(depth)
      const zPixel = image.partition - Math.floor(depth / 2)
      let re = 0
      let im = 0
      for (let e = 0; e < encoded; e++) {
        const kz = (e - centre) * (5 / fov)
        re += zTransform(kz) * Math.cos(2 * Math.PI * kz * zPixel)
        im += zTransform(kz) * Math.sin(2 * Math.PI * kz * zPixel)
      }
      const gz = Math.hypot(re, im)
      for (let i = 0; i < plane.length; i++) {
        num += (image.pixels[i] - plane[i] * gz) ** 2
        den += (plane[i] * gz) ** 2
      }
    }
    expect(Math.sqrt(num / den)).toBeLessThan(0.02)
  })
})

describe('nufft refuses what it cannot reconstruct', () => {
  const n = 32
  const readouts = (): Acquisition[] => nonCartesianAcquisitions(radialReadouts(64, 8), testPhantom(n), testCoils(1))

  it('readouts without a trajectory: MissingTrajectoryError', async () => {
    const acqs = Array.from({ length: 4 }, (_, y) => makeAcquisition({ samples: 32, channels: 2, step1: y, flags: y === 3 ? flagsOf(LAST_IN_SLICE) : 0n }))
    const error = await reconstruct(acqs, header(n)).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).name).toBe('MissingTrajectoryError')
    expect((error as Error).message).toMatch(/no k-space trajectory/)
    expect((error as Error).message).toMatch(/non-Cartesian reconstruction \(nufft\) needs/)
  })

  it('a trajectory in other units (BART\'s k·N): TrajectoryScaleError', async () => {
    const acqs = readouts()
    for (const a of acqs) a.traj = a.traj.map((k) => k * n)
    await expect(reconstruct(acqs, header(n))).rejects.toMatchObject({ name: 'TrajectoryScaleError' })
  })

  it('3-D trajectories, partitions in a 2-D encoding: UnsupportedTrajectoryError; partitions outside the encoding: AcquisitionShapeError', async () => {
    const acqs = readouts()
    acqs[3].head.idx.kspaceEncodeStep2 = 1
    await expect(reconstruct(acqs, header(n))).rejects.toMatchObject({ name: 'UnsupportedTrajectoryError' })
    const kz = readouts()
    kz[2].head.trajectoryDimensions = 3
    kz[2].traj = Float32Array.from({ length: 3 * 64 }, (_, i) => i % 3 === 2 ? 0.1 : 0)
    await expect(reconstruct(kz, header(n))).rejects.toMatchObject({ name: 'UnsupportedTrajectoryError' })
    // in a 3-D encoding, a kz that is not the partition's (a 3-D radial "kooshball") is refused too
    const koosh = readouts()
    const stackHeader = makeHeader([n, n, 4], [n, n, 4])
    koosh[2].head.trajectoryDimensions = 3
    koosh[2].traj = Float32Array.from({ length: 3 * 64 }, (_, i) => i % 3 === 2 ? 0.2 * (i / 192) : 0)
    await expect(reconstruct(koosh, stackHeader)).rejects.toMatchObject({ name: 'UnsupportedTrajectoryError' })
    // and a partition outside the encoding
    const outside = readouts()
    outside[1].head.idx.kspaceEncodeStep2 = 9
    await expect(reconstruct(outside, stackHeader)).rejects.toMatchObject({ name: 'AcquisitionShapeError' })
  })

  it('an unknown reconstructed matrix: GridPlanError', async () => {
    await expect(reconstruct(readouts(), makeHeader([n, n, 1], [0, 0, 0]))).rejects.toMatchObject({ name: 'GridPlanError' })
  })

  it('drops samples just beyond the matrix edge with a warning', async () => {
    const acqs = readouts()
    for (const a of acqs) a.traj = a.traj.map((k) => k * 1.2)
    const warnings: string[] = []
    const images = await reconstruct(acqs, header(n), CHAIN, warnings)
    expect(images).toHaveLength(1)
    expect(warnings.some((w) => /beyond \|k\| = 0.5/.test(w))).toBe(true)
  })
})
