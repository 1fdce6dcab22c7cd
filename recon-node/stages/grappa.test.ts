// GRAPPA on synthetic multi-coil k-space: a phantom of ellipses with a smooth phase, seen by 8 coils
// around it with smooth complex sensitivities, transformed exactly (centred FFT). Lines are removed
// (regular acceleration R with a calibration block, or holes) and the stage must bring the RSS image
// back to within a few percent of the fully sampled one, where zero filling leaves it tens of
// percent off; the refusals are checked by name and message.
import { describe, expect, it } from 'vitest'
import { fftc, ifftc } from '../fft/fftn.ts'
import { InThreadFft } from '../fft/pool.ts'
import { nrmse, seededRandom, gaussian } from '../fft/test-support.ts'
import { accumulate } from './accumulate.ts'
import { rssCoils } from './coil-combine-rss.ts'
import { PHS1_FLAG, PHS2_FLAG, READ_FLAG, type ComplexArray, type Dims } from './complex-array.ts'
import { ReconRefusedError } from './errors.ts'
import { flagsOf, IS_PARALLEL_CALIBRATION, IS_PARALLEL_CALIBRATION_AND_IMAGING, LAST_IN_SLICE } from './flags.ts'
import { grappa, type GrappaState } from './grappa.ts'
import { defaults, type BufferMessage, type Message, type ReconHeader, type StageContext } from './stage.ts'
import { makeAcquisition, makeHeader } from './test-acquisitions.ts'

const COILS = 8

/** Coil images of a phantom: ellipses with a smooth phase, times Gaussian coil sensitivities around the FOV. */
function coilImages (nx: number, ny: number, nz: number, coils = COILS): ComplexArray {
  const dims: Dims = [nx, ny, nz, coils]
  const data = new Float32Array(2 * nx * ny * nz * coils)
  const ellipses = [[0, 0, 0.8, 0.9, 1], [0.1, -0.2, 0.3, 0.2, -0.4], [-0.3, 0.25, 0.15, 0.3, 0.5], [0.35, 0.3, 0.1, 0.1, 0.7]]
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++) {
        const u = 2 * (x - nx / 2) / nx
        const v = 2 * (y - ny / 2) / ny
        const w = nz > 1 ? 2 * (z - nz / 2) / nz : 0
        let rho = 0
        for (const [cx, cy, ax, ay, value] of ellipses) {
          if (((u - cx) / ax) ** 2 + ((v - cy) / ay) ** 2 + w * w < 1) rho += value
        }
        const phase = 0.6 * u - 0.4 * v + 0.3 * u * v
        for (let c = 0; c < coils; c++) {
          const angle = 2 * Math.PI * c / coils
          // in 3-D, alternate coils sit above and below the centre so that they also tell partitions apart
          const wc = nz > 1 ? [1, 0, -1][c % 3] : 0
          const d2 = (u - 1.3 * Math.cos(angle)) ** 2 + (v - 1.3 * Math.sin(angle)) ** 2 + 3 * (w - wc) ** 2
          const magnitude = Math.exp(-d2 / 1.2)
          const coilPhase = phase + angle + 0.5 * (u * Math.sin(angle) - v * Math.cos(angle))
          const at = 2 * (x + nx * (y + ny * (z + nz * c)))
          data[at] = rho * magnitude * Math.cos(coilPhase)
          data[at + 1] = rho * magnitude * Math.sin(coilPhase)
        }
      }
    }
  }
  return { dims, data }
}

function flagsFor (dims: Dims): number {
  return READ_FLAG | PHS1_FLAG | (dims[2] > 1 ? PHS2_FLAG : 0)
}

function toKspace (image: ComplexArray): ComplexArray {
  const data = new Float32Array(image.data.length)
  fftc(image.dims, flagsFor(image.dims), data, image.data)
  return { dims: image.dims, data }
}

function rssImage (kspace: ComplexArray): Float32Array {
  const data = new Float32Array(kspace.data.length)
  ifftc(kspace.dims, flagsFor(kspace.dims), data, kspace.data)
  return rssCoils({ dims: kspace.dims, data })
}

