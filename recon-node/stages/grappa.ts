// Parallel imaging for undersampled Cartesian k-space (GRAPPA, Griswold et al. 2002), on k-space
// buffers between accumulation and the FFT. The chain must keep calibration lines in the buffers
// (accumulate with useCalibration: true): they are true k-space data, so they stay in the image too.
//
// From the buffer's sampling pattern (BufferMeta.sampled) it finds the undersampled axis (PHS1, or
// PHS2 for 3-D), the acceleration R along it (the usual distance between acquired lines, checked
// against the header's parallelImaging), the
// calibration block (the contiguous fully sampled lines around the k-space centre) and, for every
// missing line, its source lines; it learns one kernel per arrangement of sources on the calibration
// block and fills the missing lines, keeping the acquired ones as they are, and marks them sampled.
// Fully sampled buffers pass through untouched. Undersampled buffers that cannot be filled right (too
// few calibration lines, a header that contradicts the data, undersampling along both PHS1 and PHS2,
// holes too long to bridge, fewer coils than the acceleration) are refused with a message that names what is missing.
import { fftuc, ifftuc } from '../fft/fftn.ts'
import { PHS2_FLAG, type ComplexArray } from './complex-array.ts'
import { AccelerationMismatchError, UnsupportedSamplingError } from './grappa-errors.ts'
import { applyKernel, fitKernel } from './grappa-kernel.ts'
import { gapAxes, linePattern, PHS1_AXES, PHS2_AXES, swapPhaseAxes, swapSampled, type AxisNames } from './grappa-pattern.ts'
import { planFill } from './grappa-plan.ts'
import { defineStage, param, type BufferMessage, type Message, type ParamValues, type ReconHeader } from './stage.ts'

/** Training rows per kernel at most; more only costs time (3-D buffers have many partitions). */
const MAX_TRAINING_SAMPLES = 16384

const params = {
  kernelLines: param.integer('Acquired lines each kernel reads along the undersampled axis (half below the missing line, half above)', 2, { min: 1, max: 8 }),
  kernelReadout: param.integer('READ points per source line (odd; an even value is rounded up)', 5, { min: 1, max: 15 }),
  regularization: param.number('Tikhonov λ of the kernel fit, relative to the mean eigenvalue (trace / n) of the calibration Gram matrix', 1e-3, { min: 0, max: 1 }),
  maxHole: param.integer('Longest run of missing lines between acquired ones, beyond the regular acceleration gap, that is filled', 3, { min: 0, max: 16 })
}

export interface GrappaState {
  warned: Set<string>
}

function contextOf (message: BufferMessage): string {
  const m = message.meta
  return `slice ${m.slice}, contrast ${m.contrast}, phase ${m.phase}, repetition ${m.repetition}, set ${m.set}`
}

function checkHeader (header: ReconHeader, axes: AxisNames, step: number, context: string, warn: (key: string, message: string) => void): void {
  const stated = header.acceleration
  if (stated === undefined) {
    if (step > 1) warn('no-header', `the header states no parallel imaging, but acquired ${axes.along} lines are ${step} apart: filling them as acceleration ${step}`)
    return
  }
  const field = (axis: 'PHS1' | 'PHS2'): string => `parallelImaging accelerationFactor kspace_encoding_step_${axis === 'PHS1' ? 1 : 2}`
  const along = axes.along === 'PHS1' ? stated.step1 : stated.step2
  const across = axes.along === 'PHS1' ? stated.step2 : stated.step1
  if (across > 1) {
    throw new AccelerationMismatchError(
      `${context}: the header states acceleration ${across} along ${axes.across} (${field(axes.across)}), but no ${axes.across} line is missing between acquired ones: ` +
      'the header contradicts the data. Correct the header or check which lines were acquired.'
    )
  }
  if (along !== step) {
    throw new AccelerationMismatchError(
      `${context}: the header states acceleration ${along} along ${axes.along} (${field(axes.along)}), ` +
      `but the acquired lines are ${step} apart: the header contradicts the data. Correct the header or check which lines were acquired.`
    )
  }
}

/**
 * Fills the lines missing along PHS1 of `array` in place; returns the indices (y + ny·z) it filled.
 * `axes` names the axes for messages and the header check (PHS2 when the caller swapped them).
 *
 * With partitions (3-D) the kernels are learned and applied per partition in hybrid space (inverse
 * FFT along PHS2 first), where each partition is a plane of the object with coil sensitivities of
 * its own: one k-space kernel for all partitions would ignore how the sensitivities vary along PHS2.
 * The work is done on a copy, and only the filled lines are written back, so that acquired lines
 * stay exactly as they were.
 */
