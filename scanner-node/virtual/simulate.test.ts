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
import { phantomKspace } from './kspace.ts'
import { discPhantom, phantomImageAt, sheppLogan2d, steadyStateSignal, TISSUES } from './phantom.ts'
import type { Phantom } from './phantom.ts'
import type { PlannedReadout } from './readout-plan.ts'
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
      // k = 0 is sample 8 as acquired; a reversed readout counts it from its end (protocol/mrd/PROTOCOL.md)
      expect(a.head.centerSample).toBe(hasFlag(a.head, ACQ_FLAGS.IS_REVERSE) ? 7 : 8)
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

const COUNTERS = { line: 0, partition: 0, slice: 0, average: 0, contrast: 0, repetition: 0, set: 0, segment: 0 }

/** J1 by Bessel's integral (1/π)∫₀^π cos(τ − x·sin τ) dτ, Simpson's rule: independent of bessel.ts. */
function besselJ1Integral (x: number): number {
  const n = 2000
  const h = Math.PI / n
  let sum = 0
  for (let i = 0; i <= n; i++) {
    const tau = i * h
    const w = i === 0 || i === n ? 1 : i % 2 === 1 ? 4 : 2
    sum += w * Math.cos(tau - x * Math.sin(tau))
  }
  return (sum * h) / 3 / Math.PI
}

describe('radial trajectories', () => {
  // An off-centre sphere of doped water cut by a slice 1 cm from its centre: a disc of radius
  // √(R² − d²) centred at (x0, y0), whose transform is 2πr²·J1(2π|k|r)/(2π|k|r)·exp(−i2π k·c).
  const R = 0.05
  const [x0, y0, z0] = [0.02, -0.015, 0.004]
  const sliceZ = z0 + 0.01
  const phantom: Phantom = { dimensions: 3, name: 'sphere', ellipsoids: [{ centreM: [x0, y0, z0], semiAxesM: [R, R, R], angleRad: 0, tissue: TISSUES.water }] }
  const gre = { kind: 'GRE', teS: 0.004, trS: 0.02, flipAngleDeg: 20 } as const
  const n = 64
  const spokes = 8
  const dk = 1 / FOV
  const dwellS = 8e-6
  const plan = Array.from({ length: spokes }, (_, j) => {
    const theta = (Math.PI * j) / spokes
    const k = Float64Array.from({ length: n }, (_, m) => (m - n / 2) * dk)
    return {
      kx: k.map((v) => v * Math.cos(theta)),
      ky: k.map((v) => v * Math.sin(theta)),
      kz: new Float64Array(n),
      dwellS,
      timeFromExcitationS: gre.teS,
      centerSample: n / 2,
      sliceOffsetM: sliceZ,
      counters: { ...COUNTERS, line: j }
    }
  })
  const opts = options({ phantom, matrix: [n, n], timing: gre, trajectory: 'radial' })
  const acqs = Array.from(simulateReadouts(plan, opts))
  const voxel = (FOV / n) ** 2
  const r = Math.sqrt(R * R - (sliceZ - z0) ** 2)
  const amplitude = (tS: number): number => steadyStateSignal(TISSUES.water, gre) * Math.exp(-tS / TISSUES.water.t2StarS)

  it('takes each sample at its own k: the analytic transform of the slice, decayed to the sample\'s time', () => {
    const dc = (amplitude(gre.teS) * Math.PI * r * r) / voxel
    let worst = 0
    for (const [j, a] of acqs.entries()) {
      // k = 0 is the slice's weighted area, the same on every spoke
      expect(a.data[2 * (n / 2)] / dc).toBeCloseTo(1, 6)
      expect(Math.abs(a.data[2 * (n / 2) + 1]) / dc).toBeLessThan(1e-6)
      for (let m = 0; m < n; m++) {
        const kx = plan[j].kx[m]
        const ky = plan[j].ky[m]
        const kappa = 2 * Math.PI * Math.hypot(kx, ky) * r
        const radial = kappa === 0 ? Math.PI * r * r : (2 * Math.PI * r * r * besselJ1Integral(kappa)) / kappa
        const t = gre.teS + (m - n / 2) * dwellS
        const magnitude = (amplitude(t) * radial) / voxel
        const phase = -2 * Math.PI * (kx * x0 + ky * y0)
        worst = Math.max(worst, Math.hypot(a.data[2 * m] - magnitude * Math.cos(phase), a.data[2 * m + 1] - magnitude * Math.sin(phase)) / dc)
      }
    }
    // float32 samples of values up to dc: a few parts in 1e7 of it
    expect(worst).toBeLessThan(2e-6)
  })

  it('stores each sample\'s k·Δx as a 2D trajectory', () => {
    for (const [j, a] of acqs.entries()) {
      expect(a.head.trajectoryDimensions).toBe(2)
      for (const m of [0, 17, n / 2, n - 1]) {
        expect(a.traj[2 * m]).toBeCloseTo(plan[j].kx[m] * (FOV / n), 6)
        expect(a.traj[2 * m + 1]).toBeCloseTo(plan[j].ky[m] * (FOV / n), 6)
      }
    }
    expect(Math.min(...acqs[0].traj)).toBeCloseTo(-0.5, 6)
  })
})