/** k-space with only the lines where keep(y, z) holds (zero elsewhere), as accumulation leaves it. */
function undersample (full: ComplexArray, keep: (y: number, z: number) => boolean): BufferMessage {
  const [nx, ny, nz, coils] = full.dims
  const data = full.data.slice()
  const sampled = new Uint8Array(ny * nz)
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      if (keep(y, z)) { sampled[y + ny * z] = 1; continue }
      for (let c = 0; c < coils; c++) data.fill(0, 2 * nx * (y + ny * (z + nz * c)), 2 * nx * (y + 1 + ny * (z + nz * c)))
    }
  }
  return {
    kind: 'buffer',
    domain: 'kspace',
    array: { dims: [...full.dims], data },
    meta: {
      slice: 0, contrast: 0, phase: 0, repetition: 0, set: 0, measurementUid: 0, acquisitionTimeStamp: 0,
      position: [0, 0, 0], readDir: [1, 0, 0], phaseDir: [0, 1, 0], sliceDir: [0, 0, 1], patientTablePosition: [0, 0, 0],
      fovMm: [256, 256, 5], reconMatrix: [nx, ny, nz], reconFovMm: [256, 256, 5], scale: 1, sampleTimeUs: 5, sampled
    }
  }
}

/** Lattice lines offset + k·R, and the calibration block of `acs` lines around the centre. */
function lattice (ny: number, r: number, offset: number, acs: number): (y: number) => boolean {
  const start = Math.floor(ny / 2) - Math.floor(acs / 2)
  return (y) => (y - offset) % r === 0 || (y >= start && y < start + acs)
}

/** NRMSE of k-space over the lines that were missing (1 for zero filling). */
function missingLineError (filled: ComplexArray, truth: ComplexArray, sampled: Uint8Array): number {
  const [nx, ny, nz, coils] = truth.dims
  const a: number[] = []
  const b: number[] = []
  for (let c = 0; c < coils; c++) {
    for (let z = 0; z < nz; z++) {
      for (let y = 0; y < ny; y++) {
        if (sampled[y + ny * z] !== 0) continue
        const from = 2 * nx * (y + ny * (z + nz * c))
        a.push(...filled.data.subarray(from, from + 2 * nx))
        b.push(...truth.data.subarray(from, from + 2 * nx))
      }
    }
  }
  return nrmse(a, b)
}

function headerWith (dims: Dims, acceleration?: { step1: number, step2: number }): ReconHeader {
  return { ...makeHeader([dims[0], dims[1], dims[2]]), ...(acceleration !== undefined ? { acceleration } : {}) }
}

function runGrappa (message: Message, header: ReconHeader, params = defaults(grappa.params)): { out: Message[], warnings: string[] } {
  const warnings: string[] = []
  const ctx: StageContext<GrappaState> = { header, fft: new InThreadFft(), state: grappa.init!(params, header), warn: (m) => warnings.push(m) }
  return { out: grappa.run(message, params, ctx) as Message[], warnings }
}

function only (messages: Message[]): BufferMessage {
  expect(messages).toHaveLength(1)
  const m = messages[0]
  if (m.kind !== 'buffer') throw new Error('expected a buffer')
  return m
}

