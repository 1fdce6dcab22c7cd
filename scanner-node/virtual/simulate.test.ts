import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { DEBIAN_PYTHON, hasPythonModules, hasTool } from '../../test/support/external-tools.ts'
import type { Acquisition } from '../../protocol/mrd/types.ts'
import { cartesianReadouts } from './cartesian-plan.ts'
import type { CartesianPlanOptions } from './cartesian-plan.ts'
import { centredInverseDft } from './fft.ts'
import { discPhantom, phantomImageAt, sheppLogan2d, TISSUES } from './phantom.ts'
import type { Phantom } from './phantom.ts'
import { ACQ_FLAGS, encodingFor, flagBit, hasFlag, simulateReadouts } from './simulate.ts'
import type { SimulateOptions } from './simulate.ts'

const PD = { kind: 'OTHER', teS: 0.005, trS: 0.01, flipAngleDeg: 90 } as const
const FOV = 0.24

function options (overrides: Partial<SimulateOptions> = {}): SimulateOptions {
  return {
    phantom: sheppLogan2d({ radiusM: 0.1 }),
    coils: 1,
    noiseSigma: 0,
    oversampling: 1,
    fovM: [FOV, FOV, 0.005],
    matrix: [32, 32],
    timing: PD,
    seed: 1,
    noiseReadouts: 0,
    ...overrides
  }
}

function run (opts: SimulateOptions, plan: Partial<CartesianPlanOptions> = {}): Acquisition[] {
  const matrix = opts.matrix
  return Array.from(simulateReadouts(cartesianReadouts({ matrix, fovM: opts.fovM, teS: opts.timing.teS, ...plan }), opts))
}

/** Complex image of one coil: centred inverse DFT (1/N) along x, then y; x fastest. */
function image (acqs: Acquisition[], coil: number, ny: number): { re: Float64Array, im: Float64Array, nx: number } {
  const signal = acqs.filter((a) => !hasFlag(a.head, ACQ_FLAGS.IS_NOISE_MEASUREMENT))
  const nx = signal[0].head.numberOfSamples
  const re = new Float64Array(nx * ny)
  const im = new Float64Array(nx * ny)
  for (const a of signal) {
    const line = a.head.idx.kspaceEncodeStep1
    const base = 2 * nx * coil
    for (let m = 0; m < nx; m++) {
      re[line * nx + m] = a.data[base + 2 * m]
      im[line * nx + m] = a.data[base + 2 * m + 1]
    }
  }
  const rowRe = new Float64Array(nx)
  const rowIm = new Float64Array(nx)
  for (let j = 0; j < ny; j++) {
    rowRe.set(re.subarray(j * nx, (j + 1) * nx))
    rowIm.set(im.subarray(j * nx, (j + 1) * nx))
    centredInverseDft(rowRe, rowIm)
    re.set(rowRe, j * nx)
    im.set(rowIm, j * nx)
  }
  const colRe = new Float64Array(ny)
  const colIm = new Float64Array(ny)
  for (let i = 0; i < nx; i++) {
    for (let j = 0; j < ny; j++) {
      colRe[j] = re[j * nx + i]
      colIm[j] = im[j * nx + i]
    }
    centredInverseDft(colRe, colIm)
    for (let j = 0; j < ny; j++) {
      re[j * nx + i] = colRe[j]
      im[j * nx + i] = colIm[j]
    }
  }
  return { re, im, nx }
}

function magnitude (img: { re: Float64Array, im: Float64Array }): Float64Array {
  return img.re.map((r, i) => Math.hypot(r, img.im[i]))
}

/** The phantom drawn on the pixel grid (pixel i at x = (i − n/2)·Δx), as a perfect reconstruction would show it. */
function raster (phantom: Phantom, n: number, fov: number, timing = PD as typeof PD): Float64Array {
  const out = new Float64Array(n * n)
  const d = fov / n
  for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) out[j * n + i] = phantomImageAt(phantom, (i - n / 2) * d, (j - n / 2) * d, timing)
  return out
}

