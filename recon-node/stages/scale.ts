// Intensity scaling of magnitude images for their destination (Gadgetron's AutoScaleGadget): DICOM
// stores 12-bit unsigned pixels, so by default the maximum of each image volume becomes 4095. A 3-D
// volume is one message, so its partitions share one factor. The factor is multiplied into
// meta.scale, so that a DICOM writer can record it (RescaleSlope = 1 / scale) and images of a series
// can be compared.
//
// Modes: `max` scales each volume (2-D: each slice) so that its maximum is `target`; `first` computes
// that factor on the first image and keeps it for the rest of the run, so that slices of a series keep
// their relative intensities (as Gadgetron's AutoScaleGadget does; brighter later slices may exceed
// `target`); `fixed` multiplies by `factor`.
import { defineStage, param, type Message } from './stage.ts'

/** The factor that brings the maximum of `pixels` to `target` (1 for an all-zero image). */
export function maxScaleFactor (pixels: Float32Array, target: number): number {
  let max = 0
  for (let i = 0; i < pixels.length; i++) if (pixels[i] > max) max = pixels[i]
  return max > 0 && Number.isFinite(max) ? target / max : 1
}

/** Multiplies `pixels` by `factor` in place and returns the factor. */
export function scalePixels (pixels: Float32Array, factor: number): number {
  for (let i = 0; i < pixels.length; i++) pixels[i] *= factor
  return factor
}

const params = {
  mode: param.choice('max: maximum of each volume to target; first: factor of the first image kept for the run; fixed: multiply by factor', ['max', 'first', 'fixed'] as const, 'max'),
  target: param.number('Value the maximum is scaled to (4095 for 12-bit DICOM)', 4095, { min: 0 }),
  factor: param.number('Multiplier in mode fixed', 1)
}

export const scale = defineStage<typeof params, { first: number | null }>({
  name: 'scale',
  doc: 'Scales magnitude images to a target maximum or by a fixed factor, recording the factor in meta.scale',
  params,
  init: () => ({ first: null }),
  run (input: Message, p, ctx): Message[] {
    if (input.kind !== 'image') return [input]
    let factor: number
    if (p.mode === 'fixed') factor = p.factor
    else if (p.mode === 'first') {
      ctx.state.first ??= maxScaleFactor(input.pixels, p.target)
      factor = ctx.state.first
    } else factor = maxScaleFactor(input.pixels, p.target)
    scalePixels(input.pixels, factor)
    return [{ ...input, meta: { ...input.meta, scale: input.meta.scale * factor } }]
  }
})
