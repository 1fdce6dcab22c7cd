// Pulseq (.seq) support: read revisions 1.2 to 1.5, check signatures, write 1.5.0, build ScanHub's
// sequences, and interpret a sequence into its timeline, waveforms, k-space trajectory and summary.

export type {
  AdcEvent, ArbitraryGradient, BlockTable, ExtensionListEntry, Extensions, ExtensionTable, GradientEvent,
  LabelEvent, Rasters, RfEvent, RfShimEvent, RfUse, RotationEvent, SeqVersion, Sequence, Signature,
  SoftDelayEvent, TrapGradient, TriggerEvent
} from './types.ts'
export { SeqBuildError, SeqLimitError, SeqParseError, SeqWriteError } from './errors.ts'
export { DEFAULT_LIMITS, KNOWN_LABELS } from './constants.ts'
export type { ParseLimits } from './constants.ts'

export { parseSeq } from './parse.ts'
export type { ParseOptions } from './parse.ts'
export { verifySignature } from './signature.ts'
export type { SignatureCheck } from './signature.ts'
export { md5Hex } from './md5.ts'
export { writeSeq } from './write.ts'

export { BUILTIN_SEQUENCES, fid, gre2d, multiSliceGre, spinEcho2d } from './builtin.ts'
export type { FidParams, GreParams, ImagingParams, SpinEchoParams } from './builtin.ts'
export { tse2d, tseLineOrder } from './builtin-tse.ts'
export type { TseParams } from './builtin-tse.ts'
export { epi2d } from './builtin-epi.ts'
export type { EpiParams } from './builtin-epi.ts'
export { GOLDEN_ANGLE_FULL_SPOKE, GOLDEN_ANGLE_HALF_SPOKE, radial2d, spokeAngle, ute2d } from './builtin-radial.ts'
export type { RadialParams, UteParams } from './builtin-radial.ts'
export { designSpiral, spiral2d } from './builtin-spiral.ts'
export type { SpiralParams, SpiralWaveform } from './builtin-spiral.ts'
export { gre3d } from './builtin-gre3d.ts'
export type { Gre3dParams } from './builtin-gre3d.ts'
export { greUndersampled, undersampledLines } from './builtin-gre-undersampled.ts'
export type { UndersampledGreParams } from './builtin-gre-undersampled.ts'
export { DEFAULT_SYSTEM, systemLimits } from './design.ts'
export type { SystemLimits } from './design.ts'

export { adcWindows, blockTimeline, interpret, rfPulses, waveforms } from './interpret.ts'
export type {
  AdcWindow, BlockTimeline, InterpretOptions, Interpretation, PiecewiseLinear, RfPulse, RfWaveform,
  WaveformOptions, Waveforms
} from './interpret.ts'
export { adcReadouts, collectKspace } from './kspace.ts'
export type { AdcReadout, KspaceOptions, KspaceSamples } from './kspace.ts'
export { summarize, summarizeEncoding } from './summary.ts'
export type { EncodingLimit, IsmrmrdEncoding, SeqSummary } from './summary.ts'
export { encodeReadouts } from './encoding.ts'
export { detectSequenceType, SEQUENCE_TYPES } from './sequence-type.ts'
export type { SequenceType, SequenceTypeReport } from './sequence-type.ts'
export type {
  CounterLimit, CounterLimits, EncodedReadout, EncodeOptions, EpiFlags, IsmrmrdTrajectory, ReadoutRole, SequenceEncoding,
  TrajectoryClass
} from './encoding.ts'
export { SequenceBuilder } from './builder.ts'
export type { BlockSpec, DesignGradient, ShapedGradient } from './builder.ts'
export { makeAdc, makeBlockPulse, makeSincPulse, makeTrapezoid } from './design.ts'
export type { DesignRf, SincPulseSpec, TrapezoidSpec } from './design.ts'