function correlation (a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length
  let ma = 0
  let mb = 0
  for (let i = 0; i < n; i++) { ma += a[i] / n; mb += b[i] / n }
  let ab = 0
  let aa = 0
  let bb = 0
  for (let i = 0; i < n; i++) {
    ab += (a[i] - ma) * (b[i] - mb)
    aa += (a[i] - ma) ** 2
    bb += (b[i] - mb) ** 2
  }
  return ab / Math.sqrt(aa * bb)
}

describe('simulated Cartesian images', () => {
  it('look like the phantom, at its proton density (64×64, single coil)', () => {
    const opts = options({ matrix: [64, 64] })
    const img = magnitude(image(run(opts), 0, 64))
    const reference = raster(opts.phantom, 64, FOV)
    expect(correlation(img, reference)).toBeGreaterThan(0.9)
    // Scaled so that a pixel shows its proton density: white matter away from any edge.
    const wm = TISSUES.whiteMatter.pd
    let sum = 0
    let count = 0
    for (let j = 1; j < 63; j++) {
      for (let i = 1; i < 63; i++) {
        let interior = true
        for (let dj = -1; dj <= 1; dj++) for (let di = -1; di <= 1; di++) if (reference[(j + dj) * 64 + i + di] !== wm) interior = false
        if (interior) { sum += img[j * 64 + i]; count++ }
      }
    }
    expect(count).toBeGreaterThan(100)
    expect(sum / count).toBeCloseTo(wm, 1)
  })

  it('take their contrast from the sequence: T1-weighted spin echo darkens the ventricles', () => {
    const t1w = { kind: 'SE', teS: 0.012, trS: 0.5, flipAngleDeg: 90 } as const
    const opts = options({ matrix: [64, 64], timing: t1w })
    const img = magnitude(image(run(opts), 0, 64))
    const ventricle = img[32 * 64 + Math.round(32 + 0.022 / (FOV / 64))]
    const whiteMatter = img[32 * 64 + 32]
    expect(ventricle).toBeLessThan(0.5 * whiteMatter)
    expect(correlation(img, raster(opts.phantom, 64, FOV, t1w as unknown as typeof PD))).toBeGreaterThan(0.9)
  })

  it('shift with the off-resonance: one pixel bandwidth moves the object one pixel towards −x', () => {
    const opts = options({ phantom: discPhantom({ radiusM: 0.04 }), matrix: [32, 32] })
    const dwellS = 10e-6
    const centroid = (acqs: Acquisition[]): number => {
      const img = magnitude(image(acqs, 0, 32))
      let w = 0
      let x = 0
      img.forEach((v, p) => { w += v; x += v * (p % 32) })
      return x / w
    }
    const still = centroid(run(opts, { dwellS }))
    const moved = centroid(run({ ...opts, offResonanceHz: 1 / (32 * dwellS) }, { dwellS }))
    expect(moved - still).toBeCloseTo(-1, 1)
  })
})

describe('multi-coil data', () => {
  it('the rss of the coil images is the object', () => {
    const single = magnitude(image(run(options()), 0, 32))
    const acqs = run(options({ coils: 8 }))
    expect(acqs[0].head.activeChannels).toBe(8)
    expect(acqs[0].data.length).toBe(2 * 8 * 32)
    const coilImages = Array.from({ length: 8 }, (_, c) => magnitude(image(acqs, c, 32)))
    let num = 0
    let den = 0
    for (let p = 0; p < single.length; p++) {
      const rss = Math.sqrt(coilImages.reduce((s, img) => s + img[p] ** 2, 0))
      num += (rss - single[p]) ** 2
      den += single[p] ** 2
    }
    expect(Math.sqrt(num / den)).toBeLessThan(0.02)
    // and each coil sees the object differently (brighter near its element)
    expect(correlation(coilImages[0], coilImages[4])).toBeLessThan(0.9)
  })
})