describe('grappa: filling undersampled k-space', () => {
  const full2d = toKspace(coilImages(64, 64, 1))
  const truth2d = rssImage(full2d)

  it.each([
    // R, lattice offset, calibration lines, NRMSE at most of the RSS image and of the filled lines
    // (zero filling: 1)
    [2, 0, 24, 0.008, 0.12],
    [2, 1, 24, 0.008, 0.12],
    [3, 0, 24, 0.02, 0.25],
    [3, 2, 24, 0.025, 0.25],
    [4, 1, 32, 0.04, 0.6]
  ])('R = %i (offset %i, %i calibration lines): RSS image within %f of the fully sampled one, filled lines within %f', (r, offset, acs, imageTolerance, lineTolerance) => {
    const input = undersample(full2d, lattice(64, r, offset, acs))
    const acquired = input.array.data.slice()
    const sampledBefore = input.meta.sampled!.slice()
    const zeroFilledError = nrmse(rssImage(input.array), truth2d)
    const out = only(runGrappa(input, headerWith(full2d.dims, { step1: r, step2: 1 })).out)
    expect(nrmse(rssImage(out.array), truth2d)).toBeLessThan(imageTolerance)
    expect(missingLineError(out.array, full2d, sampledBefore)).toBeLessThan(lineTolerance)
    // and well below zero filling's error
    expect(nrmse(rssImage(out.array), truth2d)).toBeLessThan(zeroFilledError / 2)
    // acquired lines are kept exactly, every line is now marked sampled
    const [nx, ny, , coils] = out.array.dims
    for (let c = 0; c < coils; c++) {
      for (let y = 0; y < ny; y++) {
        if (sampledBefore[y] === 0) continue
        const from = 2 * nx * (y + ny * c)
        expect(out.array.data.subarray(from, from + 2 * nx)).toEqual(acquired.subarray(from, from + 2 * nx))
      }
    }
    expect(Array.from(out.meta.sampled!)).toEqual(new Array(ny).fill(1))
  })

  it('fills a 3-D buffer (the same PHS1 lines in every partition) to within 2 percent', () => {
    const full = toKspace(coilImages(48, 48, 8))
    const input = undersample(full, lattice(48, 2, 0, 20))
    const out = only(runGrappa(input, headerWith(full.dims, { step1: 2, step2: 1 })).out)
    expect(nrmse(rssImage(out.array), rssImage(full))).toBeLessThan(0.02)
    expect(out.meta.sampled!.every((v) => v === 1)).toBe(true)
  })

  // (the coils sit on three levels along PHS2 only, so R = 3 along it is beyond this phantom's coils)
  it.each([[2, 0], [2, 1]])('fills a 3-D buffer undersampled by %i along PHS2 (offset %i) to within 2.5 percent', (r, offset) => {
    const full = toKspace(coilImages(32, 16, 32))
    const start = 16 - 6
    const input = undersample(full, (_y, z) => (z - offset) % r === 0 || (z >= start && z < start + 12))
    const sampledBefore = input.meta.sampled!.slice()
    const acquired = input.array.data.slice()
    const out = only(runGrappa(input, headerWith(full.dims, { step1: 1, step2: r })).out)
    expect(nrmse(rssImage(out.array), rssImage(full))).toBeLessThan(0.025)
    expect(missingLineError(out.array, full, sampledBefore)).toBeLessThan(0.3)
    expect(out.meta.sampled!.every((v) => v === 1)).toBe(true)
    // acquired partitions kept as they were
    for (let i = 0; i < sampledBefore.length; i++) {
      if (sampledBefore[i] === 0) continue
      for (let c = 0; c < COILS; c++) {
        const from = 2 * 32 * (i + 16 * 32 * c)
        expect(out.array.data.subarray(from, from + 64)).toEqual(acquired.subarray(from, from + 64))
      }
    }
    // and a header that states the wrong factor along PHS2 is refused
    const again = undersample(full, (_y, z) => (z - offset) % r === 0 || (z >= start && z < start + 12))
    expect(() => runGrappa(again, headerWith(full.dims, { step1: 1, step2: r + 1 }))).toThrow(/states acceleration \d along PHS2/)
  })

  it('bridges holes in an otherwise fully sampled pattern', () => {
    const holes = new Set([5, 6, 17, 45, 50, 51, 55])
    const input = undersample(full2d, (y) => !holes.has(y))
    const sampledBefore = input.meta.sampled!.slice()
    const out = only(runGrappa(input, headerWith(full2d.dims)).out)
    expect(nrmse(rssImage(out.array), truth2d)).toBeLessThan(0.01)
    expect(missingLineError(out.array, full2d, sampledBefore)).toBeLessThan(0.2)
  })

  it('stays close with noise: filled R = 2 is no worse than twice the noise of the acquired data', () => {
    const noisy = { dims: full2d.dims, data: full2d.data.slice() }
    const g = gaussian(seededRandom(7))
    let energy = 0
    for (const v of full2d.data) energy += v * v
    const sigma = 0.01 * Math.sqrt(energy / full2d.data.length)
    for (let i = 0; i < noisy.data.length; i++) noisy.data[i] += sigma * g()
    const noiseOnly = nrmse(rssImage(noisy), truth2d)
    const out = only(runGrappa(undersample(noisy, lattice(64, 2, 0, 24)), headerWith(full2d.dims, { step1: 2, step2: 1 })).out)
    expect(nrmse(rssImage(out.array), truth2d)).toBeLessThan(2 * noiseOnly + 0.01)
  })

  it('passes a fully sampled buffer through untouched', () => {
    const input = undersample(full2d, () => true)
    const before = input.array.data.slice()
    const { out, warnings } = runGrappa(input, headerWith(full2d.dims, { step1: 2, step2: 1 }))
    expect(out[0]).toBe(input)
    expect(input.array.data).toEqual(before)
    expect(warnings.join()).toMatch(/fully sampled/)
  })

  it('passes a fully sampled 3-D buffer with an elliptical outline (corners of PHS1 × PHS2 not acquired) through untouched', () => {
    const full3d = toKspace(coilImages(16, 16, 8, 2))
    const input = undersample(full3d, () => true)
    const sampled = input.meta.sampled!
    for (let z = 0; z < 8; z++) {
      for (let y = 0; y < 16; y++) if (((y - 8) / 8) ** 2 + ((z - 4) / 4) ** 2 > 1) sampled[y + 16 * z] = 0
    }
    const { out } = runGrappa(input, headerWith(full3d.dims))
    expect(out[0]).toBe(input)
  })

  it('passes image buffers, acquisitions and buffers without a sampling pattern through', () => {
    const input = undersample(full2d, lattice(64, 2, 0, 24))
    const image: Message = { ...input, domain: 'image' }
    expect(runGrappa(image, headerWith(full2d.dims)).out[0]).toBe(image)
    const unknown: Message = { ...input, meta: { ...input.meta, sampled: undefined } }
    expect(runGrappa(unknown, headerWith(full2d.dims)).out[0]).toBe(unknown)
  })
})

