// Odd/even (Nyquist ghost) correction of EPI readouts from navigator echoes (Gadgetron's EPICorrGadget).
// The readouts of an echo train alternate polarity; gradient delays and eddy currents shift the echoes of
// one polarity against the other, which after the FFT along y puts a ghost half a field of view away. A
// shift in kx is a linear phase in x after a 1-D inverse FFT along the readout ("hybrid space"), and a
// constant phase error stays constant, so the two polarities differ by exp(i(a + b·x)) there.
//
// Navigators: readouts flagged IS_PHASECORR_DATA at the start of a train, no phase encoding, alternating
// polarity (+, −, +). Per (slice, contrast, phase, repetition, set) the stage keeps the navigators of the
// latest train, and estimates from them, once the train's first imaging readout comes:
//   P(x) = mean of the + navigators, N(x) = mean of the − navigators (averaging the two + echoes around
//   the − one cancels the linear phase evolution from off-resonance between echoes),
//   C(x) = Σ_coils N(x) · conj(P(x)),  φ(x) = arg C(x) ≈ a + b·(x − floor(n/2)).
// b starts as arg Σ_x C(x+1)·conj(C(x)) and a as arg Σ_x C(x)·exp(−i b x) (both weighted by |C|², and
// immune to phase wrapping), then two rounds of least squares on the residual phase weighted by |C|,
// over the pixels with at least a tenth of the largest |C| (noise-only pixels say nothing). Every imaging
// readout of that train is corrected in hybrid space: with `apply` = both (default, as Gadgetron) the +
// readouts by exp(+iφ/2) and the − ones by exp(−iφ/2); with `apply` = reversed only the − ones, by
// exp(−iφ). Readouts are compared as accumulate places them: IS_REVERSE ones reversed first.
//
// Navigators pass on (they are not image data: accumulate ignores them). Without navigators an EPI
// (readouts with IS_REVERSE) passes through, with one warning that Nyquist ghosts are not corrected.
// Refused: navigators of one polarity only, and imaging readouts of another length or coil count than
// their navigators (the estimate does not apply to them).
import type { Acquisition } from '../../protocol/mrd/types.ts'
import { fftc, ifftc } from '../fft/fftn.ts'
import { AcquisitionShapeError, ReconRefusedError } from './errors.ts'
import { IS_NOISE_MEASUREMENT, IS_PHASECORR_DATA, IS_REVERSE, isFlagSet, NOT_IMAGE_DATA } from './flags.ts'
import { defineStage, param, type Message } from './stage.ts'

/** The navigators cannot give the odd/even phase for the readouts they come with. */
export class NyquistNavigatorError extends ReconRefusedError {
  override name = 'NyquistNavigatorError'
}

/** φ(x) = a + b·(x − floor(n/2)), radians: the phase of the − readouts relative to the + ones. */
export interface OddEvenPhase {
  constant: number
  slope: number
}

interface Train {
  samples: number
  channels: number
  /** hybrid-space navigators, channel-major complex */
  positive: Float32Array[]
  negative: Float32Array[]
  /** imaging readouts have come since the last navigator: the next navigator starts a new train */
  imaging: boolean
  /** exp(−iφ(x)/2) or exp(−iφ(x)) per x for − readouts (and its conjugate for + ones), once estimated */
  correction: Float32Array | null
}

export interface NyquistState {
  trains: Map<string, Train>
  warnedNoNavigators: boolean
}

function keyOf (acq: Acquisition): string {
  const i = acq.head.idx
  return `${i.slice}/${i.contrast}/${i.phase}/${i.repetition}/${i.set}`
}

function checkShape (acq: Acquisition): void {
  const { numberOfSamples: n, activeChannels: c, scanCounter } = acq.head
  if (acq.data.length !== 2 * n * c) throw new AcquisitionShapeError(`acquisition ${scanCounter}: ${c} channels x ${n} samples need ${2 * n * c} floats, got ${acq.data.length}`)
}

/** The readout as accumulate places it (IS_REVERSE reversed), in hybrid space (centred inverse FFT along x). */
export function toHybrid (data: Float32Array, samples: number, channels: number, reverse: boolean): Float32Array {
  const out = new Float32Array(2 * samples * channels)
  if (reverse) {
    for (let c = 0; c < channels; c++) {
      const base = 2 * samples * c
      for (let s = 0; s < samples; s++) {
        out[base + 2 * s] = data[base + 2 * (samples - 1 - s)]
        out[base + 2 * s + 1] = data[base + 2 * (samples - 1 - s) + 1]
      }
    }
  } else {
    out.set(data)
  }
  ifftc([samples, channels], 1, out, out)
  return out
}

