// The MR Image module's coded description of a sequence (PS3.3 C.8.3.1.1.1-1.3): Scanning Sequence,
// Sequence Variant and Scan Options, from what an ISMRMRD header says about the acquisition. Each code
// is written only when the header states what it stands for; a sequence nothing is known about is
// 'RM' (research mode) with variant 'NONE', never a guess.
import type { ScanOption, ScanningSequence, SequenceVariant } from './write-mr-image.ts'

export interface SequenceFacts {
  /** ISMRMRD sequenceParameters/sequence_type: free text such as 'Flash', 'SpinEcho', 'TSE', 'EPI'. */
  sequenceType?: string
  /** ISMRMRD encoding/trajectory: 'cartesian', 'epi', 'radial', 'spiral', ... */
  trajectory?: string
  /** A usable inversion time (ms, > 0) for this series. */
  inversionTimeMs?: number
  /** k-space lines per excitation (encoding/echoTrainLength). */
  echoTrainLength?: number
  /** Segments of k-space (encodingLimits/segment maximum + 1). */
  segments?: number
  /** The encoded field of view along phase encoding is larger than the reconstructed one. */
  phaseOversampled?: boolean
  /** Fewer lines than the encoded matrix, on one side of the k-space centre only. */
  partialFourierPhase?: boolean
}

export interface SequenceCodes {
  scanningSequence: ScanningSequence[]
  sequenceVariant: SequenceVariant[]
  scanOptions: ScanOption[]
}

/** The words of a free-text sequence name, lower case ('TurboSpinEcho' → turbo, spin, echo). */
function words (text: string): string[] {
  return text.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase().split(/[^a-z0-9]+/).filter((w) => w !== '')
}

// Spin echo: a refocusing pulse forms the echo (SE, TSE/FSE/RARE/HASTE trains, SPACE/CUBE).
const SPIN_ECHO = /spin ?echo|\bt?se\b|\bfse\b|\brare\b|\bhaste\b|\bspace\b|\bcube\b/
// Gradient echo: FLASH/SPGR (spoiled), the FISP/SSFP families and gradient-recalled names, and
// sequences named by a non-Cartesian readout (radial, spiral, UTE), which are gradient echoes unless
// their name says spin echo (a radial TSE). A bare FID (no echo at all, as a frequency calibration)
// is none of the codes. The trajectory alone does not decide: a header without a sequence type says
// nothing of how its echo forms.
const GRADIENT_ECHO = /flash|gradient|\bgre\b|\bgr\b|spgr|fisp|ssfp|trufi|fiesta|\bffe\b|mprage|\bfl[23]d\b|psif|grass|radial|spiral|\bute\b/
const ECHO_PLANAR = /\bepi\b|echo ?planar|\bep2d\b|\bepfid\b/
const SPOILED = /flash|spgr|spoil|mprage|\bfl[23]d\b/
const STEADY_STATE = /fisp|ssfp|trufi|fiesta|grass|balanced/
const TIME_REVERSED = /psif|ce ?fast/
const MAGNETIZATION_TRANSFER = /\bmtc?\b|magneti[sz]ation ?transfer/

/** The codes for a series, from the facts its header states. */
export function sequenceCodesOf (facts: SequenceFacts): SequenceCodes {
  const text = words(facts.sequenceType ?? '').join(' ')
  const epi = facts.trajectory?.toLowerCase() === 'epi' || ECHO_PLANAR.test(text)
  const spinEcho = SPIN_ECHO.test(text)
  const gradientEcho = !spinEcho && GRADIENT_ECHO.test(text)
  const inversion = facts.inversionTimeMs !== undefined && facts.inversionTimeMs > 0

  const scanningSequence: ScanningSequence[] = []
  if (spinEcho) scanningSequence.push('SE')
  if (gradientEcho) scanningSequence.push('GR')
  if (inversion) scanningSequence.push('IR')
  // An EPI whose header does not say how its echo is formed is 'EP' alone, as scanners write it for
  // gradient-echo EPI; 'SE\EP' or 'GR\EP' when the sequence type says so.
  if (epi) scanningSequence.push('EP')
  if (scanningSequence.length === 0) scanningSequence.push('RM')

  const sequenceVariant: SequenceVariant[] = []
  // More than one line of k-space per excitation: echo trains, EPI, segmented acquisitions.
  if (epi || (facts.echoTrainLength ?? 1) > 1 || (facts.segments ?? 1) > 1) sequenceVariant.push('SK')
  if (MAGNETIZATION_TRANSFER.test(text)) sequenceVariant.push('MTC')
  if (gradientEcho && TIME_REVERSED.test(text)) sequenceVariant.push('TRSS')
  else if (gradientEcho && STEADY_STATE.test(text)) sequenceVariant.push('SS')
  if (gradientEcho && SPOILED.test(text)) sequenceVariant.push('SP')
  if (inversion) sequenceVariant.push('MP')
  if (facts.phaseOversampled === true) sequenceVariant.push('OSP')
  if (sequenceVariant.length === 0) sequenceVariant.push('NONE')

  const scanOptions: ScanOption[] = []
  if (facts.partialFourierPhase === true) scanOptions.push('PFP')
  return { scanningSequence, sequenceVariant, scanOptions }
}
