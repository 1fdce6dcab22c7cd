import { describe, expect, it } from 'vitest'
import type { Acquisition } from '../../protocol/mrd/types.ts'
import { parseIsmrmrdXml, writeIsmrmrdXml } from '../../protocol/mrd/index.ts'
import { BUILTIN_SEQUENCES, parseSeq, writeSeq, type SeqSummary } from '../../protocol/pulseq/index.ts'
import { ACQ_FLAGS, cartesianReadouts, hasFlag, phantomImageAt, type PlannedReadout } from '../virtual/index.ts'
import { centredInverseDft } from '../virtual/fft.ts'
import { planSequence, type SequencePlan } from './sequence-plan.ts'
import { virtualScan, virtualScanPhantom } from './virtual-scan.ts'

/** Magnitude image of one slice (or partition p of a 3D scan), coil 0: centred inverse DFT along x, y (and z). */
function sliceImages (acqs: Acquisition[], nx: number, ny: number, nz: number, key: (a: Acquisition) => number): Map<number, Float64Array> {
  const groups = new Map<number, { re: Float64Array, im: Float64Array }>()
  for (const a of acqs) {
    if (hasFlag(a.head, ACQ_FLAGS.IS_NOISE_MEASUREMENT)) continue
    const k = key(a)
    let g = groups.get(k)
    if (g === undefined) { g = { re: new Float64Array(nx * ny * nz), im: new Float64Array(nx * ny * nz) }; groups.set(k, g) }
    const base = (a.head.idx.kspaceEncodeStep2 * ny + a.head.idx.kspaceEncodeStep1) * nx
    for (let m = 0; m < nx; m++) { g.re[base + m] = a.data[2 * m]; g.im[base + m] = a.data[2 * m + 1] }
  }
  const out = new Map<number, Float64Array>()
  for (const [k, { re, im }] of groups) {
    for (const [n, stride, count] of [[nx, 1, ny * nz], [ny, nx, nx * nz], [nz, nx * ny, nx * ny]] as const) {
      if (n === 1) continue
      const lr = new Float64Array(n)
      const li = new Float64Array(n)
      for (let line = 0; line < count; line++) {
        // the start of line `line` along this axis: every index whose coordinate on this axis is 0
        const start = stride === 1 ? line * nx : stride === nx ? (line % nx) + Math.floor(line / nx) * nx * ny : line
        for (let i = 0; i < n; i++) { lr[i] = re[start + i * stride]; li[i] = im[start + i * stride] }
        centredInverseDft(lr, li)
        for (let i = 0; i < n; i++) { re[start + i * stride] = lr[i]; im[start + i * stride] = li[i] }
      }
    }
    out.set(k, re.map((r, i) => Math.hypot(r, im[i])))
  }
  return out
}

function nrmse (a: ArrayLike<number>, reference: ArrayLike<number>): number {
  let num = 0
  let den = 0
  for (let i = 0; i < a.length; i++) { num += (a[i] - reference[i]) ** 2; den += reference[i] ** 2 }
  return Math.sqrt(num / den)
}

function correlation (a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length
  let ma = 0
  let mb = 0
  for (let i = 0; i < n; i++) { ma += a[i] / n; mb += b[i] / n }
  let ab = 0
  let aa = 0
  let bb = 0
  for (let i = 0; i < n; i++) { ab += (a[i] - ma) * (b[i] - mb); aa += (a[i] - ma) ** 2; bb += (b[i] - mb) ** 2 }
  return ab / Math.sqrt(aa * bb)
}

const SUMMARY: SeqSummary = {
  version: '1.5.0',
  name: 'test',
  durationS: 1,
  blocks: 0,
  adcReadouts: 0,
  adcSamples: 0,
  definitions: {},
  trajectory: 'cartesian-2d',
  acceleration: [1, 1],
  partialFourier: [1, 1],
  roles: {},
  labelled: [],
  warnings: []
}

