// Readout oversampling removal (Gadgetron's RemoveROOversamplingGadget): scanners sample the readout
// faster than the field of view needs (twice, typically) to keep aliasing of the analogue filter's
// edges out of the image. Per readout and coil: centred inverse FFT to x, keep the centre
// n * reconFov.x / encodedFov.x samples (image index floor(n/2) stays at the centre), centred FFT back.
// Applies when the encoded field of view (or, without fields of view, matrix) along x is larger than
// the recon one; otherwise every message passes through unchanged.
//
// Scale: the result is divided by the new length, so that the stage is transparent in image space:
// the unnormalised centred inverse FFT of a reduced readout equals the centre of that of the full one
// (what `ismrmrd_recon_cartesian_2d`, which crops after its FFT, computes).
//
// The k-space centre (center_sample) and discard_pre/post are rescaled to the new sampling; the
// trajectory, which no longer matches the samples, is dropped (Cartesian data does not need it).
import type { Acquisition } from '../../protocol/mrd/types.ts'
import { cropFieldOfView } from '../fft/fftn.ts'
import { AcquisitionShapeError } from './errors.ts'
import { IS_NOISE_MEASUREMENT, IS_REVERSE, isFlagSet } from './flags.ts'
import { defineStage, type Message, type ReconHeader } from './stage.ts'

/** The factor by which the readout is oversampled, 1 when it is not. */
export function oversamplingRatio (header: ReconHeader): number {
  const { encoded, recon } = header.fovMm
  const ratio = encoded.x > 0 && recon.x > 0
    ? encoded.x / recon.x
    : header.encodedMatrix.x > 0 && header.reconMatrix.x > 0 ? header.encodedMatrix.x / header.reconMatrix.x : 1
  // as Gadgetron: a recon FOV within 1 % of the encoded one means no oversampling
  return ratio > 1.01 ? ratio : 1
}

/** Each channel's samples in reverse order, into `out` (which may be `data`). */
function reverseSamples (data: Float32Array, n: number, channels: number, out: Float32Array): Float32Array {
  for (let c = 0; c < channels; c++) {
    const base = 2 * n * c
    for (let a = 0, b = n - 1; a <= b; a++, b--) {
      const re = data[base + 2 * a]
      const im = data[base + 2 * a + 1]
      out[base + 2 * a] = data[base + 2 * b]
      out[base + 2 * a + 1] = data[base + 2 * b + 1]
      out[base + 2 * b] = re
      out[base + 2 * b + 1] = im
    }
  }
  return out
}

/**
 * Each channel's samples moved by `shift` places (towards higher indices when positive), the vacated
 * places zero: an integer move of the k-space samples, which the crop below does not change.
 */
function shiftSamples (data: Float32Array, n: number, channels: number, shift: number, out: Float32Array): Float32Array {
  for (let c = 0; c < channels; c++) {
    const line = data.slice(2 * n * c, 2 * n * (c + 1))
    const base = 2 * n * c
    out.fill(0, base, base + 2 * n)
    for (let s = Math.max(0, -shift); s < Math.min(n, n - shift); s++) {
      out[base + 2 * (s + shift)] = line[2 * s]
      out[base + 2 * (s + shift) + 1] = line[2 * s + 1]
    }
  }
  return out
}

/**
 * The readout with its oversampling removed; `ratio` > 1. With `inPlace` the result is written over the
 * start of acq.data (each line is read whole before its shorter result is written, at or before it).
 */
export function removeReadoutOversampling (acq: Acquisition, ratio: number, inPlace = false): Acquisition {
  const head = acq.head
  const n = head.numberOfSamples
  const channels = head.activeChannels
  if (acq.data.length !== 2 * n * channels) {
    throw new AcquisitionShapeError(`acquisition ${head.scanCounter}: ${channels} channels x ${n} samples need ${2 * n * channels} floats, got ${acq.data.length}`)
  }
  const m = Math.round(n / ratio)
  if (m >= n || m < 1) return acq
  // The crop keeps the middle of the readout's image. An echo d samples off the middle is a phase ramp
  // there, which becomes an offset of d·m/n samples after the crop: with a ratio of 2 and d odd, half a
  // sample, which no center_sample can say (a Nyquist ghost between lines read in opposite directions).
  // So the samples are first moved by the fewest places (one, for a ratio of 2) that make the offset a
  // whole number of output samples; a place at one end is lost, at the edge of k-space. center_sample of
  // an IS_REVERSE readout counts in the reversed order (protocol/mrd/PROTOCOL.md), so those are worked
  // on reversed and turned back after.
  const reverse = isFlagSet(head, IS_REVERSE)
  const scratch = inPlace ? acq.data : new Float32Array(acq.data.length)
  let src = reverse ? reverseSamples(acq.data, n, channels, scratch) : acq.data
  const centre = head.centerSample === 0 && n > 1 ? Math.floor(n / 2) : head.centerSample
  const offset = centre - Math.floor(n / 2)
  const whole = Math.round(ratio)
  let move = 0
  if (Math.abs(ratio - whole) < 1e-9 && whole > 1) {
    const rest = ((offset % whole) + whole) % whole
    move = rest <= whole / 2 ? -rest : whole - rest
  }
  if (move !== 0) src = shiftSamples(src, n, channels, move, scratch)
  const out = cropFieldOfView(src, n, channels, m, inPlace || src !== acq.data ? src.subarray(0, 2 * m * channels) : undefined)
  if (reverse) reverseSamples(out, m, channels, out)
  const rescale = m / n
  return {
    head: {
      ...head,
      numberOfSamples: m,
      centerSample: Math.round(Math.floor(m / 2) + (offset + move) * m / n),
      discardPre: Math.round(head.discardPre * rescale),
      discardPost: Math.round(head.discardPost * rescale),
      trajectoryDimensions: 0
    },
    traj: new Float32Array(0),
    data: out
  }
}

export const removeOversampling = defineStage({
  name: 'remove-oversampling',
  doc: 'Removes readout oversampling: keeps the centre reconFov/encodedFov of each readout in image space',
  params: {},
  adaptHeader (header: ReconHeader): ReconHeader {
    const ratio = oversamplingRatio(header)
    if (ratio === 1) return header
    return {
      ...header,
      encodedMatrix: { ...header.encodedMatrix, x: Math.round(header.encodedMatrix.x / ratio) },
      fovMm: { ...header.fovMm, encoded: { ...header.fovMm.encoded, x: header.fovMm.encoded.x / ratio } }
    }
  },
  run (input: Message, _p, ctx): Message[] {
    if (input.kind !== 'acquisition' || isFlagSet(input.acquisition.head, IS_NOISE_MEASUREMENT)) return [input]
    const ratio = oversamplingRatio(ctx.header)
    if (ratio === 1) return [input]
    const owned = input.owned === true
    const acquisition = removeReadoutOversampling(input.acquisition, ratio, owned)
    return acquisition === input.acquisition ? [input] : [{ kind: 'acquisition', acquisition, owned }]
  }
})
