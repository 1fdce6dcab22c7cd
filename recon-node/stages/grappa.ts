// Parallel imaging for undersampled Cartesian k-space (GRAPPA, Griswold et al. 2002), on k-space
// buffers between accumulation and the FFT. The chain must keep calibration lines in the buffers
// (accumulate with useCalibration: true): they are true k-space data, so they stay in the image too.
//
// From the buffer's sampling pattern (BufferMeta.sampled) it finds the acceleration R (the usual
// distance between acquired PHS1 lines, checked against the header's parallelImaging), the
// calibration block (the contiguous fully sampled lines around the k-space centre) and, for every
// missing line, its source lines; it learns one kernel per arrangement of sources on the calibration
// block and fills the missing lines, keeping the acquired ones as they are, and marks them sampled.
// Fully sampled buffers pass through untouched. Undersampled buffers that cannot be filled right (too
// few calibration lines, a header that contradicts the data, undersampling along PHS2, holes too long
// to bridge) are refused with a message that names what is missing.
import { AccelerationMismatchError, UnsupportedSamplingError } from './grappa-errors.ts'
import { applyKernel, fitKernel } from './grappa-kernel.ts'
import { hasNoGaps, linePattern } from './grappa-pattern.ts'
import { planFill } from './grappa-plan.ts'
import { defineStage, param, type BufferMessage, type Message, type ReconHeader } from './stage.ts'

/** Training rows per kernel at most; more only costs time (3-D buffers have many partitions). */
const MAX_TRAINING_SAMPLES = 16384

const params = {
  kernelLines: param.integer('Acquired PHS1 lines each kernel reads (half below the missing line, half above)', 2, { min: 1, max: 8 }),
  kernelReadout: param.integer('READ points per source line (odd; an even value is rounded up)', 5, { min: 1, max: 15 }),
  regularization: param.number('Tikhonov λ of the kernel fit, relative to the mean eigenvalue (trace / n) of the calibration Gram matrix', 1e-3, { min: 0, max: 1 }),
  maxHole: param.integer('Longest run of missing PHS1 lines between acquired ones, beyond the regular acceleration gap, that is filled', 3, { min: 0, max: 16 })
}

export interface GrappaState {
  warned: Set<string>
}

function contextOf (message: BufferMessage): string {
  const m = message.meta
  return `slice ${m.slice}, contrast ${m.contrast}, phase ${m.phase}, repetition ${m.repetition}, set ${m.set}`
}

function checkHeader (header: ReconHeader, step: number, context: string, warn: (key: string, message: string) => void): void {
  const stated = header.acceleration
  if (stated === undefined) {
    if (step > 1) warn('no-header', `the header states no parallel imaging, but acquired PHS1 lines are ${step} apart: filling them as acceleration ${step}`)
    return
  }
  if (stated.step2 > 1) {
    throw new UnsupportedSamplingError(`${context}: the header states acceleration ${stated.step2} along PHS2 (kspace_encoding_step_2): grappa fills lines along PHS1 only`)
  }
  if (stated.step1 !== step) {
    throw new AccelerationMismatchError(
      `${context}: the header states acceleration ${stated.step1} along PHS1 (parallelImaging accelerationFactor kspace_encoding_step_1), ` +
      `but the acquired lines are ${step} apart: the header contradicts the data. Correct the header or check which lines were acquired.`
    )
  }
}

export const grappa = defineStage<typeof params, GrappaState>({
  name: 'grappa',
  doc: 'Fills the PHS1 lines missing from undersampled Cartesian k-space by GRAPPA, with kernels learned on the fully sampled lines at the k-space centre',
  params,
  init: () => ({ warned: new Set() }),
  run (input: Message, p, ctx): Message[] {
    if (input.kind !== 'buffer' || input.domain !== 'kspace' || input.meta.sampled === undefined) return [input]
    const warnOnce = (key: string, message: string): void => {
      if (ctx.state.warned.has(key)) return
      ctx.state.warned.add(key)
      ctx.warn(message)
    }
    const { dims } = input.array
    const [nx, , , coils] = dims
    const context = contextOf(input)
    if (hasNoGaps(dims, input.meta.sampled)) {
      const stated = ctx.header.acceleration
      if (stated !== undefined && (stated.step1 > 1 || stated.step2 > 1)) {
        warnOnce('fully-sampled', `the header states acceleration ${stated.step1} × ${stated.step2}, but ${context} is fully sampled: passed through as it is`)
      }
      return [input]
    }
    const pattern = linePattern(dims, input.meta.sampled, context)
    checkHeader(ctx.header, pattern.step, context, warnOnce)
    const readout = Math.min(p.kernelReadout | 1, nx % 2 === 1 ? nx : nx - 1)
    const plan = planFill(pattern, { kernelLines: p.kernelLines, readout, coils, nx, maxHole: p.maxHole, context })
    const options = { readout, lambda: p.regularization, maxSamples: MAX_TRAINING_SAMPLES }
    // all kernels are fitted before any line is written, so that no fit ever learns from an estimate
    const weights = plan.groups.map((group) => fitKernel(input.array, group, pattern.calibration, pattern.partitions, options))
    plan.groups.forEach((group, i) => { applyKernel(input.array, group, weights[i], pattern.partitions, readout) })
    const sampled = input.meta.sampled.slice()
    const ny = pattern.ny
    for (const z of pattern.partitions) for (const y of plan.filled) sampled[y + ny * z] = 1
    return [{ ...input, meta: { ...input.meta, sampled } }]
  }
})
