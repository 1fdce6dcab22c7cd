// What the reconstruction takes from an ISMRMRD XML header: the first encoding's matrices, fields of
// view and k-space limits (the pipeline's ReconHeader), and the layout of the images it will give,
// so that every image gets the same instance number whichever worker reconstructs it.
import type { Encoding, IsmrmrdHeader, Limit } from '../../protocol/mrd/xml-header.ts'
import type { ReconImage } from '../pipeline/image.ts'
import type { ReconHeader } from '../stages/stage.ts'

/** The pipeline's view of the header (first encoding, as Gadgetron's default chain). */
export function reconHeaderOf (header: IsmrmrdHeader, expectedAcquisitions?: number): ReconHeader {
  const encoding: Encoding | undefined = header.encoding[0]
  const zero = { x: 0, y: 0, z: 0 }
  const limits = encoding?.encodingLimits ?? {}
  const step1 = limits.kspace_encoding_step_1
  const step2 = limits.kspace_encoding_step_2
  return {
    encodedMatrix: { ...(encoding?.encodedSpace.matrixSize ?? zero) },
    reconMatrix: { ...(encoding?.reconSpace.matrixSize ?? zero) },
    fovMm: { encoded: { ...(encoding?.encodedSpace.fieldOfView_mm ?? zero) }, recon: { ...(encoding?.reconSpace.fieldOfView_mm ?? zero) } },
    encodingLimits: {
      ...(step1 !== undefined ? { kspaceEncodingStep1: { ...step1 } } : {}),
      ...(step2 !== undefined ? { kspaceEncodingStep2: { ...step2 } } : {})
    },
    ...(expectedAcquisitions !== undefined ? { expectedAcquisitions } : {}),
    ...(encoding !== undefined ? { trajectory: encoding.trajectory } : {}),
    ...(encoding?.parallelImaging !== undefined
      ? {
          acceleration: {
            step1: encoding.parallelImaging.accelerationFactor.kspace_encoding_step_1,
            step2: encoding.parallelImaging.accelerationFactor.kspace_encoding_step_2
          },
          ...(encoding.parallelImaging.calibrationMode !== undefined ? { calibrationMode: encoding.parallelImaging.calibrationMode } : {})
        }
      : {})
  }
}

/** The counters that tell the images of a scan apart, and how many values each takes. */
const AXES = ['set', 'repetition', 'phase', 'contrast', 'slice'] as const

/** One image's place: the accumulation unit (slice, contrast, phase, repetition, set) and its partition. */
export type ImageIndex = Pick<ReconImage, 'slice' | 'contrast' | 'phase' | 'repetition' | 'set' | 'partition' | 'depth'>

/**
 * Instance numbers from the encoding limits: set, repetition, phase, contrast, slice, then partition
 * fastest, so that a series sorts as a viewer expects and the number depends only on the image's
 * counters. Counters beyond the header's limits (a header that understates them) get numbers after
 * the regular range, still within DICOM's IS range.
 */
export class InstanceLayout {
  private readonly counts: Record<typeof AXES[number], number>
  private readonly depth: number

  constructor (header: IsmrmrdHeader) {
    const limits = header.encoding[0]?.encodingLimits ?? {}
    const count = (limit: Limit | undefined): number => Math.max(1, (limit?.maximum ?? 0) + 1)
    this.counts = {
      set: count(limits.set),
      repetition: count(limits.repetition),
      phase: count(limits.phase),
      contrast: count(limits.contrast),
      slice: count(limits.slice)
    }
    const z = header.encoding[0]?.reconSpace.matrixSize.z ?? 1
    this.depth = Math.max(1, z)
  }

  /** Images the header announces. */
  get size (): number {
    return AXES.reduce((n, axis) => n * this.counts[axis], this.depth)
  }

  /** 1-based instance number of an image. */
  instanceNumber (image: ImageIndex): number {
    const depth = Math.max(this.depth, image.depth)
    const inside = AXES.every((axis) => image[axis] < this.counts[axis]) && image.depth <= this.depth
    if (!inside) {
      // Outside the announced layout: a number past it, still a function of the counters only.
      let n = 0
      for (const axis of AXES) n = n * 16 + Math.min(image[axis], 15)
      return this.size + 1 + n * depth + image.partition
    }
    let n = 0
    for (const axis of AXES) n = n * this.counts[axis] + image[axis]
    return 1 + n * depth + image.partition
  }
}

/** The key of an accumulation unit, as the accumulate stage groups readouts. */
export function unitKeyOf (idx: { slice: number, contrast: number, phase: number, repetition: number, set: number }): string {
  return `${idx.slice}.${idx.contrast}.${idx.phase}.${idx.repetition}.${idx.set}`
}
