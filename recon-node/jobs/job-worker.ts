// The reconstruction side of /scanhub/job/1.0.0 and /scanhub/raw/1.0.0: a reconstruction peer opens
// a job stream to every connected peer that announces the scanner role and offers its slots; for each
// lease it is granted it streams the raw data from the scanner (from the grant's confirmed offset, with
// the stream's header and noise readouts sent again first), reconstructs it slice by slice as the data
// arrives, stores each slice's DICOM files as blobs on this peer and reports them to the scanner with
// the offset up to which all data is in reported slices. It renews the lease while it works and stops
// the moment the scanner revokes it. Live progress goes into this peer's presence, keyed by task id.
import { FrameDecoder, FrameError } from '../../protocol/framing.ts'
import { JOB_PROTOCOL, RAW_PROTOCOL } from '../../protocol/ids.ts'
import {
  JobProtocolError, MAX_JOB_FRAME_LENGTH, SCANNER_MESSAGES, decodeJobMessage, encodeJobMessage, type JobDescription, type JobFile,
  type JobMessage
} from '../../protocol/job.ts'
import { IsmrmrdXmlError, MrdProtocolError } from '../../protocol/mrd/errors.ts'
import { parseIsmrmrdXml } from '../../protocol/mrd/xml-header.ts'
import type { PeerPresence } from '../../protocol/peers.ts'
import { MAX_RAW_RESPONSE_HEADER_LENGTH, RAW_STATUS_OK, RawProtocolError, decodeRawResponseHeader, encodeRawRequest } from '../../protocol/raw.ts'
import type { Acquisition } from '../../protocol/mrd/types.ts'
import { FrameWriter } from '../../protocol/framed-stream.ts'
import type { BlobStore } from '../../node/storage/blob-store.ts'
import { DicomWriteError } from '../dicom/errors.ts'
import type { FftRunner } from '../fft/pool.ts'
import { resolveChain, type Chain } from '../pipeline/chain.ts'
import { chainForPipeline } from '../pipeline/pipelines.ts'
import { runPipeline } from '../pipeline/run.ts'
import { AcquisitionShapeError, ChannelCountError, InvalidParamError, ReconRefusedError, UnknownStageError } from '../stages/errors.ts'
import type { ReconHeader } from '../stages/stage.ts'
import { NOT_IMAGE_DATA } from '../stages/flags.ts'
import { DicomSeriesWriter, describeSeries, type SeriesOverrides } from './dicom-series.ts'
import { MrdSource } from './mrd-source.ts'
import { readPaced } from './paced-reader.ts'
import { InstanceLayout, reconHeaderOf, unitKeyOf } from './recon-header.ts'
import type { Connection, Libp2p, Stream } from '@libp2p/interface'

export interface JobWorkerComponents {
  libp2p: Pick<Libp2p, 'getConnections' | 'peerId' | 'addEventListener' | 'removeEventListener'>
  blobs: Pick<BlobStore, 'put'>
  /** ids of the peers whose presence includes the scanner role */
  scanners: () => string[]
  setPresence?: (patch: Partial<PeerPresence>) => void
}

/** A slice's image stored on this peer (for live views, tests and the latency benchmark). */
export interface StoredImage {
  taskId: string
  unitKey: string
  instanceNumber: number
  file: JobFile
}

export interface JobWorkerInit {
  /** shown to the scanner; default the peer id */
  name?: string
  /** jobs this peer runs at once; default 1 */
  slots?: number
  /** the FFT engine; default the process-wide pool */
  fft?: FftRunner
  /** how often to look for scanners to ask for work; default 1 s */
  connectIntervalMs?: number
  /** bytes of raw data buffered before the scanner is asked to wait; default 1 MiB (the pipeline holds 64 readouts more) */
  rawHighWaterMark?: number
  /** time allowed to open a stream and get an answer; default 10 s */
  requestTimeoutMs?: number
  onImageStored?: (image: StoredImage) => void
  log?: (message: string) => void
}

/** The scanner refused or broke the raw stream (not the data's fault: another worker may do better). */
export class RawStreamError extends Error {
  override name = 'RawStreamError'
}