/** A plan made by hand, as sequence-plan.ts would make it. */
function handPlan (readouts: PlannedReadout[], overrides: Partial<SequencePlan> = {}): SequencePlan {
  return {
    summary: SUMMARY,
    readouts,
    timing: { kind: 'GRE', teS: 0.005, trS: 0.02, flipAngleDeg: 15 },
    matrix: [16, 16, 1],
    fovM: [0.256, 0.256, 0.005],
    oversampling: 1,
    slices: 1,
    trajectory: 'cartesian',
    storeTrajectory: false,
    acceleration: [1, 1],
    ...overrides
  }
}

describe('the virtual scanner\'s head', () => {
  const plan = planSequence(parseSeq(writeSeq(BUILTIN_SEQUENCES['gre-multislice'].build({}))))
  const [nx, ny] = plan.matrix
  const offsets = [...new Set(plan.readouts.filter((r) => r.isNoise !== true).map((r) => r.sliceOffsetM ?? 0))].sort((a, b) => a - b)
  const acqs = [...virtualScan({ plan, coils: 1, noiseSigma: 0 }).acquisitions]
  const images = sliceImages(acqs, nx, ny, 1, (a) => a.head.idx.slice)
  const slicePosition = (slice: number): number => (plan.readouts.find((r) => r.isNoise !== true && r.counters.slice === slice) as PlannedReadout).sliceOffsetM ?? 0
  const phantom = virtualScanPhantom(plan.fovM)
  const truth = (zM: number): Float64Array => {
    const out = new Float64Array(nx * ny)
    for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) out[j * nx + i] = Math.abs(phantomImageAt(phantom, (i - nx / 2) * plan.fovM[0] / nx, (j - ny / 2) * plan.fovM[1] / ny, plan.timing, { zM }))
    return out
  }

  it('gre-multislice: five 5 mm slices around isocentre', () => {
    expect(offsets.map((z) => Math.round(z * 1e4) / 1e4)).toEqual([-0.01, -0.005, 0, 0.005, 0.01])
    expect(images.size).toBe(5)
  })

  it('shows different anatomy in neighbouring slices (NRMSE > 0.1)', () => {
    const bySlice = [...images.keys()].sort((a, b) => slicePosition(a) - slicePosition(b))
    for (let i = 1; i < bySlice.length; i++) {
      expect(nrmse(images.get(bySlice[i]) as Float64Array, images.get(bySlice[i - 1]) as Float64Array)).toBeGreaterThan(0.1)
    }
  })

  it('each slice is the head\'s cross-section at that slice\'s position, not its neighbour\'s', () => {
    for (const [slice, image] of images) {
      const z = slicePosition(slice)
      const own = correlation(image, truth(z))
      expect(own).toBeGreaterThan(0.9)
      for (const other of [z - 0.005, z + 0.005]) expect(own).toBeGreaterThan(correlation(image, truth(other)) + 0.01)
    }
  })

  it('3D partitions differ too', () => {
    const matrix: [number, number, number] = [32, 32, 16]
    const fovM: [number, number, number] = [0.256, 0.256, 0.256] // the whole head, which a hard pulse excites
    const plan3d = handPlan([...cartesianReadouts({ matrix, fovM, teS: 0.005 })], { matrix, fovM })
    const volume = sliceImages([...virtualScan({ plan: plan3d, coils: 1, noiseSigma: 0 }).acquisitions], 32, 32, 16, () => 0).get(0) as Float64Array
    const partition = (p: number): Float64Array => volume.subarray(p * 32 * 32, (p + 1) * 32 * 32)
    // 16 mm partitions from −80 mm to +64 mm: every neighbour differs, most of them by far more than 0.1
    const differences = [3, 4, 5, 6, 7, 8, 9, 10, 11].map((p) => nrmse(partition(p + 1), partition(p)))
    for (const d of differences) expect(d).toBeGreaterThan(0.05)
    expect(differences.reduce((s, d) => s + d, 0) / differences.length).toBeGreaterThan(0.2)
  })

  it('a 3D slab shows what lies in it, partition by partition', () => {
    // the 64 mm slab of the built-in 3D GRE, in 8 partitions of 8 mm
    const matrix: [number, number, number] = [32, 32, 8]
    const fovM: [number, number, number] = [0.256, 0.256, 0.064]
    const slab = handPlan([...cartesianReadouts({ matrix, fovM, teS: 0.005 })], { matrix, fovM })
    const volume = sliceImages([...virtualScan({ plan: slab, coils: 1, noiseSigma: 0 }).acquisitions], 32, 32, 8, () => 0).get(0) as Float64Array
    const head = virtualScanPhantom(fovM)
    for (let p = 1; p < 8; p++) {
      const z = (p - 4) * 0.008
      const truth = new Float64Array(32 * 32)
      for (let j = 0; j < 32; j++) for (let i = 0; i < 32; i++) truth[j * 32 + i] = Math.abs(phantomImageAt(head, (i - 16) * 0.008, (j - 16) * 0.008, slab.timing, { zM: z }))
      // 8 mm voxels against the cross-section through their centres: partial volume keeps r below 0.9
      expect(correlation(volume.subarray(p * 1024, (p + 1) * 1024), truth)).toBeGreaterThan(0.8)
    }
  })
})

