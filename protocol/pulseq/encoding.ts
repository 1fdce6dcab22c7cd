// How a sequence encodes k-space, read from the sequence itself: the trajectory class, and for every
// ADC readout its ISMRMRD counters (line, partition, slice, contrast, repetition, ...), its role
// (image, noise, navigator, parallel-imaging calibration), direction and echo sample. The summary
// (`seq inspect`) and the scanner's plan both use this one function, so that what a file is said to be
// and how the scanner labels its data cannot disagree.
//
// Labels (LIN, PAR, SLC, ...) are used where the sequence sets them. Otherwise everything is derived
// from the events, and every such guess is named in `warnings`:
// - lines and partitions from the phase-encode position at the echo, on the grid of its smallest step,
//   the centre line at ⌊n/2⌋ (n the full matrix, partial Fourier included);
// - slices from the frequency offsets of slice-selective excitations, ordered by position;
// - contrasts from the echo index within an excitation where a line recurs in it (multi-echo);
// - repetitions where (line, partition, slice, contrast) recurs;
// - navigators: the leading readouts of an echo train at ky = kz = 0 when the train samples the centre
//   again later;
// - calibration: a fully sampled centre block in lines otherwise taken every R-th.
//
// Memory: the k-space arrays of a readout are dropped once its few features are taken.

import { blockStarts, gradientCorners, PointBuffer, rfSampleTimes } from './events.ts'
import { offsets } from './interpret.ts'
import { adcReadouts, type AdcReadout } from './kspace.ts'
import type { RfEvent, Sequence } from './types.ts'

export type TrajectoryClass = 'cartesian-2d' | 'cartesian-3d' | 'epi' | 'radial' | 'ute' | 'spiral' | 'fid' | 'other'

/** The trajectory names of the ISMRMRD header's <trajectory>. */
export type IsmrmrdTrajectory = 'cartesian' | 'epi' | 'radial' | 'goldenangle' | 'spiral' | 'other'

export type ReadoutRole = 'image' | 'noise' | 'navigator' | 'calibration' | 'calibration-and-imaging'

export interface EncodedReadout {
  /** Position among all readouts of the sequence (adcReadouts order). */
  index: number
  block: number
  line: number
  partition: number
  slice: number
  average: number
  contrast: number
  phase: number
  repetition: number
  set: number
  segment: number
  role: ReadoutRole
  /** The readout runs from +k to −k along its readout axis (ISMRMRD IS_REVERSE). */
  reverse: boolean
  /** The sample nearest the k-space centre (the echo), an index. */
  centreSample: number
  /** Excitation centre to the centre sample, s (0 without an excitation). */
  echoTimeS: number
  /** Centre of the readout's excitation since the sequence start, s (NaN before the first). */
  excitationTimeS: number
  /** Position of the excited slice along the slice-select gradient, m. */
  sliceOffsetM: number
}

export interface EpiFlags {
  /** Every other line runs backwards. */
  reversedLines: boolean
  /** Samples on the gradient ramps: non-uniform k spacing. */
  rampSampling: boolean
  /** Navigator readouts per echo train. */
  navigators: number
  /** Acquired fraction of the lines (1 = full). */
  partialFourier: number
}

export interface CounterLimit {
  minimum: number
  maximum: number
  center: number
}

export interface CounterLimits {
  kspace_encoding_step_1: CounterLimit
  kspace_encoding_step_2: CounterLimit
  average: CounterLimit
  slice: CounterLimit
  contrast: CounterLimit
  phase: CounterLimit
  repetition: CounterLimit
  set: CounterLimit
  segment: CounterLimit
}

export interface SequenceEncoding {
  readouts: EncodedReadout[]
  trajectory: TrajectoryClass
  ismrmrdTrajectory: IsmrmrdTrajectory
  /** For EPI only. */
  epi?: EpiFlags
  /** Radial or UTE spokes at golden-angle increments. */
  goldenAngle?: boolean
  /** Gradient axis (0 x, 1 y, 2 z) of the readout, and of phase encodings 1 and 2 (or the slice). */
  axes: [number, number, number]
  /** Reconstructed matrix [readout, phase 1, phase 2]; for non-Cartesian round(2·kmax·FOV). */
  matrix?: [number, number, number]
  /** Field of view along the axes above, m (third: slice thickness in 2D). */
  fovM?: [number, number, number]
  oversampling?: number
  slices: number
  /** Position of each slice along the slice-select gradient, m, in slice order. */
  slicePositionsM: number[]
  /** Parallel-imaging acceleration along phase encoding 1 and 2. */
  acceleration: [number, number]
  /** Acquired fraction of each phase encoding (1 = full), partial Fourier when below 1. */
  partialFourier: [number, number]
  limits: CounterLimits
  /** Excitation to the image readout's sample at the k-space centre, first echo, s. */
  teS?: number
  /** TE of each contrast (multi-echo), s. */
  contrastTesS: number[]
  /** Repetition period of the excitation pattern (of the preparation, for prepared trains), s. */
  trS?: number
  /** Inversion centre to the excitation that samples the k-space centre, s. */
  tiS?: number
  /** Between successive echoes of a train, or excitations of a prepared train, s. */
  echoSpacingS?: number
  /** Image readouts per excitation (the largest). */
  echoTrainLength?: number
  /** Slab (3D) or slice (2D) thickness, m. */
  sliceThicknessM?: number
  /** Which counters came from labels the sequence sets. */
  labelled: string[]
  /** Every guess made, in words. */
  warnings: string[]
}

export interface EncodeOptions {
  larmorHz?: number
}

/** Labels and the counters they set. */
const COUNTER_LABELS = [
  ['LIN', 'line'], ['PAR', 'partition'], ['SLC', 'slice'], ['AVG', 'average'], ['ECO', 'contrast'],
  ['PHS', 'phase'], ['REP', 'repetition'], ['SET', 'set'], ['SEG', 'segment']
] as const

/** Labels this reading looks at. */
const USED_LABELS = new Set(['LIN', 'PAR', 'SLC', 'AVG', 'ECO', 'PHS', 'REP', 'SET', 'SEG', 'NAV', 'NOISE', 'REF', 'IMA'])

/** Radial increments that make a golden-angle ordering, degrees (Winkelmann 2007; full and half spokes). */
const GOLDEN_ANGLES_DEG = [180 * (Math.sqrt(5) - 1) / 2, 180 * (3 - Math.sqrt(5))]

/** What one readout looks like in k-space; its arrays are not kept. */
interface Shape {
  index: number
  block: number
  start: number
  dwell: number
  n: number
  labels: Readonly<Record<string, number>>
  excitation: number
  /** Index into the excitation list, -1 before the first. */
  exc: number
  /** Refocusing pulses between the excitation and this readout. */
  refocused: number
  echoIndex: number
  echoK2: number
  kEcho: [number, number, number]
  kStart: [number, number, number]
  kEnd: [number, number, number]
  kMax: number
  /** Unit vector start → end, zero for a point. */
  dir: [number, number, number]
  length: number
  straight: boolean
  /** Distance of the origin from the readout's line, relative to the readout's extent. */
  originOffset: number
  ramp: boolean
  /** Largest k step between samples, 1/m. */
  stepMax: number
  noise: boolean
}

