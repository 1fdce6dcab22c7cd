// The public contract of the reconstruction pipeline: run a chain of stages over a stream of
// acquisitions and get images as they are ready.
export { runPipeline } from './run.ts'
export type { ReconProgress, ReconSummary, RunOptions } from './run.ts'
export { BATCH_CHAIN, DEFAULT_CHAIN, resolveChain, STAGES } from './chain.ts'
export type { Chain, ChainStep, ResolvedStep } from './chain.ts'
export { toReconImages } from './image.ts'
export type { ReconImage } from './image.ts'
export { benchmarkRecon } from './bench.ts'
export type { BenchmarkInit } from './bench.ts'
export type { Matrix3, Limit, ReconHeader, Triple } from '../stages/stage.ts'
export { InvalidParamError, PipelineAbortedError, UnknownStageError } from '../stages/errors.ts'
