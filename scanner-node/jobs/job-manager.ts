// The scanner side of reconstruction jobs (/scanhub/job/1.0.0) and of raw streaming (/scanhub/raw/1.0.0).
//
// A RECONSTRUCTION task whose input is an ACQUISITION task of this scanner's device becomes a job when
// its status is STARTED (set by the app, the REST API, or by this manager: when an acquisition starts
// and the task right after it in the workflow is a reconstruction of it that has not run yet, that
// task is started too, so that images appear while the scan runs). This peer is the single writer of
// assignments: reconstruction peers ask for work on a job stream, the lease book grants leases with
// epochs, the worker renews them on that stream, and a lease that lapses (worker gone, stream closed,
// no renewal) is offered again under the next epoch. Workers stream the raw data from here; each slice
// they store is fetched here (so the images survive the worker) and recorded as a DICOM result under
// its epoch, once: reports of a stale epoch are ignored and a unit already recorded is not recorded
// again. The task ends FINISHED, or ERROR with a message.
import { createHash } from 'node:crypto'
import { FrameDecoder, FrameError } from '../../protocol/framing.ts'
import { JOB_PROTOCOL, RAW_PROTOCOL } from '../../protocol/ids.ts'
import {
  JobProtocolError, MAX_JOB_FRAME_LENGTH, WORKER_MESSAGES, decodeJobMessage, encodeJobMessage, type JobDescription, type JobMessage
} from '../../protocol/job.ts'
import {
  MAX_RAW_REQUEST_LENGTH, RAW_STATUS_BAD_REQUEST, RAW_STATUS_OK, RAW_STATUS_REFUSED, RawProtocolError, decodeRawRequest,
  encodeRawResponseHeader
} from '../../protocol/raw.ts'
import type { AcquisitionParameters, Actor, Lab, ReconstructionParameters, Task } from '../../protocol/lab/index.ts'
import { FrameWriter, readOneFrame } from '../../protocol/framed-stream.ts'
import type { BlobService } from '../../node/blob/blob-service.ts'
import type { BlobStore } from '../../node/storage/blob-store.ts'
import type { RawRecording, RawRecordings } from '../raw/raw-recordings.ts'
import { LeaseBook, type Lapse, type LeaseBookInit } from './lease-book.ts'
import { blobInput, preambleLength, recordingInput, type RawInput } from './raw-input.ts'
import type { Connection, Libp2p, Stream } from '@libp2p/interface'

export interface JobManagerComponents {
  libp2p: Pick<Libp2p, 'handle' | 'unhandle' | 'peerId'>
  lab: Lab
  blobs: Pick<BlobStore, 'stat' | 'read'>
  /** fetches a unit's DICOM blobs from the worker before they are recorded */
  blobService: Pick<BlobService, 'ensure'>
  recordings: Pick<RawRecordings, 'get' | 'on' | 'off'>
  actor: Actor
  /** makes written milestones durable (DocStore.flush) */
  flush?: () => Promise<void>
}

export interface JobManagerInit extends Omit<LeaseBookInit, 'now'> {
  /** start the reconstruction task that follows an acquisition in its workflow when the scan starts; default true */
  autoStart?: boolean
  /** time for a raw request to arrive, and for a unit's files to be fetched; default 10 s and 60 s */
  requestTimeoutMs?: number
  fetchTimeoutMs?: number
  /** monotonic clock for the leases; default performance.now() */
  now?: () => number
  log?: (message: string) => void
}

export class JobManagerError extends Error {
  override name = 'JobManagerError'
}

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000
const DEFAULT_FETCH_TIMEOUT_MS = 60_000
const RAW_CHUNK_BYTES = 256 * 1024
const ACTIVE: ReadonlySet<string> = new Set(['STARTED', 'INPROGRESS'])

interface Session {
  id: string
  peerId: string
  name: string
  stream: Stream
  writer: FrameWriter
}

