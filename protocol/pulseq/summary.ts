// A summary of a sequence for people and for the lab document: duration, counts, and the protocol
// parameters (TE, TR, flip angle, FOV, matrix, slices, oversampling) estimated from the events
// themselves (encoding.ts, which the scanner's plan uses too), with [DEFINITIONS] taking precedence
// where they say it directly. The ISMRMRD encoding block is what the scanner needs to write an MRD
// header for data acquired with the sequence.

import { encodeReadouts, numbers, type CounterLimit, type CounterLimits, type EncodeOptions, type IsmrmrdTrajectory, type SequenceEncoding, type TrajectoryClass } from './encoding.ts'
import { rfFlipAngleDeg } from './events.ts'
import { blockTimeline } from './interpret.ts'
import type { Sequence } from './types.ts'

export type EncodingLimit = CounterLimit

/** The parts of an ISMRMRD <encoding> that follow from the sequence (names as in the XML schema). */
export interface IsmrmrdEncoding {
  trajectory: IsmrmrdTrajectory
  encodedSpace: { matrixSize: { x: number, y: number, z: number }, fieldOfView_mm: { x: number, y: number, z: number } }
  reconSpace: { matrixSize: { x: number, y: number, z: number }, fieldOfView_mm: { x: number, y: number, z: number } }
  encodingLimits: CounterLimits
}

export interface SeqSummary {
  /** "major.minor.revision" of the file. */
  version: string
  name?: string
  /** Sum of the block durations, s. */
  durationS: number
  blocks: number
  /** Blocks with an ADC event. */
  adcReadouts: number
  /** Samples of all ADC events together. */
  adcSamples: number
  /** [DEFINITIONS]: numeric values as numbers (or arrays of them), others as text. */
  definitions: Record<string, string | number | number[]>
  /** Excitation centre to the image readout's sample nearest the k-space centre (first echo), s. */
  teS?: number
  /** TE of each contrast of a multi-echo sequence, s. */
  contrastTesS?: number[]
  /**
   * Repetition period: between successive excitations of the same slice (same RF frequency), or for
   * prepared trains (MPRAGE) between successive inversions, s.
   */
  trS?: number
  /** Inversion centre to the excitation that samples the k-space centre, s. */
  tiS?: number
  /** Between the echoes of a train, or the excitations of a prepared train, s. */
  echoSpacingS?: number
  /** Image readouts per excitation. */
  echoTrainLength?: number
  /** Median flip angle of the excitation pulses, degrees. */
  flipAngleDeg?: number
  fovM?: [number, number, number]
  matrix?: [number, number, number]
  slices?: number
  readoutOversampling?: number
  /** What the trajectory is, from the shapes of the readouts (encoding.ts). */
  trajectory: TrajectoryClass
  /** EPI details: reversed lines, ramp sampling, navigators per train, partial Fourier. */
  epi?: SequenceEncoding['epi']
  goldenAngle?: boolean
  /** Parallel-imaging acceleration along phase encoding 1 and 2. */
  acceleration: [number, number]
  /** Acquired fraction along phase encoding 1 and 2 (1 = full). */
  partialFourier: [number, number]
  /** Slab (3D) or slice (2D) thickness, m. */
  sliceThicknessM?: number
  /** Readouts by role. */
  roles: Record<string, number>
  /** Counters the sequence sets with labels; the others are derived. */
  labelled: string[]
  /** Every guess the summary made, in words. */
  warnings: string[]
  ismrmrdEncoding?: IsmrmrdEncoding
}

export function summarize (seq: Sequence, options: EncodeOptions = {}): SeqSummary {
  return summarizeEncoding(seq, encodeReadouts(seq, options))
}