describe('noise', () => {
  it('noise readouts come first, flagged, with no signal and std ≈ sigma', () => {
    const sigma = 0.05
    const acqs = run(options({ coils: 4, noiseSigma: sigma, noiseReadouts: 32 }))
    const noise = acqs.slice(0, 32)
    expect(noise.every((a) => a.head.flags === flagBit(ACQ_FLAGS.IS_NOISE_MEASUREMENT))).toBe(true)
    expect(hasFlag(acqs[32].head, ACQ_FLAGS.IS_NOISE_MEASUREMENT)).toBe(false)
    const values = noise.flatMap((a) => Array.from(a.data))
    const mean = values.reduce((s, v) => s + v, 0) / values.length
    const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length)
    expect(Math.abs(mean)).toBeLessThan(0.05 * sigma)
    expect(std / sigma).toBeGreaterThan(0.97)
    expect(std / sigma).toBeLessThan(1.03)
  })

  it('is the same for the same seed and different for another', () => {
    const a = run(options({ noiseSigma: 0.1, noiseReadouts: 2, coils: 2 }))
    const b = run(options({ noiseSigma: 0.1, noiseReadouts: 2, coils: 2 }))
    const c = run(options({ noiseSigma: 0.1, noiseReadouts: 2, coils: 2, seed: 2 }))
    expect(a.map((x) => Array.from(x.data))).toEqual(b.map((x) => Array.from(x.data)))
    expect(a[5].data).not.toEqual(c[5].data)
    expect(a.map((x) => x.head)).toEqual(b.map((x) => x.head))
  })
})

describe('readout oversampling', () => {
  const plain = run(options({ matrix: [32, 32] }))
  const doubled = run(options({ matrix: [32, 32], oversampling: 2 }))

  it('doubles the samples over the same k extent: even samples are the plain ones', () => {
    expect(doubled[0].head.numberOfSamples).toBe(64)
    expect(doubled[0].head.centerSample).toBe(32)
    expect(doubled[0].head.sampleTimeUs).toBeCloseTo(plain[0].head.sampleTimeUs / 2, 6)
    for (const line of [0, 7, 16, 31]) {
      for (let m = 0; m < 32; m++) {
        expect(doubled[line].data[4 * m]).toBe(plain[line].data[2 * m])
        expect(doubled[line].data[4 * m + 1]).toBe(plain[line].data[2 * m + 1])
      }
    }
  })

  it('is what a sequence with a 2× oversampled ADC gives, without oversampling twice', () => {
    const fromPlan = run(options({ matrix: [32, 32], oversampling: 2 }), { oversampling: 2 })
    expect(fromPlan[3].head.numberOfSamples).toBe(64)
    expect(Array.from(fromPlan[3].data)).toEqual(Array.from(doubled[3].data))
  })

  it('after the FFT along the readout, the central half equals the plain readout\'s profile', () => {
    let num = 0
    let den = 0
    for (const line of [10, 16, 20]) {
      const p = { re: new Float64Array(32), im: new Float64Array(32) }
      const d = { re: new Float64Array(64), im: new Float64Array(64) }
      for (let m = 0; m < 32; m++) { p.re[m] = plain[line].data[2 * m]; p.im[m] = plain[line].data[2 * m + 1] }
      for (let m = 0; m < 64; m++) { d.re[m] = doubled[line].data[2 * m]; d.im[m] = doubled[line].data[2 * m + 1] }
      centredInverseDft(p.re, p.im)
      centredInverseDft(d.re, d.im)
      for (let i = 0; i < 32; i++) {
        num += (d.re[i + 16] - p.re[i]) ** 2 + (d.im[i + 16] - p.im[i]) ** 2
        den += p.re[i] ** 2 + p.im[i] ** 2
      }
    }
    // Not exact: the plain readout folds the tails of the object's Gibbs ringing back into its FOV.
    expect(Math.sqrt(num / den)).toBeLessThan(0.02)
  })

  it('declares the doubled readout FOV in the encoding', () => {
    const enc = encodingFor(options({ matrix: [32, 32], oversampling: 2 }))
    expect(enc.encodedMatrix).toEqual([64, 32, 1])
    expect(enc.reconMatrix).toEqual([32, 32, 1])
    expect(enc.encodedFovMm[0]).toBeCloseTo(480, 9)
    expect(enc.reconFovMm[0]).toBeCloseTo(240, 9)
    expect(enc.encodedFovMm[2]).toBeCloseTo(5, 9)
  })
})

