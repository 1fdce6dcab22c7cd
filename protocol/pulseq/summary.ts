// A summary of a sequence for people and for the lab document: duration, counts, and the protocol
// parameters (TE, TR, flip angle, FOV, matrix, slices, oversampling) estimated from the events
// themselves, with [DEFINITIONS] taking precedence where they say it directly. The ISMRMRD encoding
// block is what the scanner needs to write an MRD header for data acquired with the sequence.

import { adcReadouts } from './kspace.ts'
import { blockTimeline, rfPulses } from './interpret.ts'
import type { Sequence } from './types.ts'

export interface EncodingLimit {
  minimum: number
  maximum: number
  center: number
}

/** The parts of an ISMRMRD <encoding> that follow from the sequence (names as in the XML schema). */
export interface IsmrmrdEncoding {
  trajectory: 'cartesian' | 'other'
  encodedSpace: { matrixSize: { x: number, y: number, z: number }, fieldOfView_mm: { x: number, y: number, z: number } }
  reconSpace: { matrixSize: { x: number, y: number, z: number }, fieldOfView_mm: { x: number, y: number, z: number } }
  encodingLimits: {
    kspace_encoding_step_1: EncodingLimit
    kspace_encoding_step_2: EncodingLimit
    average: EncodingLimit
    slice: EncodingLimit
    contrast: EncodingLimit
    phase: EncodingLimit
    repetition: EncodingLimit
    set: EncodingLimit
    segment: EncodingLimit
  }
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
  /** Excitation centre to the sample nearest the k-space centre, s. */
  teS?: number
  /** Time between successive excitations of the same slice (same RF frequency), s. */
  trS?: number
  /** Median flip angle of the excitation pulses, degrees. */
  flipAngleDeg?: number
  fovM?: [number, number, number]
  matrix?: [number, number, number]
  slices?: number
  readoutOversampling?: number
  ismrmrdEncoding?: IsmrmrdEncoding
}

/** Labels that map to ISMRMRD encoding counters, in the order of IsmrmrdEncoding.encodingLimits. */
const COUNTERS = [
  ['LIN', 'kspace_encoding_step_1'],
  ['PAR', 'kspace_encoding_step_2'],
  ['AVG', 'average'],
  ['SLC', 'slice'],
  ['ECO', 'contrast'],
  ['PHS', 'phase'],
  ['REP', 'repetition'],
  ['SET', 'set'],
  ['SEG', 'segment']
] as const

interface Range {
  min: number
  max: number
}