interface Excitation {
  center: number
  block: number
  freq: number
  /** Along the slice-select gradient, m; 0 for a non-selective pulse. */
  position: number
  selective: boolean
  /** Slice-select axis, -1 for none. */
  axis: number
  /** Slice-select gradient at the RF centre, Hz/m. */
  gradient: number
  rfId: number
}

/** Reads the encoding of every readout of a sequence; see the file comment for the rules. */
export function encodeReadouts (seq: Sequence, options: EncodeOptions = {}): SequenceEncoding {
  const warnings: string[] = []
  const setLabels = labelsSetBySequence(seq)
  const { excitations, inversions, refocusings } = classifyPulses(seq, options)
  const shapes: Shape[] = []
  let kMaxAll = 0
  const excCentres = Float64Array.from(excitations, (e) => e.center)
  // Only the labels the sequence sets are kept per readout, to keep long sequences small.
  const kept = [...setLabels].filter((l) => USED_LABELS.has(l))
  const none: Readonly<Record<string, number>> = {}
  for (const r of adcReadouts(seq, options)) {
    const s = shapeOf(r, excCentres, refocusings, setLabels.has('NOISE'))
    s.labels = kept.length === 0 ? none : Object.fromEntries(kept.map((l) => [l, r.labels[l] ?? 0]))
    kMaxAll = Math.max(kMaxAll, s.noise ? 0 : s.kMax)
    shapes.push(s)
  }
  const imaging = shapes.filter((s) => !s.noise)
  if (shapes.some((s) => s.noise && (s.labels.NOISE ?? 0) === 0)) warnings.push('readouts before the first excitation are taken as noise measurements')

  const cls = classify(imaging, kMaxAll)
  const axes = cls.axes
  const slice = slicesOf(shapes, excitations, setLabels.has('SLC'), warnings)

  // Phase-encode grids (Cartesian) or spoke/interleaf keys (non-Cartesian).
  const fovDef = numbers(seq.definitions.get('FOV'))
  const line = new Int32Array(shapes.length)
  const partition = new Int32Array(shapes.length)
  let ny = 1
  let nz = 1
  let dk1 = 0
  let dk2 = 0
  const cartesian = cls.trajectory === 'cartesian-2d' || cls.trajectory === 'cartesian-3d' || cls.trajectory === 'epi'
  if (cartesian || cls.trajectory === 'fid') {
    const g1 = phaseGrid(imaging.map((s) => s.kEcho[axes[1]]), fovDef[axes[1]], kMaxAll, 'phase encoding 1', warnings)
    const g2 = phaseGrid(imaging.map((s) => s.kEcho[axes[2]]), fovDef[axes[2]], kMaxAll, 'phase encoding 2', warnings)
    dk1 = g1.step
    dk2 = g2.step
    ny = g1.n
    nz = g2.n
    for (const s of shapes) {
      line[s.index] = g1.step > 0 ? Math.round(s.kEcho[axes[1]] / g1.step) + Math.floor(ny / 2) : 0
      partition[s.index] = g2.step > 0 ? Math.round(s.kEcho[axes[2]] / g2.step) + Math.floor(nz / 2) : 0
    }
    if (cls.trajectory === 'cartesian-2d' && nz > 1) cls.trajectory = 'cartesian-3d'
    if (!setLabels.has('LIN') && ny > 1) warnings.push('no LIN labels: lines numbered from the phase-encode area (centre line ⌊n/2⌋)')
    if (!setLabels.has('PAR') && nz > 1) warnings.push('no PAR labels: partitions numbered from the second phase-encode area')
  } else {
    // Spokes and interleaves are numbered in the order their shapes first appear.
    const keys = new Map<string, number>()
    const tol = 1e-3 * Math.max(kMaxAll, 1e-9)
    const key = (s: Shape): string => [...s.kStart, ...s.kEnd].map((v) => Math.round(v / tol)).join(',')
    for (const s of shapes) {
      if (s.noise) continue
      const k = key(s)
      let id = keys.get(k)
      if (id === undefined) { id = keys.size; keys.set(k, id) }
      line[s.index] = id
    }
    ny = Math.max(1, keys.size)
    const g2 = phaseGrid(imaging.map((s) => s.kEcho[axes[2]]), fovDef[axes[2]], kMaxAll, 'partition', warnings)
    dk2 = g2.step
    nz = g2.n
    for (const s of shapes) partition[s.index] = g2.step > 0 ? Math.round(s.kEcho[axes[2]] / g2.step) + Math.floor(nz / 2) : 0
    if (!setLabels.has('LIN')) warnings.push(`no LIN labels: ${cls.trajectory === 'spiral' ? 'interleaves' : 'spokes'} numbered in the order they first appear`)
  }

  // Navigators: leading readouts of a train at the phase-encode centre, when the train returns there.
  const navigator = new Uint8Array(shapes.length)
  const trains = groupByExcitation(shapes)
  let navigatorsPerTrain = 0
  if (setLabels.has('NAV')) {
    for (const s of shapes) if ((s.labels.NAV ?? 0) > 0) navigator[s.index] = 1
  } else if (cartesian) {
    const tolK = 1e-3 * Math.max(dk1, dk2, 1e-6)
    const atCentre = (s: Shape): boolean => Math.abs(s.kEcho[axes[1]]) <= tolK && Math.abs(s.kEcho[axes[2]]) <= tolK
    for (const train of trains) {
      let lead = 0
      while (lead < train.length && atCentre(train[lead])) lead++
      if (lead === 0 || lead === train.length) continue
      const rest = train.slice(lead)
      if (!rest.some(atCentre) || !rest.some((s) => !atCentre(s))) continue
      for (let i = 0; i < lead; i++) navigator[train[i].index] = 1
      navigatorsPerTrain = Math.max(navigatorsPerTrain, lead)
    }
    if (navigatorsPerTrain > 0) warnings.push(`no NAV labels: ${navigatorsPerTrain} leading readout(s) per echo train at ky = kz = 0 taken as navigators`)
  }
  if (setLabels.has('NAV')) for (const train of trains) navigatorsPerTrain = Math.max(navigatorsPerTrain, train.filter((s) => navigator[s.index] === 1).length)

  // Labels that number fewer lines (partitions) than the phase encodes visit cannot be right: a plain
  // FFT would stack distinct lines on one. The phase-encode areas number them instead.
  if (cartesian) {
    for (const [label, derived] of [['LIN', line], ['PAR', partition]] as const) {
      if (!setLabels.has(label)) continue
      const labelledValues = new Set<number>()
      const derivedValues = new Set<number>()
      for (const s of imaging) {
        if (navigator[s.index] === 1) continue
        labelledValues.add(s.labels[label] ?? 0)
        derivedValues.add(derived[s.index])
      }
      if (labelledValues.size < derivedValues.size) {
        setLabels.delete(label)
        warnings.push(`the ${label} labels give ${labelledValues.size} distinct values but the phase encodes visit ${derivedValues.size}: numbered from the phase-encode areas instead`)
      }
    }
  }

  // Counters: labels where set, the derived values otherwise.
  const out: EncodedReadout[] = []
  for (const s of shapes) {
    // Noise readouts encode nothing: their derived counters are 0.
    const from = (label: string, derived: number): number => setLabels.has(label) ? (s.labels[label] ?? 0) : s.noise ? 0 : derived
    const exc = s.exc >= 0 ? excitations[s.exc] : undefined
    const centre = Math.min(s.n - 1, Math.max(0, Math.round(s.echoIndex)))
    out.push({
      index: s.index,
      block: s.block,
      line: from('LIN', line[s.index]),
      partition: from('PAR', partition[s.index]),
      slice: from('SLC', slice.index[s.index]),
      average: from('AVG', 0),
      contrast: 0,
      phase: from('PHS', 0),
      repetition: 0,
      set: from('SET', 0),
      segment: from('SEG', 0),
      role: s.noise ? 'noise' : navigator[s.index] === 1 ? 'navigator' : 'image',
      // Only a Cartesian line has a direction to flip; other readouts carry their k positions.
      reverse: cartesian && s.n > 1 && s.length > 0 && s.kEnd[axes[0]] < s.kStart[axes[0]],
      centreSample: centre,
      echoTimeS: Number.isNaN(s.excitation) ? 0 : s.start + (centre + 0.5) * s.dwell - s.excitation,
      excitationTimeS: s.excitation,
      sliceOffsetM: exc?.position ?? 0
    })
  }

  // Contrasts: the echo index of a line that recurs within one excitation (multi-echo), unless labelled.
  const isEpi = cls.trajectory === 'epi'
  let multiEcho = false
  if (setLabels.has('ECO')) {
    for (const e of out) e.contrast = shapes[e.index].labels.ECO ?? 0
  } else if (!isEpi) {
    for (const train of trains) {
      const seen = new Map<string, number>()
      for (const s of train) {
        const e = out[s.index]
        if (e.role === 'navigator') continue
        const k = `${e.line},${e.partition}`
        const n = seen.get(k) ?? 0
        seen.set(k, n + 1)
        e.contrast = n
        if (n > 0) multiEcho = true
      }
    }
    if (multiEcho) warnings.push('no ECO labels: contrasts numbered by the echo index within each excitation')
  }

  // Repetitions: where the same (line, partition, slice, contrast) comes again, unless labelled.
  if (setLabels.has('REP')) {
    for (const e of out) e.repetition = shapes[e.index].labels.REP ?? 0
  } else {
    const seen = new Map<string, number>()
    let repeated = false
    for (const e of out) {
      if (e.role === 'noise' || e.role === 'navigator') continue
      const k = `${e.line},${e.partition},${e.slice},${e.contrast},${e.average},${e.set},${e.phase}`
      const n = seen.get(k) ?? 0
      seen.set(k, n + 1)
      e.repetition = n
      if (n > 0) repeated = true
    }
    if (repeated) warnings.push('no REP labels: repetitions counted where a (line, partition, slice, contrast) recurs')
    // A navigator belongs to the repetition of the train it leads.
    for (const train of trains) {
      const rep = train.map((s) => out[s.index]).find((e) => e.role === 'image')?.repetition ?? 0
      for (const s of train) if (out[s.index].role === 'navigator') out[s.index].repetition = rep
    }
  }

  // Parallel-imaging calibration and acceleration.
  const acceleration: [number, number] = [1, 1]
  if (setLabels.has('REF')) {
    for (const e of out) {
      const l = shapes[e.index].labels
      if ((l.REF ?? 0) > 0 && e.role === 'image') e.role = (l.IMA ?? 0) > 0 ? 'calibration-and-imaging' : 'calibration'
    }
  }
  if (cartesian) {
    acceleration[0] = undersampling(out, 'line', ny, !setLabels.has('REF'), warnings)
    if (nz > 1) acceleration[1] = undersampling(out, 'partition', nz, !setLabels.has('REF'), warnings)
  }

  // Geometry. A 2D slice is as thick as the definitions say, or as the excitation's bandwidth selects.
  let thickness = numbers(seq.definitions.get('SliceThickness'))[0]
  if (thickness === undefined && nz <= 1 && fovDef[axes[2]] === undefined) {
    const first = imaging.find((s) => s.exc >= 0 && excitations[s.exc].selective)
    const exc = first === undefined ? undefined : excitations[first.exc]
    const rf = exc === undefined ? undefined : seq.rf.get(exc.rfId)
    const bandwidth = rf === undefined ? undefined : rfBandwidthHz(seq, rf)
    if (exc !== undefined && bandwidth !== undefined) {
      thickness = bandwidth / Math.abs(exc.gradient)
      warnings.push(`no SliceThickness definition: ${(thickness * 1e3).toPrecision(3)} mm from the excitation's bandwidth (half maximum of its spectrum) over the slice-select gradient`)
    }
  }
  const geometry = geometryOf(seq, cls, imaging, axes, fovDef, ny, nz, dk1, dk2, thickness, warnings)
  matrixDefinition(seq, cls.trajectory, geometry, warnings)
  const partialFourier: [number, number] = [coverage(out, 'line', ny, acceleration[0]), coverage(out, 'partition', nz, acceleration[1])]
  let centre: Shape | undefined
  for (const s of imaging) if (navigator[s.index] === 0 && (centre === undefined || s.echoK2 < centre.echoK2)) centre = s
  const limits = limitsOf(out, ny, nz, setLabels, seq, centre === undefined ? undefined : out[centre.index])
  // Spokes and interleaves have no centre line.
  if (!cartesian) limits.kspace_encoding_step_1.center = 0
  const timing = timingOf(shapes, out, excitations, inversions, trains, kMaxAll, blockStarts(seq.blocks.duration).total, warnings)
  timingDefinitions(seq, timing, warnings)

  const is2d = nz <= 1 && cls.trajectory !== 'cartesian-3d'
  const golden = cls.trajectory === 'radial' || cls.trajectory === 'ute' ? isGoldenAngle(imaging, cls.trajectory === 'ute') : undefined
  const rampSampling = imaging.some((s) => s.ramp)
  return {
    readouts: out,
    trajectory: cls.trajectory,
    ismrmrdTrajectory: ismrmrdName(cls.trajectory, golden === true),
    epi: isEpi
      ? { reversedLines: out.some((e) => e.role === 'image' && e.reverse) && out.some((e) => e.role === 'image' && !e.reverse), rampSampling, navigators: navigatorsPerTrain, partialFourier: partialFourier[0] }
      : undefined,
    goldenAngle: golden,
    axes,
    matrix: geometry.matrix,
    fovM: geometry.fovM,
    oversampling: geometry.oversampling,
    slices: Math.max(1, slice.positions.length),
    slicePositionsM: slice.positions,
    acceleration,
    partialFourier,
    limits,
    ...timing,
    sliceThicknessM: is2d ? (thickness ?? geometry.fovM?.[2]) : geometry.fovM?.[2],
    labelled: COUNTER_LABELS.filter(([label]) => setLabels.has(label)).map(([label]) => label),
    warnings
  }
}

