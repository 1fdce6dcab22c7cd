// The readouts of a plain Cartesian acquisition, 2D multi-slice or 3D, for tests and as the fallback when
// no sequence file describes the scan. Line j lies at ky = (j − ny/2)/FOVy; within a line, sample m lies
// at kx = (m − n/2)·Δkx with n = os·nx samples and Δkx = 1/(os·FOVx), so the centre of k-space is sample n/2.
import type { PlannedReadout } from './readout-plan.ts'

/** Thrown for a matrix, field of view or timing that no Cartesian acquisition can have. */
export class InvalidPlanError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'InvalidPlanError'
  }
}

export interface CartesianPlanOptions {
  /** [nx, ny] for 2D, [nx, ny, nz] for 3D (nz > 1) */
  matrix: [number, number] | [number, number, number]
  /** metres, [x, y, z]; z is the slice thickness in 2D and the slab in 3D; one number for all three */
  fovM: number | [number, number, number]
  /** readout samples per pixel: 2 samples twice as densely over the same extent of k; default 1 */
  oversampling?: 1 | 2
  /** 2D slices; default 1 */
  slices?: number
  /** distance between slice centres; default the slice thickness (contiguous slices) */
  sliceSpacingM?: number
  /**
   * 'sequential' (default): all lines of a slice, then the next slice.
   * 'interleaved': every slice once per line, as a multi-slice 2D sequence fills its TR.
   */
  sliceOrder?: 'sequential' | 'interleaved'
  teS: number
  /** dwell time of the readout without oversampling; default 10 µs (100 kHz, 1/(nx·dwell) per pixel) */
  dwellS?: number
  averages?: number
  repetitions?: number
  /** odd lines read from +kx to −kx (as an EPI would), flagged IS_REVERSE; default false */
  alternateReadDirection?: boolean
}

/** Readouts of a Cartesian 2D multi-slice or 3D acquisition, in acquisition order. */
export function * cartesianReadouts (options: CartesianPlanOptions): Generator<PlannedReadout> {
  const [nx, ny] = options.matrix
  const nz = options.matrix[2] ?? 1
  const fov = typeof options.fovM === 'number' ? [options.fovM, options.fovM, options.fovM] : options.fovM
  const os = options.oversampling ?? 1
  const slices = nz > 1 ? 1 : (options.slices ?? 1)
  const averages = options.averages ?? 1
  const repetitions = options.repetitions ?? 1
  const dwell = options.dwellS ?? 10e-6
  for (const [name, value] of Object.entries({ nx, ny, nz, slices, averages, repetitions })) {
    if (!Number.isInteger(value) || value < 1) throw new InvalidPlanError(`${name} = ${value}: needs a positive integer`)
  }
  if (!fov.every((f) => f > 0)) throw new InvalidPlanError(`field of view ${fov.join(' × ')} m`)
  if (os !== 1 && os !== 2) throw new InvalidPlanError(`oversampling ${String(os)}: 1 or 2`)
  if (!(dwell > 0) || !(options.teS >= 0)) throw new InvalidPlanError('needs dwell > 0 and TE ≥ 0')
  const spacing = options.sliceSpacingM ?? fov[2]
  const n = nx * os
  const centre = Math.floor(n / 2)
  const dkx = 1 / (fov[0] * os)
  const forward = new Float64Array(n)
  const backward = new Float64Array(n)
  for (let m = 0; m < n; m++) {
    forward[m] = (m - centre) * dkx
    backward[m] = -(m - centre) * dkx
  }
  const is3d = nz > 1

  function readout (line: number, partition: number, slice: number, average: number, repetition: number, reverse: boolean): PlannedReadout {
    const ky = (line - Math.floor(ny / 2)) / fov[1]
    const kz = is3d ? (partition - Math.floor(nz / 2)) / fov[2] : 0
    const planned: PlannedReadout = {
      kx: new Float64Array(reverse ? backward : forward),
      ky: new Float64Array(n).fill(ky),
      kz: new Float64Array(n).fill(kz),
      dwellS: dwell / os,
      timeFromExcitationS: options.teS,
      centerSample: centre,
      counters: { line, partition, slice, average, contrast: 0, repetition, set: 0, segment: 0 }
    }
    if (reverse) planned.isReverse = true
    if (!is3d && slices > 1) planned.sliceOffsetM = (slice - (slices - 1) / 2) * spacing
    return planned
  }

  const alternate = options.alternateReadDirection ?? false
  for (let repetition = 0; repetition < repetitions; repetition++) {
    for (let average = 0; average < averages; average++) {
      if (is3d) {
        for (let partition = 0; partition < nz; partition++) {
          for (let line = 0; line < ny; line++) yield readout(line, partition, 0, average, repetition, alternate && line % 2 === 1)
        }
      } else if ((options.sliceOrder ?? 'sequential') === 'sequential') {
        for (let slice = 0; slice < slices; slice++) {
          for (let line = 0; line < ny; line++) yield readout(line, 0, slice, average, repetition, alternate && line % 2 === 1)
        }
      } else {
        for (let line = 0; line < ny; line++) {
          for (let slice = 0; slice < slices; slice++) yield readout(line, 0, slice, average, repetition, alternate && line % 2 === 1)
        }
      }
    }
  }
}
