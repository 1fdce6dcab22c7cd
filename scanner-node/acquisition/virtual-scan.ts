// A scan on the virtual scanner: the plan of a Pulseq sequence played against a 3D Shepp-Logan head
// through N receive coils, giving the ISMRMRD XML header and the acquisitions a real scanner would send.
//
// The head is a volume whatever the sequence encodes: a 2D sequence sees its cross-section at each
// slice's position (the plan's sliceOffsetM), a 3D one what lies in its slab (FOVz thick, at the
// excitation's offset), as if the excitation selected the slab: nothing beyond it folds in along z. The header says what the plan
// does: its trajectory, acceleration and calibration, echo train, and the TE of every contrast.
import { simulateReadouts, encodingFor, sheppLogan3d, type Geometry, type Phantom3D, type PlannedReadout, type SimulateOptions } from '../virtual/index.ts'
import type { Acquisition } from '../../protocol/mrd/types.ts'
import type { IsmrmrdHeader, ParallelImaging, SequenceParameters } from '../../protocol/mrd/index.ts'
import type { SeqSummary } from '../../protocol/pulseq/index.ts'
import type { SequencePlan } from './sequence-plan.ts'

export interface VirtualScanOptions {
  plan: SequencePlan
  coils: number
  /** standard deviation of the real and imaginary parts of each sample */
  noiseSigma: number
  /** noise-calibration readouts before the scan (ignored when the sequence has its own) */
  noiseReadouts?: number
  /** spins relative to the receiver frequency, Hz (what frequency calibration finds) */
  offResonanceHz?: number
  /** actual over nominal flip angle (what flip-angle calibration finds) */
  b1Scale?: number
  /**
   * seconds by which the echo lags the ADC (default 0): samples are taken at k(t − delay), which
   * gives alternating (EPI) readouts the odd/even shift of a real scanner's Nyquist ghost
   */
  readoutDelayS?: number
  seed?: number
  geometry?: Geometry
  /** who and what the header names */
  system?: { vendor: string, model: string, fieldStrengthT: number, larmorHz: number, institution?: string }
  subject?: { name?: string, id?: string, birthDate?: string, sex?: string, heightM?: number, weightKg?: number }
  protocolName?: string
  measurementUid?: number
}

export interface VirtualScan {
  header: IsmrmrdHeader
  acquisitions: Iterable<Acquisition>
  count: number
}

/** Thrown for a plan whose header the virtual scanner cannot write truthfully. */
export class VirtualScanError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'VirtualScanError'
  }
}

const DEFAULT_LARMOR_HZ = 2_128_874 // 0.05 T

/**
 * The head the virtual scanner images for a field of view [x, y, z] (m): the 3D Shepp-Logan (Koay et
 * al.) with a table unit of 0.4 × the smaller in-plane FOV (the head spans 74 % of it from front to
 * back), placed so that its plane z = −0.25 (table units), where
 * the ventricles and most small structures lie, is at isocentre. A multi-slice stack around isocentre
 * then cuts through changing anatomy (5 mm slices differ clearly), as a head's slices do.
 */
export function virtualScanPhantom (fovM: [number, number, number]): Phantom3D {
  const radiusM = 0.4 * Math.min(fovM[0], fovM[1])
  return sheppLogan3d({ radiusM, centreM: [0, 0, 0.25 * radiusM] })
}