export function summarize (seq: Sequence): SeqSummary {
  const timeline = blockTimeline(seq)
  const v = seq.version
  const summary: SeqSummary = {
    version: `${v.major}.${v.minor}.${v.revision}`,
    durationS: timeline.totalDuration,
    blocks: seq.blocks.length,
    adcReadouts: 0,
    adcSamples: 0,
    definitions: definitionValues(seq.definitions)
  }
  const name = seq.definitions.get('Name')
  if (name !== undefined && name !== '') summary.name = name

  // Excitations: flip angles and TR.
  const flips: number[] = []
  const excitationsByFreq = new Map<number, number[]>()
  for (const p of rfPulses(seq)) {
    if (p.use !== 'excitation' && p.use !== 'undefined') continue
    flips.push(p.flipAngleDeg)
    const key = Math.round(p.freqOffset)
    const list = excitationsByFreq.get(key) ?? []
    list.push(p.center)
    excitationsByFreq.set(key, list)
  }
  if (flips.length > 0) summary.flipAngleDeg = median(flips)
  const trs: number[] = []
  for (const times of excitationsByFreq.values()) for (let i = 1; i < times.length; i++) trs.push(times[i] - times[i - 1])
  if (trs.length > 0) summary.trS = median(trs)

  // Readouts: TE, k-space extent and spacing, labels.
  const sampleCounts = new Map<number, number>()
  const ranges = new Map<string, Range>()
  const kyEcho: number[] = []
  const kzEcho: number[] = []
  const kxSteps: number[] = []
  const echoes: Array<{ k2: number, te: number, lin: number, par: number }> = []
  let kMax = 0
  for (const r of adcReadouts(seq)) {
    summary.adcReadouts++
    summary.adcSamples += r.numSamples
    if ((r.labels.NOISE ?? 0) !== 0) continue
    sampleCounts.set(r.numSamples, (sampleCounts.get(r.numSamples) ?? 0) + 1)
    for (const [label] of COUNTERS) {
      const value = r.labels[label] ?? 0
      const range = ranges.get(label)
      if (range === undefined) ranges.set(label, { min: value, max: value })
      else ranges.set(label, { min: Math.min(range.min, value), max: Math.max(range.max, value) })
    }
    const echo = echoSample(r.kx, r.ky, r.kz)
    for (let i = 0; i < r.numSamples; i++) kMax = Math.max(kMax, Math.abs(r.kx[i]), Math.abs(r.ky[i]), Math.abs(r.kz[i]))
    const i = Math.round(echo.index)
    kyEcho.push(r.ky[i])
    kzEcho.push(r.kz[i])
    if (r.numSamples > 1) {
      // The readout step per sample, taken around the echo where the readout gradient is surely on.
      const lo = Math.max(i - 1, 0)
      const hi = Math.min(i + 1, r.numSamples - 1)
      kxSteps.push(Math.abs(r.kx[hi] - r.kx[lo]) / (hi - lo))
    }
    if (Number.isFinite(r.excitation)) {
      const tEcho = r.start + (echo.index + 0.5) * r.dwell
      echoes.push({ k2: echo.k2, te: tEcho - r.excitation, lin: r.labels.LIN ?? 0, par: r.labels.PAR ?? 0 })
    }
  }
  const tolerance = (1e-6 * kMax) ** 2 + 1e-12
  if (echoes.length > 0) {
    let best = Number.POSITIVE_INFINITY
    for (const e of echoes) best = Math.min(best, e.k2)
    let te = Number.POSITIVE_INFINITY
    for (const e of echoes) if (e.k2 <= best + tolerance && e.te < te) te = e.te
    summary.teS = te
  }

  // Geometry: definitions first, then k-space.
  const dkxSample = kxSteps.length > 0 ? median(kxSteps) : 0
  const hasReadoutGradient = dkxSample > 1e-9 * Math.max(kMax, 1)
  const fovDef = numbers(seq.definitions.get('FOV'))
  const osDef = numbers(seq.definitions.get('ReadoutOversamplingFactor'))
  let os: number | undefined = osDef.length === 1 && osDef[0] >= 1 ? osDef[0] : undefined
  if (os === undefined && hasReadoutGradient) {
    os = fovDef.length >= 1 && fovDef[0] > 0 ? Math.max(1, Math.round(1 / (dkxSample * fovDef[0]))) : 1
  }
  if (os !== undefined) summary.readoutOversampling = os
  const dky = gridStep(kyEcho, kMax)
  const dkz = gridStep(kzEcho, kMax)
  const fovX = fovDef[0] ?? (hasReadoutGradient ? 1 / (dkxSample * (os ?? 1)) : undefined)
  const fovY = fovDef[1] ?? (dky > 0 ? 1 / dky : undefined)
  const thickness = numbers(seq.definitions.get('SliceThickness'))[0]
  const fovZ = fovDef[2] ?? (dkz > 0 ? 1 / dkz : thickness)
  if (fovX !== undefined && fovY !== undefined && fovZ !== undefined) summary.fovM = [fovX, fovY, fovZ]

  const labelled = (label: string): Range | undefined => {
    const r = ranges.get(label)
    return r !== undefined && (r.min !== 0 || r.max !== 0) ? r : undefined
  }
  const lin = labelled('LIN')
  const par = labelled('PAR')
  const slc = labelled('SLC')
  if (hasReadoutGradient && os !== undefined) {
    const nx = Math.round(mode(sampleCounts) / os)
    const ny = lin !== undefined ? lin.max - lin.min + 1 : distinct(kyEcho, dky)
    const nz = par !== undefined ? par.max - par.min + 1 : distinct(kzEcho, dkz)
    summary.matrix = [nx, ny, nz]
  }
  if (slc !== undefined) summary.slices = slc.max - slc.min + 1
  else if (excitationsByFreq.size > 0) summary.slices = excitationsByFreq.size

  if (summary.matrix !== undefined && summary.fovM !== undefined && os !== undefined) {
    summary.ismrmrdEncoding = encoding(seq, summary.matrix, summary.fovM, os, ranges, echoes, lin !== undefined, kyEcho, dky)
  }
  return summary
}

