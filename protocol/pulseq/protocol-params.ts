// Protocols of the built-in sequences: the parameters a user sets on an acquisition task (TR, TE, flip
// angle, FOV, matrix, slices, thickness, bandwidth, in a console's units), their limits, the builder
// parameters they become, and the scan time of the sequence built from them. The app runs this while
// the user types and the scanner peer runs it again to regenerate the .seq it plays, so both agree on
// what a protocol means.

import type { SequenceProtocol } from '../lab/schema.ts'
import { BUILTIN_SEQUENCES, type ImagingParams } from './builtin.ts'
import { systemLimits } from './design.ts'
import { SeqBuildError } from './errors.ts'
import { summarize } from './summary.ts'
import type { Sequence } from './types.ts'
import { writeSeq } from './write.ts'

export type ProtocolField = keyof SequenceProtocol

/** Every protocol field, in the order a form shows them. */
export const PROTOCOL_FIELDS: readonly ProtocolField[] = ['trMs', 'teMs', 'flipAngleDeg', 'fovMm', 'matrix', 'slices', 'sliceThicknessMm', 'bandwidthHzPerPixel']

/** Label and unit of each field, for forms and messages. */
export const PROTOCOL_LABELS: Readonly<Record<ProtocolField, { label: string, unit: string }>> = {
  trMs: { label: 'TR', unit: 'ms' },
  teMs: { label: 'TE', unit: 'ms' },
  flipAngleDeg: { label: 'Flip angle', unit: '°' },
  fovMm: { label: 'FOV', unit: 'mm' },
  matrix: { label: 'Matrix', unit: 'read × phase' },
  slices: { label: 'Slices', unit: '' },
  sliceThicknessMm: { label: 'Slice thickness', unit: 'mm' },
  bandwidthHzPerPixel: { label: 'Bandwidth', unit: 'Hz/pixel' }
}

export interface Range { min: number, max: number }

/**
 * The widest values any built-in accepts; the timing and the gradients narrow them further (see
 * checkProtocol). The lab document's validation uses these, so a stored protocol is always in range.
 */
export const PROTOCOL_RANGES: Readonly<Record<ProtocolField, Range>> = {
  trMs: { min: 0.1, max: 10_000 },
  teMs: { min: 0.01, max: 1000 },
  flipAngleDeg: { min: 1, max: 180 },
  fovMm: { min: 20, max: 600 },
  matrix: { min: 8, max: 512 },
  slices: { min: 1, max: 64 },
  sliceThicknessMm: { min: 0.5, max: 50 },
  bandwidthHzPerPixel: { min: 20, max: 5000 }
}

const IMAGING_2D: readonly ProtocolField[] = PROTOCOL_FIELDS
const NO_BANDWIDTH = IMAGING_2D.filter((f) => f !== 'bandwidthHzPerPixel')

/**
 * Which fields each built-in takes. Left out: the EPI's and spiral's readouts follow from the matrix and
 * their own dwell (no free bandwidth), and so does the UTE's half spoke, whose hard pulse excites no
 * slice; the 3D GRE's slab is set by its partitions.
 */
const EDITABLE: Readonly<Record<string, readonly ProtocolField[]>> = {
  gre: IMAGING_2D,
  'gre-multislice': IMAGING_2D,
  'spin-echo': IMAGING_2D,
  tse: IMAGING_2D,
  'gre-undersampled': IMAGING_2D,
  radial: IMAGING_2D,
  'radial-golden': IMAGING_2D,
  epi: NO_BANDWIDTH,
  spiral: NO_BANDWIDTH,
  ute: ['trMs', 'teMs', 'flipAngleDeg', 'fovMm', 'matrix'],
  gre3d: ['trMs', 'teMs', 'flipAngleDeg', 'fovMm', 'matrix', 'bandwidthHzPerPixel'],
  fid: ['trMs', 'flipAngleDeg']
}

/** Radial and spiral images are N × N: their builders use the first matrix entry only. */
const SQUARE_MATRIX = new Set(['radial', 'radial-golden', 'ute', 'spiral'])

/** The built-in name of a library sequence (`builtin-gre` → `gre`), or undefined for an uploaded one. */
export function builtinNameOf (sequence: { id: string, builtin?: boolean }): string | undefined {
  if (sequence.builtin !== true || !sequence.id.startsWith('builtin-')) return undefined
  const name = sequence.id.slice('builtin-'.length)
  return Object.hasOwn(EDITABLE, name) && Object.hasOwn(BUILTIN_SEQUENCES, name) ? name : undefined
}

