// The public contract of recon-node/fft: FFTs of any length along any axes (BART's conventions), BART's
// file format, and the worker pool that runs them on every core.
export { fft, fftc, fftn, fftStrided, fftuc, ifft, ifftc, ifftuc, cropFieldOfView, FftShapeError } from './fftn.ts'
export type { FftOptions, StridedView } from './fftn.ts'
export { getPlan, FftSizeError } from './plan.ts'
export type { FftPlan } from './plan.ts'
export { applyLowerTriangular } from './channel-matrix.ts'
export { createFftPool, sharedFftPool, FftPool, InThreadFft, FftPoolClosedError, FftWorkerError } from './pool.ts'
export type { FftRunner, FftPoolInit } from './pool.ts'
export { readCfl, writeCfl, CflFormatError } from './cfl.ts'