interface Job {
  id: string
  taskId: string
  inputTaskId: string
  /** units recorded: key to result id */
  doneUnits: Map<string, string>
  /** all data before this offset belongs to recorded units */
  confirmedOffset: number
  /** the resume offset sent with the current epoch's grant: the only non-zero offset a raw request may ask for */
  grantedOffset: number
  /** work on the job's results, one at a time, in the order the worker reported */
  chain: Promise<void>
  preamble?: Promise<number>
  rawStreams: Set<Stream>
  stopWatching?: () => void
  ended: boolean
}

/** Result ids are a function of the job and the unit, so a unit is recorded once even across restarts. */
function resultPrefix (jobId: string): string {
  return `job-${createHash('sha256').update(jobId).digest('hex').slice(0, 20)}-u`
}

export class JobManager {
  private readonly components: JobManagerComponents
  private readonly book: LeaseBook
  private readonly autoStart: boolean
  private readonly requestTimeoutMs: number
  private readonly fetchTimeoutMs: number
  private readonly now: () => number
  private readonly log: (message: string) => void
  private readonly jobs = new Map<string, Job>()
  private readonly sessions = new Map<string, Session>()
  private readonly autoStarted = new Set<string>()
  private unsubscribe?: () => void
  private timer?: ReturnType<typeof setTimeout>
  private started = false
  private readonly onRecordingStarted = (): void => { this.poll() }

  constructor (components: JobManagerComponents, init: JobManagerInit = {}) {
    this.components = components
    this.now = init.now ?? (() => performance.now())
    this.book = new LeaseBook({ ...init, now: this.now })
    this.autoStart = init.autoStart ?? true
    this.requestTimeoutMs = init.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
    this.fetchTimeoutMs = init.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS
    this.log = init.log ?? (() => {})
  }

  async start (): Promise<void> {
    const { libp2p, lab, recordings } = this.components
    await libp2p.handle(JOB_PROTOCOL, (stream, connection) => { this.handleJobStream(stream, connection) }, { maxInboundStreams: 4 })
    await libp2p.handle(RAW_PROTOCOL, (stream, connection) => {
      this.serveRaw(stream, connection).catch((err: Error) => {
        this.log(`jobs: raw stream failed: ${err.message}`)
        stream.abort(err)
      })
    }, { maxInboundStreams: 8 })
    this.unsubscribe = lab.onChange(() => { this.poll() })
    recordings.on('started', this.onRecordingStarted)
    this.started = true
    this.poll()
  }

  async stop (): Promise<void> {
    this.started = false
    this.unsubscribe?.()
    this.components.recordings.off('started', this.onRecordingStarted)
    clearTimeout(this.timer)
    await this.components.libp2p.unhandle(JOB_PROTOCOL)
    await this.components.libp2p.unhandle(RAW_PROTOCOL)
    for (const job of this.jobs.values()) this.endJob(job)
    for (const session of this.sessions.values()) session.stream.abort(new JobManagerError('the scanner peer is stopping'))
    this.sessions.clear()
  }

  /** The lease book's view of a job, for status displays and tests. */
  jobState (taskId: string): ReturnType<LeaseBook['job']> & { jobId: string, doneUnits: string[], confirmedOffset: number } | undefined {
    const job = [...this.jobs.values()].find((j) => j.taskId === taskId)
    const entry = job !== undefined ? this.book.job(job.id) : undefined
    if (job === undefined || entry === undefined) return undefined
    return { ...entry, jobId: job.id, doneUnits: [...job.doneUnits.keys()], confirmedOffset: job.confirmedOffset }
  }

  // ---- the lab's tasks -------------------------------------------------------------------------

  private myDeviceIds (): Set<string> {
    const self = this.components.libp2p.peerId.toString()
    return new Set(this.components.lab.devices.list().filter((d) => d.peerId === self).map((d) => d.id))
  }

  /** Looks at the tasks after any change of the lab: starts, creates and drops jobs. */
  private poll (): void {
    if (!this.started) return
    try {
      this.reconcile()
    } catch (err) {
      this.log(`jobs: ${(err as Error).message}`)
    }
    this.assignAndGrant()
  }