describe('headers of a two-slice interleaved plan', () => {
  const geometry = { position: [0, 0, 10] as [number, number, number], readDir: [1, 0, 0] as [number, number, number], phaseDir: [0, 1, 0] as [number, number, number], sliceDir: [0, 0, 1] as [number, number, number] }
  const opts = options({ matrix: [16, 8], coils: 3, noiseReadouts: 2, geometry, phantom: discPhantom({ radiusM: 0.05, dimensions: 3 }) })
  const planOptions = { slices: 2, sliceOrder: 'interleaved' as const, alternateReadDirection: true }
  const acqs = run(opts, planOptions)
  const signal = acqs.slice(2)

  it('counts lines and slices, scans and time', () => {
    expect(acqs).toHaveLength(2 + 16)
    expect(acqs.map((a) => a.head.scanCounter)).toEqual(Array.from({ length: 18 }, (_, i) => i + 1))
    expect(signal.map((a) => a.head.idx.kspaceEncodeStep1)).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7])
    expect(signal.map((a) => a.head.idx.slice)).toEqual([0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1])
    for (let i = 1; i < acqs.length; i++) expect(acqs[i].head.acquisitionTimeStamp).toBeGreaterThanOrEqual(acqs[i - 1].head.acquisitionTimeStamp)
    expect(signal[4].head.acquisitionTimeStamp - signal[0].head.acquisitionTimeStamp).toBe(Math.round((4 * PD.trS) / 2.5e-3))
  })

  it('sets the first/last flags of each slice, and the last of the measurement once', () => {
    const withFlag = (flag: number): number[] => signal.flatMap((a, i) => hasFlag(a.head, flag) ? [i] : [])
    expect(withFlag(ACQ_FLAGS.FIRST_IN_SLICE)).toEqual([0, 1])
    expect(withFlag(ACQ_FLAGS.LAST_IN_SLICE)).toEqual([14, 15])
    expect(withFlag(ACQ_FLAGS.FIRST_IN_ENCODE_STEP1)).toEqual([0, 1])
    expect(withFlag(ACQ_FLAGS.LAST_IN_ENCODE_STEP1)).toEqual([14, 15])
    expect(withFlag(ACQ_FLAGS.FIRST_IN_REPETITION)).toEqual([0])
    expect(withFlag(ACQ_FLAGS.LAST_IN_REPETITION)).toEqual([15])
    expect(withFlag(ACQ_FLAGS.LAST_IN_MEASUREMENT)).toEqual([15])
    expect(withFlag(ACQ_FLAGS.IS_REVERSE)).toEqual([2, 3, 6, 7, 10, 11, 14, 15])
    expect(withFlag(ACQ_FLAGS.IS_NOISE_MEASUREMENT)).toEqual([])
    expect(withFlag(ACQ_FLAGS.FIRST_IN_ENCODE_STEP2)).toEqual([])
  })

  it('fills the fixed fields: version, channels, samples, dwell, geometry', () => {
    for (const a of acqs) {
      expect(a.head.version).toBe(1)
      expect(a.head.availableChannels).toBe(3)
      expect(a.head.activeChannels).toBe(3)
      expect(a.head.channelMask[0]).toBe(0b111n)
      expect(a.head.channelMask.slice(1).every((m) => m === 0n)).toBe(true)
      expect(a.head.numberOfSamples).toBe(16)
      expect(a.head.centerSample).toBe(8)
      expect(a.head.trajectoryDimensions).toBe(0)
      expect(a.traj).toHaveLength(0)
      expect(a.head.sampleTimeUs).toBeCloseTo(10, 9)
      expect(a.data).toHaveLength(2 * 3 * 16)
      expect(a.head.readDir).toEqual([1, 0, 0])
      expect(a.head.sliceDir).toEqual([0, 0, 1])
    }
    // slices 5 mm apart, centred on the geometry's position
    expect(signal[0].head.position).toEqual([0, 0, 7.5])
    expect(signal[1].head.position).toEqual([0, 0, 12.5])
  })

  it('sees a different cross-section of a 3D phantom in each slice', () => {
    // A 5 cm sphere cut 2.5 mm and 30 mm from its centre: discs of area π(r² − z²).
    const single = { ...opts, coils: 1, noiseReadouts: 0 }
    const dcOfSlices = (spacing: number): number[] => {
      const acquired = Array.from(simulateReadouts(cartesianReadouts({ matrix: [16, 8], fovM: opts.fovM, teS: PD.teS, slices: 2, sliceSpacingM: spacing }), single))
      return [0, 1].map((slice) => (acquired.find((a) => a.head.idx.slice === slice && a.head.idx.kspaceEncodeStep1 === 4) as Acquisition).data[2 * 8])
    }
    const [near0, near1] = dcOfSlices(0.005)
    const [far0, far1] = dcOfSlices(0.06)
    expect(near1 / near0).toBeCloseTo(1, 9)
    expect(far1 / far0).toBeCloseTo(1, 9)
    expect(far0 / near0).toBeCloseTo((0.05 ** 2 - 0.03 ** 2) / (0.05 ** 2 - 0.0025 ** 2), 6)
  })

  it('describes the limits of the plan', () => {
    const enc = encodingFor(opts, cartesianReadouts({ matrix: [16, 8], fovM: opts.fovM, teS: PD.teS, ...planOptions }))
    expect(enc.limits.slice).toEqual({ minimum: 0, maximum: 1, center: 0 })
    expect(enc.limits.kspaceEncodingStep1).toEqual({ minimum: 0, maximum: 7, center: 4 })
    expect(enc.trajectory).toBe('cartesian')
  })
})