export function virtualScan (options: VirtualScanOptions): VirtualScan {
  const { plan } = options
  const hasOwnNoise = plan.readouts.some((r) => r.isNoise === true)
  const is3d = plan.matrix[2] > 1
  const slabCentreM = plan.readouts.find((r) => r.isNoise !== true)?.sliceOffsetM ?? 0
  const sim: SimulateOptions = {
    phantom: virtualScanPhantom(plan.fovM),
    coils: options.coils,
    noiseSigma: options.noiseSigma,
    oversampling: plan.oversampling,
    fovM: plan.fovM,
    matrix: plan.matrix,
    timing: plan.timing,
    offResonanceHz: options.offResonanceHz,
    b1Scale: options.b1Scale,
    seed: options.seed ?? 1,
    noiseReadouts: hasOwnNoise ? 0 : (options.noiseReadouts ?? 0),
    geometry: options.geometry,
    measurementUid: options.measurementUid,
    trajectory: plan.trajectory,
    storeTrajectory: plan.storeTrajectory,
    readoutDelayS: options.readoutDelayS,
    ...(is3d ? { slab: { centreM: slabCentreM, thicknessM: plan.fovM[2] } } : {})
  }
  const encoding = encodingFor(sim, plan.readouts)
  const toVec = ([x, y, z]: [number, number, number]): { x: number, y: number, z: number } => ({ x, y, z })
  const lim = encoding.limits
  const system = options.system ?? { vendor: 'ScanHub', model: 'Virtual scanner', fieldStrengthT: 0.05, larmorHz: DEFAULT_LARMOR_HZ }
  const extras = summaryExtras(plan.summary)
  const parallelImaging = parallelImagingOf(plan)
  const echoTrainLength = extras.echoTrainLength ?? echoTrainLengthOf(plan.readouts)
  const header: IsmrmrdHeader = {
    version: 1,
    subjectInformation: options.subject === undefined
      ? undefined
      : {
          patientName: options.subject.name,
          patientID: options.subject.id,
          patientBirthdate: options.subject.birthDate,
          patientGender: options.subject.sex,
          patientHeight_m: options.subject.heightM,
          patientWeight_kg: options.subject.weightKg
        },
    measurementInformation: { patientPosition: 'HFS', protocolName: options.protocolName ?? plan.summary.name ?? 'sequence', sequenceName: plan.summary.name },
    acquisitionSystemInformation: {
      systemVendor: system.vendor,
      systemModel: system.model,
      systemFieldStrength_T: system.fieldStrengthT,
      receiverChannels: options.coils,
      institutionName: system.institution
    },
    experimentalConditions: { H1resonanceFrequency_Hz: Math.round(system.larmorHz) },
    encoding: [{
      encodedSpace: { matrixSize: toVec(encoding.encodedMatrix), fieldOfView_mm: toVec(encoding.encodedFovMm) },
      reconSpace: { matrixSize: toVec(encoding.reconMatrix), fieldOfView_mm: toVec(encoding.reconFovMm) },
      encodingLimits: {
        kspace_encoding_step_1: lim.kspaceEncodingStep1,
        kspace_encoding_step_2: lim.kspaceEncodingStep2,
        average: lim.average,
        slice: lim.slice,
        contrast: lim.contrast,
        phase: lim.phase,
        repetition: lim.repetition,
        set: lim.set,
        segment: lim.segment
      },
      trajectory: encoding.trajectory,
      ...(parallelImaging !== undefined ? { parallelImaging } : {}),
      ...(echoTrainLength !== undefined ? { echoTrainLength } : {})
    }],
    sequenceParameters: sequenceParametersOf(plan, extras, echoTrainLength)
  }
  return {
    header,
    acquisitions: { [Symbol.iterator]: () => simulateReadouts(plan.readouts, sim) },
    count: plan.readouts.length + sim.noiseReadouts
  }
}

/** What the sequence summary says of echoes and preparation, kept only where it is a usable value. */
interface SummaryExtras {
  trajectory?: string
  contrastTesS?: number[]
  tiS?: number
  echoSpacingS?: number
  echoTrainLength?: number
}

function summaryExtras (summary: SeqSummary): SummaryExtras {
  const positive = (v: number | undefined): number | undefined => v !== undefined && Number.isFinite(v) && v > 0 ? v : undefined
  const tes = summary.contrastTesS
  const etl = positive(summary.echoTrainLength)
  return {
    trajectory: summary.trajectory,
    contrastTesS: tes !== undefined && tes.length > 0 && tes.every((t) => positive(t) !== undefined) ? tes : undefined,
    tiS: positive(summary.tiS),
    echoSpacingS: positive(summary.echoSpacingS),
    echoTrainLength: etl !== undefined && Number.isInteger(etl) ? etl : undefined
  }
}

/**
 * The echo train length the plan shows: the most image readouts of one contrast after one excitation
 * (navigators and noise aside). Undefined when the plan does not say which readouts share an excitation.
 */
function echoTrainLengthOf (readouts: PlannedReadout[]): number | undefined {
  const counts = new Map<string, number>()
  for (const r of readouts) {
    if (r.isNoise === true || r.isNavigator === true) continue
    if (r.excitationTimeS === undefined) return undefined
    const key = `${r.excitationTimeS}|${r.counters.contrast}`
    counts.set(key, (counts.get(key) ?? 0) + 1)
  }
  return counts.size === 0 ? undefined : Math.max(...counts.values())
}