/** Labels some LABELSET or LABELINC event of the sequence names: only those are trusted as set. */
function labelsSetBySequence (seq: Sequence): Set<string> {
  const out = new Set<string>()
  for (const table of seq.extensions.tables.values()) {
    if (table.kind !== 'labelset' && table.kind !== 'labelinc') continue
    for (const ev of table.events.values()) out.add(ev.label)
  }
  return out
}

/**
 * Excitations (with the slice they select), inversions and refocusing pulses. Files before 1.5 do not
 * say what a pulse is for and a pulse above 90° reads as refocusing; such a pulse is an inversion when
 * the next pulse is an excitation with no readout between them.
 */
function classifyPulses (seq: Sequence, options: EncodeOptions): { excitations: Excitation[], inversions: Array<{ center: number, freq: number }>, refocusings: number[] } {
  const excitations: Excitation[] = []
  const inversions: Array<{ center: number, freq: number }> = []
  const refocusings: number[] = []
  let pending: { center: number, freq: number, block: number } | undefined
  const adcBlocks = seq.blocks.adc
  let lastAdcBlock = -1
  let b = 0
  const points = new PointBuffer()
  const starts = blockStarts(seq.blocks.duration).start
  // The blocks' pulses directly, not rfPulses(): its flip angles cost a pass over every distinct pulse's samples.
  for (let block = 0; block < seq.blocks.length; block++) {
    const rfId = seq.blocks.rf[block]
    const rf = rfId === 0 ? undefined : seq.rf.get(rfId)
    if (rf === undefined) continue
    const { freq } = offsets(rf, options.larmorHz)
    const p = { block, rfId, center: starts[block] + rf.delay + rf.center, local: rf.delay + rf.center, use: rf.use, useInferred: rf.inferred, freqOffset: freq }
    for (; b < p.block; b++) if (adcBlocks[b] !== 0) lastAdcBlock = b
    const excitation = p.use === 'excitation' || p.use === 'undefined'
    if (pending !== undefined) {
      if (excitation && lastAdcBlock < pending.block) inversions.push({ center: pending.center, freq: pending.freq })
      else refocusings.push(pending.center)
      pending = undefined
    }
    if (excitation) {
      const select = sliceSelect(seq, p.block, p.local, points)
      const position = select.gradient !== 0 && p.freqOffset !== 0 ? p.freqOffset / select.gradient : 0
      excitations.push({ center: p.center, block: p.block, freq: p.freqOffset, position, selective: select.gradient !== 0, axis: select.axis, gradient: select.gradient, rfId: p.rfId })
    } else if (p.use === 'inversion') {
      inversions.push({ center: p.center, freq: p.freqOffset })
    } else if (p.use === 'refocusing' && p.useInferred) {
      pending = { center: p.center, freq: p.freqOffset, block: p.block }
    } else if (p.use === 'refocusing') {
      refocusings.push(p.center)
    }
  }
  if (pending !== undefined) refocusings.push(pending.center)
  return { excitations, inversions, refocusings }
}