/** The scanner took the job back; the work stops without a report. */
export class JobRevokedError extends Error {
  override name = 'JobRevokedError'
}

const DEFAULT_CONNECT_INTERVAL_MS = 1000
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000
const PRESENCE_INTERVAL_MS = 250

/** Errors that say the raw data (or the job's own settings) cannot be reconstructed: the task fails. */
function isDataError (err: unknown): boolean {
  return err instanceof MrdProtocolError || err instanceof IsmrmrdXmlError || err instanceof AcquisitionShapeError ||
    err instanceof ChannelCountError || err instanceof DicomWriteError || err instanceof InvalidParamError || err instanceof UnknownStageError ||
    err instanceof ReconRefusedError
}

/**
 * The chain a job asks for: options.chain (a list of steps), or the pipeline's name (pipelines.ts); the
 * `default` pipeline picks the chain from the data's header.
 */
export function chainOf (description: Pick<JobDescription, 'pipeline' | 'options'>, header: ReconHeader): Chain {
  const custom = description.options.chain
  if (custom !== undefined) {
    if (!Array.isArray(custom)) throw new InvalidParamError('options.chain must be a list of { stage, params } steps')
    resolveChain(custom as Chain)
    return custom as Chain
  }
  const chain = chainForPipeline(description.pipeline, header)
  resolveChain(chain)
  return chain
}

type WorkerSettings = Required<Pick<JobWorkerInit, 'slots' | 'connectIntervalMs' | 'rawHighWaterMark' | 'requestTimeoutMs'>> & JobWorkerInit

/** What a run needs of its worker. */
interface RunContext {
  components: JobWorkerComponents
  settings: WorkerSettings
  send: (message: JobMessage) => void
  flushed: () => Promise<void>
  log: (message: string) => void
  progress: (taskId: string, entry: NonNullable<PeerPresence['progress']>[string] | undefined) => void
}

interface Session {
  peerId: string
  connection: Connection
  stream: Stream
  writer: FrameWriter
  runs: Map<string, JobRun>
}

export class JobWorker {
  private readonly components: JobWorkerComponents
  private readonly init: WorkerSettings
  private readonly log: (message: string) => void
  private readonly sessions = new Map<string, Session>()
  private readonly opening = new Set<string>()
  private readonly progress: NonNullable<PeerPresence['progress']> = {}
  private timer?: ReturnType<typeof setInterval>
  private started = false
  private readonly onConnect = (): void => { this.connect() }

  constructor (components: JobWorkerComponents, init: JobWorkerInit = {}) {
    this.components = components
    this.init = {
      ...init,
      slots: init.slots ?? 1,
      connectIntervalMs: init.connectIntervalMs ?? DEFAULT_CONNECT_INTERVAL_MS,
      rawHighWaterMark: init.rawHighWaterMark ?? 1024 * 1024,
      requestTimeoutMs: init.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
    }
    this.log = init.log ?? (() => {})
  }

  async start (): Promise<void> {
    this.started = true
    this.components.libp2p.addEventListener('peer:identify', this.onConnect)
    this.timer = setInterval(() => { this.connect() }, this.init.connectIntervalMs)
    this.timer.unref?.()
    this.connect()
  }

  async stop (): Promise<void> {
    this.started = false
    clearInterval(this.timer)
    this.components.libp2p.removeEventListener('peer:identify', this.onConnect)
    const stopping: Array<Promise<void>> = []
    for (const session of this.sessions.values()) {
      for (const run of session.runs.values()) stopping.push(run.giveBack('the reconstruction peer is stopping'))
    }
    await Promise.allSettled(stopping)
    for (const session of this.sessions.values()) await session.stream.close({ signal: AbortSignal.timeout(2000) }).catch(() => { session.stream.abort(new Error('stopping')) })
    this.sessions.clear()
  }

  /** Jobs running now, by job id. */
  running (): string[] {
    return [...this.sessions.values()].flatMap((s) => [...s.runs.keys()])
  }

