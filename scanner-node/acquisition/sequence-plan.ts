// What a Pulseq sequence asks of a scanner, in the terms the scanner works with: every ADC readout with
// its k-space positions, loop counters, role and slice, the timing that sets the contrast, and the
// matrix, field of view and trajectory the ISMRMRD header must announce. Shared by every driver.
//
// The counters and roles come from the same reading of the sequence as `seq inspect` (protocol/pulseq
// encoding.ts): labels where the sequence sets them, the phase-encode areas, RF offsets and echo order
// where it does not, so that an unlabelled pypulseq GRE is numbered line by line and not all on line 0.
import { adcReadouts, encodeReadouts, summarizeEncoding, type Sequence, type SequenceEncoding, type SeqSummary } from '../../protocol/pulseq/index.ts'
import type { PlannedReadout, SequenceTiming } from '../virtual/index.ts'

export interface SequencePlan {
  summary: SeqSummary
  readouts: PlannedReadout[]
  timing: SequenceTiming
  /** reconstructed matrix [nx, ny, nz]; nz > 1 for a 3D encoding; non-Cartesian: round(2·kmax·FOV) */
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

/** Field of view assumed for a sequence that encodes no space (an FID), m. */
const UNENCODED_FOV_M: [number, number, number] = [0.256, 0.256, 0.005]

export function planSequence (seq: Sequence, options: { larmorHz?: number } = {}): SequencePlan {
  let readoutCount = 0
  let samples = 0
  for (let b = 0; b < seq.blocks.length; b++) {
    const adc = seq.adc.get(seq.blocks.adc[b])
    if (adc === undefined) continue
    readoutCount++
    samples += adc.numSamples
  }
  if (readoutCount === 0) throw new SequencePlanError('the sequence has no ADC events: there is nothing to acquire')
  if (samples > MAX_PLANNED_SAMPLES) {
    throw new SequencePlanError(`the sequence acquires ${samples} samples, more than the ${MAX_PLANNED_SAMPLES} a scan may have`)
  }
  const encoding = encodeReadouts(seq, { larmorHz: options.larmorHz })
  const summary = summarizeEncoding(seq, encoding)
  const oversampling: 1 | 2 = (encoding.oversampling ?? 1) >= 2 ? 2 : 1

  const readouts: PlannedReadout[] = []
  let firstImaging: { numSamples: number } | undefined
  for (const r of adcReadouts(seq, { larmorHz: options.larmorHz })) {
    const e = encoding.readouts[r.index]
    if (e === undefined || e.block !== r.block) throw new SequencePlanError(`readout ${r.index} (block ${r.block}) was not encoded; the sequence changed while it was planned`)
    if (firstImaging === undefined && e.role !== 'noise') firstImaging = r
    const planned: PlannedReadout = {
      kx: r.kx,
      ky: r.ky,
      kz: r.kz,
      dwellS: r.dwell,
      timeFromExcitationS: e.echoTimeS,
      counters: {
        line: e.line,
        partition: e.partition,
        slice: e.slice,
        average: e.average,
        contrast: e.contrast,
        repetition: e.repetition,
        set: e.set,
        segment: e.segment
      },
      isNoise: e.role === 'noise',
      isReverse: e.reverse,
      centerSample: e.centreSample,
      sliceOffsetM: e.sliceOffsetM,
      excitationTimeS: Number.isNaN(e.excitationTimeS) ? r.start : e.excitationTimeS
    }
    if (e.role === 'navigator') planned.isNavigator = true
    if (e.role === 'calibration' || e.role === 'calibration-and-imaging') planned.parallelCalibration = e.role
    readouts.push(planned)
  }

  const unencoded = encoding.matrix === undefined || encoding.fovM === undefined
  return {
    summary,
    readouts,
    timing: timingOf(seq, summary),
    // A sequence without spatial encoding (an FID) is one line of its samples.
    matrix: unencoded ? [Math.max(1, Math.round((firstImaging?.numSamples ?? 1) / oversampling)), 1, 1] : encoding.matrix as [number, number, number],
    fovM: unencoded ? [...UNENCODED_FOV_M] : encoding.fovM as [number, number, number],
    oversampling,
    slices: encoding.slices,
    trajectory: encoding.ismrmrdTrajectory,
    storeTrajectory: storesTrajectory(encoding),
    acceleration: encoding.acceleration
  }
}

/** Non-Cartesian readouts, and Cartesian ones sampled on the ramps, carry their k positions. */
function storesTrajectory (encoding: SequenceEncoding): boolean {
  switch (encoding.trajectory) {
    case 'cartesian-2d':
    case 'cartesian-3d':
    case 'fid':
      return false
    case 'epi':
      return encoding.epi?.rampSampling === true
    default:
      return true
  }
}

function timingOf (seq: Sequence, summary: SeqSummary): SequenceTiming {
  const name = (summary.name ?? '').toLowerCase()
  let refocusing = false
  for (const rf of seq.rf.values()) if (rf.use === 'refocusing') refocusing = true
  const kind: SequenceTiming['kind'] = name.includes('fid')
    ? 'FID'
    : name.includes('se') && !name.includes('gre') ? 'SE' : refocusing ? 'SE' : 'GRE'
  const timing: SequenceTiming = {
    teS: summary.teS ?? 0,
    trS: summary.trS ?? summary.durationS,
    flipAngleDeg: summary.flipAngleDeg ?? 90,
    kind
  }
  if (summary.tiS !== undefined) timing.tiS = summary.tiS
  return timing
}