function mean (arrays: Float32Array[]): Float64Array {
  const out = new Float64Array(arrays[0].length)
  for (const a of arrays) for (let i = 0; i < a.length; i++) out[i] += a[i] / arrays.length
  return out
}

/**
 * The phase of the − polarity relative to the + one, from hybrid-space navigators (see the file header).
 * `positive` and `negative` are channel-major complex arrays of `samples` × `channels`.
 */
export function estimateOddEvenPhase (positive: Float32Array[], negative: Float32Array[], samples: number, channels: number): OddEvenPhase {
  const p = mean(positive)
  const q = mean(negative)
  const cRe = new Float64Array(samples)
  const cIm = new Float64Array(samples)
  for (let ch = 0; ch < channels; ch++) {
    const base = 2 * samples * ch
    for (let x = 0; x < samples; x++) {
      const pr = p[base + 2 * x]
      const pi = p[base + 2 * x + 1]
      const qr = q[base + 2 * x]
      const qi = q[base + 2 * x + 1]
      cRe[x] += qr * pr + qi * pi
      cIm[x] += qi * pr - qr * pi
    }
  }
  const centre = Math.floor(samples / 2)
  // slope from neighbouring pixels' phase differences
  let sRe = 0
  let sIm = 0
  for (let x = 0; x + 1 < samples; x++) {
    sRe += cRe[x + 1] * cRe[x] + cIm[x + 1] * cIm[x]
    sIm += cIm[x + 1] * cRe[x] - cRe[x + 1] * cIm[x]
  }
  let slope = Math.atan2(sIm, sRe)
  const constantFor = (b: number): number => {
    let re = 0
    let im = 0
    for (let x = 0; x < samples; x++) {
      const phi = -b * (x - centre)
      re += cRe[x] * Math.cos(phi) - cIm[x] * Math.sin(phi)
      im += cRe[x] * Math.sin(phi) + cIm[x] * Math.cos(phi)
    }
    return Math.atan2(im, re)
  }
  let constant = constantFor(slope)
  // refine by weighted least squares on the residual (already unwrapped: it is small)
  const magnitude = new Float64Array(samples)
  let largest = 0
  for (let x = 0; x < samples; x++) {
    magnitude[x] = Math.hypot(cRe[x], cIm[x])
    largest = Math.max(largest, magnitude[x])
  }
  if (largest === 0) return { constant: 0, slope: 0 }
  for (let round = 0; round < 2; round++) {
    let sw = 0
    let sx = 0
    let sxx = 0
    let sr = 0
    let sxr = 0
    for (let x = 0; x < samples; x++) {
      const w = magnitude[x]
      if (w < 0.1 * largest) continue
      const t = x - centre
      const model = constant + slope * t
      const residual = Math.atan2(cIm[x] * Math.cos(model) - cRe[x] * Math.sin(model), cRe[x] * Math.cos(model) + cIm[x] * Math.sin(model))
      sw += w
      sx += w * t
      sxx += w * t * t
      sr += w * residual
      sxr += w * t * residual
    }
    const det = sw * sxx - sx * sx
    if (!(det > 0)) break
    slope += (sw * sxr - sx * sr) / det
    constant += (sxx * sr - sx * sxr) / det
  }
  return { constant: Math.atan2(Math.sin(constant), Math.cos(constant)), slope }
}

/** exp(−i·fraction·φ(x)) per x, the factor for − readouts (+ ones take its conjugate). */
function correctionFactors (phase: OddEvenPhase, samples: number, fraction: number): Float32Array {
  const out = new Float32Array(2 * samples)
  const centre = Math.floor(samples / 2)
  for (let x = 0; x < samples; x++) {
    const phi = -fraction * (phase.constant + phase.slope * (x - centre))
    out[2 * x] = Math.cos(phi)
    out[2 * x + 1] = Math.sin(phi)
  }
  return out
}

