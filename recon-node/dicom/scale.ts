// Magnitude images to stored pixel values.
//
// Choice: scale linearly to unsigned 12-bit values, 0..4095, with zero kept at zero (stored =
// round(magnitude × 4095 / maxValue)), and write no RescaleSlope/Intercept. The classic MR Image IOD
// has no Modality LUT module, so a rescale there is outside the IOD and many MR viewers ignore it;
// 12 bits stored in 16 allocated is what scanners and Gadgetron's DICOM output use, so every viewer's
// defaults suit it. Magnitude data has no physical unit, so only the relative scale matters: pass the
// series' maximum as maxValue and all its slices share one scale.

export const BITS_STORED = 12
export const MAX_STORED_VALUE = (1 << BITS_STORED) - 1

export interface StoredPixels {
  pixels: Uint16Array
  /** Stored value per unit of magnitude. */
  scale: number
  /** Smallest and largest stored value, for Smallest/LargestImagePixelValue and the default window. */
  min: number
  max: number
}

/** The largest finite value of an image (0 for an empty or all-NaN one). */
export function maxMagnitude (magnitude: Float32Array): number {
  let max = 0
  for (const v of magnitude) if (v > max && Number.isFinite(v)) max = v
  return max
}

/**
 * Scales magnitudes so that maxValue (default: the image's own maximum) becomes 4095. Negative values
 * and NaN become 0; values above maxValue are clipped to 4095.
 */
export function scaleToStored (magnitude: Float32Array, maxValue: number = maxMagnitude(magnitude)): StoredPixels {
  const scale = maxValue > 0 && Number.isFinite(maxValue) ? MAX_STORED_VALUE / maxValue : 0
  const pixels = new Uint16Array(magnitude.length)
  let min = MAX_STORED_VALUE
  let max = 0
  for (let i = 0; i < magnitude.length; i++) {
    const scaled = Math.round(magnitude[i] * scale)
    // NaN fails both comparisons and lands on 0 through the last branch.
    const v = scaled >= MAX_STORED_VALUE ? MAX_STORED_VALUE : scaled > 0 ? scaled : 0
    pixels[i] = v
    if (v < min) min = v
    if (v > max) max = v
  }
  if (magnitude.length === 0) min = 0
  return { pixels, scale, min, max }
}