/** The strongest gradient at the RF centre (block-local time), Hz/m, and its axis. */
function sliceSelect (seq: Sequence, block: number, tLocal: number, points: PointBuffer): { gradient: number, axis: number } {
  let best = 0
  let axis = -1
  const cols = [seq.blocks.gx, seq.blocks.gy, seq.blocks.gz]
  for (let c = 0; c < 3; c++) {
    const g = seq.gradients.get(cols[c][block])
    if (g === undefined) continue
    points.clear()
    gradientCorners(seq, g, 0, points)
    const v = valueAt(points, tLocal)
    if (Math.abs(v) > Math.abs(best)) { best = v; axis = c }
  }
  return { gradient: best, axis }
}

function valueAt (p: PointBuffer, t: number): number {
  for (let i = 1; i < p.length; i++) {
    if (t <= p.t[i]) {
      if (t < p.t[i - 1]) return 0
      const span = p.t[i] - p.t[i - 1]
      return span > 0 ? p.v[i - 1] + (p.v[i] - p.v[i - 1]) * (t - p.t[i - 1]) / span : p.v[i]
    }
  }
  return 0
}

/** The last element of a sorted array at or before t (with slack), -1 if none. */
function lastAtOrBefore (sorted: ArrayLike<number>, t: number): number {
  let lo = 0
  let hi = sorted.length - 1
  let found = -1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    if (sorted[mid] <= t + 1e-9) { found = mid; lo = mid + 1 } else hi = mid - 1
  }
  return found
}

function shapeOf (r: AdcReadout, excCentres: Float64Array, refocusings: number[], noiseLabelled: boolean): Shape {
  const n = r.numSamples
  const { kx, ky, kz } = r
  let kMax2 = 0
  for (let i = 0; i < n; i++) kMax2 = Math.max(kMax2, kx[i] * kx[i] + ky[i] * ky[i] + kz[i] * kz[i])
  const kMax = Math.sqrt(kMax2)
  const kStart: [number, number, number] = [kx[0], ky[0], kz[0]]
  const kEnd: [number, number, number] = [kx[n - 1], ky[n - 1], kz[n - 1]]
  const d = [kEnd[0] - kStart[0], kEnd[1] - kStart[1], kEnd[2] - kStart[2]]
  const length = Math.hypot(d[0], d[1], d[2])
  const tol = 1e-4 * kMax + 1e-6
  const dir: [number, number, number] = length > tol ? [d[0] / length, d[1] / length, d[2] / length] : [0, 0, 0]
  let perp = 0
  let stepMin = Number.POSITIVE_INFINITY
  let stepMax = 0
  for (let i = 0; i < n; i++) {
    const v = [kx[i] - kStart[0], ky[i] - kStart[1], kz[i] - kStart[2]]
    const along = v[0] * dir[0] + v[1] * dir[1] + v[2] * dir[2]
    perp = Math.max(perp, Math.sqrt(Math.max(0, v[0] * v[0] + v[1] * v[1] + v[2] * v[2] - along * along)))
    if (i > 0) {
      const step = Math.hypot(kx[i] - kx[i - 1], ky[i] - ky[i - 1], kz[i] - kz[i - 1])
      stepMin = Math.min(stepMin, step)
      stepMax = Math.max(stepMax, step)
    }
  }
  const straight = length <= tol || perp <= 1e-3 * length + tol
  const o = [-kStart[0], -kStart[1], -kStart[2]]
  const along0 = o[0] * dir[0] + o[1] * dir[1] + o[2] * dir[2]
  const originOffset = length > tol ? Math.sqrt(Math.max(0, o[0] * o[0] + o[1] * o[1] + o[2] * o[2] - along0 * along0)) / length : 0
  const echo = echoSample(kx, ky, kz)
  const i = Math.min(n - 1, Math.max(0, Math.round(echo.index)))
  const exc = Number.isNaN(r.excitation) ? -1 : lastAtOrBefore(excCentres, r.excitation)
  const refocused = exc < 0 ? 0 : lastAtOrBefore(refocusings, r.start) - lastAtOrBefore(refocusings, r.excitation)
  return {
    index: r.index,
    block: r.block,
    start: r.start,
    dwell: r.dwell,
    n,
    labels: r.labels,
    excitation: r.excitation,
    exc,
    refocused,
    echoIndex: echo.index,
    echoK2: echo.k2,
    kEcho: [kx[i], ky[i], kz[i]],
    kStart,
    kEnd,
    kMax,
    dir,
    length,
    straight,
    originOffset,
    ramp: n >= 4 && straight && length > tol && stepMin < 0.9 * stepMax,
    stepMax,
    noise: (noiseLabelled && (r.labels.NOISE ?? 0) > 0) || Number.isNaN(r.excitation)
  }
}

/**
 * The (fractional) sample index nearest the k-space origin and its squared distance. Along a straight
 * readout |k|² is a parabola in time, so a vertex fitted through the minimum and its neighbours
 * places the echo between samples when it falls there.
 */
