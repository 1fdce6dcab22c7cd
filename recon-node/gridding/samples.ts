// The non-Cartesian samples of one image (one slice, contrast, phase, repetition and set), gathered
// readout by readout: per sample its k-space position (ISMRMRD's normalised units, k·Δx: ±0.5 at the
// edge of the reconstructed matrix) and its value in every coil. Values are kept sample-major (all
// coils of a sample side by side), the order in which gridding reads them. Arrays grow by doubling.

export class SampleSet {
  count = 0
  kx: Float32Array
  ky: Float32Array
  /** 2 · coils floats per sample: re, im of coil 0, then coil 1, ... */
  data: Float32Array

  constructor (readonly coils: number, capacity = 4096) {
    this.kx = new Float32Array(capacity)
    this.ky = new Float32Array(capacity)
    this.data = new Float32Array(2 * coils * capacity)
  }

  private reserve (more: number): void {
    const needed = this.count + more
    if (needed <= this.kx.length) return
    let capacity = this.kx.length
    while (capacity < needed) capacity *= 2
    const grow = (a: Float32Array, perSample: number): Float32Array => {
      const b = new Float32Array(perSample * capacity)
      b.set(a.subarray(0, perSample * this.count))
      return b
    }
    this.kx = grow(this.kx, 1)
    this.ky = grow(this.ky, 1)
    this.data = grow(this.data, 2 * this.coils)
  }

  /**
   * Appends samples [first, last) of a readout: `traj` holds `dims` coordinates per sample (kx, ky
   * first), `data` is channel-major (coil c's samples at 2 · c · samples), as in an ISMRMRD acquisition.
   * Samples for which `keep` says no are skipped.
   */
  addReadout (traj: Float32Array, dims: number, data: Float32Array, samples: number, first: number, last: number, keep: (kx: number, ky: number) => boolean): number {
    this.reserve(last - first)
    const coils = this.coils
    let n = this.count
    for (let s = first; s < last; s++) {
      const kx = traj[dims * s]
      const ky = traj[dims * s + 1]
      if (!keep(kx, ky)) continue
      this.kx[n] = kx
      this.ky[n] = ky
      const to = 2 * coils * n
      for (let c = 0; c < coils; c++) {
        const from = 2 * (c * samples + s)
        this.data[to + 2 * c] = data[from]
        this.data[to + 2 * c + 1] = data[from + 1]
      }
      n++
    }
    const added = n - this.count
    this.count = n
    return added
  }
}
