// The chain of stages as data (Gadgetron's XML chains, as JSON): a list of stage names with their
// parameters, checked against each stage's declared parameters before anything runs.
import { accumulate } from '../stages/accumulate.ts'
import { coilCombineRss } from '../stages/coil-combine-rss.ts'
import { cropToReconSpace } from '../stages/crop-to-recon-space.ts'
import { epiNyquistCorrection } from '../stages/epi-nyquist-correction.ts'
import { epiRampRegrid } from '../stages/epi-ramp-regrid.ts'
import { InvalidParamError, UnknownStageError } from '../stages/errors.ts'
import { fft } from '../stages/fft.ts'
import { grappa } from '../stages/grappa.ts'
import { noisePrewhitening } from '../stages/noise-prewhitening.ts'
import { nufft } from '../stages/nufft.ts'
import { onnx } from '../stages/onnx.ts'
import { partialFourier } from '../stages/partial-fourier.ts'
import { removeOversampling } from '../stages/remove-oversampling.ts'
import { scale } from '../stages/scale.ts'
import type { ParamSpec, ParamTable, ParamValue, Stage } from '../stages/stage.ts'

export interface ChainStep {
  /** A key of STAGES. */
  stage: string
  /** Values for some of the stage's parameters; the others take their defaults. */
  params?: Record<string, ParamValue>
}

export type Chain = readonly ChainStep[]

/** Every stage by name. */
export const STAGES: Readonly<Record<string, Stage<ParamTable, unknown>>> = Object.freeze({
  [epiRampRegrid.name]: epiRampRegrid,
  [epiNyquistCorrection.name]: epiNyquistCorrection,
  [noisePrewhitening.name]: noisePrewhitening,
  [removeOversampling.name]: removeOversampling,
  [accumulate.name]: accumulate,
  [grappa.name]: grappa,
  [partialFourier.name]: partialFourier,
  [fft.name]: fft,
  [nufft.name]: nufft,
  [cropToReconSpace.name]: cropToReconSpace,
  [coilCombineRss.name]: coilCombineRss,
  [scale.name]: scale,
  [onnx.name]: onnx
})

/**
 * Cartesian 2-D/3-D magnitude reconstruction, Gadgetron's default chain without PCA coil compression:
 * remove readout oversampling, prewhiten, accumulate, inverse FFT, crop, RSS, scale to 12 bits.
 * Gadgetron prewhitens first; the two commute (the crop acts along the readout alike on every coil,
 * the whitening across coils sample by sample, and noise readouts pass the crop untouched), and
 * cropping first leaves the whitening half the samples.
 */
export const DEFAULT_CHAIN: Chain = Object.freeze([
  { stage: 'remove-oversampling' },
  { stage: 'noise-prewhitening' },
  { stage: 'accumulate' },
  { stage: 'fft' },
  { stage: 'crop-to-recon-space' },
  { stage: 'coil-combine-rss' },
  { stage: 'scale' }
])

/**
 * The same images as DEFAULT_CHAIN (to float rounding), with the heavy work on whole buffers in the
 * worker pool rather than on each readout in the main thread: readout oversampling is cropped after
 * the FFT, and prewhitening, which acts across coils only, is applied to the cropped images. For data
 * that is all there (files, re-reconstruction, benchmarks); it holds buffers with their oversampling
 * (twice the memory), and does its work when a slice is complete rather than while it is acquired.
 */
export const BATCH_CHAIN: Chain = Object.freeze([
  { stage: 'accumulate' },
  { stage: 'fft' },
  { stage: 'crop-to-recon-space' },
  { stage: 'noise-prewhitening' },
  { stage: 'coil-combine-rss' },
  { stage: 'scale' }
])

export interface ResolvedStep {
  stage: Stage<ParamTable, unknown>
  params: Record<string, ParamValue>
}

function check (stageName: string, key: string, spec: ParamSpec, value: unknown): ParamValue {
  const where = `${stageName}.${key}`
  const fail = (why: string): never => { throw new InvalidParamError(`${where}: ${why}, got ${JSON.stringify(value)}`) }
  switch (spec.type) {
    case 'number':
    case 'integer':
      if (typeof value !== 'number' || !Number.isFinite(value)) return fail('expected a number')
      if (spec.type === 'integer' && !Number.isSafeInteger(value)) return fail('expected an integer')
      if (spec.min !== undefined && value < spec.min) return fail(`expected at least ${spec.min}`)
      if (spec.max !== undefined && value > spec.max) return fail(`expected at most ${spec.max}`)
      return value
    case 'boolean':
      if (typeof value !== 'boolean') return fail('expected true or false')
      return value
    case 'string':
      if (typeof value !== 'string') return fail('expected a string')
      if (spec.choices !== undefined && !spec.choices.includes(value)) return fail(`expected one of ${spec.choices.join(', ')}`)
      return value
  }
}

/** Looks up each stage and completes its parameters; throws UnknownStageError / InvalidParamError. */
export function resolveChain (chain: Chain, stages: Readonly<Record<string, Stage<ParamTable, unknown>>> = STAGES): ResolvedStep[] {
  return chain.map((step) => {
    const stage = Object.hasOwn(stages, step.stage) ? stages[step.stage] : undefined
    if (stage === undefined) throw new UnknownStageError(`unknown stage "${step.stage}"; known: ${Object.keys(stages).join(', ')}`)
    const params: Record<string, ParamValue> = {}
    for (const key of Object.keys(step.params ?? {})) {
      if (!Object.hasOwn(stage.params, key)) throw new InvalidParamError(`${stage.name} has no parameter "${key}"; it has: ${Object.keys(stage.params).join(', ') || 'none'}`)
    }
    for (const [key, spec] of Object.entries(stage.params)) {
      const given = step.params?.[key]
      params[key] = given === undefined ? spec.default : check(stage.name, key, spec, given)
    }
    return { stage, params }
  })
}