/** The summary of a sequence whose encoding is already known (the scanner's plan has it). */
export function summarizeEncoding (seq: Sequence, enc: SequenceEncoding): SeqSummary {
  const timeline = blockTimeline(seq)
  const v = seq.version
  const warnings: string[] = []
  const summary: SeqSummary = {
    version: `${v.major}.${v.minor}.${v.revision}`,
    durationS: timeline.totalDuration,
    blocks: seq.blocks.length,
    adcReadouts: 0,
    adcSamples: 0,
    definitions: definitionValues(seq.definitions),
    trajectory: enc.trajectory,
    acceleration: enc.acceleration,
    partialFourier: enc.partialFourier,
    roles: {},
    labelled: enc.labelled,
    warnings
  }
  const name = seq.definitions.get('Name')
  if (name !== undefined && name !== '') {
    const decoded = nameFromCharCodes(name)
    summary.name = decoded ?? name
    if (decoded !== undefined) warnings.push(`the Name definition is stored as character codes ("${name}"): read as "${decoded}"`)
  }
  for (let b = 0; b < seq.blocks.length; b++) {
    const adc = seq.adc.get(seq.blocks.adc[b])
    if (adc === undefined) continue
    summary.adcReadouts++
    summary.adcSamples += adc.numSamples
  }
  for (const r of enc.readouts) summary.roles[r.role] = (summary.roles[r.role] ?? 0) + 1

  // Flip angles per distinct pulse shape and amplitude: RF-spoiled sequences have one pulse per
  // excitation that differ only in phase, and integrating each would cost a pass over its samples.
  const flips: number[] = []
  const flipByShape = new Map<string, number>()
  for (let b = 0; b < seq.blocks.length; b++) {
    const rf = seq.blocks.rf[b] === 0 ? undefined : seq.rf.get(seq.blocks.rf[b])
    if (rf === undefined || (rf.use !== 'excitation' && rf.use !== 'undefined')) continue
    const key = `${rf.amplitude} ${rf.magShapeId} ${rf.phaseShapeId} ${rf.timeShapeId}`
    let flip = flipByShape.get(key)
    if (flip === undefined) {
      flip = rfFlipAngleDeg(seq, rf)
      flipByShape.set(key, flip)
    }
    flips.push(flip)
  }
  if (flips.length > 0) summary.flipAngleDeg = median(flips)

  if (enc.teS !== undefined) summary.teS = enc.teS
  if (enc.contrastTesS.length > 1) summary.contrastTesS = enc.contrastTesS
  if (enc.trS !== undefined) summary.trS = enc.trS
  if (enc.tiS !== undefined) summary.tiS = enc.tiS
  if (enc.echoSpacingS !== undefined) summary.echoSpacingS = enc.echoSpacingS
  if (enc.echoTrainLength !== undefined) summary.echoTrainLength = enc.echoTrainLength
  if (enc.epi !== undefined) summary.epi = enc.epi
  if (enc.goldenAngle !== undefined) summary.goldenAngle = enc.goldenAngle
  if (enc.sliceThicknessM !== undefined) summary.sliceThicknessM = enc.sliceThicknessM
  if (enc.fovM !== undefined) summary.fovM = enc.fovM
  if (enc.oversampling !== undefined) summary.readoutOversampling = enc.oversampling
  if (enc.matrix !== undefined) summary.matrix = enc.matrix
  if (enc.readouts.length > 0) summary.slices = enc.slices
  warnings.push(...enc.warnings)

  if (enc.matrix !== undefined && enc.fovM !== undefined && enc.oversampling !== undefined) {
    const mm = (m: number): number => Number((m * 1000).toPrecision(12))
    const [nx, ny, nz] = enc.matrix
    const [fx, fy, fz] = enc.fovM
    const os = enc.oversampling
    summary.ismrmrdEncoding = {
      trajectory: enc.ismrmrdTrajectory,
      encodedSpace: { matrixSize: { x: nx * os, y: ny, z: nz }, fieldOfView_mm: { x: mm(fx * os), y: mm(fy), z: mm(fz) } },
      reconSpace: { matrixSize: { x: nx, y: ny, z: nz }, fieldOfView_mm: { x: mm(fx), y: mm(fy), z: mm(fz) } },
      encodingLimits: enc.limits
    }
  }
  return summary
}

/**
 * Old writers stored text definitions as the numbers of their characters ("109 112 114 97 103 101"
 * for "mprage", pypulseq's 1.2.0 files). Two or more whole numbers that are all printable ASCII codes
 * are read back as text.
 */
function nameFromCharCodes (text: string): string | undefined {
  const codes = numbers(text)
  if (codes.length < 2 || !codes.every((c) => Number.isInteger(c) && c >= 32 && c <= 126)) return undefined
  return String.fromCharCode(...codes)
}

function median (values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2
}

function definitionValues (defs: Map<string, string>): Record<string, string | number | number[]> {
  const out: Record<string, string | number | number[]> = {}
  for (const [key, text] of defs) {
    const nums = numbers(text)
    const value = nums.length === 1 ? nums[0] : nums.length > 1 ? nums : text
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
  }
  return out
}