/** The fields a built-in takes; an empty list for a name that is not a built-in. */
export function editableFields (name: string): readonly ProtocolField[] {
  return Object.hasOwn(EDITABLE, name) ? EDITABLE[name] : []
}

type Builder = (params: ImagingParams) => Sequence

function builderOf (name: string): Builder {
  const entry = Object.hasOwn(BUILTIN_SEQUENCES, name) ? (BUILTIN_SEQUENCES as Record<string, { build: Builder }>)[name] : undefined
  if (entry === undefined || !Object.hasOwn(EDITABLE, name)) {
    throw new SeqBuildError(`"${name}" is not a built-in sequence: choose one of ${Object.keys(EDITABLE).join(', ')}`)
  }
  return entry.build
}

/** The builder parameters of a protocol: only the fields the built-in takes, in SI units. */
export function imagingParamsOf (name: string, protocol: SequenceProtocol): ImagingParams {
  const fields = new Set(editableFields(name))
  const p: ImagingParams = {}
  const has = <K extends ProtocolField>(f: K): SequenceProtocol[K] | undefined => fields.has(f) ? protocol[f] : undefined
  const tr = has('trMs')
  if (tr !== undefined) p.trS = tr / 1e3
  const te = has('teMs')
  if (te !== undefined) p.teS = te / 1e3
  const flip = has('flipAngleDeg')
  if (flip !== undefined) p.flipAngleDeg = flip
  const fov = has('fovMm')
  if (fov !== undefined) p.fovM = fov / 1e3
  const matrix = has('matrix')
  if (matrix !== undefined) p.matrix = [matrix[0], matrix[1]]
  const slices = has('slices')
  if (slices !== undefined) p.slices = slices
  const thickness = has('sliceThicknessMm')
  if (thickness !== undefined) p.sliceThicknessM = thickness / 1e3
  const bandwidth = has('bandwidthHzPerPixel')
  // One pixel's bandwidth is the inverse of the readout's duration, whatever the oversampling.
  if (bandwidth !== undefined) p.readoutDurationS = 1 / bandwidth
  return p
}

/** Sum of the block durations, s: what the scan lasts, and what `seq inspect` reports of its file. */
export function sequenceDurationS (seq: Sequence): number {
  let total = 0
  for (let b = 0; b < seq.blocks.length; b++) total += seq.blocks.duration[b]
  return total
}

const defaultsCache = new Map<string, SequenceProtocol>()

/**
 * The values a built-in has when nothing is set: read from the sequence its builder makes by default
 * (TR and TE rounded up to 0.01 ms, so that the shortest stays allowed).
 */
export function protocolDefaults (name: string): SequenceProtocol {
  const cached = defaultsCache.get(name)
  if (cached !== undefined) return { ...cached }
  const seq = builderOf(name)({})
  const values = protocolFromSummary(summarize(seq))
  const fields = new Set(editableFields(name))
  if (fields.has('bandwidthHzPerPixel')) {
    const adc = seq.adc.get(seq.blocks.adc.find((id) => id !== 0) ?? 0)
    if (adc !== undefined) values.bandwidthHzPerPixel = round(1 / (adc.numSamples * adc.dwell), 0.1)
  }
  // The summary measures TE and TR from the events; the builder's own minimums may lie a raster step
  // above what it measured, so a default is never below them.
  const build = builderOf(name)
  if (values.teMs !== undefined) {
    const shortest = minimumOf(build, { teS: 0 }, 'TE')
    values.teMs = ceil(Math.max(values.teMs, (shortest ?? 0) * 1e3), 0.01)
  }
  if (values.trMs !== undefined) {
    const shortest = minimumOf(build, { teS: values.teMs === undefined ? undefined : values.teMs / 1e3, trS: 0 }, 'TR')
    values.trMs = ceil(Math.max(values.trMs, (shortest ?? 0) * 1e3), 0.01)
  }
  const out: SequenceProtocol = {}
  for (const f of PROTOCOL_FIELDS) if (fields.has(f) && values[f] !== undefined) Object.assign(out, { [f]: values[f] })
  defaultsCache.set(name, out)
  return { ...out }
}

/**
 * What a sequence's summary says of its protocol (a summary as summarize() gives it or as the lab's
 * library stores it), for showing an uploaded sequence read-only. TI comes along when the sequence has one.
 */