describe('trajectories', () => {
  it('stores k·Δx per sample for non-Cartesian data, ±0.5 at the edge of the matrix', () => {
    const [acq] = run(options({ matrix: [16, 8], trajectory: 'radial' }))
    expect(acq.head.trajectoryDimensions).toBe(2)
    expect(acq.traj).toHaveLength(2 * 16)
    expect(acq.traj[0]).toBeCloseTo(-0.5, 6) // sample 0 of line 0: kx = −8/FOV
    expect(acq.traj[1]).toBeCloseTo(-0.5, 6) // ky = −4/FOV
    expect(acq.traj[2 * 8]).toBeCloseTo(0, 6)
    expect(encodingFor(options({ trajectory: 'radial' })).trajectory).toBe('radial')
  })
})

describe('3D encoding', () => {
  it('images a sphere, with partitions counted and flagged', () => {
    const phantom = discPhantom({ radiusM: 0.06, dimensions: 3 })
    const opts = options({ phantom, matrix: [16, 16, 8], fovM: [0.2, 0.2, 0.2] })
    const acqs = Array.from(simulateReadouts(cartesianReadouts({ matrix: [16, 16, 8], fovM: 0.2, teS: PD.teS }), opts))
    expect(acqs).toHaveLength(16 * 8)
    expect(acqs.filter((a) => hasFlag(a.head, ACQ_FLAGS.FIRST_IN_ENCODE_STEP2))).toHaveLength(1)
    expect(hasFlag(acqs[acqs.length - 1].head, ACQ_FLAGS.LAST_IN_ENCODE_STEP2)).toBe(true)
    expect(acqs.filter((a) => hasFlag(a.head, ACQ_FLAGS.LAST_IN_ENCODE_STEP1))).toHaveLength(8)
    // Scaled by 1/voxel volume, the k = 0 sample counts the voxels the sphere fills.
    const centre = acqs.find((a) => a.head.idx.kspaceEncodeStep1 === 8 && a.head.idx.kspaceEncodeStep2 === 4) as Acquisition
    const voxel = (0.2 / 16) * (0.2 / 16) * (0.2 / 8)
    expect(centre.data[2 * 8]).toBeCloseTo(((4 / 3) * Math.PI * 0.06 ** 3) / voxel, 1)
  })
})