describe('grappa: refusals', () => {
  const full = toKspace(coilImages(64, 64, 1))

  it('refuses R = 2 without calibration lines, naming how many it needs', () => {
    const input = undersample(full, (y) => y % 2 === 1)
    const run = (): unknown => runGrappa(input, headerWith(full.dims, { step1: 2, step2: 1 }))
    expect(run).toThrow(expect.objectContaining({ name: 'GrappaCalibrationError' }))
    expect(run).toThrow(ReconRefusedError)
    // 2 lines × 5 points × 8 coils = 80 weights need 160 rows: 3 window positions of 60 READ points,
    // and the window spans 3 lines
    expect(run).toThrow(/undersampled by 2 along PHS1 with no calibration lines: GRAPPA needs at least 5 fully sampled lines at the centre of k-space \(found 0\)/)
  })

  it('refuses too small a calibration block, and accepts the size it names', () => {
    const header = headerWith(full.dims, { step1: 3, step2: 1 })
    let needed = 0
    try {
      runGrappa(undersample(full, lattice(64, 3, 0, 4)), header)
    } catch (error) {
      expect((error as Error).name).toBe('GrappaCalibrationError')
      const match = /with only (\d+) calibration lines: GRAPPA needs at least (\d+) fully sampled lines at the centre of k-space \(found (\d+)\)/.exec((error as Error).message)
      expect(match).not.toBeNull()
      needed = Number(match?.[2])
      expect(Number(match?.[3])).toBeLessThan(needed)
    }
    expect(needed).toBeGreaterThan(4)
    // the number it names is enough
    const out = only(runGrappa(undersample(full, lattice(64, 3, 0, needed)), header).out)
    expect(out.meta.sampled!.every((v) => v === 1)).toBe(true)
  })

  it.each([[3, 2], [1, 2]])('refuses a header that states acceleration %i when the lines are %i apart', (stated, r) => {
    const input = undersample(full, lattice(64, r, 0, 24))
    const run = (): unknown => runGrappa(input, headerWith(full.dims, { step1: stated, step2: 1 }))
    expect(run).toThrow(expect.objectContaining({ name: 'AccelerationMismatchError' }))
    expect(run).toThrow(new RegExp(`states acceleration ${stated} along PHS1.*lines are ${r} apart`))
  })

  it('warns, and fills, when the header states no parallel imaging at all', () => {
    const { out, warnings } = runGrappa(undersample(full, lattice(64, 2, 0, 24)), headerWith(full.dims))
    expect(only(out).meta.sampled!.every((v) => v === 1)).toBe(true)
    expect(warnings.join()).toMatch(/states no parallel imaging.*2 apart/)
  })

  it('refuses undersampling along both PHS1 and PHS2 at once', () => {
    const full3d = toKspace(coilImages(32, 32, 8, 4))
    const input = undersample(full3d, (y, z) => y % 2 === 0 && z % 2 === 0)
    expect(() => runGrappa(input, headerWith(full3d.dims, { step1: 2, step2: 2 }))).toThrow(expect.objectContaining({
      name: 'UnsupportedSamplingError',
      message: expect.stringMatching(/along both PHS1 and PHS2/)
    }))
  })

  it('refuses a hole longer than it can bridge', () => {
    const input = undersample(full, (y) => y < 10 || y > 17)
    expect(() => runGrappa(input, headerWith(full.dims))).toThrow(expect.objectContaining({ name: 'UnsupportedSamplingError', message: expect.stringMatching(/lines 10 to 17 \(8 in a row\) are missing/) }))
  })

  it('leaves lines beyond the outermost acquired ones (partial Fourier, zero filling) unfilled and unmarked', () => {
    const keep = lattice(64, 2, 0, 24)
    const out = only(runGrappa(undersample(full, (y) => y >= 12 && keep(y)), headerWith(full.dims, { step1: 2, step2: 1 })).out)
    const sampled = out.meta.sampled!
    expect(Array.from(sampled.subarray(0, 12))).toEqual(new Array(12).fill(0))
    expect(sampled.subarray(12).every((v) => v === 1)).toBe(true)
    expect(out.array.data.subarray(0, 2 * 64 * 12).every((v) => v === 0)).toBe(true)
  })
})

