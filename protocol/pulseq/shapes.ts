// Shape compression of the Pulseq format: the derivative of the samples, run-length coded. A value
// that appears twice in a row is followed by the number of further repeats, so 100 zeros are
// "0 0 98" and a constant 1.0 of 100 samples is "1 0 0 97" (specification, section "Compression").

/** Thrown by decompressShape; the reader turns it into a SeqParseError with a line number. */
export class ShapeFormatError extends Error {
  override readonly name = 'ShapeFormatError'
}

/**
 * Decompresses `data` into exactly `numSamples` samples. The caller bounds `numSamples`; the run
 * counts in `data` cannot make this allocate more, because every run is checked against it first.
 */
export function decompressShape (data: ArrayLike<number>, numSamples: number): Float64Array {
  const out = new Float64Array(numSamples)
  let n = 0
  let i = 0
  while (i < data.length) {
    const v = data[i]
    if (i + 1 < data.length && data[i + 1] === v) {
      if (i + 2 >= data.length) throw new ShapeFormatError('a repeated value is not followed by its repeat count')
      const extra = data[i + 2]
      if (!Number.isInteger(extra) || extra < 0) throw new ShapeFormatError(`repeat count ${extra} is not a non-negative integer`)
      const run = extra + 2
      if (run > numSamples - n) throw new ShapeFormatError(`decompresses to more than the declared ${numSamples} samples`)
      out.fill(v, n, n + run)
      n += run
      i += 3
    } else {
      if (n >= numSamples) throw new ShapeFormatError(`decompresses to more than the declared ${numSamples} samples`)
      out[n++] = v
      i += 1
    }
  }
  if (n !== numSamples) throw new ShapeFormatError(`decompresses to ${n} samples, but ${numSamples} are declared`)
  // The stored values are the derivative: integrate.
  let acc = 0
  for (let k = 0; k < numSamples; k++) {
    acc += out[k]
    out[k] = acc
  }
  return out
}

/**
 * Quantum of the compressed derivative. Samples are rounded to it before differencing, so that equal
 * steps (ramps, plateaus) become exactly equal numbers that the run-length coding can merge, and so
 * that rounding errors do not accumulate along the shape. Interpreters keep shapes in single
 * precision, whose resolution near 1 is about 6e-8; 1e-7 is the value the MATLAB toolbox uses.
 */
export const SHAPE_QUANTUM = 1e-7

/**
 * Compresses samples as the writer stores them. Returns the values to write; when they are not
 * shorter than the shape itself, the shape is returned unchanged, because the specification requires
 * a shape whose stored length equals num_samples to be read as uncompressed.
 */
export function compressShape (samples: ArrayLike<number>): { compressed: boolean, values: number[] } {
  const n = samples.length
  const derivative: number[] = []
  let prev = 0
  for (let k = 0; k < n; k++) {
    const q = Math.round(samples[k] / SHAPE_QUANTUM)
    derivative.push(q - prev)
    prev = q
  }
  const values: number[] = []
  let k = 0
  while (k < n) {
    let run = 1
    while (k + run < n && derivative[k + run] === derivative[k]) run++
    const v = derivative[k] * SHAPE_QUANTUM
    if (run === 1) {
      values.push(v)
    } else {
      values.push(v, v, run - 2)
    }
    k += run
    if (values.length >= n) break
  }
  if (values.length >= n) return { compressed: false, values: Array.from(samples) }
  return { compressed: true, values }
}