  /** Opens a job stream to each connected scanner that has none. */
  private connect (): void {
    if (!this.started) return
    const scanners = new Set(this.components.scanners())
    const self = this.components.libp2p.peerId.toString()
    for (const connection of this.components.libp2p.getConnections()) {
      const peerId = connection.remotePeer.toString()
      if (peerId === self || !scanners.has(peerId) || connection.status !== 'open' || this.sessions.has(peerId) || this.opening.has(peerId)) continue
      this.opening.add(peerId)
      this.openSession(connection).catch((err: Error) => {
        this.log(`recon jobs: cannot ask ${peerId} for work: ${err.message}`)
      }).finally(() => { this.opening.delete(peerId) })
    }
  }

  private async openSession (connection: Connection): Promise<void> {
    const peerId = connection.remotePeer.toString()
    const stream = await connection.newStream(JOB_PROTOCOL, { signal: AbortSignal.timeout(this.init.requestTimeoutMs) })
    const session: Session = { peerId, connection, stream, writer: new FrameWriter(stream), runs: new Map() }
    this.sessions.set(peerId, session)
    const decoder = new FrameDecoder(MAX_JOB_FRAME_LENGTH)
    stream.addEventListener('message', (event) => {
      try {
        const bytes = event.data instanceof Uint8Array ? event.data : event.data.subarray()
        for (const frame of decoder.push(bytes)) {
          const message = decodeJobMessage(frame)
          if (!SCANNER_MESSAGES.includes(message.type)) throw new JobProtocolError(`a scanner does not send '${message.type}'`)
          this.handleScannerMessage(session, message)
        }
      } catch (err) {
        const text = err instanceof FrameError || err instanceof JobProtocolError ? err.message : `unexpected: ${(err as Error).message}`
        this.log(`recon jobs: closing the job stream to ${peerId}: ${text}`)
        // the error goes out before the stream is reset: close flushes it, abort ends a peer that does not close its side
        void session.writer.send(encodeJobMessage({ type: 'error', message: text }))
          .then(async () => { await stream.close({ signal: AbortSignal.timeout(1000) }) })
          .catch(() => {})
          .finally(() => { stream.abort(new JobProtocolError(text)) })
      }
    })
    stream.addEventListener('close', () => {
      if (this.sessions.get(peerId) !== session) return
      this.sessions.delete(peerId)
      // The scanner cannot hear from these any more, and will offer them again: stop them.
      for (const run of session.runs.values()) run.abort(new JobRevokedError('the job stream to the scanner closed'))
    })
    this.send(session, { type: 'hello', name: this.init.name ?? this.components.libp2p.peerId.toString(), slots: this.init.slots })
  }

  private send (session: Session, message: JobMessage): void {
    session.writer.send(encodeJobMessage(message)).catch((err: Error) => { this.log(`recon jobs: sending ${message.type} failed: ${err.message}`) })
  }

  private handleScannerMessage (session: Session, message: JobMessage): void {
    switch (message.type) {
      case 'grant': {
        // A run that told the scanner its end holds no slot: the scanner frees it on that message and
        // may grant the next job before its acknowledgement lets the run go.
        const busy = [...this.sessions.values()].reduce((n, s) => n + [...s.runs.values()].filter((r) => !r.reported).length, 0)
        if (busy >= this.init.slots || session.runs.has(message.jobId)) {
          this.send(session, { type: 'failed', jobId: message.jobId, epoch: message.epoch, fatal: false, message: 'this peer has no free slot' })
          return
        }
        const run = new JobRun({
          components: this.components,
          settings: this.init,
          send: (m) => { this.send(session, m) },
          flushed: async () => { await session.writer.flushed() },
          log: this.log,
          progress: (taskId, entry) => { this.setProgress(taskId, entry) }
        }, session.connection, message)
        session.runs.set(message.jobId, run)
        this.log(`recon jobs: took ${message.jobId} (task ${message.description.taskId}) under epoch ${message.epoch}${message.resumeOffset > 0 ? `, resuming at ${message.resumeOffset} with ${message.doneUnits.length} units done` : ''}`)
        void run.run().finally(() => {
          if (session.runs.get(message.jobId) === run) session.runs.delete(message.jobId)
          this.setProgress(message.description.taskId, undefined)
        })
        return
      }
      case 'revoke': {
        const run = session.runs.get(message.jobId)
        if (run !== undefined && run.epoch === message.epoch) run.abort(new JobRevokedError(`the scanner revoked the lease: ${message.reason}`))
        return
      }
      case 'ack':
        session.runs.get(message.jobId)?.acknowledged(message.epoch, message.unitKey)
        return
      case 'error':
        this.log(`recon jobs: the scanner ${session.peerId} reports: ${message.message}`)
    }
  }