export function protocolFromSummary (summary: Record<string, unknown> | object): SequenceProtocol & { tiMs?: number } {
  const s = summary as Record<string, unknown>
  const num = (v: unknown): number | undefined => typeof v === 'number' && Number.isFinite(v) ? v : undefined
  const out: SequenceProtocol & { tiMs?: number } = {}
  const tr = num(s.trS)
  if (tr !== undefined) out.trMs = round(tr * 1e3, 0.001)
  const te = num(s.teS)
  if (te !== undefined) out.teMs = round(te * 1e3, 0.001)
  const ti = num(s.tiS)
  if (ti !== undefined) out.tiMs = round(ti * 1e3, 0.001)
  const flip = num(s.flipAngleDeg)
  if (flip !== undefined) out.flipAngleDeg = round(flip, 0.1)
  const fov = Array.isArray(s.fovM) ? num(s.fovM[0]) : undefined
  if (fov !== undefined) out.fovMm = round(fov * 1e3, 0.1)
  if (Array.isArray(s.matrix)) {
    const [nx, ny] = [num(s.matrix[0]), num(s.matrix[1])]
    if (nx !== undefined && ny !== undefined) out.matrix = [nx, ny]
  }
  const slices = num(s.slices)
  if (slices !== undefined) out.slices = slices
  const thickness = num(s.sliceThicknessM)
  if (thickness !== undefined) out.sliceThicknessMm = round(thickness * 1e3, 0.01)
  return out
}

export interface ProtocolCheck {
  /** The values the sequence is built with: the protocol's, and the built-in's defaults for the rest. */
  values: SequenceProtocol
  /** The allowed range of each field the built-in takes, for these values of the others. */
  limits: Partial<Record<ProtocolField, Range>>
  /** What is wrong, in words, by field; `sequence` for what belongs to no single field. */
  errors: Partial<Record<ProtocolField | 'sequence', string>>
  /** Scan time of the sequence built from `values`, s; absent when there are errors. */
  scanTimeS?: number
  /** The sequence, when it could be built. */
  sequence?: Sequence
}

/**
 * Checks a protocol for a built-in and builds its sequence: every error at once, each beside its field,
 * with the limits that follow from the others (the shortest TE and TR from the timing, the widest
 * bandwidth and thinnest slice from the gradient strength).
 */
