// The adjoint non-uniform FFT of one 2-D image, or of one stack of 2-D trajectories (a stack of
// stars: Cartesian partitions along kz), every coil at once: weighted samples gridded onto the
// oversampled grid (each partition onto its plane), centred inverse FFT of the grid (on the FFT
// runner's workers; along kz too when there are partitions), the centre cropped to the image matrix and
// divided by the kernel's transform in x and y (deapodisation). With density weights in Nyquist cells
// (density.ts), the result is Σ_s w_s · d_s · exp(+i2π k_s · x) at each pixel x: the scale of the
// Cartesian chain's unnormalised inverse FFT; `scale` multiplies the result.
import type { FftRunner } from '../fft/pool.ts'
import { alloc, PHS1_FLAG, PHS2_FLAG, READ_FLAG, type ArrayRecycler, type ComplexArray, type Dims } from '../stages/complex-array.ts'
import { gridSamples, type Footprints, type GridPlan } from './grid.ts'
import type { SampleSet } from './samples.ts'

/** The samples of one partition (one plane of kz), with their footprints and density weights (null: 1). */
export interface Partition {
  samples: SampleSet
  footprints: Footprints
  weights: Float32Array | null
}

/**
 * `partitions[z]` is plane z of k-space (index floor(Z/2) is kz = 0; undefined: not acquired, zero);
 * the image keeps the central `depth` of the Z partitions.
 */
export async function adjointNufft (
  partitions: ReadonlyArray<Partition | undefined>, coils: number, plan: GridPlan, fft: FftRunner,
  options: { arrays?: ArrayRecycler, scale?: number, depth?: number } = {}
): Promise<ComplexArray> {
  const [nx, ny] = plan.image
  const [mx, my] = plan.grid
  const planes = partitions.length
  const depth = options.depth ?? planes
  if (depth > planes) throw new RangeError(`${depth} image partitions from ${planes} k-space partitions`)
  const scale = options.scale ?? 1
  const arrays = options.arrays
  const gridDims: Dims = [mx, my, planes, coils]
  // shared memory: the pool's workers transform the coils of the grid in place
  const grid = arrays !== undefined ? arrays.alloc(gridDims, { shared: true }) : alloc(gridDims, { shared: true })
  partitions.forEach((p, z) => { if (p !== undefined) gridSamples(p.samples, p.footprints, p.weights, plan, grid.data, z, planes) })
  const flags = READ_FLAG | PHS1_FLAG | (planes > 1 ? PHS2_FLAG : 0)
  const image = await fft.fftn(gridDims, flags, grid.data, { inverse: true, centred: true })
  const outDims: Dims = [nx, ny, depth, coils]
  const out = arrays !== undefined ? arrays.alloc(outDims, { zero: false }) : alloc(outDims)
  const x0 = Math.floor(mx / 2) - Math.floor(nx / 2)
  const y0 = Math.floor(my / 2) - Math.floor(ny / 2)
  const z0 = Math.floor(planes / 2) - Math.floor(depth / 2)
  const deapodisation = plan.deapodisation
  const o = out.data
  for (let c = 0; c < coils; c++) {
    for (let z = 0; z < depth; z++) {
      for (let y = 0; y < ny; y++) {
        const from = 2 * (x0 + mx * (y + y0 + my * (z + z0 + planes * c)))
        const to = 2 * nx * (y + ny * (z + depth * c))
        const row = nx * y
        for (let x = 0; x < nx; x++) {
          const d = scale * deapodisation[row + x]
          o[to + 2 * x] = image[from + 2 * x] * d
          o[to + 2 * x + 1] = image[from + 2 * x + 1] * d
        }
      }
    }
  }
  arrays?.release({ dims: gridDims, data: image })
  return out
}