  private setProgress (taskId: string, entry: NonNullable<PeerPresence['progress']>[string] | undefined): void {
    if (entry === undefined) delete this.progress[taskId]
    else this.progress[taskId] = entry
    this.components.setPresence?.({ progress: { ...this.progress } })
  }
}

/** One lease: the raw stream, the pipeline, the DICOM files and the reports. */
class JobRun {
  readonly jobId: string
  readonly epoch: number
  private readonly ctx: RunContext
  private readonly connection: Connection
  private readonly grant: Extract<JobMessage, { type: 'grant' }>
  private readonly abortController = new AbortController()
  private rawStream?: Stream
  private finishedAck?: () => void
  /** the scanner was told how the job ended (done or failed): its slot is free for the next */
  reported = false
  /** what the lease renewals report (progress renews the lease) */
  private counters?: { acquisitions: number, images: number, confirmedOffset: number }

  constructor (ctx: RunContext, connection: Connection, grant: Extract<JobMessage, { type: 'grant' }>) {
    this.ctx = ctx
    this.connection = connection
    this.grant = grant
    this.jobId = grant.jobId
    this.epoch = grant.epoch
  }

  abort (reason: Error): void {
    if (this.abortController.signal.aborted) return
    this.abortController.abort(reason)
    this.rawStream?.abort(reason)
  }

  /** Hands the job back to the scanner (this peer stops), so that it is offered again at once. */
  async giveBack (reason: string): Promise<void> {
    if (this.abortController.signal.aborted) return
    this.ctx.send({ type: 'failed', jobId: this.jobId, epoch: this.epoch, fatal: false, message: reason })
    await this.ctx.flushed()
    this.abort(new JobRevokedError(reason))
  }

  acknowledged (epoch: number, unitKey: string): void {
    if (epoch === this.epoch && unitKey === '') this.finishedAck?.()
  }

  async run (): Promise<void> {
    const { grant } = this
    const renew = setInterval(() => {
      const c = this.counters
      this.ctx.send(c === undefined
        ? { type: 'renew', jobId: this.jobId, epoch: this.epoch }
        : { type: 'progress', jobId: this.jobId, epoch: this.epoch, ...c })
    }, Math.max(50, Math.floor(grant.leaseMs / 3)))
    try {
      const images = await this.reconstruct()
      this.ctx.send({ type: 'done', jobId: this.jobId, epoch: this.epoch, images })
      this.reported = true
      // keep renewing until the scanner has recorded the end (it may still be fetching the last files)
      await new Promise<void>((resolve) => {
        this.finishedAck = resolve
        this.abortController.signal.addEventListener('abort', () => { resolve() })
      })
      this.ctx.log(`recon jobs: ${this.jobId} done (${images} images in epoch ${this.epoch})`)
    } catch (err) {
      if (this.abortController.signal.aborted) {
        this.ctx.log(`recon jobs: stopped ${this.jobId}: ${(this.abortController.signal.reason as Error).message}`)
        return
      }
      const fatal = isDataError(err)
      const message = `${(err as Error).name}: ${(err as Error).message}`
      this.ctx.log(`recon jobs: ${this.jobId} failed${fatal ? ' (bad data)' : ''}: ${message}`)
      this.ctx.send({ type: 'failed', jobId: this.jobId, epoch: this.epoch, fatal, message })
      this.reported = true
    } finally {
      clearInterval(renew)
      if (this.rawStream !== undefined && this.rawStream.status === 'open') this.rawStream.abort(new Error('job ended'))
    }
  }