  private reconcile (): void {
    const { lab, actor } = this.components
    const devices = this.myDeviceIds()
    const tasks = lab.tasks.list()
    const byId = new Map(tasks.map((t) => [t.id, t]))
    const mine = (t: Task | undefined): t is Task => t !== undefined && t.type === 'ACQUISITION' && devices.has((t.parameters as AcquisitionParameters).deviceId ?? '')

    if (this.autoStart) {
      for (const acquisition of tasks) {
        if (!mine(acquisition) || acquisition.status !== 'INPROGRESS') continue
        const run = `${acquisition.id}@${acquisition.startedAt ?? ''}`
        if (this.autoStarted.has(run)) continue
        this.autoStarted.add(run)
        const siblings = tasks.filter((t) => t.workflowId === acquisition.workflowId)
        const next = siblings[siblings.findIndex((t) => t.id === acquisition.id) + 1]
        if (next?.type === 'RECONSTRUCTION' && (next.parameters as ReconstructionParameters).inputTaskId === acquisition.id && (next.status === 'NEW' || next.status === 'UPDATED')) {
          lab.tasks.setStatus(next.id, 'STARTED', actor)
          this.log(`jobs: started reconstruction ${next.id} with its acquisition ${acquisition.id}`)
        }
      }
    }

    const wanted = new Set<string>()
    for (const task of lab.tasks.list()) {
      if (task.type !== 'RECONSTRUCTION' || !ACTIVE.has(task.status)) continue
      const inputTaskId = (task.parameters as ReconstructionParameters).inputTaskId
      const input = inputTaskId !== undefined ? byId.get(inputTaskId) : undefined
      if (!mine(input)) continue
      const jobId = `${task.id}@${task.startedAt ?? ''}`
      wanted.add(jobId)
      if (!this.jobs.has(jobId)) this.createJob(jobId, task, input.id)
    }
    for (const job of [...this.jobs.values()]) {
      if (!wanted.has(job.id)) {
        const status = lab.tasks.get(job.taskId)?.status ?? 'removed'
        this.dropJob(job, `the task is ${status === 'removed' ? 'removed' : `no longer running (${status})`}`)
      }
    }
    for (const job of this.jobs.values()) {
      if (this.book.job(job.id)?.state === 'waiting') this.checkInput(job)
    }
  }

  private createJob (jobId: string, task: Task, inputTaskId: string): void {
    const prefix = resultPrefix(jobId)
    const existing = this.components.lab.results.list({ taskId: task.id })
    const doneUnits = new Map(existing.filter((r) => r.id.startsWith(prefix)).map((r) => [r.id.slice(prefix.length), r.id]))
    const firstEpoch = 1 + Math.max(0, ...existing.map((r) => r.epoch ?? 0))
    const job: Job = { id: jobId, taskId: task.id, inputTaskId, doneUnits, confirmedOffset: 0, grantedOffset: 0, chain: Promise.resolve(), rawStreams: new Set(), ended: false }
    this.jobs.set(jobId, job)
    const preferredPeerId = (task.parameters as ReconstructionParameters).preferredPeerId
    this.book.addJob(jobId, { firstEpoch, ready: false, ...(preferredPeerId !== undefined ? { preferredPeerId } : {}) })
    this.log(`jobs: job ${jobId} for reconstruction task ${task.id}${doneUnits.size > 0 ? ` (${doneUnits.size} units already recorded)` : ''}`)
    this.checkInput(job)
  }

  /** A job is offered once its raw data exists: a recording (growing or complete) or the RAW result's blob. */
  private checkInput (job: Job): void {
    const { lab, recordings } = this.components
    const recording = recordings.get(job.inputTaskId)
    if (recording !== undefined) {
      if (recording.aborted && !recording.complete) {
        this.endWithInput(job, `the acquisition ${job.inputTaskId} stopped before its end, so its raw data is incomplete`)
        return
      }
      this.watchRecording(job, recording)
      this.book.markReady(job.id)
      return
    }
    const raw = this.rawResultBlob(job.inputTaskId)
    if (raw !== undefined) {
      this.book.markReady(job.id)
      return
    }
    const input = lab.tasks.get(job.inputTaskId)
    if (input !== undefined && (input.status === 'ERROR' || input.status === 'CANCELLED' || input.status === 'FINISHED')) {
      this.failJob(job, `the acquisition ${job.inputTaskId} ended (${input.status}) without raw data on this scanner`)
    }
  }