describe('echo trains', () => {
  // One excitation, a train of readouts through the centre of k-space (ky = 0) so that each echo's
  // centre sample is the slice's weighted area at that echo's time.
  const disc: Phantom = discPhantom({ radiusM: 0.05, tissue: TISSUES.greyMatter, dimensions: 3 })
  const n = 32
  const dwellS = 5e-6
  const espS = 0.0008
  const train = (echoes: number, firstS: number, alternate: boolean): PlannedReadout[] => Array.from({ length: echoes }, (_, e) => {
    const reverse = alternate && e % 2 === 1
    return {
      kx: Float64Array.from({ length: n }, (_, m) => (reverse ? -1 : 1) * (m - n / 2) / FOV),
      ky: new Float64Array(n),
      kz: new Float64Array(n),
      dwellS,
      timeFromExcitationS: firstS + e * espS,
      centerSample: n / 2,
      excitationTimeS: 0,
      isReverse: reverse,
      counters: { ...COUNTERS, line: e }
    }
  })
  const centres = (plan: PlannedReadout[], timing: SimulateOptions['timing']): number[] =>
    Array.from(simulateReadouts(plan, options({ phantom: disc, matrix: [n, n], timing })), (a) => a.data[2 * (n / 2)])
  const gm = TISSUES.greyMatter

  it('a gradient-echo (EPI) train decays with T2* from echo to echo and along each readout', () => {
    const gre = { kind: 'GRE', teS: 0.002, trS: 1, flipAngleDeg: 90 } as const
    const plan = train(24, 0.002, true)
    const c = centres(plan, gre)
    for (let e = 1; e < c.length; e++) expect(c[e] / c[0]).toBeCloseTo(Math.exp(-(e * espS) / gm.t2StarS), 6)
    expect(c[23] / c[0]).toBeLessThan(0.75)
    // within one readout, the first sample is 16 dwells earlier than the centre: its weight is larger
    // by exp(16·dwell/T2*) than the transform alone would give
    const [first] = Array.from(simulateReadouts(plan.slice(0, 1), options({ phantom: disc, matrix: [n, n], timing: gre })))
    const kx = plan[0].kx[0]
    const kappa = 2 * Math.PI * Math.abs(kx) * 0.05
    const transformRatio = (2 * besselJ1Integral(kappa) / kappa) // S(k)/S(0) of a disc
    expect(first.data[0] / first.data[2 * (n / 2)] / transformRatio).toBeCloseTo(Math.exp((n / 2) * dwellS / gm.t2StarS), 5)
  })

  it('a turbo spin echo decays with T2 from echo to echo, each echo refocused at its readout\'s centre', () => {
    const se = { kind: 'SE', teS: 0.01, trS: 3, flipAngleDeg: 90 } as const
    const c = centres(train(16, 0.01, false), se)
    for (let e = 1; e < c.length; e++) expect(c[e] / c[0]).toBeCloseTo(Math.exp(-(e * espS) / gm.t2S), 6)
  })

  it('a spin-echo EPI train has its spin echo at TE and T2′ decay on either side of it', () => {
    const se = { kind: 'SE', teS: 0.03, trS: 3, flipAngleDeg: 90 } as const
    const plan = train(16, 0.03 - 8 * espS, true)
    const c = centres(plan, se)
    const r2prime = 1 / gm.t2StarS - 1 / gm.t2S
    const atEcho = c[8]
    for (let e = 0; e < c.length; e++) expect(c[e] / atEcho).toBeCloseTo(Math.exp(-Math.abs(e - 8) * espS * r2prime), 6)
    // the plan may say where each spin echo is
    const told = centres(plan.map((r) => ({ ...r, spinEchoTimeS: r.timeFromExcitationS })), se)
    for (let e = 1; e < told.length; e++) expect(told[e] / told[0]).toBeCloseTo(Math.exp(-(e * espS) / gm.t2S), 6)
  })
})

