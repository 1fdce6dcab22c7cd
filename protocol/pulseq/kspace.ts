// The k-space position of every ADC sample: k(t) = ∫ G(t) dt with G in Hz/m, so k is in 1/m. As in
// the MATLAB toolbox's calculateKspacePP, k is set to 0 at the centre of each excitation pulse and
// negated at the centre of each refocusing pulse; other pulses (inversion, saturation, preparation)
// leave it alone, and `undefined` pulses count as excitations. Gradients are piecewise linear between
// their corner points, so the integral is exact.
//
// Memory stays bounded: blocks are walked one at a time with reused buffers, and each readout is
// yielded with its own arrays, so a caller can process millions of readouts without holding them.

import { SeqLimitError } from './errors.ts'
import { blockStarts, gradientCorners, PointBuffer } from './events.ts'
import { applyBlockLabels, labelSnapshot, newLabelState } from './extensions.ts'
import type { Sequence } from './types.ts'

export interface KspaceOptions {
  /** Larmor frequency in Hz for the ppm offsets of the ADC; see InterpretOptions. */
  larmorHz?: number
  /**
   * Largest number of gradient corner points to integrate, a guard against files that would take
   * hours; default 2e9.
   */
  maxGradientPoints?: number
}

/** One ADC readout: where each sample is in time and k-space, and the labels in effect. */
export interface AdcReadout {
  /** Count of readouts before this one. */
  index: number
  /** Block index (0-based position in [BLOCKS]). */
  block: number
  blockId: number
  adcId: number
  /** Start of the ADC window from the sequence start, s; sample n is at start + (n + 0.5)·dwell. */
  start: number
  dwell: number
  numSamples: number
  /** k-space position of each sample, 1/m. */
  kx: Float64Array
  ky: Float64Array
  kz: Float64Array
  /** LABELSET/LABELINC values at this ADC (LIN, PAR, SLC, REP, AVG, ECO, SET, SEG, NAV, NOISE, ...). */
  labels: Readonly<Record<string, number>>
  /** Centre of the latest excitation pulse, s, or NaN before the first. */
  excitation: number
  /** ADC frequency offset (Hz) and phase offset (rad), ppm terms included when larmorHz is given. */
  freqOffset: number
  phaseOffset: number
}

/** Running integral of one gradient channel over one block. */
class ChannelIntegral {
  readonly points = new PointBuffer()
  cum = new Float64Array(64)
  active = false

  load (seq: Sequence, gradId: number): number {
    this.points.clear()
    const g = seq.gradients.get(gradId)
    this.active = g !== undefined
    if (g === undefined) return 0
    gradientCorners(seq, g, 0, this.points)
    const n = this.points.length
    if (this.cum.length < n) this.cum = new Float64Array(Math.max(n, this.cum.length * 2))
    const { t, v } = this.points
    this.cum[0] = 0
    for (let i = 1; i < n; i++) this.cum[i] = this.cum[i - 1] + 0.5 * (v[i - 1] + v[i]) * (t[i] - t[i - 1])
    return n
  }

  /** ∫ from the block start to t (block-local, s). */
  at (t: number): number {
    if (!this.active) return 0
    const { t: ts, v } = this.points
    const n = this.points.length
    if (n === 0 || t <= ts[0]) return 0
    if (t >= ts[n - 1]) return this.cum[n - 1]
    let lo = 0
    let hi = n - 1
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1
      if (ts[mid] <= t) lo = mid
      else hi = mid
    }
    const span = ts[hi] - ts[lo]
    const vt = span > 0 ? v[lo] + (v[hi] - v[lo]) * (t - ts[lo]) / span : v[lo]
    return this.cum[lo] + 0.5 * (v[lo] + vt) * (t - ts[lo])
  }
}