/**
 * TE of each contrast (s): the summary's list when it has one, else, per contrast counter, the time to
 * the readout that passes nearest the k-space centre (for a single contrast, the plan's TE).
 */
function contrastTes (plan: SequencePlan, extras: SummaryExtras): number[] {
  if (extras.contrastTesS !== undefined) return extras.contrastTesS
  const best = new Map<number, { k: number, te: number }>()
  for (const r of plan.readouts) {
    if (r.isNoise === true || r.isNavigator === true) continue
    const c = r.centerSample ?? Math.floor(r.kx.length / 2)
    const k = Math.hypot(r.kx[c], r.ky[c], r.kz[c])
    const seen = best.get(r.counters.contrast)
    if (seen === undefined || k < seen.k) best.set(r.counters.contrast, { k, te: r.timeFromExcitationS })
  }
  if (best.size <= 1) return [plan.timing.teS]
  return [...best.entries()].sort(([a], [b]) => a - b).map(([, v]) => v.te)
}

/** sequence_type: the trajectory where it names the sequence (EPI, radial, UTE, spiral), else the contrast. */
function sequenceTypeOf (plan: SequencePlan, extras: SummaryExtras, echoTrainLength: number | undefined): string {
  for (const trajectory of [extras.trajectory, plan.trajectory]) {
    switch (trajectory) {
      case 'epi': return 'EPI'
      case 'radial':
      case 'goldenangle': return 'Radial'
      case 'ute': return 'UTE'
      case 'spiral': return 'Spiral'
    }
  }
  switch (plan.timing.kind) {
    case 'SE': return (echoTrainLength ?? 1) > 1 ? 'TurboSpinEcho' : 'SpinEcho'
    case 'FID': return 'FID'
    case 'GRE': return 'Flash'
    default: return 'Other'
  }
}

function sequenceParametersOf (plan: SequencePlan, extras: SummaryExtras, echoTrainLength: number | undefined): SequenceParameters {
  const ms = (s: number): number => Math.round(s * 1e6) / 1e3
  const ti = extras.tiS ?? plan.timing.tiS
  return {
    TR: [ms(plan.timing.trS)],
    TE: contrastTes(plan, extras).map(ms),
    ...(ti !== undefined ? { TI: [ms(ti)] } : {}),
    flipAngle_deg: [Math.round(plan.timing.flipAngleDeg * 1000) / 1000],
    sequence_type: sequenceTypeOf(plan, extras, echoTrainLength),
    ...(extras.echoSpacingS !== undefined ? { echo_spacing: [ms(extras.echoSpacingS)] } : {})
  }
}

/**
 * The header's parallelImaging: the plan's acceleration, and how calibration data come: 'embedded' in
 * the undersampled scan, or 'separate' when calibration-only lines repeat lines the image also has (a
 * reference scan of its own). An accelerated plan without calibration lines names no calibration
 * mode: a reconstruction must then find calibration elsewhere or refuse.
 */
function parallelImagingOf (plan: SequencePlan): ParallelImaging | undefined {
  const [r1, r2] = plan.acceleration
  for (const r of [r1, r2]) {
    if (!Number.isInteger(r) || r < 1) throw new VirtualScanError(`acceleration ${r1} × ${r2}: each factor must be a whole number from 1`)
  }
  const calibration = plan.readouts.filter((r) => r.isNoise !== true && r.parallelCalibration !== undefined)
  if (r1 * r2 === 1 && calibration.length === 0) return undefined
  const accelerationFactor = { kspace_encoding_step_1: r1, kspace_encoding_step_2: r2 }
  if (calibration.length === 0) return { accelerationFactor }
  const key = (r: PlannedReadout): string => [r.counters.line, r.counters.partition, r.counters.slice, r.counters.contrast, r.counters.repetition, r.counters.average].join()
  const imageLines = new Set(plan.readouts.filter((r) => r.isNoise !== true && r.isNavigator !== true && r.parallelCalibration !== 'calibration').map(key))
  const separate = calibration.some((r) => r.parallelCalibration === 'calibration' && imageLines.has(key(r)))
  return { accelerationFactor, calibrationMode: separate ? 'separate' : 'embedded' }
}