export function echoSample (kx: Float64Array, ky: Float64Array, kz: Float64Array): { index: number, k2: number } {
  const k2 = (i: number): number => kx[i] * kx[i] + ky[i] * ky[i] + kz[i] * kz[i]
  let best = 0
  for (let i = 1; i < kx.length; i++) if (k2(i) < k2(best)) best = i
  let index = best
  if (best > 0 && best < kx.length - 1) {
    const a = k2(best - 1)
    const b = k2(best)
    const c = k2(best + 1)
    const curvature = a - 2 * b + c
    if (curvature > 0) index = best + Math.max(-1, Math.min(1, (a - c) / (2 * curvature)))
  }
  return { index, k2: k2(best) }
}

/** Trajectory class and encoding axes from the shapes of the image readouts. */
function classify (imaging: Shape[], kMax: number): { trajectory: TrajectoryClass, axes: [number, number, number] } {
  const moving = imaging.filter((s) => s.length > 1e-4 * kMax + 1e-6)
  if (imaging.length === 0 || moving.length === 0) return { trajectory: 'fid', axes: [0, 1, 2] }
  if (moving.every((s) => s.straight)) {
    const ref = moving[0].dir
    const parallel = moving.every((s) => Math.abs(s.dir[0] * ref[0] + s.dir[1] * ref[1] + s.dir[2] * ref[2]) > 1 - 1e-6)
    const readAxis = dominantAxis(ref)
    if (parallel && Math.abs(ref[readAxis]) > 1 - 1e-6) {
      const axes = phaseAxes(imaging, readAxis)
      // 2D or 3D is decided once the partition grid is known.
      return { trajectory: isEpiTrain(imaging) ? 'epi' : 'cartesian-2d', axes }
    }
    const throughCentre = moving.every((s) => s.originOffset < 0.01)
    if (throughCentre) {
      // Half spokes pass the centre in their first or last fifth (UTE sequences start just before it).
      const centreOut = moving.every((s) => s.echoIndex <= 0.2 * (s.n - 1) || s.echoIndex >= 0.8 * (s.n - 1))
      return { trajectory: centreOut ? 'ute' : 'radial', axes: planeAxes(moving) }
    }
    return { trajectory: 'other', axes: [readAxis, (readAxis + 1) % 3, (readAxis + 2) % 3] }
  }
  if (moving.every((s) => !s.straight && (Math.hypot(...s.kStart) <= 0.05 * s.kMax || Math.hypot(...s.kEnd) <= 0.05 * s.kMax))) {
    return { trajectory: 'spiral', axes: planeAxes(moving) }
  }
  return { trajectory: 'other', axes: [0, 1, 2] }
}

function dominantAxis (v: ArrayLike<number>): number {
  let best = 0
  for (let c = 1; c < 3; c++) if (Math.abs(v[c]) > Math.abs(v[best])) best = c
  return best
}

/** The two phase axes of a Cartesian readout: the one that changes from readout to readout most often first. */
function phaseAxes (imaging: Shape[], readAxis: number): [number, number, number] {
  const [a, b] = [0, 1, 2].filter((c) => c !== readAxis)
  const changes = (c: number): number => {
    let n = 0
    for (let i = 1; i < imaging.length; i++) if (Math.abs(imaging[i].kEcho[c] - imaging[i - 1].kEcho[c]) > 1e-3) n++
    return n
  }
  return changes(b) > changes(a) ? [readAxis, b, a] : [readAxis, a, b]
}

/** For spokes and spirals: the axis along which k never moves is the slice (or stack) axis. */
function planeAxes (moving: Shape[]): [number, number, number] {
  const extent = [0, 0, 0]
  for (const s of moving) for (let c = 0; c < 3; c++) extent[c] = Math.max(extent[c], Math.abs(s.kEnd[c] - s.kStart[c]), Math.abs(s.kMax * s.dir[c]))
  const flat = extent.indexOf(Math.min(...extent))
  const [a, b] = [0, 1, 2].filter((c) => c !== flat)
  return [a, b, flat]
}

/** EPI: an excitation followed by lines at different phase encodes that alternate direction, no refocusing between. */
function isEpiTrain (imaging: Shape[]): boolean {
  const trains = groupByExcitation(imaging)
  for (const train of trains) {
    if (train.length < 3) continue
    let alternations = 0
    for (let i = 1; i < train.length; i++) {
      const a = train[i - 1]
      const b = train[i]
      const opposite = a.dir[0] * b.dir[0] + a.dir[1] * b.dir[1] + a.dir[2] * b.dir[2] < 0
      if (opposite && a.refocused === b.refocused) alternations++
    }
    const lines = new Set(train.map((s) => `${Math.round(s.kEcho[0] * 1e3)},${Math.round(s.kEcho[1] * 1e3)},${Math.round(s.kEcho[2] * 1e3)}`))
    if (alternations >= train.length - 2 && lines.size > 2) return true
  }
  return false
}

function groupByExcitation (shapes: Shape[]): Shape[][] {
  const trains: Shape[][] = []
  let current: Shape[] = []
  let exc = -2
  for (const s of shapes) {
    if (s.noise) continue
    if (s.exc !== exc) {
      if (current.length > 0) trains.push(current)
      current = []
      exc = s.exc
    }
    current.push(s)
  }
  if (current.length > 0) trains.push(current)
  return trains
}

/**
 * The grid of phase-encode positions: its step (the smallest clear gap, or 1/FOV from the definitions
 * when the gaps are whole multiples of it) and the full number of lines n, partial Fourier included:
 * lines −a..b give n = 2a when b = a − 1 (even, centre ⌊n/2⌋), 2a + 1 when b = a, else 2·max(a, b + 1).
 */
function phaseGrid (values: number[], fov: number | undefined, kMax: number, what: string, warnings: string[]): { step: number, n: number } {
  let step = gridStep(values, kMax)
  if (step <= 0) return { step: 0, n: 1 }
  if (fov !== undefined && fov > 0) {
    const ratio = step * fov
    if (Math.abs(ratio - Math.round(ratio)) < 0.01 * Math.max(1, Math.round(ratio)) && Math.round(ratio) >= 1) step = 1 / fov
    else warnings.push(`${what}: the k-space step ${step.toPrecision(4)} /m is not a whole multiple of 1/FOV ${(1 / fov).toPrecision(4)} /m; lines follow the step`)
  }
  let lo = Number.POSITIVE_INFINITY
  let hi = Number.NEGATIVE_INFINITY
  const seen = new Set<number>()
  for (const v of values) {
    const i = Math.round(v / step)
    seen.add(i)
    lo = Math.min(lo, i)
    hi = Math.max(hi, i)
  }
  const a = Math.max(0, -lo)
  const b = Math.max(0, hi)
  // An odd symmetric matrix only when every line of it is there: undersampled lines −a..a come from
  // an even matrix whose edge line was skipped.
  const contiguous = seen.size === hi - lo + 1
  const n = b === a - 1 ? 2 * a : b === a && contiguous ? 2 * a + 1 : 2 * Math.max(a, b + 1)
  return { step, n: Math.max(1, n) }
}

/**
 * The spacing of values that lie on a grid: the smallest clear gap between distinct values. Gaps below
 * 0.01 /m (a field of view of 100 m) or 1e-4 of the k-space extent are rounding residue of the
 * gradient integration, not encoding steps.
 */
