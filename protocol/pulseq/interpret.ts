// What a sequence does over time: the block timeline, the RF pulses, and the waveforms of every
// channel (RF magnitude and phase, Gx/Gy/Gz as piecewise-linear corner points, ADC windows). Large
// sequences are handled lazily: pulses are iterated, waveforms are taken over a time window with a
// point budget, and k-space is streamed one readout at a time (kspace.ts).

import { SeqLimitError } from './errors.ts'
import { blockStarts, gradientCorners, PointBuffer, rfFlipAngleDeg, rfSampleTimes, rfShapeDuration } from './events.ts'
import type { AdcReadout, KspaceOptions, KspaceSamples } from './kspace.ts'
import { adcReadouts, collectKspace } from './kspace.ts'
import type { RfUse, Sequence } from './types.ts'

export interface InterpretOptions {
  /**
   * System (Larmor) frequency in Hz, used to turn the ppm offsets of 1.5 into Hz and rad. Without it
   * ppm offsets are left out, which is exact for every sequence that does not use them.
   */
  larmorHz?: number
}

/** When each block starts and how long it lasts, s. */
export interface BlockTimeline {
  /** Block IDs as in the file. */
  id: Int32Array
  start: Float64Array
  duration: Float64Array
  /** Sum of all block durations, s. */
  totalDuration: number
}

/** One RF pulse as played: timing from the sequence start, s. */
export interface RfPulse {
  /** Index of the block (0-based position in [BLOCKS]). */
  block: number
  rfId: number
  /** Start of the RF shape. */
  start: number
  /** Effective rotation time (the RF centre). */
  center: number
  /** Duration of the shape. */
  duration: number
  use: RfUse
  /** Whether `use` was inferred from the flip angle (files before 1.5). */
  useInferred: boolean
  flipAngleDeg: number
  /** Frequency offset including ppm terms, Hz. */
  freqOffset: number
  /** Phase offset including ppm terms, rad. */
  phaseOffset: number
}

/** Corner points of a piecewise-linear waveform; between points it is linear. */
export interface PiecewiseLinear {
  t: Float64Array
  value: Float64Array
}

/** The samples of one RF pulse. */
export interface RfWaveform {
  block: number
  use: RfUse
  /** Sample times from the sequence start, s. */
  t: Float64Array
  /** |B1| in Hz. */
  magnitude: Float64Array
  /** Phase in rad: shape phase, phase offset and the phase ramp of the frequency offset. */
  phase: Float64Array
}

/** One ADC window. Sample n is taken at start + (n + 0.5)·dwell. */
export interface AdcWindow {
  block: number
  adcId: number
  start: number
  end: number
  numSamples: number
  dwell: number
  freqOffset: number
  phaseOffset: number
}

export interface Waveforms {
  /** The window asked for; every block that overlaps it is included whole. */
  from: number
  to: number
  /** Gradients in Hz/m. */
  gx: PiecewiseLinear
  gy: PiecewiseLinear
  gz: PiecewiseLinear
  rf: RfWaveform[]
  adc: AdcWindow[]
}

export interface WaveformOptions {
  /** Start of the window, s; default 0. */
  from?: number
  /** End of the window, s; default the end of the sequence. */
  to?: number
  /** Largest number of points (gradient corners plus RF samples) returned, default 10 million. */
  maxPoints?: number
}

/** The result of interpret(): the timeline, plus lazy access to pulses, waveforms and k-space. */
export interface Interpretation {
  readonly timeline: BlockTimeline
  rfPulses: () => Generator<RfPulse>
  waveforms: (options?: WaveformOptions) => Waveforms
  adcWindows: () => Generator<AdcWindow>
  /** Each ADC readout with the k-space position of its samples and its labels, one at a time. */
  readouts: (options?: KspaceOptions) => Generator<AdcReadout>
  /** All ADC samples in flat arrays; refuses (SeqLimitError) beyond options.maxSamples. */
  collectKspace: (options?: KspaceOptions & { maxSamples?: number }) => KspaceSamples
}

/** Interprets a parsed or built sequence. Only the timeline is computed up front. */
export function interpret (seq: Sequence, options: InterpretOptions = {}): Interpretation {
  const timeline = blockTimeline(seq)
  return {
    timeline,
    rfPulses: () => rfPulses(seq, options, timeline),
    waveforms: (w) => waveforms(seq, w, options, timeline),
    adcWindows: () => adcWindows(seq, options, timeline),
    readouts: (k) => adcReadouts(seq, { ...options, ...k }),
    collectKspace: (k) => collectKspace(seq, { ...options, ...k })
  }
}

export function blockTimeline (seq: Sequence): BlockTimeline {
  const { start, total } = blockStarts(seq.blocks.duration)
  return { id: seq.blocks.id, start, duration: seq.blocks.duration, totalDuration: total }
}