describe('grappa after accumulation', () => {
  // Readouts as a scanner sends them: lattice lines, and calibration lines flagged
  // IS_PARALLEL_CALIBRATION (only calibration) or IS_PARALLEL_CALIBRATION_AND_IMAGING (on the lattice).
  const nx = 64
  const ny = 64
  const full = toKspace(coilImages(nx, ny, 1))
  const truth = rssImage(full)
  const r = 2
  const inCalibration = (y: number): boolean => y >= 20 && y < 44

  function readouts (): Message[] {
    const out: Message[] = []
    for (let y = 0; y < ny; y++) {
      const onLattice = y % r === 0
      if (!onLattice && !inCalibration(y)) continue
      const data = new Float32Array(2 * nx * COILS)
      for (let c = 0; c < COILS; c++) data.set(full.data.subarray(2 * nx * (y + ny * c), 2 * nx * (y + 1 + ny * c)), 2 * nx * c)
      const flags = inCalibration(y) ? flagsOf(onLattice ? IS_PARALLEL_CALIBRATION_AND_IMAGING : IS_PARALLEL_CALIBRATION) : 0n
      out.push({ kind: 'acquisition', acquisition: makeAcquisition({ samples: nx, channels: COILS, data, step1: y, flags: y === ny - 2 ? flags | flagsOf(LAST_IN_SLICE) : flags }) })
    }
    return out
  }

  function accumulated (useCalibration: boolean): BufferMessage {
    const header = makeHeader([nx, ny, 1])
    const params = { useCalibration }
    const ctx = { header, fft: new InThreadFft(), state: accumulate.init!(params, header), warn: () => {} }
    const buffers = readouts().flatMap((m) => accumulate.run(m, params, ctx) as Message[]).filter((m) => m.kind === 'buffer')
    return only(buffers)
  }

  it('with calibration lines kept (useCalibration: true) gives the fully sampled image', () => {
    const header = { ...makeHeader([nx, ny, 1]), acceleration: { step1: r, step2: 1 } }
    const out = only(runGrappa(accumulated(true), header).out)
    expect(nrmse(rssImage(out.array), truth)).toBeLessThan(0.01)
  })

  it('without them (useCalibration: false) is refused, not aliased', () => {
    const header = { ...makeHeader([nx, ny, 1]), acceleration: { step1: r, step2: 1 } }
    expect(() => runGrappa(accumulated(false), header)).toThrow(/undersampled by 2 along PHS1 with no calibration lines/)
  })
})