describe('the header and acquisitions of a virtual scan say what the plan does', () => {
  const n = 16
  const COUNTERS = { line: 0, partition: 0, slice: 0, average: 0, contrast: 0, repetition: 0, set: 0, segment: 0 }
  // An accelerated EPI-like plan: per shot, three navigators, then the odd lines (R = 2), with lines
  // 6..9 as embedded calibration (6, 8 calibration-and-imaging, 7, 9 calibration only); two contrasts.
  const readouts: PlannedReadout[] = []
  for (const contrast of [0, 1]) {
    const excitationTimeS = contrast * 0.1
    const line = (l: number, e: number, extra: Partial<PlannedReadout> = {}): PlannedReadout => {
      const reverse = e % 2 === 1
      return {
        kx: Float64Array.from({ length: n }, (_, m) => (reverse ? -1 : 1) * (m - n / 2) / 0.256),
        ky: new Float64Array(n).fill((l - n / 2) / 0.256),
        kz: new Float64Array(n),
        dwellS: 1e-5,
        timeFromExcitationS: 0.004 + contrast * 0.01 + e * 0.0005,
        centerSample: n / 2,
        excitationTimeS,
        isReverse: reverse,
        counters: { ...COUNTERS, line: l, contrast },
        ...extra
      }
    }
    let e = 0
    for (let nav = 0; nav < 3; nav++) readouts.push(line(n / 2, e++, { isNavigator: true, ky: new Float64Array(n) }))
    for (let l = 0; l < n; l++) {
      if (l >= 6 && l <= 9) readouts.push(line(l, e++, { parallelCalibration: l % 2 === 0 ? 'calibration-and-imaging' : 'calibration' }))
      else if (l % 2 === 0) readouts.push(line(l, e++))
    }
  }
  const summary: SeqSummary = { ...SUMMARY, trajectory: 'epi', contrastTesS: [0.0082, 0.0182], tiS: 0.3, echoSpacingS: 0.0005, echoTrainLength: 12, acceleration: [2, 1] }
  const plan = handPlan(readouts, { summary, trajectory: 'epi', storeTrajectory: true, acceleration: [2, 1], timing: { kind: 'GRE', teS: 0.008, trS: 2, flipAngleDeg: 70, tiS: 0.3 } })
  const scan = virtualScan({ plan, coils: 2, noiseSigma: 0, noiseReadouts: 2 })
  const acqs = [...scan.acquisitions]
  const header = parseIsmrmrdXml(writeIsmrmrdXml(scan.header))
  const encoding = header.encoding[0]

  it('names the trajectory, acceleration, embedded calibration and echo train', () => {
    expect(encoding.trajectory).toBe('epi')
    expect(encoding.parallelImaging).toEqual({ accelerationFactor: { kspace_encoding_step_1: 2, kspace_encoding_step_2: 1 }, calibrationMode: 'embedded' })
    expect(encoding.echoTrainLength).toBe(12)
    expect(encoding.encodingLimits.kspace_encoding_step_1).toEqual({ minimum: 0, maximum: 14, center: 8 })
    expect(encoding.encodingLimits.contrast).toEqual({ minimum: 0, maximum: 1, center: 0 })
  })

  it('gives every contrast its TE, and TR, TI, flip angle, echo spacing and sequence type', () => {
    expect(header.sequenceParameters).toEqual({ TR: [2000], TE: [8.2, 18.2], TI: [300], flipAngle_deg: [70], sequence_type: 'EPI', echo_spacing: [0.5] })
  })

  it('without the summary\'s values, takes TEs and the echo train from the readouts', () => {
    const bare = virtualScan({ plan: { ...plan, summary: SUMMARY, trajectory: 'cartesian', storeTrajectory: false }, coils: 1, noiseSigma: 0 }).header
    // each contrast's image readout nearest k = 0 is its line 8, the 9th readout of its shot
    expect(bare.sequenceParameters?.TE).toEqual([8, 18])
    expect(bare.encoding[0].echoTrainLength).toBe(10)
    expect(bare.sequenceParameters?.sequence_type).toBe('Flash')
    expect(bare.sequenceParameters?.echo_spacing).toBeUndefined()
  })

  it('flags navigators, calibration lines and reversed readouts, and stores the trajectory', () => {
    const signal = acqs.filter((a) => !hasFlag(a.head, ACQ_FLAGS.IS_NOISE_MEASUREMENT))
    expect(signal).toHaveLength(readouts.length)
    signal.forEach((a, i) => {
      const r = readouts[i]
      expect(hasFlag(a.head, ACQ_FLAGS.IS_PHASECORR_DATA)).toBe(r.isNavigator === true)
      expect(hasFlag(a.head, ACQ_FLAGS.IS_PARALLEL_CALIBRATION)).toBe(r.parallelCalibration === 'calibration')
      expect(hasFlag(a.head, ACQ_FLAGS.IS_PARALLEL_CALIBRATION_AND_IMAGING)).toBe(r.parallelCalibration === 'calibration-and-imaging')
      expect(hasFlag(a.head, ACQ_FLAGS.IS_REVERSE)).toBe(r.isReverse === true)
      expect(a.head.trajectoryDimensions).toBe(2)
      expect(a.traj[0]).toBeCloseTo(r.kx[0] * 0.256 / 16, 6)
    })
    // the first image readout of each contrast opens it, not its navigators
    expect(signal.flatMap((a, i) => hasFlag(a.head, ACQ_FLAGS.FIRST_IN_SLICE) ? [i] : [])).toEqual([3])
  })

  it('refuses an acceleration that is not a whole number, and names no calibration mode where there is none', () => {
    expect(() => virtualScan({ plan: { ...plan, acceleration: [1.5, 1] }, coils: 1, noiseSigma: 0 })).toThrow(expect.objectContaining({ name: 'VirtualScanError' }))
    const uncalibrated = virtualScan({ plan: { ...plan, readouts: readouts.filter((r) => r.parallelCalibration !== 'calibration').map((r) => ({ ...r, parallelCalibration: undefined })) }, coils: 1, noiseSigma: 0 })
    expect(uncalibrated.header.encoding[0].parallelImaging).toEqual({ accelerationFactor: { kspace_encoding_step_1: 2, kspace_encoding_step_2: 1 } })
  })

  it('passes a readout delay on to the simulation', () => {
    const delayed = [...virtualScan({ plan, coils: 2, noiseSigma: 0, noiseReadouts: 2, readoutDelayS: 5e-6 }).acquisitions]
    const line = acqs.findIndex((a) => a.head.idx.kspaceEncodeStep1 === 8 && !hasFlag(a.head, ACQ_FLAGS.IS_PHASECORR_DATA))
    expect(Array.from(delayed[line].traj)).toEqual(Array.from(acqs[line].traj))
    expect(Math.abs(delayed[line].data[2 * (n / 2)] - acqs[line].data[2 * (n / 2)])).toBeGreaterThan(1e-3 * Math.abs(acqs[line].data[2 * (n / 2)]))
  })
})
