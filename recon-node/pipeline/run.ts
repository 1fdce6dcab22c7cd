// Runs a chain of stages over a stream of acquisitions, as they arrive. Each stage processes its
// messages in order, one at a time, while all stages work at once on different messages (Gadgetron
// runs each gadget in its own thread; here the stages are steps on the event loop and the heavy FFTs
// run on the worker pool). A stage declared `concurrent` (the FFT) runs several buffers at once, up
// to the pool's size plus one, and still hands its results on in order. So an image is delivered as
// soon as its slice is complete and transformed, while later readouts keep arriving, and the source is
// read no faster than the chain keeps up (at most a few buffers wait for the FFT).
import type { Acquisition } from '../../protocol/mrd/types.ts'
import { sharedFftPool, type FftRunner } from '../fft/pool.ts'
import { ArrayRecycler } from '../stages/complex-array.ts'
import { PipelineAbortedError } from '../stages/errors.ts'
import type { Message, ParamTable, ParamValue, ReconHeader, Stage, StageContext } from '../stages/stage.ts'
import { DEFAULT_CHAIN, resolveChain, type Chain } from './chain.ts'
import { toReconImages, type ReconImage } from './image.ts'

export interface ReconProgress {
  /** Acquisitions read from the source so far. */
  acquisitions: number
  /** Images delivered so far. */
  images: number
  /** acquisitions / header.expectedAcquisitions, when the header says how many to expect. */
  fraction?: number
}

export interface RunOptions {
  /** Called with each image, in order, as soon as it is ready; the next waits for a returned promise. */
  onImage: (image: ReconImage) => void | Promise<void>
  onProgress?: (progress: ReconProgress) => void
  /** Oddities in the data that a stage worked around (default: console.warn). */
  onWarning?: (message: string, stage: string) => void
  /** Messages other than images that leave the last stage (e.g. buffers, with a chain without RSS). */
  onOther?: (message: Message) => void
  /** Default: the process-wide worker pool. */
  fft?: FftRunner
  /**
   * The source hands each acquisition over: nothing else reads its samples afterwards, so stages may
   * overwrite them (AcquisitionMessage.owned) rather than allocate per readout. Default false.
   */
  handsOverAcquisitions?: boolean
  signal?: AbortSignal
}

export interface ReconSummary {
  acquisitions: number
  images: number
  seconds: number
}

/** Acquisitions between two progress reports (plus one per image). */
const PROGRESS_EVERY = 256

/**
 * Longest stretch (ms) of reading a source that never waits (an array, a file already in memory)
 * before letting the event loop run: finished FFT jobs are only collected, and workers given new
 * ones, when it does.
 */
const YIELD_EVERY_MS = 4

/** Counts messages between entering a stage and leaving it; the source waits while too many are in flight. */
class Flow {
  heavy = 0
  light = 0
  private waiters: Array<() => void> = []
  error: unknown = undefined
  failed = false

  constructor (private readonly heavyLimit: number, private readonly lightLimit: number) {}

  enter (message: Message): void {
    if (message.kind === 'acquisition') this.light++
    else this.heavy++
  }

  leave (message: Message): void {
    if (message.kind === 'acquisition') this.light--
    else this.heavy--
    if (!this.full()) for (const wake of this.waiters.splice(0)) wake()
  }

  fail (error: unknown): void {
    if (!this.failed) {
      this.failed = true
      this.error = error
    }
    for (const wake of this.waiters.splice(0)) wake()
  }

  full (): boolean {
    return this.heavy > this.heavyLimit || this.light > this.lightLimit
  }

  async room (): Promise<void> {
    while (this.full() && !this.failed) await new Promise<void>((resolve) => this.waiters.push(resolve))
  }
}

/** Waits for one of `limit` places. */
class Slots {
  private free: number
  private readonly waiting: Array<() => void> = []
  constructor (limit: number) { this.free = limit }
  async take (): Promise<void> {
    if (this.free > 0) { this.free--; return }
    await new Promise<void>((resolve) => this.waiting.push(resolve))
  }

  give (): void {
    const next = this.waiting.shift()
    if (next !== undefined) next()
    else this.free++
  }
}

interface Sink {
  push: (message: Message) => void
}

class StageRunner implements Sink {
  private tail: Promise<void> = Promise.resolve()
  private readonly slots: Slots | null

  constructor (
    private readonly stage: Stage<ParamTable, unknown>,
    private readonly params: Record<string, ParamValue>,
    private readonly ctx: StageContext,
    private readonly next: Sink,
    private readonly flow: Flow,
    concurrency: number
  ) {
    this.slots = stage.concurrent === true ? new Slots(concurrency) : null
  }

  private forward (messages: Message[]): void {
    for (const m of messages) this.next.push(m)
  }

  push (message: Message): void {
    this.flow.enter(message)
    if (this.slots !== null) {
      const slots = this.slots
      const started = (async () => {
        await slots.take()
        try {
          return await this.stage.run(message, this.params, this.ctx)
        } finally {
          slots.give()
        }
      })()
      started.catch(() => {}) // handled in the tail below
      this.chain(async () => this.forward(await started), message)
    } else {
      this.chain(async () => this.forward(await this.stage.run(message, this.params, this.ctx)), message)
    }
  }