describe('invalid input', () => {
  it('throws SimulationError', () => {
    expect(() => Array.from(simulateReadouts([], options({ noiseSigma: -1 })))).toThrow(expect.objectContaining({ name: 'SimulationError' }))
    expect(() => Array.from(simulateReadouts([], options({ oversampling: 3 as 2 })))).toThrow(expect.objectContaining({ name: 'SimulationError' }))
    const broken = { kx: new Float64Array(4), ky: new Float64Array(3), kz: new Float64Array(4), dwellS: 1e-5, timeFromExcitationS: 0, counters: { line: 0, partition: 0, slice: 0, average: 0, contrast: 0, repetition: 0, set: 0, segment: 0 } }
    expect(() => Array.from(simulateReadouts([broken], options()))).toThrow(expect.objectContaining({ name: 'SimulationError' }))
  })
})

describe('against ISMRMRD\'s generator', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scanhub-ismrmrd-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  // ismrmrd_generate_cartesian_shepp_logan stores the modified Shepp-Logan it drew (x fastest, pixel i
  // at (i − N/2)/(N/2) table units) and acquisitions whose centred inverse FFT over (line, sample) gives
  // it back in that orientation. Our acquisitions, reconstructed the same way, must show the same picture:
  // this pins the k-space sign and which counter is x and which y to ISMRMRD's.
  it.skipIf(!hasTool('ismrmrd_generate_cartesian_shepp_logan') || !hasPythonModules('h5py', 'numpy'))('images the phantom in ISMRMRD\'s orientation', () => {
    const n = 64
    const file = join(dir, 'sl.h5')
    execFileSync('ismrmrd_generate_cartesian_shepp_logan', ['-m', String(n), '-c', '1', '-O', '1', '-n', '0', '-o', file], { stdio: 'ignore' })
    const dump = join(dir, 'phantom.f32')
    execFileSync(DEBIAN_PYTHON, ['-c', [
      'import h5py, numpy, sys',
      'p = numpy.array(h5py.File(sys.argv[1], "r")["dataset/phantom"])',
      'numpy.ascontiguousarray(p["real"], dtype="<f4").tofile(sys.argv[2])'
    ].join('\n'), file, dump])
    const bytes = readFileSync(dump)
    const theirs = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)
    expect(theirs).toHaveLength(n * n)
    const opts = options({ phantom: sheppLogan2d({ radiusM: FOV / 2, contrast: 'table' }), matrix: [n, n] })
    const ours = image(run(opts), 0, n).re
    const flipX = ours.map((_, p) => ours[Math.floor(p / n) * n + ((n - (p % n)) % n)])
    const flipY = ours.map((_, p) => ours[((n - Math.floor(p / n)) % n) * n + (p % n)])
    const same = correlation(ours, theirs)
    expect(same).toBeGreaterThan(0.9)
    expect(same).toBeGreaterThan(correlation(flipX, theirs) + 0.01)
    expect(same).toBeGreaterThan(correlation(flipY, theirs) + 0.1)
  })
})
