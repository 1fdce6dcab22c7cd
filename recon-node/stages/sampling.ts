// What a k-space buffer's sampling pattern says about it (BufferMeta.sampled, set by accumulation): lines
// missing BETWEEN acquired lines are undersampling, which an inverse FFT turns into aliasing that looks
// like anatomy. Lines missing only beyond the outermost acquired ones are zero filling (a larger matrix)
// or partial Fourier, which blur but do not fold. Stages that transform k-space to images check this and
// refuse aliased images.
import type { Dims } from './complex-array.ts'
import { UndersampledError } from './errors.ts'

export interface SamplingGaps {
  /** PHS1 lines missing between the first and last acquired line of some partition. */
  missing1: number
  /** acquired PHS1 line span (first to last, inclusive) where the gaps were counted */
  span1: number
  /** PHS2 partitions missing between the first and last acquired partition. */
  missing2: number
  span2: number
  /** the typical distance between acquired lines inside the span (1 = fully sampled) */
  step1: number
  step2: number
}

/** Counts the lines missing inside the acquired span along PHS1 (per partition) and PHS2. */
export function samplingGaps (dims: Dims, sampled: Uint8Array): SamplingGaps {
  const [, ny, nz] = dims
  let missing1 = 0
  let span1 = 0
  let runs1 = 0
  let gapsCounted1 = 0
  const partitionAcquired = new Uint8Array(nz)
  for (let z = 0; z < nz; z++) {
    let first = -1
    let last = -1
    for (let y = 0; y < ny; y++) {
      if (sampled[y + ny * z] !== 0) {
        if (first < 0) first = y
        last = y
      }
    }
    if (first < 0) continue
    partitionAcquired[z] = 1
    span1 = Math.max(span1, last - first + 1)
    let acquired = 0
    for (let y = first; y <= last; y++) {
      if (sampled[y + ny * z] === 0) missing1++
      else acquired++
    }
    runs1 += last - first
    gapsCounted1 += acquired - 1
  }
  let first2 = -1
  let last2 = -1
  for (let z = 0; z < nz; z++) {
    if (partitionAcquired[z] !== 0) {
      if (first2 < 0) first2 = z
      last2 = z
    }
  }
  let missing2 = 0
  let acquired2 = 0
  for (let z = Math.max(first2, 0); z <= last2; z++) {
    if (partitionAcquired[z] === 0) missing2++
    else acquired2++
  }
  const span2 = first2 < 0 ? 0 : last2 - first2 + 1
  return {
    missing1,
    span1,
    missing2,
    span2,
    step1: gapsCounted1 > 0 ? Math.round((runs1 / gapsCounted1) * 10) / 10 : 1,
    step2: acquired2 > 1 ? Math.round(((span2 - 1) / (acquired2 - 1)) * 10) / 10 : 1
  }
}

/**
 * Throws UndersampledError when lines are missing between acquired ones: an inverse FFT would fold the
 * image onto itself. `context` names the buffer in the message.
 */
export function refuseUndersampled (dims: Dims, sampled: Uint8Array | undefined, context: string): void {
  if (sampled === undefined) return
  const gaps = samplingGaps(dims, sampled)
  if (gaps.missing1 === 0 && gaps.missing2 === 0) return
  const parts: string[] = []
  if (gaps.missing1 > 0) parts.push(`${gaps.missing1} phase-encoding lines are missing inside the acquired range (about 1 line in ${gaps.step1} acquired)`)
  if (gaps.missing2 > 0) parts.push(`${gaps.missing2} partitions are missing inside the acquired range`)
  throw new UndersampledError(
    `${context}: k-space is undersampled: ${parts.join('; ')}. An inverse FFT would give an aliased image. ` +
    'Reconstruct it with parallel imaging (the "grappa" stage, which needs fully sampled calibration lines at the centre of k-space), ' +
    'or acquire the missing lines.'
  )
}