  private chain (work: () => Promise<void>, message: Message | null): void {
    this.tail = this.tail.then(async () => {
      try {
        if (!this.flow.failed) await work()
      } catch (error) {
        this.flow.fail(error)
      } finally {
        if (message !== null) this.flow.leave(message)
      }
    })
  }

  /** Runs the stage's end after everything pushed so far; resolves when that is handed on. */
  async end (): Promise<void> {
    const end = this.stage.end
    if (end !== undefined) this.chain(async () => this.forward(await end.call(this.stage, this.params, this.ctx)), null)
    await this.tail
  }
}

class ImageSink implements Sink {
  private tail: Promise<void> = Promise.resolve()
  images = 0

  constructor (private readonly options: RunOptions, private readonly flow: Flow, private readonly progress: () => void) {}

  push (message: Message): void {
    this.flow.enter(message)
    this.tail = this.tail.then(async () => {
      try {
        if (this.flow.failed) return
        if (message.kind !== 'image') {
          this.options.onOther?.(message)
          return
        }
        for (const image of toReconImages(message)) {
          await this.options.onImage(image)
          this.images++
          this.progress()
        }
      } catch (error) {
        this.flow.fail(error)
      } finally {
        this.flow.leave(message)
      }
    })
  }

  async end (): Promise<void> {
    await this.tail
  }
}

async function * iterate (source: AsyncIterable<Acquisition> | Iterable<Acquisition>): AsyncIterable<Acquisition> {
  yield * source
}

/**
 * Reconstructs `acquisitions` with `chain`, delivering each image through options.onImage as soon as
 * it is ready. Resolves when the stream has ended and every image has been delivered; rejects with the
 * first error of any stage (or of onImage), or PipelineAbortedError when options.signal aborts.
 */
export async function runPipeline (
  acquisitions: AsyncIterable<Acquisition> | Iterable<Acquisition>,
  header: ReconHeader,
  chain: Chain = DEFAULT_CHAIN,
  options: RunOptions
): Promise<ReconSummary> {
  const started = performance.now()
  const steps = resolveChain(chain)
  const fftRunner = options.fft ?? sharedFftPool()
  const poolSize = Math.max(1, fftRunner.size ?? 1)
  // One buffer per FFT worker plus one waiting keeps the pool busy; more in flight only costs memory
  // (each heavy message is a whole slice of k-space).
  const flow = new Flow(poolSize + 1, 64)
  const owned = options.handsOverAcquisitions === true
  let read = 0
  const progress = (): void => {
    const expected = header.expectedAcquisitions
    options.onProgress?.({
      acquisitions: read,
      images: sink.images,
      ...(expected !== undefined && expected > 0 ? { fraction: Math.min(1, read / expected) } : {})
    })
  }
  const sink = new ImageSink(options, flow, progress)
  const warn = options.onWarning ?? ((message: string, stage: string) => { console.warn(`[recon ${stage}] ${message}`) })

  // Each stage sees the header as the stages before it left it, and gets fresh state.
  const contexts: StageContext[] = []
  const arrays = new ArrayRecycler()
  let view = header
  for (const { stage, params } of steps) {
    contexts.push({ header: view, fft: fftRunner, state: stage.init?.(params, view), warn: (m) => { warn(m, stage.name) }, arrays })
    view = stage.adaptHeader?.(view, params) ?? view
  }
  const runners: StageRunner[] = []
  let next: Sink = sink
  for (let i = steps.length - 1; i >= 0; i--) {
    const runner = new StageRunner(steps[i].stage, steps[i].params, contexts[i], next, flow, poolSize + 1)
    runners.unshift(runner)
    next = runner
  }
  const first: Sink = next

  try {
    let lastYield = performance.now()
    for await (const acquisition of iterate(acquisitions)) {
      if (options.signal?.aborted === true) throw new PipelineAbortedError('reconstruction aborted')
      if (flow.failed) break
      first.push({ kind: 'acquisition', acquisition, owned })
      read++
      if (read % PROGRESS_EVERY === 0) progress()
      if (flow.full()) await flow.room()
      if (performance.now() - lastYield > YIELD_EVERY_MS) {
        await new Promise((resolve) => setImmediate(resolve))
        lastYield = performance.now()
      }
    }
    for (const runner of runners) await runner.end()
    await sink.end()
    if (flow.failed) throw flow.error
    if (options.signal?.aborted === true) throw new PipelineAbortedError('reconstruction aborted')
    progress()
    return { acquisitions: read, images: sink.images, seconds: (performance.now() - started) / 1000 }
  } catch (error) {
    // stop the stages, let what is running settle, then report the first error
    flow.fail(error)
    await Promise.allSettled(runners.map(async (r) => await r.end()))
    throw flow.error
  } finally {
    await Promise.allSettled(steps.map(async ({ stage }, i) => await stage.dispose?.(contexts[i].state)))
  }
}