/** Frequency (Hz) and phase (rad) offsets of an RF or ADC event, with the ppm terms when the Larmor frequency is known. */
export function offsets (ev: { freqOffset: number, phaseOffset: number, freqPPM: number, phasePPM: number }, larmorHz = 0): { freq: number, phase: number } {
  return {
    freq: ev.freqOffset + ev.freqPPM * 1e-6 * larmorHz,
    phase: ev.phaseOffset + ev.phasePPM * 1e-6 * larmorHz
  }
}

/** The RF pulses in time order. */
export function * rfPulses (seq: Sequence, options: InterpretOptions = {}, timeline = blockTimeline(seq)): Generator<RfPulse> {
  const flips = new Map<number, number>()
  for (let b = 0; b < seq.blocks.length; b++) {
    const id = seq.blocks.rf[b]
    if (id === 0) continue
    const rf = seq.rf.get(id)
    if (rf === undefined) continue
    let flip = flips.get(id)
    if (flip === undefined) {
      flip = rfFlipAngleDeg(seq, rf)
      flips.set(id, flip)
    }
    const start = timeline.start[b] + rf.delay
    const { freq, phase } = offsets(rf, options.larmorHz)
    yield {
      block: b,
      rfId: id,
      start,
      center: start + rf.center,
      duration: rfShapeDuration(seq, rf),
      use: rf.use,
      useInferred: rf.inferred,
      flipAngleDeg: flip,
      freqOffset: freq,
      phaseOffset: phase
    }
  }
}

/** The ADC windows in time order. */
export function * adcWindows (seq: Sequence, options: InterpretOptions = {}, timeline = blockTimeline(seq)): Generator<AdcWindow> {
  for (let b = 0; b < seq.blocks.length; b++) {
    const id = seq.blocks.adc[b]
    const adc = seq.adc.get(id)
    if (id === 0 || adc === undefined) continue
    const start = timeline.start[b] + adc.delay
    const { freq, phase } = offsets(adc, options.larmorHz)
    yield { block: b, adcId: id, start, end: start + adc.numSamples * adc.dwell, numSamples: adc.numSamples, dwell: adc.dwell, freqOffset: freq, phaseOffset: phase }
  }
}

/** Waveforms of all channels over a window of the sequence (by default all of it). */
export function waveforms (seq: Sequence, options: WaveformOptions = {}, interpretOptions: InterpretOptions = {}, timeline = blockTimeline(seq)): Waveforms {
  const from = options.from ?? 0
  const to = options.to ?? timeline.totalDuration
  const maxPoints = options.maxPoints ?? 10_000_000
  const bl = seq.blocks
  const channels = [new PointBuffer(), new PointBuffer(), new PointBuffer()]
  const cols = [bl.gx, bl.gy, bl.gz]
  const rf: RfWaveform[] = []
  const adc: AdcWindow[] = []
  let points = 0
  const budget = (n: number): void => {
    points += n
    if (points > maxPoints) throw new SeqLimitError(`the waveforms from ${from} s to ${to} s have more than ${maxPoints} points; ask for a shorter window`)
  }
  for (let b = 0; b < bl.length; b++) {
    const t0 = timeline.start[b]
    const t1 = t0 + bl.duration[b]
    if (t1 < from || t0 > to) continue
    for (let c = 0; c < 3; c++) {
      const g = seq.gradients.get(cols[c][b])
      if (g === undefined) continue
      const before = channels[c].length
      gradientCorners(seq, g, t0, channels[c])
      budget(channels[c].length - before)
    }
    const rfEv = seq.rf.get(bl.rf[b])
    if (rfEv !== undefined) {
      const times = rfSampleTimes(seq, rfEv)
      budget(times.length)
      const mag = seq.shapes.get(rfEv.magShapeId) as Float64Array
      const ph = seq.shapes.get(rfEv.phaseShapeId) as Float64Array
      const { freq, phase } = offsets(rfEv, interpretOptions.larmorHz)
      const t = new Float64Array(times.length)
      const magnitude = new Float64Array(times.length)
      const phases = new Float64Array(times.length)
      for (let i = 0; i < times.length; i++) {
        const a = rfEv.amplitude * mag[i]
        t[i] = t0 + rfEv.delay + times[i]
        magnitude[i] = Math.abs(a)
        phases[i] = 2 * Math.PI * ph[i] + phase + 2 * Math.PI * freq * times[i] + (a < 0 ? Math.PI : 0)
      }
      rf.push({ block: b, use: rfEv.use, t, magnitude, phase: phases })
    }
    const adcEv = seq.adc.get(bl.adc[b])
    if (adcEv !== undefined) {
      const start = t0 + adcEv.delay
      const { freq, phase } = offsets(adcEv, interpretOptions.larmorHz)
      adc.push({ block: b, adcId: bl.adc[b], start, end: start + adcEv.numSamples * adcEv.dwell, numSamples: adcEv.numSamples, dwell: adcEv.dwell, freqOffset: freq, phaseOffset: phase })
    }
  }
  const pl = (p: PointBuffer): PiecewiseLinear => ({ t: p.t.slice(0, p.length), value: p.v.slice(0, p.length) })
  return { from, to, gx: pl(channels[0]), gy: pl(channels[1]), gz: pl(channels[2]), rf, adc }
}