function fillAlongPhs1 (array: ComplexArray, sampled: Uint8Array, p: ParamValues<typeof params>, header: ReconHeader, axes: AxisNames, context: string, warn: (key: string, message: string) => void): number[] {
  const { dims } = array
  const [nx, ny, nz, coils] = dims
  const pattern = linePattern(dims, sampled, context, axes)
  checkHeader(header, axes, pattern.step, context, warn)
  const readout = Math.min(p.kernelReadout | 1, nx % 2 === 1 ? nx : nx - 1)
  const hybrid = nz > 1
  const plan = planFill(pattern, { kernelLines: p.kernelLines, readout, coils, nx, maxHole: p.maxHole, context, axes, trainingPartitions: hybrid ? 1 : pattern.partitions.length })
  const options = { readout, lambda: p.regularization, maxSamples: MAX_TRAINING_SAMPLES }
  const filled: number[] = []
  for (const z of pattern.partitions) for (const y of plan.filled) filled.push(y + ny * z)
  if (!hybrid) {
    // all kernels are fitted before any line is written, so that no fit ever learns from an estimate
    const weights = plan.groups.map((group) => fitKernel(array, group, pattern.calibration, pattern.partitions, options))
    plan.groups.forEach((group, i) => { applyKernel(array, group, weights[i], pattern.partitions, readout) })
    return filled
  }
  const work: ComplexArray = { dims, data: array.data.slice() }
  ifftuc(dims, PHS2_FLAG, work.data, work.data)
  for (let z = 0; z < nz; z++) {
    const weights = plan.groups.map((group) => fitKernel(work, group, pattern.calibration, [z], options))
    plan.groups.forEach((group, i) => { applyKernel(work, group, weights[i], [z], readout) })
  }
  fftuc(dims, PHS2_FLAG, work.data, work.data)
  for (const line of filled) {
    for (let c = 0; c < coils; c++) {
      const from = 2 * nx * (line + ny * nz * c)
      array.data.set(work.data.subarray(from, from + 2 * nx), from)
    }
  }
  return filled
}

export const grappa = defineStage<typeof params, GrappaState>({
  name: 'grappa',
  doc: 'Fills the lines missing from undersampled Cartesian k-space (along PHS1 or PHS2) by GRAPPA, with kernels learned on the fully sampled lines at the k-space centre',
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
    const context = contextOf(input)
    const gaps = gapAxes(dims, input.meta.sampled)
    if (!gaps.phs1 && !gaps.phs2) {
      const stated = ctx.header.acceleration
      if (stated !== undefined && (stated.step1 > 1 || stated.step2 > 1)) {
        warnOnce('fully-sampled', `the header states acceleration ${stated.step1} × ${stated.step2}, but ${context} is fully sampled: passed through as it is`)
      }
      return [input]
    }
    if (gaps.phs1 && gaps.phs2) {
      throw new UnsupportedSamplingError(`${context}: lines are missing between acquired ones along both PHS1 and PHS2 (2-D acceleration): grappa fills lines along one phase axis only. Reconstruct it with a method for 2-D undersampling.`)
    }
    const sampled = input.meta.sampled.slice()
    if (gaps.phs1) {
      for (const i of fillAlongPhs1(input.array, input.meta.sampled, p, ctx.header, PHS1_AXES, context, warnOnce)) sampled[i] = 1
    } else {
      // the same fill with PHS2 in the place of PHS1, on a copy with the axes swapped (one buffer more
      // for the time of the fill), written back in place
      const swapped = swapPhaseAxes(dims, input.array.data)
      const swappedSampled = swapSampled(dims, input.meta.sampled)
      const ny = dims[1]
      for (const i of fillAlongPhs1(swapped, swappedSampled, p, ctx.header, PHS2_AXES, context, warnOnce)) {
        const z = i % dims[2]
        const y = (i - z) / dims[2]
        sampled[y + ny * z] = 1
      }
      swapPhaseAxes(swapped.dims, swapped.data, input.array.data)
    }
    return [{ ...input, meta: { ...input.meta, sampled } }]
  }
})