/** The ADC readouts in time order, each with its k-space trajectory and labels. */
export function * adcReadouts (seq: Sequence, options: KspaceOptions = {}): Generator<AdcReadout> {
  const bl = seq.blocks
  const maxPoints = options.maxGradientPoints ?? 2e9
  const larmor = options.larmorHz ?? 0
  const channels = [new ChannelIntegral(), new ChannelIntegral(), new ChannelIntegral()]
  const cols = [bl.gx, bl.gy, bl.gz]
  const labels = newLabelState()
  // k(t) = I(t) + offset within a block, I being the integral from the block start.
  const kStart = [0, 0, 0]
  const offset = [0, 0, 0]
  const starts = blockStarts(bl.duration).start
  let excitation = Number.NaN
  let points = 0
  let index = 0
  for (let b = 0; b < bl.length; b++) {
    const duration = bl.duration[b]
    const blockStart = starts[b]
    for (let c = 0; c < 3; c++) {
      points += channels[c].load(seq, cols[c][b])
      offset[c] = kStart[c]
    }
    if (points > maxPoints) throw new SeqLimitError(`the gradients have more than ${maxPoints} corner points`)
    const rf = seq.rf.get(bl.rf[b])
    let rfCenter = Number.POSITIVE_INFINITY
    let rfKind: 'excitation' | 'refocusing' | 'none' = 'none'
    if (rf !== undefined) {
      rfCenter = rf.delay + rf.center
      if (rf.use === 'excitation' || rf.use === 'undefined') rfKind = 'excitation'
      else if (rf.use === 'refocusing') rfKind = 'refocusing'
    }
    const applyRf = (): void => {
      for (let c = 0; c < 3; c++) {
        const at = channels[c].at(rfCenter)
        // Excitation: k(tc) = 0. Refocusing: k(tc) → -k(tc), i.e. offset' = -2·I(tc) - offset.
        offset[c] = rfKind === 'excitation' ? -at : -2 * at - offset[c]
      }
      if (rfKind === 'excitation') excitation = blockStart + rfCenter
      rfKind = 'none'
    }
    applyBlockLabels(seq, bl.ext[b], labels)
    const adc = seq.adc.get(bl.adc[b])
    if (adc !== undefined) {
      const n = adc.numSamples
      const kx = new Float64Array(n)
      const ky = new Float64Array(n)
      const kz = new Float64Array(n)
      const ks = [kx, ky, kz]
      for (let i = 0; i < n; i++) {
        const t = adc.delay + (i + 0.5) * adc.dwell
        if (rfKind !== 'none' && t >= rfCenter) applyRf()
        for (let c = 0; c < 3; c++) ks[c][i] = channels[c].at(t) + offset[c]
      }
      yield {
        index: index++,
        block: b,
        blockId: bl.id[b],
        adcId: bl.adc[b],
        start: blockStart + adc.delay,
        dwell: adc.dwell,
        numSamples: n,
        kx,
        ky,
        kz,
        labels: labelSnapshot(labels),
        excitation,
        freqOffset: adc.freqOffset + adc.freqPPM * 1e-6 * larmor,
        phaseOffset: adc.phaseOffset + adc.phasePPM * 1e-6 * larmor
      }
    }
    if (rfKind !== 'none') applyRf()
    for (let c = 0; c < 3; c++) kStart[c] = channels[c].at(duration) + offset[c]
  }
}

/** All ADC samples of a sequence in flat arrays. */
export interface KspaceSamples {
  /** Sample times from the sequence start, s. */
  t: Float64Array
  kx: Float64Array
  ky: Float64Array
  kz: Float64Array
  /** Per readout: its block, first sample index in the arrays, sample count and labels. */
  readouts: Array<{ block: number, offset: number, numSamples: number, labels: Readonly<Record<string, number>> }>
}

/** Collects every readout of adcReadouts into flat arrays, refusing beyond maxSamples (default 50 million). */
export function collectKspace (seq: Sequence, options: KspaceOptions & { maxSamples?: number } = {}): KspaceSamples {
  const maxSamples = options.maxSamples ?? 50_000_000
  let total = 0
  for (let b = 0; b < seq.blocks.length; b++) {
    const adc = seq.adc.get(seq.blocks.adc[b])
    if (adc !== undefined) total += adc.numSamples
    if (total > maxSamples) throw new SeqLimitError(`the sequence has more than ${maxSamples} ADC samples; iterate over adcReadouts() instead`)
  }
  const out: KspaceSamples = { t: new Float64Array(total), kx: new Float64Array(total), ky: new Float64Array(total), kz: new Float64Array(total), readouts: [] }
  let at = 0
  for (const r of adcReadouts(seq, options)) {
    out.kx.set(r.kx, at)
    out.ky.set(r.ky, at)
    out.kz.set(r.kz, at)
    for (let i = 0; i < r.numSamples; i++) out.t[at + i] = r.start + (i + 0.5) * r.dwell
    out.readouts.push({ block: r.block, offset: at, numSamples: r.numSamples, labels: r.labels })
    at += r.numSamples
  }
  return out
}