function gridStep (values: number[], kMax: number): number {
  const tol = 1e-2 + 1e-4 * kMax
  const sorted = Float64Array.from(values).sort()
  let step = Number.POSITIVE_INFINITY
  for (let i = 1; i < sorted.length; i++) {
    const d = sorted[i] - sorted[i - 1]
    if (d > tol) step = Math.min(step, d)
  }
  return Number.isFinite(step) ? step : 0
}

/** Slice of each readout: from SLC labels, or the position of its excitation among the distinct ones. */
function slicesOf (shapes: Shape[], excitations: Excitation[], labelled: boolean, warnings: string[]): { index: Int32Array, positions: number[] } {
  const index = new Int32Array(shapes.length)
  const used = new Set<number>()
  for (const s of shapes) if (!s.noise && s.exc >= 0) used.add(s.exc)
  const micro = (m: number): number => Math.round(m * 1e6)
  const byPosition = new Map<number, number>()
  for (const e of used) byPosition.set(micro(excitations[e].position), excitations[e].position)
  const sorted = [...byPosition.keys()].sort((a, b) => a - b)
  const positions = sorted.map((k) => byPosition.get(k) as number)
  const rank = new Map(sorted.map((k, i) => [k, i]))
  if (labelled) {
    const slices = new Set<number>()
    for (const s of shapes) {
      index[s.index] = s.labels.SLC ?? 0
      if (!s.noise) slices.add(index[s.index])
    }
    if (slices.size !== positions.length && positions.length > 1) warnings.push(`the SLC labels number ${slices.size} slices but the excitations select ${positions.length} positions`)
    // Each labelled slice at the position of the first excitation that carries it.
    const at = new Map<number, number>()
    for (const s of shapes) if (!s.noise && !at.has(index[s.index])) at.set(index[s.index], s.exc >= 0 ? excitations[s.exc].position : 0)
    return { index, positions: [...at.entries()].sort((a, b) => a[0] - b[0]).map(([, p]) => p) }
  }
  for (const s of shapes) index[s.index] = s.exc >= 0 ? rank.get(micro(excitations[s.exc].position)) ?? 0 : 0
  if (positions.length > 1) warnings.push(`no SLC labels: ${positions.length} slices from the RF frequency offsets of the excitations, ordered by position`)
  return { index, positions: positions.length > 0 ? positions : [0] }
}

/**
 * Regular undersampling with a fully sampled centre block: the lines outside the block taken every R-th,
 * those inside the block not on that grid for calibration only. Returns R (1 when fully sampled).
 */
function undersampling (out: EncodedReadout[], counter: 'line' | 'partition', n: number, mark: boolean, warnings: string[]): number {
  const present = new Set<number>()
  for (const e of out) if (e.role !== 'noise' && e.role !== 'navigator') present.add(e[counter])
  const lines = [...present].sort((a, b) => a - b)
  if (lines.length < 3) return 1
  const centre = Math.floor(n / 2)
  // The run of consecutive lines around the centre.
  let at = lines.findIndex((l) => l >= centre)
  if (at < 0) at = lines.length - 1
  let lo = at
  let hi = at
  while (lo > 0 && lines[lo - 1] === lines[lo] - 1) lo--
  while (hi < lines.length - 1 && lines[hi + 1] === lines[hi] + 1) hi++
  const outer = [...lines.slice(0, lo), ...lines.slice(hi + 1)]
  if (outer.length === 0) return 1
  let r = 0
  for (let i = 1; i < outer.length; i++) r = gcd(r, outer[i] - outer[i - 1])
  if (outer.length === 1) r = 0
  if (r <= 1) return 1
  const residue = ((outer[0] % r) + r) % r
  if (!outer.every((l) => ((l % r) + r) % r === residue)) return 1
  const block = hi - lo + 1
  const what = counter === 'line' ? 'lines' : 'partitions'
  if (block <= r) {
    warnings.push(`one in every ${r} ${what} taken, without a fully sampled calibration region`)
    return r
  }
  if (mark) {
    const from = lines[lo]
    const to = lines[hi]
    for (const e of out) {
      if (e.role !== 'image' || e[counter] < from || e[counter] > to) continue
      e.role = ((e[counter] % r) + r) % r === residue ? 'calibration-and-imaging' : 'calibration'
    }
    warnings.push(`one in every ${r} ${what} taken, with ${block} fully sampled centre ${what} (${from}..${to}) for calibration`)
  }
  return r
}

function gcd (a: number, b: number): number {
  a = Math.abs(a)
  b = Math.abs(b)
  while (b !== 0) [a, b] = [b, a % b]
  return a
}

/**
 * Fraction of the n phase-encode positions spanned by the acquired ones (1 = symmetric, full); lines
 * taken one in every r may stop up to r − 1 short of an edge without being partial Fourier.
 */
function coverage (out: EncodedReadout[], counter: 'line' | 'partition', n: number, r: number): number {
  if (n <= 1) return 1
  let lo = Number.POSITIVE_INFINITY
  let hi = Number.NEGATIVE_INFINITY
  for (const e of out) {
    if (e.role === 'noise' || e.role === 'navigator') continue
    lo = Math.min(lo, e[counter])
    hi = Math.max(hi, e[counter])
  }
  return Number.isFinite(lo) ? Math.min(1, (hi - lo + r) / n) : 1
}

function geometryOf (
  seq: Sequence, cls: { trajectory: TrajectoryClass }, imaging: Shape[], axes: [number, number, number], fovDef: number[],
  ny: number, nz: number, dk1: number, dk2: number, thickness: number | undefined, warnings: string[]
): { matrix?: [number, number, number], fovM?: [number, number, number], oversampling?: number } {
  if (cls.trajectory === 'fid' || imaging.length === 0) return {}
  const [ra, pa, sa] = axes
  const osDef = numbers(seq.definitions.get('ReadoutOversamplingFactor'))[0]
  // The readout's own sample step, on the flat top (ramps sample more densely).
  const dkRead = median(imaging.map((s) => s.stepMax).filter((x) => x > 0))
  const fovReadDef = fovDef[ra]
  let os = osDef !== undefined && osDef >= 1 ? osDef : undefined
  if (os === undefined) os = fovReadDef !== undefined && fovReadDef > 0 && dkRead > 0 ? Math.max(1, Math.round(1 / (dkRead * fovReadDef))) : 1
  const fovRead = fovReadDef ?? (dkRead > 0 ? 1 / (dkRead * os) : undefined)
  if (fovReadDef === undefined) warnings.push('no FOV definition: the field of view follows from the k-space sample spacing')
  if (fovRead === undefined) return {}
  const fov2 = fovDef[sa] ?? (dk2 > 0 ? 1 / dk2 : thickness)
  const cartesian = cls.trajectory === 'cartesian-2d' || cls.trajectory === 'cartesian-3d' || cls.trajectory === 'epi'
  if (cartesian) {
    const fov1 = fovDef[pa] ?? (dk1 > 0 ? 1 / dk1 : fovRead)
    const rampSampled = imaging.some((s) => s.ramp)
    const counts = new Map<number, number>()
    for (const s of imaging) counts.set(s.n, (counts.get(s.n) ?? 0) + 1)
    let nx = Math.round(mode(counts) / os)
    if (rampSampled) {
      let kRead = 0
      for (const s of imaging) kRead = Math.max(kRead, Math.abs(s.kStart[ra]), Math.abs(s.kEnd[ra]))
      // whole Nyquist steps on either side of k = 0: samples run a little past the nominal ±kmax on the ramps
      nx = 2 * Math.floor(kRead * fovRead + 1e-6)
      warnings.push(`samples on the gradient ramps: the readout matrix ${nx} is the whole Nyquist steps within ±kmax`)
    }
    return { matrix: [nx, ny, nz], fovM: [fovRead, fov1, fov2 ?? fovRead], oversampling: os }
  }
  // Non-Cartesian: the reconstruction matrix covers ±kmax in the plane of the trajectory.
  let kPlane = 0
  for (const s of imaging) for (const k of [s.kStart, s.kEnd, s.kEcho]) kPlane = Math.max(kPlane, Math.hypot(k[ra], k[pa]))
  const fov1 = fovDef[pa] ?? fovRead
  const n = Math.max(1, Math.round(2 * kPlane * fovRead))
  return { matrix: [n, Math.max(1, Math.round(2 * kPlane * fov1)), nz], fovM: [fovRead, fov1, fov2 ?? fovRead], oversampling: os }
}

