// Where the slices of a 2-D multi-slice series lie, learnt from the images (and readouts) as they
// arrive, and what that says about SliceThickness and SpacingBetweenSlices.
//
// ISMRMRD puts a 2-D slice's thickness in the encoded field of view along z. Some headers carry the
// whole stack there instead (a Pulseq file whose FOV definition is N slices × the thickness). The
// rule, with F the header's FOV z, N the header's slice count and g the smallest centre-to-centre
// distance between spatially neighbouring slices seen so far:
//   - F ≤ g (within 1 %), or fewer than two slices seen: F is the slice thickness (the ISMRMRD reading);
//   - F > g and F / N = g (within 1 %): F spans a stack of N contiguous slices (Pulseq's FOV of
//     N × the thickness), and each is F / N thick;
//   - F > g otherwise: either overlapping slices F thick or a stack with gaps; nothing tells which,
//     so the thickness is unknown (written empty, and reported).
// SpacingBetweenSlices is the distance between neighbouring slice centres once every slice the header
// announces has been seen and they are evenly spaced; before that, or when they are not, it is unknown.
import type { Vec3 } from './geometry.ts'

/** Relative tolerance when comparing distances (positions are single-precision floats in ISMRMRD). */
const RELATIVE_TOLERANCE = 0.01
/** Absolute tolerance, mm: two slice centres closer than this are the same place. */
const SAME_PLACE_MM = 1e-3

export type SliceThickness =
  | { mm: number, reason?: undefined }
  | { mm: undefined, reason: string }

export class SliceStack {
  private readonly expected: number
  private normal: Vec3 | undefined
  private parallel = true
  private readonly offsets = new Map<number, number>()

  /** expectedSlices: how many slices the header announces (encodingLimits/slice maximum + 1). */
  constructor (expectedSlices: number) {
    this.expected = Math.max(1, expectedSlices)
  }

  /** Records where slice `slice` lies; the first position noted for a slice counts. */
  note (slice: number, position: Vec3, sliceDir: Vec3): void {
    if (!position.every(Number.isFinite) || !sliceDir.every(Number.isFinite)) return
    const length = Math.hypot(sliceDir[0], sliceDir[1], sliceDir[2])
    if (!(length > 0)) return
    const dir: Vec3 = [sliceDir[0] / length, sliceDir[1] / length, sliceDir[2] / length]
    if (this.normal === undefined) this.normal = dir
    else if (Math.abs(Math.abs(dot(dir, this.normal)) - 1) > 1e-3) this.parallel = false
    if (!this.offsets.has(slice)) this.offsets.set(slice, dot(position, this.normal))
  }

  /** Slices seen so far. */
  get known (): number {
    return this.offsets.size
  }

  /** How many slices the series has: what the header announces, or more if more were seen. */
  get count (): number {
    return Math.max(this.expected, this.offsets.size)
  }

  /** Gaps between spatially neighbouring slices seen so far, in order along the normal. */
  private gaps (): number[] {
    const sorted = [...this.offsets.values()].sort((a, b) => a - b)
    return sorted.slice(1).map((v, i) => v - sorted[i])
  }

  /** Centre-to-centre distance of neighbouring slices, when every slice is known and evenly spaced. */
  spacing (): number | undefined {
    if (!this.parallel || this.offsets.size < 2 || this.offsets.size < this.expected) return undefined
    const gaps = this.gaps()
    const min = Math.min(...gaps)
    const max = Math.max(...gaps)
    if (min < SAME_PLACE_MM || max - min > RELATIVE_TOLERANCE * min) return undefined
    return gaps.reduce((a, b) => a + b, 0) / gaps.length
  }

  /** The slice thickness of a 2-D series whose header's FOV z is fovZ (rule in the file header). */
  thickness (fovZ: number): SliceThickness {
    if (!(Number.isFinite(fovZ) && fovZ > 0)) return { mm: undefined, reason: `the field of view along z (${fovZ} mm) is not positive` }
    if (!this.parallel || this.offsets.size < 2) return { mm: fovZ }
    const gaps = this.gaps().filter((g) => g >= SAME_PLACE_MM)
    if (gaps.length === 0) return { mm: fovZ }
    const nearest = Math.min(...gaps)
    if (fovZ <= nearest * (1 + RELATIVE_TOLERANCE)) return { mm: fovZ }
    const perSlice = fovZ / this.count
    if (Math.abs(perSlice - nearest) <= nearest * RELATIVE_TOLERANCE) return { mm: perSlice }
    return {
      mm: undefined,
      reason: `the header's slice field of view (${fovZ} mm) is more than the ${round(nearest)} mm between neighbouring slices: ` +
        `either overlapping slices that thick or ${this.count} slices of ${round(perSlice)} mm with gaps, and the header does not say which`
    }
  }
}

function dot (a: Vec3, b: Vec3): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

function round (x: number): number {
  return Math.round(x * 1000) / 1000
}