describe('navigators, calibration lines and trajectories in the flags', () => {
  // Two slices, each: three navigator readouts (alternating), then the even lines (R = 2) of which 6
  // and 8 are calibration-and-imaging, calibration-only lines 7, 9 and 15 (the last beyond every image
  // line), and a navigator after the last line.
  const n = 16
  const readout = (line: number, slice: number, extra: Partial<PlannedReadout> = {}): PlannedReadout => ({
    kx: Float64Array.from({ length: n }, (_, m) => (m - n / 2) / FOV),
    ky: new Float64Array(n).fill((line - n / 2) / FOV),
    kz: new Float64Array(n),
    dwellS: 1e-5,
    timeFromExcitationS: 0.005,
    centerSample: n / 2,
    sliceOffsetM: slice * 0.005,
    counters: { ...COUNTERS, line, slice },
    ...extra
  })
  const plan: PlannedReadout[] = []
  for (let slice = 0; slice < 2; slice++) {
    for (let nav = 0; nav < 3; nav++) plan.push(readout(n / 2, slice, { isNavigator: true, isReverse: nav === 1, kx: Float64Array.from({ length: n }, (_, m) => (nav === 1 ? -1 : 1) * (m - n / 2) / FOV), ky: new Float64Array(n) }))
    for (let line = 0; line < n; line++) {
      if (line >= 6 && line <= 9) plan.push(readout(line, slice, { parallelCalibration: line % 2 === 0 ? 'calibration-and-imaging' : 'calibration' }))
      else if (line % 2 === 0) plan.push(readout(line, slice))
      else if (line === n - 1) plan.push(readout(line, slice, { parallelCalibration: 'calibration' }))
    }
    plan.push(readout(n / 2, slice, { isNavigator: true }))
  }
  const opts = options({ phantom: discPhantom({ radiusM: 0.05, dimensions: 3 }), matrix: [n, n], noiseReadouts: 2, trajectory: 'epi' })
  const acqs = Array.from(simulateReadouts(plan, opts)).slice(2)
  const withFlag = (flag: number): number[] => acqs.flatMap((a, i) => hasFlag(a.head, flag) ? [i] : [])
  const perSlice = plan.length / 2

  it('navigators are phase-correction data, outside every first/last of the slice', () => {
    expect(withFlag(ACQ_FLAGS.IS_PHASECORR_DATA)).toEqual([0, 1, 2, perSlice - 1, perSlice, perSlice + 1, perSlice + 2, 2 * perSlice - 1])
    expect(withFlag(ACQ_FLAGS.IS_REVERSE)).toEqual([1, perSlice + 1])
    expect(withFlag(ACQ_FLAGS.FIRST_IN_SLICE)).toEqual([3, perSlice + 3])
    expect(withFlag(ACQ_FLAGS.LAST_IN_SLICE)).toEqual([perSlice - 2, 2 * perSlice - 2])
    expect(withFlag(ACQ_FLAGS.LAST_IN_MEASUREMENT)).toEqual([2 * perSlice - 2])
    expect(withFlag(ACQ_FLAGS.FIRST_IN_REPETITION)).toEqual([3])
  })

  it('calibration lines carry IS_PARALLEL_CALIBRATION or ..._AND_IMAGING, and count in the limits', () => {
    const lines = (flag: number): number[] => withFlag(flag).filter((i) => acqs[i].head.idx.slice === 0).map((i) => acqs[i].head.idx.kspaceEncodeStep1)
    expect(lines(ACQ_FLAGS.IS_PARALLEL_CALIBRATION)).toEqual([7, 9, 15])
    expect(lines(ACQ_FLAGS.IS_PARALLEL_CALIBRATION_AND_IMAGING)).toEqual([6, 8])
    const enc = encodingFor(opts, plan)
    expect(enc.limits.kspaceEncodingStep1).toEqual({ minimum: 0, maximum: 15, center: 8 })
    expect(enc.limits.slice).toEqual({ minimum: 0, maximum: 1, center: 0 })
    expect(enc.trajectory).toBe('epi')
  })

  it('EPI without ramp sampling stores no trajectory; asked to, stores 2D, and a 3D encoding stores 3D', () => {
    expect(acqs.every((a) => a.head.trajectoryDimensions === 0 && a.traj.length === 0)).toBe(true)
    const stored = Array.from(simulateReadouts(plan.slice(0, 4), { ...opts, noiseReadouts: 0, storeTrajectory: true }))
    expect(stored.map((a) => a.head.trajectoryDimensions)).toEqual([2, 2, 2, 2])
    const volume = Array.from(simulateReadouts(cartesianReadouts({ matrix: [8, 4, 4], fovM: 0.2, teS: 0.005 }), options({ phantom: discPhantom({ radiusM: 0.05, dimensions: 3 }), matrix: [8, 4, 4], fovM: 0.2, storeTrajectory: true })))
    expect(volume[0].head.trajectoryDimensions).toBe(3)
    expect(volume[0].traj).toHaveLength(3 * 8)
    expect(Array.from(volume[0].traj.subarray(0, 3))).toEqual([-0.5, -0.5, -0.5])
  })
})

