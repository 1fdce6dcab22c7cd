// y = scale * W x across the channels of every sample: the kernel of noise prewhitening, run on one
// readout in the calling thread or on whole buffers in the worker pool. Data is channel-major complex
// float32 (channel c of sample i at complex index offset + c * stride + i): one readout
// (stride = samples) or a [X, Y, Z, C] buffer (stride = X * Y * Z) alike.

/**
 * In place, for samples [start, end): y_c = scale * sum_{d <= c} W[c][d] x_d, W lower triangular,
 * complex, row-major (W[c][d] at 2 * (c * channels + d)). Rows are computed from the last channel to
 * the first, so each reads only channels not yet overwritten.
 */
export function applyLowerTriangular (
  w: Float64Array, scale: number, data: Float32Array, channels: number, stride: number, start: number, end: number
): void {
  const n2 = 2 * (end - start)
  if (n2 <= 0) return
  const row = new Float64Array(n2)
  for (let c = channels - 1; c >= 0; c--) {
    row.fill(0)
    // two input channels per pass: half the loads and stores of the accumulator
    let d = 0
    for (; d + 1 <= c; d += 2) {
      const ar = scale * w[2 * (c * channels + d)]
      const ai = scale * w[2 * (c * channels + d) + 1]
      const br = scale * w[2 * (c * channels + d + 1)]
      const bi = scale * w[2 * (c * channels + d + 1) + 1]
      const ra = 2 * (d * stride + start)
      const rb = ra + 2 * stride
      for (let s = 0; s < n2; s += 2) {
        const xr = data[ra + s]
        const xi = data[ra + s + 1]
        const yr = data[rb + s]
        const yi = data[rb + s + 1]
        row[s] += ar * xr - ai * xi + br * yr - bi * yi
        row[s + 1] += ar * xi + ai * xr + br * yi + bi * yr
      }
    }
    if (d === c) {
      const ar = scale * w[2 * (c * channels + d)]
      const ai = scale * w[2 * (c * channels + d) + 1]
      const ra = 2 * (d * stride + start)
      for (let s = 0; s < n2; s += 2) {
        const xr = data[ra + s]
        const xi = data[ra + s + 1]
        row[s] += ar * xr - ai * xi
        row[s + 1] += ar * xi + ai * xr
      }
    }
    data.set(row, 2 * (c * stride + start))
  }
}