  /** Opens the raw stream and answers its header frame; returns the MRD bytes that follow. */
  private async openRaw (): Promise<{ source: MrdSource }> {
    const settings = this.ctx.settings
    const stream = await this.connection.newStream(RAW_PROTOCOL, { signal: AbortSignal.timeout(settings.requestTimeoutMs) })
    this.rawStream = stream
    if (this.abortController.signal.aborted) throw this.abortController.signal.reason
    const reader = readPaced(stream, { highWaterMark: settings.rawHighWaterMark })
    await new FrameWriter(stream).send(encodeRawRequest({ jobId: this.jobId, epoch: this.epoch, fromOffset: this.grant.resumeOffset }))
    const decoder = new FrameDecoder(MAX_RAW_RESPONSE_HEADER_LENGTH)
    const timeout = setTimeout(() => { stream.abort(new RawStreamError('the scanner did not answer the raw request in time')) }, settings.requestTimeoutMs)
    let frame: Uint8Array | undefined
    try {
      while (frame === undefined) {
        const { value, done } = await reader.next()
        if (done === true) throw new RawStreamError('the scanner closed the raw stream without answering')
        frame = decoder.push(value, 1)[0]
      }
    } catch (err) {
      if (err instanceof FrameError) throw new RawStreamError(`bad raw response: ${err.message}`)
      throw err
    } finally {
      clearTimeout(timeout)
    }
    let header
    try {
      header = decodeRawResponseHeader(frame)
    } catch (err) {
      throw new RawStreamError((err as RawProtocolError).message)
    }
    if (header.status !== RAW_STATUS_OK) throw new RawStreamError(`the scanner refused the raw stream: ${header.message}`)
    const rest = decoder.takePending()
    async function * bytes (): AsyncGenerator<Uint8Array> {
      if (rest.length > 0) yield rest
      yield * reader
    }
    return { source: new MrdSource(bytes(), { preambleLength: header.preambleLength, startOffset: header.startOffset }) }
  }