function encoding (
  seq: Sequence, matrix: [number, number, number], fov: [number, number, number], os: number,
  ranges: Map<string, Range>, echoes: Array<{ k2: number, lin: number, par: number }>, linLabelled: boolean,
  kyEcho: number[], dky: number
): IsmrmrdEncoding {
  const mm = (m: number): number => Number((m * 1000).toPrecision(12))
  const centre = echoes.reduce<{ k2: number, lin: number, par: number } | undefined>((a, e) => a === undefined || e.k2 < a.k2 ? e : a, undefined)
  const limit = (label: string): EncodingLimit => {
    const r = ranges.get(label) ?? { min: 0, max: 0 }
    return { minimum: r.min, maximum: r.max, center: 0 }
  }
  const limits = Object.fromEntries(COUNTERS.map(([label, field]) => [field, limit(label)])) as IsmrmrdEncoding['encodingLimits']
  const step1 = limits.kspace_encoding_step_1
  if (!linLabelled && dky > 0) {
    // Without LIN labels, lines are numbered by their ky on the grid, centre line at floor(ny/2).
    let min = Number.POSITIVE_INFINITY
    let max = Number.NEGATIVE_INFINITY
    for (const ky of kyEcho) {
      const line = Math.round(ky / dky) + Math.floor(matrix[1] / 2)
      min = Math.min(min, line)
      max = Math.max(max, line)
    }
    limits.kspace_encoding_step_1 = { minimum: min, maximum: max, center: Math.floor(matrix[1] / 2) }
  } else {
    const centreLine = numbers(seq.definitions.get('kSpaceCenterLine'))[0]
    step1.center = centreLine ?? centre?.lin ?? Math.floor((step1.minimum + step1.maximum + 1) / 2)
  }
  limits.kspace_encoding_step_2.center = centre?.par ?? 0
  return {
    trajectory: 'cartesian',
    encodedSpace: { matrixSize: { x: matrix[0] * os, y: matrix[1], z: matrix[2] }, fieldOfView_mm: { x: mm(fov[0] * os), y: mm(fov[1]), z: mm(fov[2]) } },
    reconSpace: { matrixSize: { x: matrix[0], y: matrix[1], z: matrix[2] }, fieldOfView_mm: { x: mm(fov[0]), y: mm(fov[1]), z: mm(fov[2]) } },
    encodingLimits: limits
  }
}

/**
 * The (fractional) sample index nearest the k-space origin and its squared distance. Along a straight
 * readout |k|² is a parabola in time, so a vertex fitted through the minimum and its neighbours
 * places the echo between samples when it falls there.
 */
function echoSample (kx: Float64Array, ky: Float64Array, kz: Float64Array): { index: number, k2: number } {
  const k2 = (i: number): number => kx[i] * kx[i] + ky[i] * ky[i] + kz[i] * kz[i]
  let best = 0
  for (let i = 1; i < kx.length; i++) if (k2(i) < k2(best)) best = i
  let index = best
  if (best > 0 && best < kx.length - 1) {
    const a = k2(best - 1)
    const b = k2(best)
    const c = k2(best + 1)
    const curvature = a - 2 * b + c
    if (curvature > 0) index = best + Math.max(-1, Math.min(1, (a - c) / (2 * curvature)))
  }
  return { index, k2: k2(best) }
}

/**
 * The spacing of a set of values that lie on a grid: the smallest clear gap between distinct values.
 * Gaps below 0.01 /m (a field of view of 100 m) or 1e-4 of the k-space extent are rounding residue
 * of the gradient integration, not encoding steps.
 */
function gridStep (values: number[], kMax: number): number {
  const tol = 1e-2 + 1e-4 * kMax
  const sorted = [...values].sort((a, b) => a - b)
  let step = Number.POSITIVE_INFINITY
  for (let i = 1; i < sorted.length; i++) {
    const d = sorted[i] - sorted[i - 1]
    if (d > tol) step = Math.min(step, d)
  }
  return Number.isFinite(step) ? step : 0
}

/** How many distinct grid positions the values take. */
function distinct (values: number[], step: number): number {
  if (values.length === 0) return 0
  if (step <= 0) return 1
  return new Set(values.map((v) => Math.round(v / step))).size
}

function median (values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2
}

function mode (counts: Map<number, number>): number {
  let best = 0
  let bestCount = -1
  for (const [value, count] of counts) if (count > bestCount) [best, bestCount] = [value, count]
  return best
}

function numbers (text: string | undefined): number[] {
  if (text === undefined) return []
  const tok = text.split(/\s+/).filter((s) => s !== '')
  const vals = tok.map(Number)
  return vals.every(Number.isFinite) ? vals : []
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