  private rawResultBlob (taskId: string): string | undefined {
    const result = this.components.lab.results.list({ taskId }).filter((r) => r.type === 'RAW').at(-1)
    return result?.files[0]?.sha256
  }

  private watchRecording (job: Job, recording: RawRecording): void {
    if (job.stopWatching !== undefined || recording.complete) return
    const onAbort = (reason: string): void => { this.endWithInput(job, `the acquisition stopped (${reason}), so its raw data is incomplete`) }
    recording.once('abort', onAbort)
    job.stopWatching = () => { recording.off('abort', onAbort) }
  }

  // ---- assignments -----------------------------------------------------------------------------

  private assignAndGrant (): void {
    if (!this.started) return
    for (const jobId of this.book.exhausted()) {
      const job = this.jobs.get(jobId)
      if (job !== undefined) this.failJob(job, 'no reconstruction peer could finish it (too many attempts)')
    }
    for (const grant of this.book.assign()) {
      const job = this.jobs.get(grant.jobId)
      const session = this.sessions.get(grant.sessionId)
      if (job === undefined || session === undefined) continue
      let description: JobDescription
      try {
        description = this.describe(job)
      } catch (err) {
        this.failJob(job, `cannot describe the job: ${(err as Error).message}`)
        continue
      }
      job.grantedOffset = job.confirmedOffset
      this.send(session, {
        type: 'grant',
        jobId: job.id,
        epoch: grant.epoch,
        leaseMs: this.book.leaseMs,
        resumeOffset: job.grantedOffset,
        doneUnits: [...job.doneUnits.keys()],
        description
      })
      this.log(`jobs: ${job.id} granted to ${session.name} (${session.peerId}) under epoch ${grant.epoch}${job.grantedOffset > 0 ? `, from offset ${job.grantedOffset}` : ''}`)
      const task = this.components.lab.tasks.get(job.taskId)
      if (task?.status === 'STARTED') this.components.lab.tasks.setStatus(job.taskId, 'INPROGRESS', this.components.actor)
    }
    this.schedule()
  }

  /** Wakes up at the next lease deadline or end of a preferred peer's grace. */
  private schedule (): void {
    clearTimeout(this.timer)
    const next = this.book.nextDeadline()
    if (next === undefined || !this.started) return
    this.timer = setTimeout(() => { this.tick() }, Math.max(0, next - this.now()) + 1)
    this.timer.unref?.()
  }

  private tick (): void {
    for (const lapse of this.book.expire()) this.revoke(lapse)
    this.assignAndGrant()
  }

  private revoke (lapse: Lapse): void {
    const session = this.sessions.get(lapse.sessionId)
    if (session !== undefined) this.send(session, { type: 'revoke', jobId: lapse.jobId, epoch: lapse.epoch, reason: lapse.reason })
    const job = this.jobs.get(lapse.jobId)
    for (const stream of job?.rawStreams ?? []) stream.abort(new JobManagerError(`lease revoked: ${lapse.reason}`))
    this.log(`jobs: lease of ${lapse.jobId} (epoch ${lapse.epoch}) ended: ${lapse.reason}`)
  }

