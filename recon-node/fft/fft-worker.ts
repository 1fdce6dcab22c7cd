// Entry of the FFT pool's worker threads (started by pool.ts): one job at a time, in place, an FFT of a
// strided block or a channel matrix on a range of samples. Shared memory comes back by itself; a
// transferred buffer is transferred back.
import { parentPort } from 'node:worker_threads'
import { applyLowerTriangular } from './channel-matrix.ts'
import { fftStrided, type FftOptions } from './fftn.ts'

export interface FftJob {
  op: 'fft'
  id: number
  /** The whole array: a view of shared memory, or a transferred buffer. */
  data: Float32Array
  /** The block to transform, in complex elements of `data`. */
  offset: number
  dims: number[]
  strides: number[]
  flags: number
  options: FftOptions
  /** Whether `data`'s buffer was transferred, so must be sent back. */
  transferred: boolean
}

/** applyLowerTriangular on samples [start, end) of channel-major data. */
export interface MatrixJob {
  op: 'matrix'
  id: number
  data: Float32Array
  matrix: Float64Array
  scale: number
  channels: number
  stride: number
  start: number
  end: number
  transferred: boolean
}

export type WorkerJob = FftJob | MatrixJob

export interface FftJobResult {
  id: number
  data?: Float32Array
  error?: string
}

const port = parentPort
if (port !== null) {
  port.on('message', (job: WorkerJob) => {
    try {
      if (job.op === 'fft') fftStrided({ data: job.data, offset: job.offset, dims: job.dims, strides: job.strides }, job.flags, job.options)
      else applyLowerTriangular(job.matrix, job.scale, job.data, job.channels, job.stride, job.start, job.end)
      if (job.transferred) port.postMessage({ id: job.id, data: job.data } satisfies FftJobResult, [job.data.buffer as ArrayBuffer])
      else port.postMessage({ id: job.id } satisfies FftJobResult)
    } catch (error) {
      port.postMessage({ id: job.id, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) } satisfies FftJobResult)
    }
  })
}
