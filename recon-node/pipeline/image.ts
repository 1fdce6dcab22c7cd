// The pipeline's output: one 2-D magnitude image per slice (2-D) or per partition (3-D).
//
// Orientation, as Gadgetron writes its images: pixels[x + width * y], column x along the readout
// (readDir), row y along the phase encoding (phaseDir), x fastest. Position is the centre of the
// image in the centred FFT convention: the pixel (floor(width/2), floor(height/2)); a DICOM writer
// gets the centre of the first pixel as position - readDir * floor(width/2) * dx - phaseDir * floor(height/2) * dy,
// with dx = fieldOfViewMm[0] / width, dy = fieldOfViewMm[1] / height. Partition p of a 3-D volume of
// depth d lies at the volume's position + sliceDir * (p - floor(d/2)) * fieldOfViewMm[2].
import type { BufferMeta, ImageMessage, Triple } from '../stages/stage.ts'

export interface ReconImage {
  /** Magnitude, width * height values, x (readout) fastest. */
  pixels: Float32Array
  width: number
  height: number
  /** Partitions of the volume this image belongs to (1 for 2-D). */
  depth: number
  /** Index of this image's partition, 0..depth-1. */
  partition: number
  slice: number
  contrast: number
  phase: number
  repetition: number
  set: number
  /** Centre of the image (mm, patient coordinates). */
  position: Triple
  readDir: Triple
  phaseDir: Triple
  sliceDir: Triple
  patientTablePosition: Triple
  /** Extent along readDir and phaseDir, and the thickness (slice or partition), in mm. */
  fieldOfViewMm: Triple
  /** The intensity scale applied (meta.scale of the stages): pixels / scale are the reconstruction's values. */
  scale: number
  measurementUid: number
  acquisitionTimeStamp: number
}

/** Splits a magnitude volume into its 2-D images. */
export function toReconImages (message: ImageMessage): ReconImage[] {
  const [width, height, depth] = message.dims
  const meta: BufferMeta = message.meta
  const thickness = meta.fovMm[2] / depth
  const images: ReconImage[] = []
  for (let p = 0; p < depth; p++) {
    const offset = (p - Math.floor(depth / 2)) * thickness
    images.push({
      pixels: message.pixels.slice(p * width * height, (p + 1) * width * height),
      width,
      height,
      depth,
      partition: p,
      slice: meta.slice,
      contrast: meta.contrast,
      phase: meta.phase,
      repetition: meta.repetition,
      set: meta.set,
      position: depth === 1 ? [...meta.position] : meta.position.map((v, a) => v + meta.sliceDir[a] * offset) as Triple,
      readDir: [...meta.readDir],
      phaseDir: [...meta.phaseDir],
      sliceDir: [...meta.sliceDir],
      patientTablePosition: [...meta.patientTablePosition],
      fieldOfViewMm: [meta.fovMm[0], meta.fovMm[1], thickness],
      scale: meta.scale,
      measurementUid: meta.measurementUid,
      acquisitionTimeStamp: meta.acquisitionTimeStamp
    })
  }
  return images
}