  private describe (job: Job): JobDescription {
    const { lab } = this.components
    const task = lab.tasks.get(job.taskId)
    const input = lab.tasks.get(job.inputTaskId)
    if (task === undefined || input === undefined) throw new JobManagerError('the task or its input is gone')
    const parameters = task.parameters as ReconstructionParameters
    const patient = lab.patients.get(task.patientId)
    const exam = lab.exams.get(task.examId)
    const device = lab.devices.get((input.parameters as AcquisitionParameters).deviceId ?? '')
    const examTasks = lab.tasks.list({ examId: task.examId })
    return {
      taskId: task.id,
      inputTaskId: input.id,
      patientId: task.patientId,
      examId: task.examId,
      pipeline: parameters.pipeline,
      options: parameters.options ?? {},
      patient: {
        // the hospital's patient ID where the lab has it, else the lab's own id of the patient
        id: patient?.mrn ?? task.patientId,
        firstName: patient?.firstName ?? '',
        lastName: patient?.lastName ?? '',
        ...(patient?.birthDate !== undefined ? { birthDate: patient.birthDate } : {}),
        ...(patient?.sex !== undefined ? { sex: patient.sex } : {}),
        ...(patient?.heightCm !== undefined ? { heightCm: patient.heightCm } : {}),
        ...(patient?.weightKg !== undefined ? { weightKg: patient.weightKg } : {})
      },
      study: {
        id: task.examId,
        // the hospital's study UID (from its worklist) where the exam has one
        ...(exam?.studyInstanceUid !== undefined ? { uid: exam.studyInstanceUid } : {}),
        ...(exam !== undefined ? { name: exam.name } : {}),
        dateTime: exam?.createdAt ?? task.createdAt,
        ...(exam?.accessionNumber !== undefined ? { accessionNumber: exam.accessionNumber } : {})
      },
      ...(input.startedBy !== undefined ? { operator: input.startedBy } : {}),
      // one series per run of the task, whichever workers take part in it
      series: {
        id: job.id,
        number: 1 + Math.max(0, examTasks.findIndex((t) => t.id === task.id)),
        name: task.name,
        ...(task.description !== '' ? { description: task.description } : {}),
        ...(task.startedAt !== undefined ? { dateTime: task.startedAt } : {})
      },
      equipment: {
        manufacturer: device?.manufacturer ?? 'ScanHub',
        ...(device !== undefined ? { model: device.model, name: device.name, fieldStrengthT: device.fieldStrengthT } : {})
      }
    }
  }

  // ---- the end of a job ------------------------------------------------------------------------

  private failJob (job: Job, message: string): void {
    if (job.ended) return
    const { lab, actor } = this.components
    const task = lab.tasks.get(job.taskId)
    if (task !== undefined && ACTIVE.has(task.status)) lab.tasks.setStatus(job.taskId, 'ERROR', actor, { error: message.slice(0, 1000) })
    this.log(`jobs: ${job.id} failed: ${message}`)
    this.dropJob(job, message)
    void this.components.flush?.()
  }

  /**
   * Ends a job whose acquisition stopped before its end: cancelled with it when the operator stopped
   * the scan (nothing failed, and the workflow then reads as cancelled, not as an error), failed otherwise.
   */
  private endWithInput (job: Job, message: string): void {
    if (job.ended) return
    const { lab, actor } = this.components
    if (lab.tasks.get(job.inputTaskId)?.status !== 'CANCELLED') {
      this.failJob(job, message)
      return
    }
    const task = lab.tasks.get(job.taskId)
    if (task !== undefined && ACTIVE.has(task.status)) lab.tasks.setStatus(job.taskId, 'CANCELLED', actor)
    this.log(`jobs: ${job.id} cancelled with its acquisition`)
    this.dropJob(job, 'its acquisition was cancelled')
    void this.components.flush?.()
  }

  private dropJob (job: Job, reason: string): void {
    const lapse = this.book.removeJob(job.id, reason)
    if (lapse !== undefined) this.revoke(lapse)
    this.endJob(job)
  }

  private endJob (job: Job): void {
    job.ended = true
    job.stopWatching?.()
    for (const stream of job.rawStreams) stream.abort(new JobManagerError('the job ended'))
    this.jobs.delete(job.id)
  }

  // ---- job streams -----------------------------------------------------------------------------