describe('readout delay', () => {
  const n = 32
  const dwellS = 1e-5
  const phantom = discPhantom({ radiusM: 0.06, tissue: TISSUES.whiteMatter, dimensions: 3 })
  const opts = options({ phantom, matrix: [n, n] })
  const plan = Array.from(cartesianReadouts({ matrix: [n, n], fovM: opts.fovM, teS: PD.teS, dwellS, alternateReadDirection: true }))
  const delayS = 0.5 * dwellS

  it('samples k(t − delay): forward readouts lag towards −k, reversed ones towards +k', () => {
    const delayed = Array.from(simulateReadouts(plan, { ...opts, readoutDelayS: delayS }))
    const scale = 1 / (FOV / n) ** 2
    for (const line of [3, 4, 16, 17]) {
      const r = plan[line]
      const shift = (r.isReverse === true ? 1 : -1) * (delayS / dwellS) / FOV
      const expected = phantomKspace(phantom, { kx: r.kx.map((k) => k + shift), ky: r.ky, kz: r.kz, tS: new Float64Array(n).fill(PD.teS) }, { timing: PD, encoding: 2 })
      for (const m of [0, 9, 16, 31]) {
        expect(delayed[line].data[2 * m]).toBeCloseTo(scale * expected.re[m], 3)
        expect(delayed[line].data[2 * m + 1]).toBeCloseTo(scale * expected.im[m], 3)
      }
      // the trajectory and centre the reconstruction is told stay the nominal ones (reversed readouts count from their end)
      expect(delayed[line].head.centerSample).toBe(r.isReverse === true ? n - 1 - n / 2 : n / 2)
    }
  })

  it('gives alternating readouts a Nyquist ghost half a field of view away', () => {
    const ghostShare = (acqs: Acquisition[]): number => {
      const img = magnitude(image(acqs.map((a) => hasFlag(a.head, ACQ_FLAGS.IS_REVERSE) ? { ...a, data: reversed(a.data) } : a), 0, n))
      // The disc (radius 6 cm in a 24 cm FOV) covers rows n/4..3n/4; its ghost lands in the others.
      let outside = 0
      let total = 0
      img.forEach((v, p) => { const row = Math.floor(p / n); total += v * v; if (row < n / 4 - 1 || row > (3 * n) / 4) outside += v * v })
      return outside / total
    }
    const still = ghostShare(Array.from(simulateReadouts(plan, opts)))
    const ghosted = ghostShare(Array.from(simulateReadouts(plan, { ...opts, readoutDelayS: delayS })))
    expect(still).toBeLessThan(1e-3)
    // half a dwell of delay: 13 % of the image energy moves into the ghost
    expect(ghosted).toBeGreaterThan(0.1)
  })
})

