// Which missing lines GRAPPA fills, from which source lines, and whether the calibration block can
// teach every kernel that needs: a kernel of n unknowns (sources × readout points × coils) needs its
// whole window (sources and target) inside the calibration block, at enough positions that the
// training rows number at least TRAINING_FACTOR × n; with fewer the least-squares fit learns the noise
// rather than the coils. Anything that cannot be filled right is refused here, naming what is missing.
import { GrappaCalibrationError, UnsupportedSamplingError } from './grappa-errors.ts'
import { rowsPerBase, trainingBases, windowOf, type KernelGroup } from './grappa-kernel.ts'
import { missingRuns, PHS1_AXES, sourcesFor, type AxisNames, type LinePattern } from './grappa-pattern.ts'

/** Training rows per unknown weight, at least. */
export const TRAINING_FACTOR = 2

export interface PlanOptions {
  /** Source lines per kernel (half below the target, half above, the extra one below when odd). */
  kernelLines: number
  /** Points along READ per source line (odd). */
  readout: number
  coils: number
  /** READ length of the buffer. */
  nx: number
  /** Longest run of missing lines between acquired ones, beyond the regular step, that is bridged. */
  maxHole: number
  /** Names the buffer in messages. */
  context: string
  /** The axis the lines are counted along, for messages (default PHS1). */
  axes?: AxisNames
  /** Partitions whose rows train one kernel (default: every partition that holds data). */
  trainingPartitions?: number
}

export interface FillPlan {
  groups: KernelGroup[]
  /** Lines that will be filled. */
  filled: number[]
}

/** Calibration lines needed by a kernel whose window spans `span` lines, with `unknowns` weights. */
export function calibrationLinesNeeded (span: number, unknowns: number, options: Pick<PlanOptions, 'nx' | 'readout'>, partitions: number): number {
  const perBase = rowsPerBase(options.nx, options.readout, partitions)
  const bases = perBase > 0 ? Math.max(1, Math.ceil(TRAINING_FACTOR * unknowns / perBase)) : Infinity
  return span + bases - 1
}

function trainable (sources: number[], y: number, calibration: LinePattern['calibration'], options: PlanOptions, partitions: number): boolean {
  const group = { sources: sources.map((s) => s - sources[0]), targets: [y - sources[0]] }
  const { low, high } = windowOf(group)
  const needed = calibrationLinesNeeded(high - low + 1, sources.length * options.readout * options.coils, options, partitions)
  return trainingBases(group, calibration).count > 0 && calibration.count >= needed
}

function describe (pattern: LinePattern, axis: string): string {
  if (pattern.step > 1) return `undersampled by ${pattern.step} along ${axis}`
  return `undersampled (${pattern.missingInside} ${axis} line${pattern.missingInside === 1 ? '' : 's'} missing between acquired ones)`
}

function calibrationWording (count: number): string {
  return count === 0 ? 'with no calibration lines' : `with only ${count} calibration line${count === 1 ? '' : 's'}`
}

/** The window of the regular kernel: sources on the lattice around a missing line between them. */
function regularSpan (pattern: LinePattern, kernelLines: number): number {
  return pattern.step > 1 ? (kernelLines - 1) * pattern.step + 1 : kernelLines + 1
}

/**
 * The kernels and lines to fill for an undersampled pattern. Throws GrappaCalibrationError when the
 * calibration block is too small for the kernel, UnsupportedSamplingError for holes too long to bridge.
 */