  private handleJobStream (stream: Stream, connection: Connection): void {
    const peerId = connection.remotePeer.toString()
    const session: Session = { id: `${peerId}/${stream.id}`, peerId, name: peerId.slice(-8), stream, writer: new FrameWriter(stream) }
    this.sessions.set(session.id, session)
    const decoder = new FrameDecoder(MAX_JOB_FRAME_LENGTH)
    const closed = (): void => {
      if (!this.sessions.delete(session.id)) return
      for (const lapse of this.book.removeWorker(session.id)) this.revoke(lapse)
      this.assignAndGrant()
    }
    stream.addEventListener('close', closed)
    stream.addEventListener('remoteCloseWrite', () => { void stream.close().catch(() => {}) })
    stream.addEventListener('message', (event) => {
      if (!this.sessions.has(session.id)) return
      try {
        const bytes = event.data instanceof Uint8Array ? event.data : event.data.subarray()
        for (const frame of decoder.push(bytes)) {
          const message = decodeJobMessage(frame)
          if (!WORKER_MESSAGES.includes(message.type)) throw new JobProtocolError(`a worker does not send '${message.type}'`)
          this.handleWorkerMessage(session, message)
        }
      } catch (err) {
        // Listeners of remote input never throw: a peer that breaks the protocol loses its stream (and leases).
        const text = err instanceof FrameError || err instanceof JobProtocolError ? err.message : `unexpected: ${(err as Error).message}`
        this.log(`jobs: closing the job stream of ${peerId}: ${text}`)
        this.closeSession(session, text)
      }
    })
  }

  private closeSession (session: Session, error: string): void {
    // the error goes out before the stream is reset: close flushes it, abort ends a peer that does not close its side
    void session.writer.send(encodeJobMessage({ type: 'error', message: error }))
      .then(async () => { await session.stream.close({ signal: AbortSignal.timeout(1000) }) })
      .catch(() => {})
      .finally(() => { session.stream.abort(new JobProtocolError(error)) })
    // the leases lapse now, not when the close completes
    if (this.sessions.delete(session.id)) {
      for (const lapse of this.book.removeWorker(session.id)) this.revoke(lapse)
      this.assignAndGrant()
    }
  }

  private send (session: Session, message: JobMessage): void {
    session.writer.send(encodeJobMessage(message)).catch((err: Error) => { this.log(`jobs: sending ${message.type} to ${session.peerId} failed: ${err.message}`) })
  }

  private handleWorkerMessage (session: Session, message: JobMessage): void {
    switch (message.type) {
      case 'hello':
        session.name = message.name.slice(0, 100) || session.name
        this.book.setWorker(session.id, session.peerId, message.slots)
        this.assignAndGrant()
        return
      case 'error':
        this.log(`jobs: worker ${session.name} reports: ${message.message}`)
        return
    }
    if (!('jobId' in message)) return
    const job = this.jobs.get(message.jobId)
    if (job === undefined || !this.book.isCurrent(message.jobId, message.epoch, session.id)) {
      if (message.type !== 'failed') this.send(session, { type: 'revoke', jobId: message.jobId, epoch: message.epoch, reason: job === undefined ? 'no such job here (it ended)' : 'stale epoch: the job is no longer yours' })
      return
    }
    switch (message.type) {
      case 'renew':
        this.book.renew(message.jobId, message.epoch, session.id)
        this.schedule()
        return
      case 'progress':
        // Progress is liveness only: the resume offset moves with recorded units, never ahead of them.
        this.book.renew(message.jobId, message.epoch, session.id)
        this.schedule()
        return
      case 'unit-done':
        this.book.renew(message.jobId, message.epoch, session.id)
        job.chain = job.chain.then(async () => { await this.recordUnit(job, session, message) }).catch((err: Error) => { this.log(`jobs: recording a unit of ${job.id}: ${err.message}`) })
        return
      case 'done':
        job.chain = job.chain.then(async () => { await this.finishJob(job, session, message.epoch, message.images) }).catch((err: Error) => { this.log(`jobs: finishing ${job.id}: ${err.message}`) })
        return
      case 'failed':
        job.chain = job.chain.then(() => {
          if (!this.book.isCurrent(job.id, message.epoch, session.id)) return
          if (message.fatal) {
            this.failJob(job, message.message)
            return
          }
          const released = this.book.release(job.id, message.epoch, session.id)
          this.log(`jobs: ${session.name} gave back ${job.id}: ${message.message}`)
          if (released === 'exhausted') this.failJob(job, `no reconstruction peer could finish it: ${message.message}`)
          for (const stream of job.rawStreams) stream.abort(new JobManagerError('the worker gave the job back'))
          this.assignAndGrant()
        })
    }
  }