export function checkProtocol (name: string, protocol: SequenceProtocol): ProtocolCheck {
  const build = builderOf(name)
  const fields = editableFields(name)
  const values: SequenceProtocol = { ...protocolDefaults(name) }
  for (const f of fields) if (protocol[f] !== undefined) Object.assign(values, { [f]: protocol[f] })
  const errors: ProtocolCheck['errors'] = {}
  const limits: ProtocolCheck['limits'] = {}
  for (const f of fields) limits[f] = { ...PROTOCOL_RANGES[f] }
  const sys = systemLimits()

  // Fixed ranges and whole numbers.
  for (const f of fields) {
    const { label, unit } = PROTOCOL_LABELS[f]
    const { min, max } = PROTOCOL_RANGES[f]
    if (f === 'matrix') {
      const m = values.matrix
      const bad = m === undefined || m.length !== 2 || m.some((n) => !Number.isInteger(n) || n < min || n > max)
      if (bad) errors.matrix = `the matrix must be two whole numbers from ${min} to ${max}`
      else if (m[0] % 2 !== 0) errors.matrix = 'the read matrix must be even, so that a sample lies on the k-space centre'
      else if (SQUARE_MATRIX.has(name) && m[0] !== m[1]) errors.matrix = `this sequence makes square images: give the same number twice (${m[0]} × ${m[0]})`
      continue
    }
    const v = values[f] as number | undefined
    const whole = f === 'slices'
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (whole && !Number.isInteger(v))) {
      errors[f] = `${label} must be ${whole ? 'a whole number' : 'a number'} from ${min} to ${max}${unit === '' ? '' : ` ${unit}`}`
    }
  }

  // Gradient strength: the readout gradient grows with the bandwidth, the slice gradient as the slice thins.
  const fovM = (values.fovMm ?? 256) / 1e3
  if (fields.includes('bandwidthHzPerPixel') && values.matrix !== undefined && errors.matrix === undefined && errors.fovMm === undefined) {
    // a readout of duration T covers nx/FOV in k-space: the amplitude nx/(FOV·T) must stay within maxGrad
    const widest = Math.floor(sys.maxGrad * fovM / values.matrix[0])
    limits.bandwidthHzPerPixel = { min: PROTOCOL_RANGES.bandwidthHzPerPixel.min, max: Math.min(PROTOCOL_RANGES.bandwidthHzPerPixel.max, widest) }
    if (errors.bandwidthHzPerPixel === undefined && (values.bandwidthHzPerPixel ?? 0) > widest) {
      errors.bandwidthHzPerPixel = `Bandwidth must be at most ${widest} Hz/pixel for a ${values.matrix[0]} read matrix over ${values.fovMm} mm (the readout gradient's limit); lower it, lower the matrix or enlarge the FOV`
    }
  }
  if (fields.includes('sliceThicknessMm')) {
    // the builders' sinc: time-bandwidth 4 over 3 ms, its gradient 4/(3 ms · thickness) within maxGrad
    const thinnest = Math.ceil(4 / 3e-3 / sys.maxGrad * 1e3 * 100) / 100
    limits.sliceThicknessMm = { min: Math.max(PROTOCOL_RANGES.sliceThicknessMm.min, thinnest), max: PROTOCOL_RANGES.sliceThicknessMm.max }
    if (errors.sliceThicknessMm === undefined && (values.sliceThicknessMm ?? Infinity) < thinnest) {
      errors.sliceThicknessMm = `Slice thickness must be at least ${thinnest} mm (the slice gradient's limit)`
    }
  }
  if (Object.keys(errors).length > 0) return { values, limits, errors }

  // Timing: the builders say the shortest TE, and for that TE the shortest TR.
  const params = imagingParamsOf(name, values)
  if (fields.includes('teMs')) {
    const shortest = minimumOf(build, { ...params, teS: 0, trS: undefined }, 'TE')
    if (shortest !== undefined) {
      limits.teMs = { min: ceil(shortest * 1e3, 0.01), max: PROTOCOL_RANGES.teMs.max }
      if ((values.teMs ?? 0) < shortest * 1e3 - 1e-6) errors.teMs = `TE must be at least ${limits.teMs.min} ms with this matrix, bandwidth and slice`
    }
  }
  if (fields.includes('trMs') && errors.teMs === undefined) {
    const shortest = minimumOf(build, { ...params, trS: 0 }, 'TR')
    if (shortest !== undefined) {
      limits.trMs = { min: ceil(shortest * 1e3, 0.01), max: PROTOCOL_RANGES.trMs.max }
      if ((values.trMs ?? 0) < shortest * 1e3 - 1e-6) {
        const why = fields.includes('slices') && (values.slices ?? 1) > 1 ? `for ${values.slices} slices at this TE` : 'at this TE'
        errors.trMs = `TR must be at least ${limits.trMs.min} ms ${why}`
      }
    }
  }
  if (Object.keys(errors).length > 0) return { values, limits, errors }

  try {
    const sequence = build(params)
    return { values, limits, errors, scanTimeS: sequenceDurationS(sequence), sequence }
  } catch (err) {
    if (!(err instanceof SeqBuildError)) throw err
    errors.sequence = `this protocol cannot be played: ${err.message}`
    return { values, limits, errors }
  }
}

/** The minimum of TE or TR the builder reports when asked for too short a time, or undefined when it did not object. */
function minimumOf (build: Builder, params: ImagingParams, what: 'TE' | 'TR'): number | undefined {
  try {
    build(params)
  } catch (err) {
    if (err instanceof SeqBuildError && err.tooShort?.what === what) return err.tooShort.minimumS
    if (err instanceof SeqBuildError) return undefined
    throw err
  }
  return undefined
}

/**
 * The .seq text of a built-in played with a protocol (the file the scanner plays, stores and writes
 * its MRD header from), or an error listing everything that is wrong with the protocol.
 */
export function protocolSequenceText (name: string, protocol: SequenceProtocol): string {
  const check = checkProtocol(name, protocol)
  if (check.sequence === undefined) {
    const problems = Object.values(check.errors).join('; ')
    throw new SeqBuildError(`the protocol of ${name} cannot be played: ${problems}`)
  }
  return writeSeq(check.sequence)
}

function round (value: number, step: number): number {
  return Number((Math.round(value / step) * step).toFixed(6))
}

function ceil (value: number, step: number): number {
  // a value a hair above a step (20 ms measured as 20.0000001) stays on it
  return Number((Math.ceil(value / step - 1e-3) * step).toFixed(6))
}
