// Density compensation by Pipe and Menon's iteration (Magn Reson Med 41:179, 1999), in its gridded
// form: w ← w / (C ⊛ (C ⊛ w)) evaluated at the samples, where C ⊛ w spreads the weights onto the
// oversampled grid with the gridding kernel and the second C interpolates back. It asks nothing of
// the trajectory's shape, so radial, golden-angle, centre-out half-spokes and spirals are alike; the
// weights converge to the inverse of the local sampling density as the kernel sees it.
//
// Units: at the fixed point, w · ρ · K² = 1 for a locally uniform density ρ (samples per grid cell²)
// and K = Σ_m C(m − u) ≈ ĉ(0)² (the 2-D kernel's integral). The weights are rescaled so that samples
// on a Cartesian lattice at the Nyquist spacing of the reconstructed matrix (ρ = Nx·Ny / (Mx·My))
// weigh 1: a weight is the k-space area a sample stands for, in Nyquist cells. So the gridded image
// has the scale of the Cartesian reconstruction (accumulate and fft): the unnormalised inverse DFT.
import { gridReal, interpolateReal, type Footprints, type GridPlan } from './grid.ts'
import { kernelTransform } from './kaiser-bessel.ts'

export function pipeMenonWeights (f: Footprints, plan: GridPlan, iterations: number): Float32Array {
  const count = f.count
  const [nx, ny] = plan.image
  const [mx, my] = plan.grid
  const w = new Float64Array(count).fill(1)
  const grid = new Float64Array(mx * my)
  const density = new Float64Array(count)
  for (let i = 0; i < iterations; i++) {
    grid.fill(0)
    gridReal(f, w, plan, grid)
    interpolateReal(f, grid, plan, density)
    for (let s = 0; s < count; s++) w[s] = density[s] > 0 ? w[s] / density[s] : 0
  }
  const area = kernelTransform(plan.kernel, 0) ** 2
  const scale = area * area * (nx * ny) / (mx * my)
  const out = new Float32Array(count)
  for (let s = 0; s < count; s++) out[s] = w[s] * scale
  return out
}
