// Crops image-space buffers and images to the recon matrix (Gadgetron's "Extract"/FOV adjustment):
// the centre reconMatrix pixels of each axis where the image is larger, as when readout oversampling
// was not removed before the FFT (ismrmrd_recon_cartesian_2d crops the same way) or the phase encoding
// was oversampled. The centre pixel floor(n/2) stays the centre floor(m/2). Smaller axes are kept.
import { cropCentre, type Dims } from './complex-array.ts'
import { defineStage, type BufferMeta, type Message, type Triple } from './stage.ts'

function target (dims: readonly number[], meta: BufferMeta): Triple {
  return [0, 1, 2].map((a) => Math.min(dims[a], meta.reconMatrix[a] > 0 ? meta.reconMatrix[a] : dims[a])) as Triple
}

function croppedMeta (meta: BufferMeta, from: readonly number[], to: Triple): BufferMeta {
  return { ...meta, fovMm: meta.fovMm.map((f, a) => f * to[a] / from[a]) as Triple }
}

/** The centred crop of real pixels [x, y, z] (x fastest). */
export function cropPixels (pixels: Float32Array, dims: Triple, to: Triple): Float32Array {
  const out = new Float32Array(to[0] * to[1] * to[2])
  const start = dims.map((d, a) => Math.floor(d / 2) - Math.floor(to[a] / 2))
  let o = 0
  for (let z = 0; z < to[2]; z++) {
    for (let y = 0; y < to[1]; y++) {
      const from = start[0] + dims[0] * (y + start[1] + dims[1] * (z + start[2]))
      out.set(pixels.subarray(from, from + to[0]), o)
      o += to[0]
    }
  }
  return out
}

export const cropToReconSpace = defineStage({
  name: 'crop-to-recon-space',
  doc: 'Crops images to the centre reconMatrix pixels where they are larger',
  params: {},
  run (input: Message, _p, ctx): Message[] {
    if (input.kind === 'buffer' && input.domain === 'image') {
      const { dims } = input.array
      const to = target(dims, input.meta)
      if (to.every((d, a) => d === dims[a])) return [input]
      const array = cropCentre(input.array, [to[0], to[1], to[2], dims[3]] as Dims, ctx.arrays)
      ctx.arrays?.release(input.array)
      return [{ ...input, array, meta: croppedMeta(input.meta, dims, to) }]
    }
    if (input.kind === 'image') {
      const to = target(input.dims, input.meta)
      if (to.every((d, a) => d === input.dims[a])) return [input]
      return [{ ...input, dims: to, pixels: cropPixels(input.pixels, input.dims, to), meta: croppedMeta(input.meta, input.dims, to) }]
    }
    return [input]
  }
})