  private async reconstruct (): Promise<number> {
    const { description, doneUnits } = this.grant
    const { source } = await this.openRaw()
    const header = parseIsmrmrdXml(await source.header())
    const reconHeader = reconHeaderOf(header)
    const chain = chainOf(description, reconHeader)
    const warn = (message: string): void => { this.ctx.log(`recon jobs: ${this.jobId}: ${message}`) }
    const info = describeSeries(header, overridesOf(description), new Date(description.study.dateTime), warn)
    const writer = new DicomSeriesWriter(header, info, warn)
    const layout = new InstanceLayout(header)
    const done = new Set(doneUnits)
    // units that have data here but are not reported yet, with the offset of their first readout
    const open = new Map<string, number>()
    const files = new Map<string, JobFile[]>()
    let lastEnd = this.grant.resumeOffset
    let acquisitions = 0
    let images = 0
    let lastPresence = 0
    const expected = Math.max(1, layout.size - done.size * Math.max(1, header.encoding[0]?.reconSpace.matrixSize.z ?? 1))
    const confirmed = (): number => open.size > 0 ? Math.min(...open.values()) : lastEnd
    const counters = { acquisitions: 0, images: 0, confirmedOffset: this.grant.resumeOffset }
    this.counters = counters
    const presence = (force: boolean): void => {
      const now = performance.now()
      if (!force && now - lastPresence < PRESENCE_INTERVAL_MS) return
      lastPresence = now
      this.ctx.progress(description.taskId, { fraction: Math.min(0.99, images / expected), message: `${images} images, ${acquisitions} readouts`, startedAt: Date.now() })
    }

    async function * readouts (): AsyncGenerator<Acquisition> {
      for await (const placed of source.acquisitions()) {
        const head = placed.acquisition.head
        const imageData = (head.flags & NOT_IMAGE_DATA) === 0n
        const key = unitKeyOf(head.idx)
        // every readout, also of units reported before a resume: the slices' positions set the DICOM spacing
        writer.noteAcquisition(head)
        // stream offsets grow; the preamble's readouts (noise) all sit at the resume offset
        lastEnd = Math.max(lastEnd, placed.end)
        if (imageData && done.has(key)) continue
        if (imageData && !open.has(key)) open.set(key, placed.offset)
        acquisitions++
        counters.acquisitions = acquisitions
        yield placed.acquisition
      }
    }

    const { signal } = this.abortController
    await runPipeline(readouts(), reconHeader, chain, {
      ...(this.ctx.settings.fft !== undefined ? { fft: this.ctx.settings.fft } : {}),
      signal,
      // decoded for this run alone (MrdSource copies every readout out of the stream's chunks)
      handsOverAcquisitions: true,
      onWarning: (message, stage) => { warn(`${stage}: ${message}`) },
      onImage: async (image) => {
        signal.throwIfAborted()
        const key = unitKeyOf(image)
        const file = writer.write(image)
        const stored = await this.ctx.components.blobs.put(file.bytes)
        const entry: JobFile = { name: file.name, sha256: stored.sha256, size: stored.size }
        const list = files.get(key) ?? []
        list.push(entry)
        files.set(key, list)
        images++
        this.ctx.settings.onImageStored?.({ taskId: description.taskId, unitKey: key, instanceNumber: file.instanceNumber, file: entry })
        if (image.partition === image.depth - 1) {
          // every image of the unit is stored: report it, with the offset before which all data is in reported units
          open.delete(key)
          files.delete(key)
          done.add(key)
          counters.images = images
          counters.confirmedOffset = confirmed()
          this.ctx.send({ type: 'unit-done', jobId: this.jobId, epoch: this.epoch, unitKey: key, confirmedOffset: counters.confirmedOffset, files: list })
          presence(true)
        } else {
          presence(false)
        }
      }
    })
    signal.throwIfAborted()
    if (!source.sawClose) throw new RawStreamError('the raw stream ended before the recording\'s close message')
    if (files.size > 0) throw new RawStreamError(`units ${[...files.keys()].join(', ')} ended without all their images`)
    return images
  }
}

function overridesOf (d: JobDescription): SeriesOverrides {
  const sex = d.patient.sex
  return {
    patient: {
      id: d.patient.id,
      firstName: d.patient.firstName,
      lastName: d.patient.lastName,
      ...(d.patient.birthDate !== undefined ? { birthDate: d.patient.birthDate } : {}),
      ...(sex === 'MALE' || sex === 'FEMALE' || sex === 'OTHER' || sex === 'NOT_GIVEN' ? { sex } : {}),
      ...(d.patient.heightCm !== undefined ? { heightCm: d.patient.heightCm } : {}),
      ...(d.patient.weightKg !== undefined ? { weightKg: d.patient.weightKg } : {})
    },
    study: {
      id: d.study.id,
      ...(d.study.uid !== undefined ? { uid: d.study.uid } : {}),
      ...(d.study.name !== undefined ? { name: d.study.name } : {}),
      ...(d.study.accessionNumber !== undefined ? { accessionNumber: d.study.accessionNumber } : {}),
      dateTime: new Date(d.study.dateTime)
    },
    series: {
      id: d.series.id,
      number: d.series.number,
      name: d.series.name,
      ...(d.series.description !== undefined ? { description: d.series.description } : {}),
      ...(d.series.dateTime !== undefined && !Number.isNaN(new Date(d.series.dateTime).getTime()) ? { dateTime: new Date(d.series.dateTime) } : {}),
      ...(d.operator !== undefined ? { operator: d.operator } : {})
    },
    equipment: {
      manufacturer: d.equipment.manufacturer,
      ...(d.equipment.model !== undefined ? { model: d.equipment.model } : {}),
      ...(d.equipment.name !== undefined ? { name: d.equipment.name } : {}),
      ...(d.equipment.fieldStrengthT !== undefined ? { fieldStrengthT: d.equipment.fieldStrengthT } : {})
    }
  }
}