/** The readout multiplied in hybrid space by `factors` (conjugated when `conjugate`), in acquisition order. */
export function correctReadout (data: Float32Array, samples: number, channels: number, reverse: boolean, factors: Float32Array, conjugate: boolean, out: Float32Array = new Float32Array(data.length)): Float32Array {
  const hybrid = toHybrid(data, samples, channels, reverse)
  const sign = conjugate ? -1 : 1
  for (let c = 0; c < channels; c++) {
    const base = 2 * samples * c
    for (let x = 0; x < samples; x++) {
      const fr = factors[2 * x]
      const fi = sign * factors[2 * x + 1]
      const re = hybrid[base + 2 * x]
      const im = hybrid[base + 2 * x + 1]
      hybrid[base + 2 * x] = re * fr - im * fi
      hybrid[base + 2 * x + 1] = re * fi + im * fr
    }
  }
  fftc([samples, channels], 1, hybrid, hybrid)
  const scale = 1 / samples
  for (let c = 0; c < channels; c++) {
    const base = 2 * samples * c
    for (let s = 0; s < samples; s++) {
      const from = base + 2 * (reverse ? samples - 1 - s : s)
      out[base + 2 * s] = hybrid[from] * scale
      out[base + 2 * s + 1] = hybrid[from + 1] * scale
    }
  }
  return out
}

const params = {
  apply: param.choice('Which readouts take the correction: both polarities half each (as Gadgetron), or the reversed ones all of it', ['both', 'reversed'] as const, 'both')
}

export const epiNyquistCorrection = defineStage<typeof params, NyquistState>({
  name: 'epi-nyquist-correction',
  doc: 'Removes EPI Nyquist ghosts: the constant and linear odd/even phase from the navigators, applied to the readouts of their train',
  params,
  init: () => ({ trains: new Map(), warnedNoNavigators: false }),
  run (input: Message, p, ctx): Message[] {
    if (input.kind !== 'acquisition') return [input]
    const acq = input.acquisition
    const head = acq.head
    if (isFlagSet(head, IS_NOISE_MEASUREMENT)) return [input]
    const key = keyOf(acq)
    const state = ctx.state
    const reverse = isFlagSet(head, IS_REVERSE)
    if (isFlagSet(head, IS_PHASECORR_DATA)) {
      checkShape(acq)
      let train = state.trains.get(key)
      if (train === undefined || train.imaging) {
        train = { samples: head.numberOfSamples, channels: head.activeChannels, positive: [], negative: [], imaging: false, correction: null }
        state.trains.set(key, train)
      }
      if (head.numberOfSamples !== train.samples || head.activeChannels !== train.channels) {
        throw new NyquistNavigatorError(`navigator ${head.scanCounter} has ${head.activeChannels} channels x ${head.numberOfSamples} samples, the train's first ${train.channels} x ${train.samples}`)
      }
      const hybrid = toHybrid(acq.data, train.samples, train.channels, reverse)
      ;(reverse ? train.negative : train.positive).push(hybrid)
      train.correction = null
      return [input]
    }
    if ((head.flags & NOT_IMAGE_DATA) !== 0n || head.numberOfSamples === 0) return [input]
    const train = state.trains.get(key)
    if (train === undefined) {
      if (reverse && !state.warnedNoNavigators) {
        state.warnedNoNavigators = true
        ctx.warn(`EPI readouts (IS_REVERSE) of slice ${head.idx.slice} come without navigators (IS_PHASECORR_DATA): Nyquist ghosts are not corrected`)
      }
      return [input]
    }
    train.imaging = true
    if (train.correction === null) {
      if (train.positive.length === 0 || train.negative.length === 0) {
        throw new NyquistNavigatorError(`the navigators of slice ${head.idx.slice} (contrast ${head.idx.contrast}, repetition ${head.idx.repetition}) are all of ${train.positive.length > 0 ? '+' : '−'} polarity: the odd/even phase needs navigators read in both directions (IS_REVERSE on the second)`)
      }
      const phase = estimateOddEvenPhase(train.positive, train.negative, train.samples, train.channels)
      train.correction = correctionFactors(phase, train.samples, p.apply === 'both' ? 0.5 : 1)
    }
    if (!reverse && p.apply === 'reversed') return [input]
    checkShape(acq)
    if (head.numberOfSamples !== train.samples || head.activeChannels !== train.channels) {
      throw new NyquistNavigatorError(`acquisition ${head.scanCounter} has ${head.activeChannels} channels x ${head.numberOfSamples} samples, its navigators ${train.channels} x ${train.samples}: their phase does not apply (regrid both alike)`)
    }
    const owned = input.owned === true
    const data = correctReadout(acq.data, train.samples, train.channels, reverse, train.correction, !reverse, owned ? acq.data : undefined)
    return [{ kind: 'acquisition', acquisition: { head, traj: acq.traj, data }, owned }]
  }
})
