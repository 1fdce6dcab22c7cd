// The in-memory model of a Pulseq sequence. Whatever the file version, the reader normalises it to
// this one model in SI units (seconds, Hz, Hz/m, radians), so that the interpreter and the writer need
// not know which revision a file came from. Events are kept in libraries keyed by their file ID, as in
// the format itself; blocks are columns of typed arrays, because real sequences have millions of them.

/** The format revision of a file, `major.minor.revision`. */
export interface SeqVersion {
  major: number
  minor: number
  revision: number
}

/** Time rasters in seconds ([DEFINITIONS] GradientRasterTime, RadiofrequencyRasterTime, AdcRasterTime, BlockDurationRaster). */
export interface Rasters {
  gradient: number
  rf: number
  adc: number
  blockDuration: number
}

/** What an RF pulse is for; 1.5 stores it, older files leave it to be inferred. */
export type RfUse = 'excitation' | 'refocusing' | 'inversion' | 'saturation' | 'preparation' | 'other' | 'undefined'

export interface RfEvent {
  /** Peak amplitude, Hz. */
  amplitude: number
  /** Shape of the magnitude, normalised to [0, 1]. */
  magShapeId: number
  /** Shape of the phase in cycles (phase / 2π). */
  phaseShapeId: number
  /** Shape of the sample times in RF raster units; 0 = the default raster, samples at (n + 0.5)·Δ. */
  timeShapeId: number
  /** Time of the effective rotation, from the start of the shape (after the delay), s. */
  center: number
  /** Delay from the block start to the start of the shape, s. */
  delay: number
  /** Frequency offset in ppm of the system frequency. */
  freqPPM: number
  /** Phase offset in rad per MHz of the system frequency. */
  phasePPM: number
  /** Frequency offset, Hz. */
  freqOffset: number
  /** Phase offset, rad. */
  phaseOffset: number
  use: RfUse
  /** True when `use` (and `center`) were derived from the waveform because the file predates 1.5. */
  inferred: boolean
}

/** A trapezoid: zero at the start, `amplitude` on the flat top, zero at the end. */
export interface TrapGradient {
  type: 'trap'
  /** Flat-top amplitude, Hz/m. */
  amplitude: number
  rise: number
  flat: number
  fall: number
  delay: number
}

/** An arbitrary gradient or extended trapezoid: amplitude × shape, sampled at the times of the time shape. */
export interface ArbitraryGradient {
  type: 'arbitrary'
  /** Scale of the normalised shape, Hz/m. */
  amplitude: number
  /** Value at the start of the gradient (the left edge of the first raster cell), Hz/m. */
  first: number
  /** Value at the end of the gradient, Hz/m. */
  last: number
  shapeId: number
  /** 0 = samples at raster centres; -1 = oversampled (centres and edges); > 0 = shape of sample times in gradient raster units. */
  timeShapeId: number
  delay: number
}

export type GradientEvent = TrapGradient | ArbitraryGradient

export interface AdcEvent {
  numSamples: number
  /** Dwell time, s. */
  dwell: number
  /** Delay from the block start to the start of the first dwell interval, s. */
  delay: number
  freqPPM: number
  phasePPM: number
  freqOffset: number
  phaseOffset: number
  /** Shape of a per-sample phase modulation in rad, 0 = none (1.5). */
  phaseShapeId: number
}

/** The [BLOCKS] table, one entry per block in execution order; 0 means "no event". */
export interface BlockTable {
  length: number
  /** Block ID as written in the file. */
  id: Int32Array
  /** Duration, s. */
  duration: Float64Array
  rf: Int32Array
  gx: Int32Array
  gy: Int32Array
  gz: Int32Array
  adc: Int32Array
  /** Head of the block's extension list, an ID of `Extensions.list`. */
  ext: Int32Array
}

/** One entry of the [EXTENSIONS] linked list. */
export interface ExtensionListEntry {
  /** Type ID, as declared by an `extension NAME type` table of the same file. */
  type: number
  /** ID of the object in that table. */
  ref: number
  /** Next entry of the list, 0 at the end. */
  next: number
}

export interface LabelEvent {
  value: number
  label: string
}

export interface TriggerEvent {
  /** 1 = output, 2 = input (MATLAB registerControlEvent). */
  triggerType: number
  channel: number
  delay: number
  duration: number
}

/** A soft delay (1.5): the block duration may be rewritten at run time as offset + value/factor of the hint's parameter. */
export interface SoftDelayEvent {
  num: number
  offset: number
  factor: number
  hint: string
}

/** A rotation (1.5.1) of the whole block, as a unit quaternion [w, x, y, z]. */
export interface RotationEvent {
  quaternion: [number, number, number, number]
}

/** RF shimming (1.5.1): one magnitude and one phase per transmit channel. */
export interface RfShimEvent {
  magnitudes: number[]
  phases: number[]
}

/** A table headed `extension NAME type`. Extensions are recognised by NAME; unknown ones are kept as raw rows. */
export type ExtensionTable =
  | { kind: 'labelset', name: string, events: Map<number, LabelEvent> }
  | { kind: 'labelinc', name: string, events: Map<number, LabelEvent> }
  | { kind: 'triggers', name: string, events: Map<number, TriggerEvent> }
  | { kind: 'softDelays', name: string, events: Map<number, SoftDelayEvent> }
  | { kind: 'rotations', name: string, events: Map<number, RotationEvent> }
  | { kind: 'rfShims', name: string, events: Map<number, RfShimEvent> }
  | { kind: 'unknown', name: string, events: Map<number, string> }

export interface Extensions {
  list: Map<number, ExtensionListEntry>
  /** Tables by their type ID in this file. */
  tables: Map<number, ExtensionTable>
}

export interface Signature {
  type: string
  hash: string
}

export interface Sequence {
  /** The revision of the file read, or the one to write. */
  version: SeqVersion
  /** [DEFINITIONS], values as written (without surrounding blanks). */
  definitions: Map<string, string>
  rasters: Rasters
  blocks: BlockTable
  rf: Map<number, RfEvent>
  /** [GRADIENTS] and [TRAP] share one ID space. */
  gradients: Map<number, GradientEvent>
  adc: Map<number, AdcEvent>
  /** Decompressed shapes by ID. */
  shapes: Map<number, Float64Array>
  extensions: Extensions
  /** The [SIGNATURE] section as written, if any. */
  signature?: Signature
  /** Things that were accepted but deserve a look (unknown extensions, missing definitions, ...). */
  warnings: string[]
}