/**
 * A reversed readout of one coil put back in k order (what IS_REVERSE asks a reconstruction to do):
 * sample m of a line whose centre is n/2 lies at −(m − n/2)Δk, so k index m holds sample n − m; the
 * edge k index 0 has no sample and stays 0.
 */
function reversed (data: Float32Array): Float32Array {
  const n = data.length / 2
  const out = new Float32Array(data.length)
  for (let m = 1; m < n; m++) {
    out[2 * m] = data[2 * (n - m)]
    out[2 * m + 1] = data[2 * (n - m) + 1]
  }
  return out
}

describe('an excited slab in a 3D encoding', () => {
  // A tall ellipsoid (semi-axes 5, 5, 10 cm, centred 1 cm above isocentre) in a 4 cm slab at
  // isocentre, 8 partitions: along the kx = ky = 0 line of k-space each partition's sample is the
  // transform along z of the cross-section areas inside the slab, A(z) = πab(1 − (z − z0)²/c²).
  const [a, c, z0] = [0.05, 0.1, 0.01]
  const phantom: Phantom = { dimensions: 3, name: 'tall', ellipsoids: [{ centreM: [0, 0, z0], semiAxesM: [a, a, c], angleRad: 0, tissue: TISSUES.water }] }
  const matrix: [number, number, number] = [16, 16, 8]
  const fovM: [number, number, number] = [0.2, 0.2, 0.04]
  const plan = Array.from(cartesianReadouts({ matrix, fovM, teS: PD.teS }))
  const centreLine = (slab?: SimulateOptions['slab']): Acquisition[] => Array.from(simulateReadouts(plan, options({ phantom, matrix, fovM, slab })))
    .filter((x) => x.head.idx.kspaceEncodeStep1 === 8)
  const voxel = (0.2 / 16) * (0.2 / 16) * (0.04 / 8)
  const expected = (kz: number): { re: number, im: number } => {
    // Simpson over the slab, 4000 intervals
    const steps = 4000
    const h = 0.04 / steps
    let re = 0
    let im = 0
    for (let i = 0; i <= steps; i++) {
      const z = -0.02 + i * h
      const w = i === 0 || i === steps ? 1 : i % 2 === 1 ? 4 : 2
      const area = Math.PI * a * a * (1 - ((z - z0) / c) ** 2)
      re += w * area * Math.cos(-2 * Math.PI * kz * z)
      im += w * area * Math.sin(-2 * Math.PI * kz * z)
    }
    return { re: (re * h) / 3, im: (im * h) / 3 }
  }

  it('sees only what lies in the slab, with its position along z', () => {
    const acqs = centreLine({ centreM: 0, thicknessM: 0.04 })
    expect(acqs).toHaveLength(8)
    const dc = expected(0).re
    for (const acq of acqs) {
      const kz = (acq.head.idx.kspaceEncodeStep2 - 4) / 0.04
      const want = expected(kz)
      // partition-high steps of the ellipsoid: within 1 % of the smooth object's transform
      expect(Math.abs(acq.data[2 * 8] * voxel - want.re) / dc).toBeLessThan(0.01)
      expect(Math.abs(acq.data[2 * 8 + 1] * voxel - want.im) / dc).toBeLessThan(0.01)
    }
  })

  it('without a slab, the whole ellipsoid is excited and folds into the field of view', () => {
    const k0 = centreLine().find((x) => x.head.idx.kspaceEncodeStep2 === 4) as Acquisition
    expect(k0.data[2 * 8] * voxel).toBeCloseTo((4 / 3) * Math.PI * a * a * c, 8)
    expect(k0.data[2 * 8] * voxel / expected(0).re).toBeGreaterThan(2)
  })

  it('refuses a slab without thickness', () => {
    expect(() => centreLine({ centreM: 0, thicknessM: 0 })).toThrow(expect.objectContaining({ name: 'SimulationError' }))
  })
})