/**
 * A MatrixSize definition names the image the designer meant. Non-Cartesian trajectories take it
 * (round(2·kmax·FOV) is one more where samples run past the nominal kmax); for Cartesian ones the
 * phase-encode grid decides the lines and partitions (a disagreement is reported) and the definition
 * the readout's matrix.
 */
function matrixDefinition (seq: Sequence, trajectory: TrajectoryClass, geometry: { matrix?: [number, number, number] }, warnings: string[]): void {
  const def = numbers(seq.definitions.get('MatrixSize'))
  if (geometry.matrix === undefined || def.length < 2 || !def.every((n) => Number.isInteger(n) && n >= 1)) return
  const wanted: [number, number, number] = [def[0], def[1], def[2] ?? geometry.matrix[2]]
  if (wanted.every((n, i) => n === geometry.matrix?.[i])) return
  const cartesian = trajectory === 'cartesian-2d' || trajectory === 'cartesian-3d' || trajectory === 'epi'
  if (cartesian) {
    // the phase encodes fix the lines and partitions; the readout's matrix is the designer's to name
    if (wanted[1] === geometry.matrix[1] && wanted[2] === geometry.matrix[2]) {
      warnings.push(`readout matrix ${wanted[0]} from the MatrixSize definition (the samples give ${geometry.matrix[0]})`)
      geometry.matrix = wanted
      return
    }
    warnings.push(`the MatrixSize definition says ${wanted.join(' x ')} but the phase encodes give ${geometry.matrix.join(' x ')}; the phase encodes are reported`)
  } else {
    warnings.push(`matrix ${wanted.join(' x ')} from the MatrixSize definition (the trajectory's extent gives ${geometry.matrix.join(' x ')})`)
    geometry.matrix = wanted
  }
}

function limitsOf (out: EncodedReadout[], ny: number, nz: number, setLabels: Set<string>, seq: Sequence, centre: EncodedReadout | undefined): CounterLimits {
  const fields = ['line', 'partition', 'average', 'slice', 'contrast', 'phase', 'repetition', 'set', 'segment'] as const
  const range = new Map<string, [number, number]>()
  for (const e of out) {
    if (e.role === 'noise') continue
    for (const f of fields) {
      const r = range.get(f)
      range.set(f, r === undefined ? [e[f], e[f]] : [Math.min(r[0], e[f]), Math.max(r[1], e[f])])
    }
  }
  const limit = (f: typeof fields[number], center = 0): CounterLimit => {
    const r = range.get(f) ?? [0, 0]
    return { minimum: r[0], maximum: r[1], center }
  }
  const centreLineDef = numbers(seq.definitions.get('kSpaceCenterLine'))[0]
  const lineCentre = setLabels.has('LIN')
    ? centreLineDef ?? centre?.line ?? labelledCentre(out, 'line')
    : Math.floor(ny / 2)
  const centrePartitionDef = numbers(seq.definitions.get('kSpaceCenterPartition'))[0]
  const partitionCentre = setLabels.has('PAR') ? centrePartitionDef ?? centre?.partition ?? labelledCentre(out, 'partition') : Math.floor(nz / 2)
  return {
    kspace_encoding_step_1: limit('line', lineCentre),
    kspace_encoding_step_2: limit('partition', nz > 1 || setLabels.has('PAR') ? partitionCentre : 0),
    average: limit('average'),
    slice: limit('slice'),
    contrast: limit('contrast'),
    phase: limit('phase'),
    repetition: limit('repetition'),
    set: limit('set'),
    segment: limit('segment')
  }
}

/** For labelled counters without a readout at the k-space centre: the middle of their range. */
function labelledCentre (out: EncodedReadout[], counter: 'line' | 'partition'): number {
  let lo = Number.POSITIVE_INFINITY
  let hi = Number.NEGATIVE_INFINITY
  for (const e of out) {
    if (e.role === 'noise') continue
    lo = Math.min(lo, e[counter])
    hi = Math.max(hi, e[counter])
  }
  return Number.isFinite(lo) ? Math.floor((lo + hi + 1) / 2) : 0
}

function timingOf (
  shapes: Shape[], out: EncodedReadout[], excitations: Excitation[], inversions: Array<{ center: number, freq: number }>,
  trains: Shape[][], kMax: number, durationS: number, warnings: string[]
): Pick<SequenceEncoding, 'teS' | 'contrastTesS' | 'trS' | 'tiS' | 'echoSpacingS' | 'echoTrainLength'> {
  // TE: excitation centre to the image readout's sample nearest the k-space centre, per contrast.
  const tolerance = (1e-6 * kMax) ** 2 + 1e-12
  const candidates = shapes.filter((s) => !Number.isNaN(s.excitation) && (out[s.index].role === 'image' || out[s.index].role.startsWith('calibration')))
  let best = Number.POSITIVE_INFINITY
  for (const s of candidates) best = Math.min(best, s.echoK2)
  const tes = new Map<number, number>()
  for (const s of candidates) {
    if (s.echoK2 > best + tolerance) continue
    const te = s.start + (s.echoIndex + 0.5) * s.dwell - s.excitation
    const c = out[s.index].contrast
    tes.set(c, Math.min(tes.get(c) ?? Number.POSITIVE_INFINITY, te))
  }
  const contrastTesS = [...tes.entries()].sort((a, b) => a[0] - b[0]).map(([, te]) => te)
  const result: ReturnType<typeof timingOf> = { contrastTesS }
  if (contrastTesS.length > 0) result.teS = Math.min(...contrastTesS)

  // Image readouts per excitation, and the spacing of their echoes.
  let etl = 0
  const spacings: number[] = []
  for (const train of trains) {
    etl = Math.max(etl, train.filter((s) => out[s.index].role !== 'navigator').length)
    for (let i = 1; i < train.length; i++) {
      const t = (s: Shape): number => s.start + (s.echoIndex + 0.5) * s.dwell
      spacings.push(t(train[i]) - t(train[i - 1]))
    }
  }
  if (etl > 0) result.echoTrainLength = etl

  // Prepared trains (MPRAGE): several excitations per inversion; TR is the inversion period.
  const excCentres = excitations.map((e) => e.center)
  const perInversion: number[] = []
  for (let i = 0; i < inversions.length; i++) {
    const from = lastAtOrBefore(excCentres, inversions[i].center) + 1
    const to = i + 1 < inversions.length ? lastAtOrBefore(excCentres, inversions[i + 1].center) : excitations.length - 1
    perInversion.push(to - from + 1)
  }
  const prepared = inversions.length > 0 && median(perInversion) > 1
  const trs = prepared ? periods(inversions) : periods(excitations)
  if (trs.length > 0) result.trS = median(trs)
  else if (excitations.length > 0) {
    // Each slice excited once: the sequence is one repetition, played again from its start.
    result.trS = durationS
    warnings.push('every slice is excited once: TR is the duration of the sequence')
  }
  if (prepared) {
    const within: number[] = []
    for (let i = 0; i < inversions.length; i++) {
      const from = lastAtOrBefore(excCentres, inversions[i].center) + 1
      for (let e = from + 1; e < from + perInversion[i]; e++) within.push(excitations[e].center - excitations[e - 1].center)
    }
    if (within.length > 0) result.echoSpacingS = median(within)
  } else if (spacings.length > 0) {
    result.echoSpacingS = median(spacings)
  }

  // TI: inversion centre to the excitation that samples the k-space centre (else the first after it).
  if (inversions.length > 0) {
    const centreExc = new Set<number>()
    for (const s of candidates) if (s.echoK2 <= best + tolerance) centreExc.add(s.exc)
    for (let i = 0; i < inversions.length && result.tiS === undefined; i++) {
      const from = lastAtOrBefore(excCentres, inversions[i].center) + 1
      const to = i + 1 < inversions.length ? lastAtOrBefore(excCentres, inversions[i + 1].center) : excitations.length - 1
      for (let e = from; e <= to; e++) {
        if (centreExc.has(e)) { result.tiS = excitations[e].center - inversions[i].center; break }
      }
    }
    if (result.tiS === undefined) {
      const first = lastAtOrBefore(excCentres, inversions[0].center) + 1
      if (first < excitations.length) result.tiS = excitations[first].center - inversions[0].center
    }
  }
  return result
}

