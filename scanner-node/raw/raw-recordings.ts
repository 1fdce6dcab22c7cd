// Raw data as the scanner records it: one MRD v1 stream file per acquisition task, written message by
// message as the scan runs (DIR/raw/<taskId>.mrd), so that reconstruction peers can stream it while it
// grows and resume from any message boundary after a failure. When the scan ends the file is kept as a
// content-addressed blob (the task's RAW result).
import { EventEmitter } from 'node:events'
import { mkdir, open, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'

export interface RawRecordingEvents {
  /** more complete messages were written; `length` is the new size */
  grow: [length: number]
  /** the close message was written and the file synced */
  complete: []
  /** the scan failed or was stopped; the file ends where it ends, without a close message */
  abort: [reason: string]
}

/** One growing MRD stream file. Only whole messages are ever visible through `length`. */
export class RawRecording extends EventEmitter<RawRecordingEvents> {
  readonly taskId: string
  readonly path: string
  private handle?: FileHandle
  private written = 0
  private state: 'recording' | 'complete' | 'aborted' = 'recording'

  constructor (taskId: string, path: string) {
    super()
    this.setMaxListeners(100)
    this.taskId = taskId
    this.path = path
  }

  /** bytes of whole messages written so far */
  get length (): number { return this.written }
  get complete (): boolean { return this.state === 'complete' }
  get aborted (): boolean { return this.state === 'aborted' }
  get finished (): boolean { return this.state !== 'recording' }

  async open (): Promise<void> {
    this.handle = await open(this.path, 'w')
  }

  /** Appends whole messages (header, acquisitions). */
  async append (bytes: Uint8Array): Promise<void> {
    if (this.handle === undefined || this.state !== 'recording') throw new Error(`recording of ${this.taskId} is not open`)
    await this.handle.write(bytes, 0, bytes.length, this.written)
    this.written += bytes.length
    this.emit('grow', this.written)
  }

  /** Appends the close message, syncs and closes the file. */
  async finish (closeMessage: Uint8Array): Promise<void> {
    await this.append(closeMessage)
    await this.handle?.sync()
    await this.handle?.close()
    this.handle = undefined
    this.state = 'complete'
    this.emit('complete')
  }

  async abort (reason: string): Promise<void> {
    if (this.state !== 'recording') return
    await this.handle?.sync().catch(() => {})
    await this.handle?.close().catch(() => {})
    this.handle = undefined
    this.state = 'aborted'
    this.emit('abort', reason)
  }

  /** Resolves once more than `offset` bytes exist or the recording has finished. */
  async waitFor (offset: number, signal?: AbortSignal): Promise<void> {
    if (this.written > offset || this.finished) return
    await new Promise<void>((resolve, reject) => {
      const done = (): void => { cleanup(); resolve() }
      const aborted = (): void => { cleanup(); reject(signal?.reason ?? new Error('aborted')) }
      const cleanup = (): void => {
        this.off('grow', done); this.off('complete', done); this.off('abort', done)
        signal?.removeEventListener('abort', aborted)
      }
      this.on('grow', done); this.on('complete', done); this.on('abort', done)
      signal?.addEventListener('abort', aborted)
    })
  }
}

/** The recordings of this scanner peer, by task id. */
export class RawRecordings extends EventEmitter<{ started: [RawRecording] }> {
  private readonly dir: string
  private readonly recordings = new Map<string, RawRecording>()

  constructor (dataDir: string) {
    super()
    this.dir = join(dataDir, 'raw')
  }

  /** Where the recording of `taskId` is (or would be) written. */
  pathOf (taskId: string): string {
    return join(this.dir, `${taskId.replace(/[^A-Za-z0-9-]/g, '_')}.mrd`)
  }

  async start (taskId: string): Promise<RawRecording> {
    await mkdir(this.dir, { recursive: true })
    const recording = new RawRecording(taskId, this.pathOf(taskId))
    await recording.open()
    this.recordings.set(taskId, recording)
    this.emit('started', recording)
    return recording
  }

  get (taskId: string): RawRecording | undefined {
    return this.recordings.get(taskId)
  }
}
