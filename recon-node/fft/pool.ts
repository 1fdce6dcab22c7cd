// A pool of worker threads for the big FFTs of reconstruction (2-D/3-D inverse FFTs of every coil of
// every slice). Data on a SharedArrayBuffer (what the accumulate stage allocates) is transformed in
// place: each worker gets a strided block of the same memory, so one array is split across all cores
// with no copy at all. Data on an ordinary ArrayBuffer that it owns whole is transferred to one worker
// and back (no copy either, but no splitting: a transfer moves the whole buffer). Anything small runs
// in the calling thread, where a round trip to a worker would cost more than the FFT.
//
// Workers are started on first use and do not keep the process alive while idle (unref), so a pool
// needs no explicit close() in short scripts; close() ends them for tests and services that stop.
import { createHash } from 'node:crypto'
import { existsSync, renameSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { applyLowerTriangular } from './channel-matrix.ts'
import { activeFlags, contiguousStrides, elementCount, fftn, FftShapeError, type FftOptions } from './fftn.ts'
import type { FftJobResult, WorkerJob } from './fft-worker.ts'

/**
 * What the stages need from the engine that runs their heavy whole-array kernels (FFTs, and the
 * channel matrix of prewhitening): the worker pool below or the in-thread one.
 */
export interface FftRunner {
  /** How many FFTs it runs at once (worker threads); absent means one. */
  readonly size?: number
  /**
   * FFT, in place, of contiguous complex data (see fftn.ts for `dims`, `flags` and `options`). Resolves to
   * the array holding the result: `data` itself, except when its buffer was transferred to a worker,
   * in which case it is a new view of the same memory and `data` is left detached.
   */
  fftn: (dims: readonly number[], flags: number, data: Float32Array, options?: FftOptions) => Promise<Float32Array>
  /**
   * In place y = scale * W x across the channels of each of `samples` samples of channel-major data
   * (a [X, Y, Z, C] buffer: samples = X * Y * Z), W lower triangular (see channel-matrix.ts).
   * Resolves to the array holding the result, as fftn.
   */
  applyChannelMatrix: (samples: number, channels: number, matrix: Float64Array, scale: number, data: Float32Array) => Promise<Float32Array>
}

export interface FftPoolInit {
  /** Number of worker threads; default: os.availableParallelism(). */
  size?: number
  /** Arrays with fewer complex elements run in the calling thread; default 16384 (a 128 x 128 image). */
  minParallelElements?: number
}

/** A worker failed (crashed, or threw on a job). */
export class FftWorkerError extends Error {
  override name = 'FftWorkerError'
}

/** The pool was closed while the job waited or ran. */
export class FftPoolClosedError extends Error {
  override name = 'FftPoolClosedError'
}

const DEFAULT_MIN_PARALLEL_ELEMENTS = 16384

/** Runs every FFT in the calling thread: for tests, tiny jobs and places without workers. */
export class InThreadFft implements FftRunner {
  readonly size = 1

  async fftn (dims: readonly number[], flags: number, data: Float32Array, options: FftOptions = {}): Promise<Float32Array> {
    fftn(dims, flags, data, data, options)
    return data
  }

  async applyChannelMatrix (samples: number, channels: number, matrix: Float64Array, scale: number, data: Float32Array): Promise<Float32Array> {
    checkChannels(samples, channels, matrix, data)
    applyLowerTriangular(matrix, scale, data, channels, samples, 0, samples)
    return data
  }
}

function checkChannels (samples: number, channels: number, matrix: Float64Array, data: Float32Array): void {
  if (data.length !== 2 * samples * channels || matrix.length !== 2 * channels * channels) {
    throw new FftShapeError(`${channels} channels x ${samples} samples need ${2 * samples * channels} floats and a ${2 * channels * channels}-value matrix, got ${data.length} and ${matrix.length}`)
  }
}

interface Pending {
  job: WorkerJob
  transfer: ArrayBuffer[]
  resolve: (result: FftJobResult) => void
  reject: (error: Error) => void
}

interface Slot {
  worker: Worker
  busy: Pending | null
}

// The worker entry is TypeScript when we run from source (vitest, `node --import tsx`). A worker does
// not inherit the module hooks that tsx installs in the main thread, and loading tsx in every worker
// costs each of them tens of MB: so the worker's code is bundled once per process into one small
// JavaScript module (esbuild, which tsx itself uses) and each worker starts from that file.
function workerBootstrap (): string {
  const ts = import.meta.url.endsWith('.ts')
  const entry = new URL(`./fft-worker.${ts ? 'ts' : 'js'}`, import.meta.url)
  if (!ts) return `import(${JSON.stringify(entry.href)})`
  const require = createRequire(import.meta.url)
  const esbuild = require('esbuild') as { buildSync: (options: Record<string, unknown>) => { outputFiles: Array<{ text: string }> } }
  const code = esbuild.buildSync({ entryPoints: [fileURLToPath(entry)], bundle: true, format: 'esm', platform: 'node', target: 'node20', write: false }).outputFiles[0].text
  const file = join(tmpdir(), `scanhub-fft-worker-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`)
  if (!existsSync(file)) {
    const temp = `${file}.${process.pid}.tmp`
    writeFileSync(temp, code)
    renameSync(temp, file)
  }
  return `import(${JSON.stringify(pathToFileURL(file).href)})`
}

let bootstrap: string | undefined

/** Splits of one array into blocks that workers can transform independently. */
interface Phase {
  flags: number
  splitAxis: number
  chunks: Array<[number, number]>
}

function chunks (length: number, parts: number): Array<[number, number]> {
  const n = Math.max(1, Math.min(length, parts))
  const out: Array<[number, number]> = []
  for (let i = 0; i < n; i++) out.push([Math.floor(i * length / n), Math.floor((i + 1) * length / n)])
  return out
}

/**
 * How to split an FFT: along the outermost axis that is not transformed (coils, or anything batched),
 * or, when every long axis is transformed (one coil in 3-D), in two phases: all axes but the outermost
 * split along it, then that axis split along another.
 */
export function splitPlan (dims: readonly number[], flags: number, parts: number): Phase[] {
  const active = activeFlags(dims, flags)
  if (active === 0) return []
  for (let a = dims.length - 1; a >= 0; a--) {
    if (dims[a] > 1 && (active & (1 << a)) === 0) return [{ flags: active, splitAxis: a, chunks: chunks(dims[a], parts) }]
  }
  const axes: number[] = []
  for (let a = 0; a < dims.length; a++) if ((active & (1 << a)) !== 0) axes.push(a)
  if (axes.length < 2) return [{ flags: active, splitAxis: axes[0], chunks: [[0, dims[axes[0]]]] }]
  const last = axes[axes.length - 1]
  const other = axes[axes.length - 2]
  return [
    { flags: active & ~(1 << last), splitAxis: last, chunks: chunks(dims[last], parts) },
    { flags: 1 << last, splitAxis: other, chunks: chunks(dims[other], parts) }
  ]
}

export class FftPool implements FftRunner {
  readonly size: number
  private readonly minParallelElements: number
  private readonly slots: Slot[] = []
  private readonly queue: Pending[] = []
  private nextId = 1
  private closed = false

  constructor (init: FftPoolInit = {}) {
    this.size = Math.max(1, init.size ?? availableParallelism())
    this.minParallelElements = init.minParallelElements ?? DEFAULT_MIN_PARALLEL_ELEMENTS
  }

  async fftn (dims: readonly number[], flags: number, data: Float32Array, options: FftOptions = {}): Promise<Float32Array> {
    if (this.closed) throw new FftPoolClosedError('FFT pool is closed')
    const size = elementCount(dims)
    if (data.length !== 2 * size) throw new FftShapeError(`dims [${dims.join(', ')}] need ${2 * size} floats, got ${data.length}`)
    if (size < this.minParallelElements || activeFlags(dims, flags) === 0) {
      fftn(dims, flags, data, data, options)
      return data
    }
    const strides = contiguousStrides(dims)
    return await this.inPlace(data, async (whole, transferred) => {
      if (transferred) {
        const result = await this.submit({ op: 'fft', id: 0, data: whole, offset: 0, dims: [...dims], strides, flags, options, transferred }, [whole.buffer as ArrayBuffer])
        return result.data ?? whole
      }
      for (const phase of splitPlan(dims, flags, this.size)) {
        await Promise.all(phase.chunks.map(async ([start, end]) => {
          const sub = [...dims]
          sub[phase.splitAxis] = end - start
          await this.submit({ op: 'fft', id: 0, data: whole, offset: start * strides[phase.splitAxis], dims: sub, strides, flags: phase.flags, options, transferred }, [])
        }))
      }
      return whole
    })
  }

  async applyChannelMatrix (samples: number, channels: number, matrix: Float64Array, scale: number, data: Float32Array): Promise<Float32Array> {
    if (this.closed) throw new FftPoolClosedError('FFT pool is closed')
    checkChannels(samples, channels, matrix, data)
    if (samples * channels < this.minParallelElements) {
      applyLowerTriangular(matrix, scale, data, channels, samples, 0, samples)
      return data
    }
    return await this.inPlace(data, async (whole, transferred) => {
      if (transferred) {
        const result = await this.submit({ op: 'matrix', id: 0, data: whole, matrix, scale, channels, stride: samples, start: 0, end: samples, transferred }, [whole.buffer as ArrayBuffer])
        return result.data ?? whole
      }
      await Promise.all(chunks(samples, this.size).map(async ([start, end]) => {
        await this.submit({ op: 'matrix', id: 0, data: whole, matrix, scale, channels, stride: samples, start, end, transferred }, [])
      }))
      return whole
    })
  }

  /**
   * Runs `work` on memory the workers can reach: shared memory as it is (split as `work` likes), an
   * ordinary buffer owned whole by transfer (one job, `transferred` true), a view into a larger buffer
   * through a copy. Resolves to the array holding the result.
   */
  private async inPlace (data: Float32Array, work: (whole: Float32Array, transferred: boolean) => Promise<Float32Array>): Promise<Float32Array> {
    if (data.buffer instanceof SharedArrayBuffer) return await work(data, false)
    if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength) return await work(data, true)
    // not ours to move: work on a copy and copy back
    data.set(await work(data.slice(), true))
    return data
  }

  private async submit (job: WorkerJob, transfer: ArrayBuffer[]): Promise<FftJobResult> {
    return await new Promise<FftJobResult>((resolve, reject) => {
      job.id = this.nextId++
      this.queue.push({ job, transfer, resolve, reject })
      this.dispatch()
    })
  }

  private dispatch (): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => s.busy === null)
      if (slot === undefined) {
        if (this.slots.length >= this.size) return
        slot = this.spawn()
      }
      const pending = this.queue.shift() as Pending
      slot.busy = pending
      slot.worker.ref()
      slot.worker.postMessage(pending.job, pending.transfer)
    }
  }

  private spawn (): Slot {
    bootstrap ??= workerBootstrap()
    const worker = new Worker(bootstrap, { eval: true, name: 'scanhub-fft' })
    worker.unref()
    const slot: Slot = { worker, busy: null }
    worker.on('message', (result: FftJobResult) => {
      const pending = slot.busy
      slot.busy = null
      worker.unref()
      if (pending !== null) {
        if (result.error !== undefined) pending.reject(new FftWorkerError(result.error))
        else pending.resolve(result)
      }
      this.dispatch()
    })
    const fail = (error: Error): void => {
      const at = this.slots.indexOf(slot)
      if (at >= 0) this.slots.splice(at, 1)
      const pending = slot.busy
      slot.busy = null
      if (pending !== null) pending.reject(this.closed ? new FftPoolClosedError('FFT pool is closed') : new FftWorkerError(`FFT worker failed: ${error.message}`))
      if (!this.closed) this.dispatch()
    }
    worker.on('error', fail)
    worker.on('exit', (code) => { fail(new Error(`exited with code ${code}`)) })
    this.slots.push(slot)
    return slot
  }

  /** Ends the workers; jobs still queued or running are rejected with FftPoolClosedError. */
  async close (): Promise<void> {
    this.closed = true
    for (const pending of this.queue.splice(0)) pending.reject(new FftPoolClosedError('FFT pool is closed'))
    await Promise.all(this.slots.map(async (slot) => await slot.worker.terminate()))
    this.slots.length = 0
  }
}

export function createFftPool (init: FftPoolInit = {}): FftPool {
  return new FftPool(init)
}

let shared: FftPool | undefined

/** One pool per process, for callers that pass none; its workers do not keep the process alive. */
export function sharedFftPool (): FftPool {
  shared ??= new FftPool()
  return shared
}
