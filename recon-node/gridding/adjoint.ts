// The adjoint non-uniform FFT of one 2-D image, every coil at once: weighted samples gridded onto the
// oversampled grid, centred inverse FFT of the grid (on the FFT runner's workers), the centre cropped to
// the image matrix and divided by the kernel's transform (deapodisation). With density weights in
// Nyquist cells (density.ts), the result is Σ_s w_s · d_s · exp(+i2π k_s · x) at each pixel x: the
// scale of the Cartesian chain's unnormalised inverse FFT; `scale` multiplies the result.
import type { FftRunner } from '../fft/pool.ts'
import { alloc, PHS1_FLAG, READ_FLAG, type ArrayRecycler, type ComplexArray, type Dims } from '../stages/complex-array.ts'
import { gridSamples, type Footprints, type GridPlan } from './grid.ts'
import type { SampleSet } from './samples.ts'

export async function adjointNufft (
  samples: SampleSet, f: Footprints, weights: Float32Array | null, plan: GridPlan,
  fft: FftRunner, arrays?: ArrayRecycler, scale = 1
): Promise<ComplexArray> {
  const [nx, ny] = plan.image
  const [mx, my] = plan.grid
  const coils = samples.coils
  const gridDims: Dims = [mx, my, 1, coils]
  // shared memory: the pool's workers transform the coils of the grid in place
  const grid = arrays !== undefined ? arrays.alloc(gridDims, { shared: true }) : alloc(gridDims, { shared: true })
  gridSamples(samples, f, weights, plan, grid.data)
  const image = await fft.fftn(gridDims, READ_FLAG | PHS1_FLAG, grid.data, { inverse: true, centred: true })
  const outDims: Dims = [nx, ny, 1, coils]
  const out = arrays !== undefined ? arrays.alloc(outDims, { zero: false }) : alloc(outDims)
  const x0 = Math.floor(mx / 2) - Math.floor(nx / 2)
  const y0 = Math.floor(my / 2) - Math.floor(ny / 2)
  const deapodisation = plan.deapodisation
  const o = out.data
  for (let c = 0; c < coils; c++) {
    for (let y = 0; y < ny; y++) {
      const from = 2 * (x0 + mx * (y + y0 + my * c))
      const to = 2 * nx * (y + ny * c)
      const row = nx * y
      for (let x = 0; x < nx; x++) {
        const d = scale * deapodisation[row + x]
        o[to + 2 * x] = image[from + 2 * x] * d
        o[to + 2 * x + 1] = image[from + 2 * x + 1] * d
      }
    }
  }
  arrays?.release({ dims: gridDims, data: image })
  return out
}