  /** Fetches a unit's files from the worker, then records them as one DICOM result of the epoch. */
  private async recordUnit (job: Job, session: Session, message: Extract<JobMessage, { type: 'unit-done' }>): Promise<void> {
    if (job.ended) return
    if (job.doneUnits.has(message.unitKey)) {
      this.send(session, { type: 'ack', jobId: job.id, epoch: message.epoch, unitKey: message.unitKey })
      return
    }
    try {
      await withTimeout(Promise.all(message.files.map(async (f) => {
        const info = await this.components.blobService.ensure(f.sha256)
        if (info.size !== f.size) throw new JobManagerError(`file ${f.name} has ${info.size} bytes, the worker said ${f.size}`)
      })), this.fetchTimeoutMs, 'fetching the unit\'s files')
    } catch (err) {
      // Not recorded: the unit is not done. The worker's copy may be gone; give the job to someone who can redo it.
      if (!this.book.isCurrent(job.id, message.epoch, session.id)) return
      this.log(`jobs: cannot fetch unit ${message.unitKey} of ${job.id} from ${session.name}: ${(err as Error).message}`)
      const released = this.book.release(job.id, message.epoch, session.id)
      this.revoke({ jobId: job.id, sessionId: session.id, epoch: message.epoch, reason: `its files could not be fetched: ${(err as Error).message}` })
      if (released === 'exhausted') this.failJob(job, `the images of unit ${message.unitKey} could not be fetched from any reconstruction peer`)
      this.assignAndGrant()
      return
    }
    // the lease may have lapsed while the files were fetched: then the next worker redoes the unit
    if (job.ended || !this.book.isCurrent(job.id, message.epoch, session.id) || job.doneUnits.has(message.unitKey)) return
    const id = `${resultPrefix(job.id)}${message.unitKey}`
    try {
      this.components.lab.results.create({
        id,
        taskId: job.taskId,
        type: 'DICOM',
        files: message.files.map((f) => ({ name: f.name, sha256: f.sha256, size: f.size, type: 'application/dicom' })),
        epoch: message.epoch
      }, this.components.actor)
    } catch (err) {
      // recorded before a restart of this peer: a result with this id exists, which is what we want
      if (this.components.lab.results.get(id) === undefined) throw err
    }
    job.doneUnits.set(message.unitKey, id)
    job.confirmedOffset = Math.max(job.confirmedOffset, message.confirmedOffset)
    this.send(session, { type: 'ack', jobId: job.id, epoch: message.epoch, unitKey: message.unitKey })
  }

  private async finishJob (job: Job, session: Session, epoch: number, images: number): Promise<void> {
    if (job.ended || !this.book.isCurrent(job.id, epoch, session.id)) return
    if (job.doneUnits.size === 0) {
      this.failJob(job, 'the reconstruction gave no images (the raw data holds no image readouts)')
      this.send(session, { type: 'ack', jobId: job.id, epoch, unitKey: '' })
      return
    }
    const { lab, actor } = this.components
    if (ACTIVE.has(lab.tasks.get(job.taskId)?.status ?? '')) lab.tasks.setStatus(job.taskId, 'FINISHED', actor)
    this.book.removeJob(job.id, 'finished')
    this.endJob(job)
    this.log(`jobs: ${job.id} finished by ${session.name}: ${job.doneUnits.size} units, ${images} images in its last epoch`)
    await this.components.flush?.()
    this.send(session, { type: 'ack', jobId: job.id, epoch, unitKey: '' })
  }

  // ---- raw streams -----------------------------------------------------------------------------