export function planFill (pattern: LinePattern, options: PlanOptions): FillPlan {
  const { kernelLines, readout, coils, context } = options
  const axis = (options.axes ?? PHS1_AXES).along
  const partitions = options.trainingPartitions ?? pattern.partitions.length
  const below = Math.ceil(kernelLines / 2)
  const above = Math.floor(kernelLines / 2)
  const bridged = Math.max(pattern.step - 1, options.maxHole)

  const toFill: number[] = []
  const runs = missingRuns(pattern)
  for (const run of runs) {
    const length = run.end - run.start
    if (run.inside) {
      if (length > bridged) {
        throw new UnsupportedSamplingError(
          `${context}: ${axis} lines ${run.start} to ${run.end - 1} (${length} in a row) are missing between acquired ones; with lines ` +
          `${pattern.step} apart GRAPPA bridges at most ${bridged} missing lines (the grappa parameter maxHole). ` +
          'Acquire the missing lines, or reconstruct with a method made for irregular sampling.'
        )
      }
      for (let y = run.start; y < run.end; y++) toFill.push(y)
    } else if (pattern.step > 1 && length < pattern.step) {
      // the lattice's own lines next to the buffer's edge; longer runs are zero filling or partial Fourier
      for (let y = run.start; y < run.end; y++) toFill.push(y)
    }
  }

  // R lines folded onto each other can only be told apart by at least R coils with different
  // sensitivities; fewer give a plausible image with the aliasing still in it
  const longestRun = Math.max(0, ...runs.filter((run) => run.inside).map((run) => run.end - run.start))
  if (coils < longestRun + 1) {
    throw new UnsupportedSamplingError(
      `${context}: k-space is ${describe(pattern, axis)} (up to ${longestRun} missing lines in a row) but has ${coils} receive coil${coils === 1 ? '' : 's'}: ` +
      `GRAPPA needs at least ${longestRun + 1} coils with different sensitivities to recover what the undersampling folds. ` +
      'Acquire with more coils or fully sampled.'
    )
  }
  const needed = calibrationLinesNeeded(regularSpan(pattern, kernelLines), kernelLines * readout * coils, options, partitions)
  if (pattern.calibration.count < needed) {
    throw new GrappaCalibrationError(
      `${context}: k-space is ${describe(pattern, axis)} ${calibrationWording(pattern.calibration.count)}: GRAPPA needs at least ` +
      `${needed} fully sampled lines at the centre of k-space (found ${pattern.calibration.count}) to fit its kernel of ` +
      `${kernelLines} lines × ${readout} readout points × ${coils} coils. Acquire a calibration region at the centre ` +
      '(embedded or interleaved IS_PARALLEL_CALIBRATION lines, kept in the buffer with accumulate useCalibration: true), or a smaller kernel.'
    )
  }

  const groups = new Map<string, KernelGroup>()
  const reach = (bridged + 1) * Math.max(below, above)
  for (const y of toFill) {
    const sources = sourcesFor(y, pattern, below, above, reach)
    while (sources.length > 1 && !trainable(sources, y, pattern.calibration, options, partitions)) {
      // drop the source farthest from the target: a smaller window fits the calibration block
      const farLow = y - sources[0]
      const farHigh = sources[sources.length - 1] - y
      if (farLow >= farHigh) sources.shift()
      else sources.pop()
    }
    if (sources.length === 0 || !trainable(sources, y, pattern.calibration, options, partitions)) {
      const span = sources.length === 0 ? 0 : Math.max(y, sources[sources.length - 1]) - Math.min(y, sources[0]) + 1
      throw new GrappaCalibrationError(
        `${context}: ${axis} line ${y} has no acquired neighbours whose kernel the calibration block can teach ` +
        `(${pattern.calibration.count} fully sampled lines at the centre of k-space; this line's kernel needs ` +
        `${sources.length === 0 ? 'acquired lines nearby' : `${calibrationLinesNeeded(span, sources.length * readout * coils, options, partitions)}`}). ` +
        'Acquire a larger calibration region.'
      )
    }
    const relative = sources.map((s) => s - sources[0])
    const target = y - sources[0]
    const insideSpan = target > 0 && target < relative[relative.length - 1]
    const key = `${relative.join(',')}|${insideSpan ? 'in' : target}`
    let group = groups.get(key)
    if (group === undefined) {
      group = { sources: relative, targets: [], fills: [] }
      groups.set(key, group)
    }
    let index = group.targets.indexOf(target)
    if (index < 0) {
      index = group.targets.length
      group.targets.push(target)
    }
    group.fills.push({ base: sources[0], target: index })
  }
  return { groups: [...groups.values()], filled: toFill }
}
