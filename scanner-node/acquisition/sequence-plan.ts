// What a Pulseq sequence asks of a scanner, in the terms the scanner works with: every ADC readout with
// its k-space positions, loop counters and slice, the timing that sets the contrast, and the matrix and
// field of view the ISMRMRD header must announce. Shared by every driver.
import { adcReadouts, summarize, type AdcReadout, type Sequence, type SeqSummary } from '../../protocol/pulseq/index.ts'
import type { PlannedReadout, SequenceTiming } from '../virtual/index.ts'

export interface SequencePlan {
  summary: SeqSummary
  readouts: PlannedReadout[]
  timing: SequenceTiming
  /** reconstructed matrix [nx, ny, nz]; nz > 1 for a 3D encoding */
  matrix: [number, number, number]
  /** field of view [x, y, z] in metres (z: slice thickness in 2D) */
  fovM: [number, number, number]
  oversampling: 1 | 2
  slices: number
  /** the ISMRMRD trajectory name the header carries */
  trajectory: 'cartesian' | 'epi' | 'radial' | 'goldenangle' | 'spiral' | 'other'
  /**
   * whether each acquisition stores its k-space positions (trajectory_dimensions > 0): for
   * non-Cartesian and ramp-sampled readouts, so that any reconstruction can grid them
   */
  storeTrajectory: boolean
  /** parallel-imaging acceleration along phase encoding 1 and 2 (1 = fully sampled) */
  acceleration: [number, number]
}

export class SequencePlanError extends Error {
  override name = 'SequencePlanError'
}

/** Above this a sequence is not something the scanner will plan in memory (a 512² 3D of 512 partitions). */
const MAX_PLANNED_SAMPLES = 64 * 1024 * 1024

export function planSequence (seq: Sequence, options: { larmorHz?: number } = {}): SequencePlan {
  const summary = summarize(seq)
  if (summary.adcReadouts === 0) throw new SequencePlanError('the sequence has no ADC events: there is nothing to acquire')
  if (summary.adcSamples > MAX_PLANNED_SAMPLES) {
    throw new SequencePlanError(`the sequence acquires ${summary.adcSamples} samples, more than the ${MAX_PLANNED_SAMPLES} a scan may have`)
  }
  const oversampling: 1 | 2 = (summary.readoutOversampling ?? 1) >= 2 ? 2 : 1
  const raw = [...adcReadouts(seq, { larmorHz: options.larmorHz })]
  const imaging = raw.filter((r) => !isNoise(r))
  const fovM = summary.fovM ?? estimateFov(imaging)
  const matrix = summary.matrix ?? estimateMatrix(imaging, oversampling)
  const slicePositions = excitationSliceOffsets(seq)
  const sliceIndex = new Map<number, number>()
  const readouts = raw.map((r): PlannedReadout => {
    const center = centreSample(r)
    const noise = isNoise(r)
    const slice = r.labels.SLC ?? 0
    const offset = slicePositions.get(r.block) ?? 0
    if (!noise && !sliceIndex.has(slice)) sliceIndex.set(slice, offset)
    return {
      kx: r.kx,
      ky: r.ky,
      kz: r.kz,
      dwellS: r.dwell,
      timeFromExcitationS: Number.isNaN(r.excitation) ? 0 : r.start + (center + 0.5) * r.dwell - r.excitation,
      counters: {
        line: r.labels.LIN ?? lineFromK(r, center, fovM[1], matrix[1]),
        partition: r.labels.PAR ?? (matrix[2] > 1 ? lineFromK({ ...r, ky: r.kz }, center, fovM[2], matrix[2]) : 0),
        slice,
        average: r.labels.AVG ?? 0,
        contrast: r.labels.ECO ?? 0,
        repetition: r.labels.REP ?? 0,
        set: r.labels.SET ?? 0,
        segment: r.labels.SEG ?? 0
      },
      isNoise: noise,
      isReverse: r.numSamples > 1 && r.kx[r.numSamples - 1] < r.kx[0],
      centerSample: center,
      sliceOffsetM: offset,
      excitationTimeS: Number.isNaN(r.excitation) ? r.start : r.excitation
    }
  })
  return {
    summary,
    readouts,
    timing: timingOf(seq, summary),
    matrix,
    fovM,
    oversampling,
    slices: Math.max(1, sliceIndex.size),
    trajectory: 'cartesian',
    storeTrajectory: false,
    acceleration: [1, 1]
  }
}

function isNoise (r: AdcReadout): boolean {
  return (r.labels.NOISE ?? 0) > 0 || Number.isNaN(r.excitation)
}

/** The sample nearest the k-space centre along the readout. */
function centreSample (r: AdcReadout): number {
  let best = 0
  let bestK = Infinity
  for (let i = 0; i < r.numSamples; i++) {
    const k = Math.abs(r.kx[i]) + Math.abs(r.ky[i]) * 1e-3
    if (k < bestK) { bestK = k; best = i }
  }
  return best
}

/** A line index from the phase-encode position, for sequences without LIN labels. */
function lineFromK (r: Pick<AdcReadout, 'ky'>, center: number, fov: number, n: number): number {
  const line = Math.round(r.ky[center] * fov) + Math.floor(n / 2)
  return Math.min(Math.max(line, 0), Math.max(0, n - 1))
}

function estimateFov (readouts: AdcReadout[]): [number, number, number] {
  // Δk between samples sets the readout FOV; without more information, a square FOV.
  const r = readouts[0]
  const dk = r !== undefined && r.numSamples > 1 ? Math.abs(r.kx[1] - r.kx[0]) : 0
  const fov = dk > 0 ? 1 / dk : 0.256
  return [fov, fov, 0.005]
}

function estimateMatrix (readouts: AdcReadout[], oversampling: number): [number, number, number] {
  const nx = Math.round((readouts[0]?.numSamples ?? 1) / oversampling)
  const lines = new Set(readouts.map((r) => Math.round(r.ky[Math.floor(r.numSamples / 2)] * 1e3)))
  return [nx, Math.max(1, lines.size), 1]
}

/**
 * Slice position of each block's excitation, from the RF frequency offset and the slice-select gradient
 * under it (Δz = Δf / Gz), carried to the blocks that follow until the next excitation.
 */
function excitationSliceOffsets (seq: Sequence): Map<number, number> {
  const out = new Map<number, number>()
  let current = 0
  const b = seq.blocks
  for (let i = 0; i < b.length; i++) {
    const rf = b.rf[i] !== 0 ? seq.rf.get(b.rf[i]) : undefined
    if (rf !== undefined && rf.use !== 'refocusing') {
      const gz = b.gz[i] !== 0 ? seq.gradients.get(b.gz[i]) : undefined
      current = gz !== undefined && gz.amplitude !== 0 && rf.freqOffset !== 0 ? rf.freqOffset / gz.amplitude : 0
    }
    if (b.adc[i] !== 0) out.set(i, current)
  }
  return out
}

function timingOf (seq: Sequence, summary: SeqSummary): SequenceTiming {
  const name = (summary.name ?? '').toLowerCase()
  let refocusing = false
  for (const rf of seq.rf.values()) if (rf.use === 'refocusing') refocusing = true
  const kind: SequenceTiming['kind'] = name.includes('fid')
    ? 'FID'
    : name.includes('se') && !name.includes('gre') ? 'SE' : refocusing ? 'SE' : 'GRE'
  return {
    teS: summary.teS ?? 0,
    trS: summary.trS ?? summary.durationS,
    flipAngleDeg: summary.flipAngleDeg ?? 90,
    kind
  }
}