  private async serveRaw (stream: Stream, connection: Connection): Promise<void> {
    const writer = new FrameWriter(stream)
    const refuse = async (status: typeof RAW_STATUS_REFUSED | typeof RAW_STATUS_BAD_REQUEST, message: string): Promise<void> => {
      await writer.send(encodeRawResponseHeader({ status, message }))
      await stream.close().catch(() => {})
    }
    let request
    try {
      request = decodeRawRequest(await readOneFrame(stream, MAX_RAW_REQUEST_LENGTH, this.requestTimeoutMs, (message) => new RawProtocolError(message)))
    } catch (err) {
      await refuse(RAW_STATUS_BAD_REQUEST, (err as Error).message)
      return
    }
    const job = this.jobs.get(request.jobId)
    if (job === undefined || !this.book.isHeldBy(request.jobId, request.epoch, connection.remotePeer.toString())) {
      await refuse(RAW_STATUS_REFUSED, job === undefined ? `no job ${request.jobId} on this scanner` : `epoch ${request.epoch} of ${request.jobId} is not held by this peer`)
      return
    }
    if (request.fromOffset !== 0 && request.fromOffset !== job.grantedOffset) {
      await refuse(RAW_STATUS_BAD_REQUEST, `offset ${request.fromOffset} is not the confirmed offset of this grant (${job.grantedOffset})`)
      return
    }
    let input: RawInput
    try {
      input = await this.openInput(job)
    } catch (err) {
      await refuse(RAW_STATUS_REFUSED, (err as Error).message)
      return
    }
    const abort = new AbortController()
    job.rawStreams.add(stream)
    stream.addEventListener('close', () => { abort.abort(new JobManagerError('raw stream closed')) })
    try {
      let start = request.fromOffset
      let preamble = 0
      if (start > 0) {
        job.preamble ??= preambleLength(input, abort.signal)
        try {
          preamble = await job.preamble
        } catch (err) {
          job.preamble = undefined
          throw err
        }
        if (start <= preamble) start = 0
      }
      const preambleBytes = start > 0 ? preamble : 0
      await writer.send(encodeRawResponseHeader({ status: RAW_STATUS_OK, preambleLength: preambleBytes, startOffset: start }))
      for (let at = 0; at < preambleBytes; at += RAW_CHUNK_BYTES) {
        await writer.sendRaw(await input.read(at, Math.min(RAW_CHUNK_BYTES, preambleBytes - at)))
      }
      let position = start
      // the next chunk is read from disk while this one is sent
      let ahead: Promise<Uint8Array> | undefined
      const readAhead = (at: number): void => {
        ahead = at < input.length ? input.read(at, RAW_CHUNK_BYTES) : undefined
        // a read left behind by a stream that ends is not waited for (the input closes below)
        ahead?.catch(() => {})
      }
      for (;;) {
        if (abort.signal.aborted || stream.writeStatus !== 'writable') return
        if (position < input.length) {
          const chunk = await (ahead ?? input.read(position, RAW_CHUNK_BYTES))
          position += chunk.length
          readAhead(position)
          // sendRaw waits for the stream to drain whenever send() says its buffer is full
          await writer.sendRaw(chunk)
          continue
        }
        if (input.complete) break
        if (input.abortReason !== undefined) {
          stream.abort(new JobManagerError(`the acquisition stopped: ${input.abortReason}`))
          return
        }
        await input.waitFor(position, abort.signal)
      }
      await writer.flushed()
      await stream.close()
    } finally {
      job.rawStreams.delete(stream)
      await input.close()
    }
  }

  private async openInput (job: Job): Promise<RawInput> {
    const recording = this.components.recordings.get(job.inputTaskId)
    if (recording !== undefined) return await recordingInput(recording)
    const sha256 = this.rawResultBlob(job.inputTaskId)
    if (sha256 === undefined) throw new JobManagerError(`the raw data of ${job.inputTaskId} is not on this scanner`)
    return await blobInput(this.components.blobs, sha256)
  }
}

async function withTimeout<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    return await Promise.race([promise, new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => { reject(new JobManagerError(`${what} took more than ${ms} ms`)) }, ms)
    })])
  } finally {
    clearTimeout(timer)
  }
}
