// What an ISMRMRD encoding says about how k-space was acquired, in the terms of the DICOM MR Image
// module: the acquisition matrix without readout oversampling, phase-encoding steps, partial Fourier,
// phase oversampling, 2-D or 3-D. Every value comes from the header; one it cannot give is absent.
import type { Encoding, Limit } from '../../protocol/mrd/xml-header.ts'

export interface EncodingFacts {
  /** A 3-D encoding: more than one encoded partition along z. */
  threeD: boolean
  /** The trajectory phase-encodes in the plane (Cartesian, EPI); radial and spiral readouts do not. */
  phaseEncoded: boolean
  /** Frequency-encoding samples without readout oversampling, and phase-encoding steps without phase oversampling. */
  acquisitionMatrix?: { frequency: number, phase: number }
  /** k-space lines collected along phase encoding 1 (from its encoding limits, else the encoded matrix). */
  phaseEncodingSteps?: number
  /** Lines collected over the encoded matrix's lines, percent. */
  percentSampling?: number
  /** Reconstructed field of view along phase over that along the readout, percent. */
  percentPhaseFieldOfView?: number
  phaseOversampled: boolean
  partialFourierPhase: boolean
  echoTrainLength?: number
  segments?: number
}

const positive = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v) && v > 0

/**
 * Count along one axis without oversampling: the encoded count scaled by recon FOV / encoded FOV
 * (ISMRMRD enlarges the encoded FOV by the oversampling factor; Gadgetron removes it the same way).
 */
function withoutOversampling (encoded: number, encodedFov: number, reconFov: number): number {
  if (!positive(encodedFov) || !positive(reconFov) || reconFov >= encodedFov) return encoded
  return Math.max(1, Math.round(encoded * reconFov / encodedFov))
}

/** Lines spanned by a limit, or undefined when the limit does not describe a range inside the matrix. */
function spanned (limit: Limit | undefined, matrix: number): number | undefined {
  if (limit === undefined || limit.maximum < limit.minimum || limit.minimum < 0) return undefined
  const lines = limit.maximum - limit.minimum + 1
  return lines <= matrix ? lines : undefined
}

/**
 * Partial Fourier along an axis: fewer lines than the encoded matrix, and the k-space centre not in
 * the middle of those that were acquired (one side is short). A symmetric reduction is a lower
 * resolution, not partial Fourier.
 */
function partialFourier (limit: Limit | undefined, matrix: number): boolean {
  const lines = spanned(limit, matrix)
  if (limit === undefined || lines === undefined || lines >= matrix) return false
  if (limit.center < limit.minimum || limit.center > limit.maximum) return false
  const before = limit.center - limit.minimum
  const after = limit.maximum + 1 - limit.center
  return Math.abs(before - after) > 1
}

/** Trajectories that phase-encode in the plane, so that phase-encoding attributes mean something. */
const PHASE_ENCODED = new Set(['cartesian', 'epi'])

export function encodingFactsOf (encoding: Encoding | undefined): EncodingFacts {
  if (encoding === undefined) return { threeD: false, phaseEncoded: false, phaseOversampled: false, partialFourierPhase: false }
  const e = encoding.encodedSpace
  const r = encoding.reconSpace
  const threeD = e.matrixSize.z > 1
  const phaseEncoded = PHASE_ENCODED.has(encoding.trajectory.toLowerCase())
  const facts: EncodingFacts = {
    threeD,
    phaseEncoded,
    phaseOversampled: phaseEncoded && positive(r.fieldOfView_mm.y) && e.fieldOfView_mm.y > r.fieldOfView_mm.y * 1.001,
    partialFourierPhase: phaseEncoded && (partialFourier(encoding.encodingLimits.kspace_encoding_step_1, e.matrixSize.y) ||
      (threeD && partialFourier(encoding.encodingLimits.kspace_encoding_step_2, e.matrixSize.z)))
  }
  // a radial or spiral readout has no phase-encoding lines: its encoded "y" counts spokes or interleaves
  if (!phaseEncoded) return withTrains(facts, encoding)
  if (e.matrixSize.x >= 1 && e.matrixSize.y >= 1) {
    facts.acquisitionMatrix = {
      frequency: withoutOversampling(e.matrixSize.x, e.fieldOfView_mm.x, r.fieldOfView_mm.x),
      phase: withoutOversampling(e.matrixSize.y, e.fieldOfView_mm.y, r.fieldOfView_mm.y)
    }
    const lines = spanned(encoding.encodingLimits.kspace_encoding_step_1, e.matrixSize.y) ?? e.matrixSize.y
    facts.phaseEncodingSteps = lines
    facts.percentSampling = 100 * lines / e.matrixSize.y
  }
  if (positive(r.fieldOfView_mm.x) && positive(r.fieldOfView_mm.y)) facts.percentPhaseFieldOfView = 100 * r.fieldOfView_mm.y / r.fieldOfView_mm.x
  return withTrains(facts, encoding)
}

function withTrains (facts: EncodingFacts, encoding: Encoding): EncodingFacts {
  if (encoding.echoTrainLength !== undefined && Number.isInteger(encoding.echoTrainLength) && encoding.echoTrainLength >= 1) facts.echoTrainLength = encoding.echoTrainLength
  const segment = encoding.encodingLimits.segment
  if (segment !== undefined && segment.maximum >= 0) facts.segments = segment.maximum + 1
  return facts
}
