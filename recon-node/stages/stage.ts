// The contract of a reconstruction stage, after Gadgetron's gadgets: a stage takes the messages it
// knows and passes every other one through untouched; it declares each parameter once (name, type,
// doc, default); a stage that does not apply to the data returns its input unchanged. The chain of
// stages is data (pipeline/chain.ts), so stages can be reordered, left out or configured per protocol.
//
// Messages flow acquisition -> buffer (k-space, then image) -> image (magnitude). A message belongs to
// the stage that receives it: a stage may reuse the arrays of its input in its output (the FFT
// transforms a buffer in place), so nobody may use a message after passing it on. Acquisitions that
// come from outside are never modified: stages that change readouts copy them.
import type { Acquisition } from '../../protocol/mrd/types.ts'
import type { FftRunner } from '../fft/pool.ts'
import type { ArrayRecycler, ComplexArray } from './complex-array.ts'

export type Triple = [number, number, number]

export interface Matrix3 {
  x: number
  y: number
  z: number
}

export interface Limit {
  minimum: number
  maximum: number
  center: number
}

/** What the reconstruction needs of the ISMRMRD XML header (its first encoding). */
export interface ReconHeader {
  /** encodedSpace.matrixSize: readout samples (with oversampling), phase encodes, partitions. */
  encodedMatrix: Matrix3
  /** reconSpace.matrixSize: the images' size. */
  reconMatrix: Matrix3
  /** encodedSpace / reconSpace fieldOfView_mm. Zeros mean unknown (then only the matrices count). */
  fovMm: { encoded: Matrix3, recon: Matrix3 }
  /** encodingLimits; the centre lines default to half the encoded matrix. */
  encodingLimits?: { kspaceEncodingStep1?: Limit, kspaceEncodingStep2?: Limit }
  /** Number of acquisitions the stream will carry, when known (progress only). */
  expectedAcquisitions?: number
  /** encoding.trajectory: cartesian, epi, radial, goldenangle, spiral or other (absent: cartesian). */
  trajectory?: string
  /** parallelImaging.accelerationFactor (absent: 1 and 1, fully sampled). */
  acceleration?: { step1: number, step2: number }
  /** parallelImaging.calibrationMode: embedded, interleaved, separate, external or other. */
  calibrationMode?: string
}

/** Where a buffer or image belongs and where it lies, carried from stage to stage. */
export interface BufferMeta {
  slice: number
  contrast: number
  phase: number
  repetition: number
  set: number
  measurementUid: number
  acquisitionTimeStamp: number
  /** Centre of the field of view (mm, patient coordinates): pixel floor(n/2) on each axis. */
  position: Triple
  readDir: Triple
  phaseDir: Triple
  sliceDir: Triple
  patientTablePosition: Triple
  /** Extent in mm of the array's image space along READ, PHS1, PHS2 (for 2-D, PHS2 is the slice thickness). */
  fovMm: Triple
  /** The final images' matrix and field of view (reconSpace). */
  reconMatrix: Triple
  reconFovMm: Triple
  /** Product of the intensity scales applied so far (1 = none). */
  scale: number
  /** Dwell time of the readouts (µs), for noise prewhitening of whole buffers. */
  sampleTimeUs: number
  /**
   * For k-space buffers from accumulation: per line of the buffer (index y + ny·z), 1 where at least
   * one readout was placed, 0 where the line was never acquired. Stages that fill missing lines
   * (parallel imaging, partial Fourier) update it; absent means every line is there.
   */
  sampled?: Uint8Array
}

export interface AcquisitionMessage {
  kind: 'acquisition'
  acquisition: Acquisition
  /**
   * The samples (acquisition.data) belong to this message alone: nothing reads them once the message
   * is handed on, so a stage may write its result over them instead of into a new array. Sources set
   * it for readouts they decoded for the pipeline; readouts shared with anything else leave it unset.
   */
  owned?: boolean
}

export interface BufferMessage {
  kind: 'buffer'
  domain: 'kspace' | 'image'
  array: ComplexArray
  meta: BufferMeta
}

/** Real (magnitude) pixels: x (readout) fastest, then y (phase encode), then z (partition). */
export interface ImageMessage {
  kind: 'image'
  dims: Triple
  pixels: Float32Array
  meta: BufferMeta
}

export type Message = AcquisitionMessage | BufferMessage | ImageMessage

export type ParamValue = number | boolean | string

export interface ParamSpec<T extends ParamValue = ParamValue> {
  type: 'number' | 'integer' | 'boolean' | 'string'
  doc: string
  default: T
  /** The allowed values of a string parameter. */
  choices?: readonly T[]
  min?: number
  max?: number
}

export type ParamTable = Record<string, ParamSpec>

export type ParamValues<T extends ParamTable> = { [K in keyof T]: T[K] extends ParamSpec<infer V> ? V : never }

/** Parameter declarations with their types inferred from the default. */
export const param = {
  number: (doc: string, defaultValue: number, range: { min?: number, max?: number } = {}): ParamSpec<number> =>
    ({ type: 'number', doc, default: defaultValue, ...range }),
  integer: (doc: string, defaultValue: number, range: { min?: number, max?: number } = {}): ParamSpec<number> =>
    ({ type: 'integer', doc, default: defaultValue, ...range }),
  boolean: (doc: string, defaultValue: boolean): ParamSpec<boolean> => ({ type: 'boolean', doc, default: defaultValue }),
  string: (doc: string, defaultValue: string): ParamSpec<string> => ({ type: 'string', doc, default: defaultValue }),
  choice: <C extends string>(doc: string, choices: readonly C[], defaultValue: C): ParamSpec<C> =>
    ({ type: 'string', doc, default: defaultValue, choices })
}

export interface StageContext<S = unknown> {
  /** The header as this stage sees it: after the adaptHeader of every stage before it. */
  header: ReconHeader
  fft: FftRunner
  /** This run's state, from init (undefined for stateless stages). */
  state: S
  /** Reports something odd in the data that the stage worked around. */
  warn: (message: string) => void
  /** Memory of finished arrays, for the next ones of the run (absent: plain allocation). */
  arrays?: ArrayRecycler
}

export interface Stage<T extends ParamTable = ParamTable, S = unknown> {
  readonly name: string
  readonly doc: string
  readonly params: T
  /**
   * Whether run may be called for another message before the previous call resolved (stateless
   * async stages such as the FFT); outputs are still delivered in input order.
   */
  readonly concurrent?: boolean
  /** How this stage changes the geometry seen by the stages after it (e.g. readout oversampling removed). */
  adaptHeader?(header: ReconHeader, params: ParamValues<T>): ReconHeader
  /** Fresh state for one run of the chain. */
  init?(params: ParamValues<T>, header: ReconHeader): S
  run(input: Message, params: ParamValues<T>, ctx: StageContext<S>): Message[] | Promise<Message[]>
  /** End of the stream: whatever the stage still holds. */
  end?(params: ParamValues<T>, ctx: StageContext<S>): Message[] | Promise<Message[]>
  /** Releases what init acquired (always called, also after errors). */
  dispose?(state: S): void | Promise<void>
}

/** Identity, for type inference of a stage's parameters and state. */
export function defineStage<T extends ParamTable, S = undefined> (stage: Stage<T, S>): Stage<T, S> {
  return stage
}

/** The default values of a parameter table. */
export function defaults<T extends ParamTable> (params: T): ParamValues<T> {
  const out: Record<string, ParamValue> = {}
  for (const [key, spec] of Object.entries(params)) out[key] = spec.default
  return out as ParamValues<T>
}
