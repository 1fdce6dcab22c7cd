// A scan on the virtual scanner: the plan of a Pulseq sequence played against a Shepp-Logan phantom
// through N receive coils, giving the ISMRMRD XML header and the acquisitions a real scanner would send.
import { simulateReadouts, encodingFor, sheppLogan2d, sheppLogan3d, type Geometry, type SimulateOptions } from '../virtual/index.ts'
import type { Acquisition } from '../../protocol/mrd/types.ts'
import type { IsmrmrdHeader } from '../../protocol/mrd/index.ts'
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

const DEFAULT_LARMOR_HZ = 2_128_874 // 0.05 T

export function virtualScan (options: VirtualScanOptions): VirtualScan {
  const { plan } = options
  const is3d = plan.matrix[2] > 1
  const radiusM = 0.4 * Math.min(plan.fovM[0], plan.fovM[1])
  const hasOwnNoise = plan.readouts.some((r) => r.isNoise === true)
  const sim: SimulateOptions = {
    phantom: is3d ? sheppLogan3d({ radiusM }) : sheppLogan2d({ radiusM }),
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
    measurementUid: options.measurementUid
  }
  const encoding = encodingFor(sim, plan.readouts)
  const toVec = ([x, y, z]: [number, number, number]): { x: number, y: number, z: number } => ({ x, y, z })
  const lim = encoding.limits
  const system = options.system ?? { vendor: 'ScanHub', model: 'Virtual scanner', fieldStrengthT: 0.05, larmorHz: DEFAULT_LARMOR_HZ }
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
      trajectory: encoding.trajectory
    }],
    sequenceParameters: {
      TR: [round3(plan.timing.trS * 1e3)],
      TE: [round3(plan.timing.teS * 1e3)],
      flipAngle_deg: [round3(plan.timing.flipAngleDeg)],
      sequence_type: plan.timing.kind === 'SE' ? 'SpinEcho' : plan.timing.kind === 'FID' ? 'FID' : 'Flash'
    }
  }
  return {
    header,
    acquisitions: { [Symbol.iterator]: () => simulateReadouts(plan.readouts, sim) },
    count: plan.readouts.length + sim.noiseReadouts
  }
}

function round3 (x: number): number {
  return Math.round(x * 1000) / 1000
}