/**
 * Full width at half maximum of an RF pulse's spectrum, Hz: the band a small-tip excitation selects.
 * Undefined for a pulse whose spectrum does not fall to half within ±50/duration.
 */
function rfBandwidthHz (seq: Sequence, rf: RfEvent): number | undefined {
  const mag = seq.shapes.get(rf.magShapeId)
  const phase = seq.shapes.get(rf.phaseShapeId)
  if (mag === undefined || phase === undefined || mag.length < 2) return undefined
  const t = rfSampleTimes(seq, rf)
  const duration = t[t.length - 1] - t[0]
  if (!(duration > 0)) return undefined
  const re = new Float64Array(mag.length)
  const im = new Float64Array(mag.length)
  for (let i = 0; i < mag.length; i++) {
    re[i] = mag[i] * Math.cos(2 * Math.PI * phase[i])
    im[i] = mag[i] * Math.sin(2 * Math.PI * phase[i])
  }
  const spectrum = (f: number): number => {
    let a = 0
    let b = 0
    for (let i = 0; i < re.length; i++) {
      const w = -2 * Math.PI * f * t[i]
      const c = Math.cos(w)
      const s = Math.sin(w)
      a += re[i] * c - im[i] * s
      b += re[i] * s + im[i] * c
    }
    return Math.hypot(a, b)
  }
  const peak = spectrum(0)
  if (!(peak > 0)) return undefined
  const step = 0.01 / duration
  const edge = (sign: number): number | undefined => {
    let previous = peak
    for (let f = step; f <= 50 / duration; f += step) {
      const v = spectrum(sign * f)
      if (v < peak / 2) return f - step * (peak / 2 - v) / (previous - v)
      previous = v
    }
    return undefined
  }
  const upper = edge(1)
  const lower = edge(-1)
  return upper === undefined || lower === undefined ? undefined : upper + lower
}

/**
 * TE, TR and TI as [DEFINITIONS] state them (seconds, as the toolboxes write them) take precedence
 * over the values read from the events; a disagreement of more than 1 % is reported, since either the
 * definition or this reading of the events is then wrong.
 */
function timingDefinitions (seq: Sequence, timing: ReturnType<typeof timingOf>, warnings: string[]): void {
  const fields = [['TE', 'teS'], ['TR', 'trS'], ['TI', 'tiS']] as const
  for (const [key, field] of fields) {
    const values = numbers(seq.definitions.get(key))
    if (values.length === 0 || !values.every((v) => v > 0)) continue
    const read = timing[field]
    if (read !== undefined && Math.abs(values[0] - read) > 0.01 * values[0]) {
      warnings.push(`the ${key} definition says ${(values[0] * 1e3).toPrecision(4)} ms but the events give ${(read * 1e3).toPrecision(4)} ms; the definition is reported`)
    }
    timing[field] = values[0]
    if (key === 'TE' && values.length > 1) timing.contrastTesS = values
  }
}

/** Intervals between successive pulses of the same frequency (the same slice), s. */
function periods (pulses: Array<{ center: number, freq: number }>): number[] {
  const last = new Map<number, number>()
  const out: number[] = []
  for (const p of pulses) {
    const key = Math.round(p.freq)
    const prev = last.get(key)
    if (prev !== undefined) out.push(p.center - prev)
    last.set(key, p.center)
  }
  return out
}

/** Successive spokes turn by a golden angle (mod 180° for full spokes, 360° for half spokes). */
function isGoldenAngle (imaging: Shape[], half: boolean): boolean {
  if (imaging.length < 3) return false
  const period = half ? 360 : 180
  const angle = (s: Shape): number => {
    const tip = half && Math.hypot(...s.kStart) > Math.hypot(...s.kEnd) ? s.kStart : s.kEnd
    const v = half ? tip : s.dir
    return Math.atan2(v[1], v[0]) * 180 / Math.PI
  }
  let golden = 0
  for (let i = 1; i < imaging.length; i++) {
    if (imaging[i].exc === imaging[i - 1].exc && imaging[i].exc >= 0 && imaging.length > 3 && half) continue
    const d = (((angle(imaging[i]) - angle(imaging[i - 1])) % period) + period) % period
    const hit = GOLDEN_ANGLES_DEG.some((g) => {
      const gm = g % period
      return Math.abs(d - gm) < 0.05 || Math.abs(d - (period - gm)) < 0.05
    })
    if (!hit) return false
    golden++
  }
  return golden >= 2
}

function ismrmrdName (t: TrajectoryClass, golden: boolean): IsmrmrdTrajectory {
  switch (t) {
    case 'cartesian-2d':
    case 'cartesian-3d':
    case 'fid': return 'cartesian'
    case 'epi': return 'epi'
    case 'radial':
    case 'ute': return golden ? 'goldenangle' : 'radial'
    case 'spiral': return 'spiral'
    default: return 'other'
  }
}

function median (values: number[]): number {
  if (values.length === 0) return 0
  const s = Float64Array.from(values).sort()
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2
}

function mode (counts: Map<number, number>): number {
  let best = 0
  let bestCount = -1
  for (const [value, count] of counts) if (count > bestCount) [best, bestCount] = [value, count]
  return best
}

export function numbers (text: string | undefined): number[] {
  if (text === undefined) return []
  const tok = text.split(/\s+/).filter((s) => s !== '')
  const vals = tok.map(Number)
  return vals.every(Number.isFinite) ? vals : []
}
