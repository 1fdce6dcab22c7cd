// The durable queue of exports to PACS destinations, on the peer that holds (or fetches) the DICOM files.
//
// An export is a list of DICOM files (blobs, by sha-256) of an exam's or a task's results, to send to
// one destination. Jobs live in <data>/pacs/exports.json, rewritten atomically at each change, so a
// restarted peer resumes what was queued or being sent. A job that cannot reach its PACS is retried with
// exponential backoff, up to RetryPolicy.maxAttempts, then it is `failed`; a PACS that refuses for good
// (a permanent association rejection, a wrong URL or password) fails it at once. The PACS refusing one image is recorded
// for that image (and not retried: sending it again gets the same answer).
//
// Never the same instance twice to one destination: each destination has a ledger of the SOP Instance
// UIDs it acknowledged (<data>/pacs/sent/<destination>.json), written to disk before the job counts
// them as sent; an instance already in the ledger is `skipped`. A crash between the PACS's answer and
// the ledger's write sends that one batch again on restart, which a PACS takes as the same instance.
import { randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseDicom } from '../../protocol/dicom/read.ts'
import type { Actor, Destination, Lab, Result } from '../../protocol/lab/index.ts'
import { writeFileAtomic } from '../lab/data-dir.ts'
import type { BlobStore } from '../storage/blob-store.ts'
import type { BlobService } from '../blob/blob-service.ts'
import { dicomwebStore } from './dicomweb.ts'
import { dimseStore } from './dimse.ts'
import type { DicomInstance, StoreReport } from './dimse.ts'

import type { ExportState, ExportView } from '../../protocol/pacs-export.ts'
export type { ExportState, ExportView }

export interface ExportFile {
  resultId: string
  name: string
  sha256: string
  /** read from the file when it is first sent */
  sopInstanceUid?: string
  status: 'pending' | 'sent' | 'skipped' | 'failed'
  error?: string
}

export interface ExportJob {
  id: string
  destinationId: string
  patientId: string
  examId?: string
  taskId?: string
  state: ExportState
  files: ExportFile[]
  /** tries that ended without every file answered */
  attempts: number
  nextAttemptAt?: string
  /** why the last try could not finish */
  lastError?: string
  /** set on automatic exports: `<taskId>:<destinationId>`, so one finished task is queued once */
  autoKey?: string
  createdAt: string
  updatedAt: string
  createdBy: string
}

export class ExportRequestError extends Error {
  override name = 'ExportRequestError'
  constructor (message: string, readonly status: 400 | 404) {
    super(message)
  }
}

export interface RetryPolicy {
  maxAttempts: number
  baseDelayMs: number
  maxDelayMs: number
}

/** 2 s, 4 s, … up to 5 min between tries; after the 8th the export is failed (about 4 minutes of trying). */
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 2_000, maxDelayMs: 300_000 }
/** Instances per association or STOW-RS request: a broken connection loses at most one batch's answers. */
const BATCH_SIZE = 20
/** Finished exports kept for GET /api/v1/exports; older ones are forgotten. */
const KEEP_FINISHED = 500

export interface ExportQueueComponents {
  lab: Lab
  blobs: Pick<BlobStore, 'read'>
  blobService: Pick<BlobService, 'ensure'>
  /** the peer's actor: exports start automatically only for results this peer recorded */
  actor: Actor
}

export interface ExportQueueOptions {
  dataDir: string
  retry?: RetryPolicy
  log?: (message: string) => void
  now?: () => number
}

export function backoffDelayMs (attempts: number, retry: RetryPolicy): number {
  return Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** Math.max(0, attempts - 1))
}

export function viewOf (job: ExportJob): ExportView {
  const count = (status: ExportFile['status']): number => job.files.filter((f) => f.status === status).length
  return {
    id: job.id,
    destinationId: job.destinationId,
    patientId: job.patientId,
    ...(job.examId !== undefined ? { examId: job.examId } : {}),
    ...(job.taskId !== undefined ? { taskId: job.taskId } : {}),
    state: job.state,
    total: job.files.length,
    sent: count('sent'),
    skipped: count('skipped'),
    failed: count('failed'),
    errors: job.files.filter((f) => f.status === 'failed').map((f) => ({ file: f.name, ...(f.sopInstanceUid !== undefined ? { sopInstanceUid: f.sopInstanceUid } : {}), error: f.error ?? 'refused' })),
    attempts: job.attempts,
    ...(job.nextAttemptAt !== undefined ? { nextAttemptAt: job.nextAttemptAt } : {}),
    ...(job.lastError !== undefined ? { lastError: job.lastError } : {}),
    automatic: job.autoKey !== undefined,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    createdBy: job.createdBy
  }
}

export class ExportQueue {
  private jobs: ExportJob[] = []
  private readonly ledgers = new Map<string, Set<string>>()
  private readonly retry: RetryPolicy
  private readonly log: (message: string) => void
  private readonly now: () => number
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private rerun = false
  private stopped = true
  private offChange: (() => void) | undefined
  private autoScan: NodeJS.Timeout | undefined
  private saving: Promise<void> = Promise.resolve()

  constructor (private readonly components: ExportQueueComponents, private readonly options: ExportQueueOptions) {
    this.retry = options.retry ?? DEFAULT_RETRY
    this.log = options.log ?? (() => {})
    this.now = options.now ?? Date.now
  }

  private get dir (): string {
    return join(this.options.dataDir, 'pacs')
  }

  private get jobsFile (): string {
    return join(this.dir, 'exports.json')
  }

  private ledgerFile (destinationId: string): string {
    return join(this.dir, 'sent', `${encodeURIComponent(destinationId)}.json`)
  }

  /** Loads the queue; exports that were being sent when the peer stopped are sent again (the ledger skips what the PACS took). */
  async start (): Promise<void> {
    this.jobs = await readJson<ExportJob[]>(this.jobsFile) ?? []
    for (const job of this.jobs) {
      if (job.state === 'sending') job.state = 'queued'
      // a restart is a new chance (the PACS or the network may have been fixed meanwhile): try now
      if (job.state === 'queued') delete job.nextAttemptAt
    }
    const pending = this.jobs.filter((j) => j.state === 'queued').length
    if (pending > 0) this.log(`pacs: ${pending} export${pending === 1 ? '' : 's'} to resume`)
    this.stopped = false
    this.offChange = this.components.lab.onChange(() => { this.scheduleAutoScan() })
    this.scheduleAutoScan()
    this.wake()
  }

  async stop (): Promise<void> {
    this.stopped = true
    this.offChange?.()
    clearTimeout(this.timer)
    clearTimeout(this.autoScan)
    await this.running
    await this.saving
  }

  list (): ExportView[] {
    return [...this.jobs].reverse().map(viewOf)
  }

  get (id: string): ExportView | undefined {
    const job = this.jobs.find((j) => j.id === id)
    return job === undefined ? undefined : viewOf(job)
  }

  /** Queues the DICOM results of an exam (all its tasks) or of one task for a destination. */
  async create (request: { destinationId: string, examId?: string, taskId?: string }, createdBy: string, autoKey?: string): Promise<ExportView> {
    const { lab } = this.components
    const destination = lab.destinations.get(request.destinationId)
    if (destination === undefined) throw new ExportRequestError(`no destination with id ${request.destinationId}`, 404)
    let results: Result[]
    let patientId: string
    if (request.taskId !== undefined) {
      const task = lab.tasks.get(request.taskId)
      if (task === undefined) throw new ExportRequestError(`no task with id ${request.taskId}`, 404)
      patientId = task.patientId
      results = lab.results.list({ taskId: task.id })
    } else if (request.examId !== undefined) {
      const exam = lab.exams.get(request.examId)
      if (exam === undefined) throw new ExportRequestError(`no exam with id ${request.examId}`, 404)
      patientId = exam.patientId
      const taskIds = new Set(lab.tasks.list({ examId: exam.id }).map((t) => t.id))
      results = lab.results.list({ patientId: exam.patientId }).filter((r) => taskIds.has(r.taskId))
    } else {
      throw new ExportRequestError('give examId or taskId: what to send', 400)
    }
    const files = dicomFilesOf(results)
    if (files.length === 0) throw new ExportRequestError(`the ${request.taskId !== undefined ? 'task' : 'exam'} has no DICOM images yet`, 400)
    const at = new Date(this.now()).toISOString()
    const job: ExportJob = {
      id: randomUUID(),
      destinationId: destination.id,
      patientId,
      ...(request.examId !== undefined && request.taskId === undefined ? { examId: request.examId } : {}),
      ...(request.taskId !== undefined ? { taskId: request.taskId } : {}),
      state: 'queued',
      files,
      attempts: 0,
      ...(autoKey !== undefined ? { autoKey } : {}),
      createdAt: at,
      updatedAt: at,
      createdBy
    }
    this.jobs.push(job)
    this.forgetOldFinished()
    await this.save()
    this.log(`pacs: export ${job.id} of ${files.length} image${files.length === 1 ? '' : 's'} to ${destination.name} queued`)
    this.wake()
    return viewOf(job)
  }

  // ---- automatic exports ----------------------------------------------------------------------

  private scheduleAutoScan (): void {
    if (this.stopped || this.autoScan !== undefined) return
    this.autoScan = setTimeout(() => {
      this.autoScan = undefined
      this.queueAutomaticExports().catch((err: Error) => { this.log(`pacs: automatic export: ${err.message}`) })
    }, 200)
    this.autoScan.unref()
  }

  /**
   * Finished reconstructions of exams that name destinations to send to, whose DICOM results this peer
   * recorded (and so holds): each is queued once per destination. Other peers leave them to this one.
   */
  private async queueAutomaticExports (): Promise<void> {
    const { lab, actor } = this.components
    for (const exam of lab.exams.list()) {
      const destinations = exam.autoExportDestinationIds ?? []
      if (destinations.length === 0) continue
      for (const task of lab.tasks.list({ examId: exam.id })) {
        if (task.type !== 'RECONSTRUCTION' || task.status !== 'FINISHED') continue
        const results = lab.results.list({ taskId: task.id }).filter((r) => r.type === 'DICOM')
        if (results.length === 0 || !results.every((r) => r.createdBy === actor.name)) continue
        for (const destinationId of destinations) {
          const autoKey = `${task.id}:${destinationId}`
          if (this.jobs.some((j) => j.autoKey === autoKey)) continue
          if (lab.destinations.get(destinationId) === undefined) continue
          if (this.stopped) return
          await this.create({ destinationId, taskId: task.id }, actor.name, autoKey)
        }
      }
    }
  }

  // ---- sending --------------------------------------------------------------------------------

  private wake (): void {
    if (this.stopped) return
    if (this.running !== undefined) {
      this.rerun = true
      return
    }
    clearTimeout(this.timer)
    this.running = this.runDue().finally(() => {
      this.running = undefined
      if (this.rerun) {
        this.rerun = false
        this.wake()
      } else {
        this.scheduleNext()
      }
    })
  }

  private scheduleNext (): void {
    if (this.stopped) return
    const due = this.jobs.filter((j) => j.state === 'queued').map((j) => Date.parse(j.nextAttemptAt ?? j.createdAt))
    if (due.length === 0) return
    const delay = Math.max(0, Math.min(...due) - this.now())
    this.timer = setTimeout(() => { this.wake() }, delay)
  }

  /** Sends every due export, oldest first. */
  private async runDue (): Promise<void> {
    for (;;) {
      if (this.stopped) return
      const now = this.now()
      const job = this.jobs.find((j) => j.state === 'queued' && Date.parse(j.nextAttemptAt ?? j.createdAt) <= now)
      if (job === undefined) return
      await this.attempt(job)
    }
  }

  private async attempt (job: ExportJob): Promise<void> {
    const destination = this.components.lab.destinations.get(job.destinationId)
    job.state = 'sending'
    job.updatedAt = new Date(this.now()).toISOString()
    await this.save()
    if (destination === undefined) {
      this.finish(job, 'failed', 'the destination was deleted')
      await this.save()
      return
    }
    const ledger = await this.ledger(destination.id)
    let error: string | undefined
    let permanent = false
    for (;;) {
      if (this.stopped) { error = 'the peer stopped'; break }
      const batch: Array<{ file: ExportFile, instance: DicomInstance }> = []
      for (const file of job.files) {
        if (file.status !== 'pending') continue
        const prepared = await this.prepare(file)
        if ('error' in prepared) {
          if (prepared.retry) { error = prepared.error; break }
          file.status = 'failed'
          file.error = prepared.error
          continue
        }
        if (ledger.has(prepared.sopInstanceUid)) { file.status = 'skipped'; continue }
        // two files of one job with the same instance: the PACS gets it once
        if (batch.some((b) => b.instance.sopInstanceUid === prepared.sopInstanceUid)) { file.status = 'skipped'; continue }
        batch.push({ file, instance: prepared })
        if (batch.length >= BATCH_SIZE) break
      }
      if (batch.length === 0) break
      const report = await this.send(destination, batch.map((b) => b.instance))
      const acknowledged: string[] = []
      for (const { file, instance } of batch) {
        const outcome = report.outcomes.get(instance.sopInstanceUid)
        if (outcome === undefined) continue
        if (outcome.ok) acknowledged.push(instance.sopInstanceUid)
        else { file.status = 'failed'; file.error = outcome.error }
      }
      // on disk before the job says sent: after a crash the ledger, not the job, decides what to skip
      if (acknowledged.length > 0) {
        for (const uid of acknowledged) ledger.add(uid)
        await writeFileAtomic(this.ledgerFile(destination.id), JSON.stringify([...ledger]))
        for (const { file, instance } of batch) if (acknowledged.includes(instance.sopInstanceUid)) file.status = 'sent'
      }
      job.updatedAt = new Date(this.now()).toISOString()
      await this.save()
      if (report.error !== undefined) { error = report.error; permanent = report.permanent === true; break }
    }
    if (error === undefined) {
      const refused = job.files.filter((f) => f.status === 'failed').length
      this.finish(job, refused > 0 ? 'failed' : 'done', refused > 0 ? `the destination refused ${refused} of ${job.files.length} images` : undefined)
    } else if (this.stopped) {
      job.state = 'queued'
    } else {
      job.attempts++
      job.lastError = error
      if (permanent) {
        this.finish(job, 'failed', error)
      } else if (job.attempts >= this.retry.maxAttempts) {
        this.finish(job, 'failed', `${error} (gave up after ${job.attempts} tries)`)
      } else {
        job.state = 'queued'
        job.nextAttemptAt = new Date(this.now() + backoffDelayMs(job.attempts, this.retry)).toISOString()
        this.log(`pacs: export ${job.id} to ${destination.name}: ${error}; trying again at ${job.nextAttemptAt}`)
      }
    }
    job.updatedAt = new Date(this.now()).toISOString()
    await this.save()
  }

  private finish (job: ExportJob, state: 'done' | 'failed', reason: string | undefined): void {
    job.state = state
    delete job.nextAttemptAt
    if (reason !== undefined) job.lastError = reason
    else delete job.lastError
    const view = viewOf(job)
    this.log(`pacs: export ${job.id} ${state}: ${view.sent} sent, ${view.skipped} already there, ${view.failed} refused${reason !== undefined ? ` (${reason})` : ''}`)
  }

  /** The file's bytes and SOP Instance UID; a missing blob is retried (its peer may come back), an unreadable file is not. */
  private async prepare (file: ExportFile): Promise<DicomInstance | { error: string, retry: boolean }> {
    let bytes: Uint8Array
    try {
      await this.components.blobService.ensure(file.sha256)
      bytes = await this.components.blobs.read(file.sha256)
    } catch (err) {
      return { error: `the image ${file.name} is not on this peer and could not be fetched from the lab: ${(err as Error).message}`, retry: true }
    }
    if (file.sopInstanceUid === undefined) {
      try {
        const uid = parseDicom(bytes).dataset.SOPInstanceUID
        if (typeof uid !== 'string' || uid === '') return { error: `${file.name} has no SOP Instance UID`, retry: false }
        file.sopInstanceUid = uid
      } catch (err) {
        return { error: `${file.name} is not readable DICOM: ${(err as Error).message}`, retry: false }
      }
    }
    return { sopInstanceUid: file.sopInstanceUid, bytes }
  }

  private async send (destination: Destination, instances: DicomInstance[]): Promise<StoreReport> {
    try {
      return destination.kind === 'dimse' ? await dimseStore(destination, instances) : await dicomwebStore(destination, instances)
    } catch (err) {
      return { outcomes: new Map(), error: (err as Error).message }
    }
  }

  private async ledger (destinationId: string): Promise<Set<string>> {
    let ledger = this.ledgers.get(destinationId)
    if (ledger === undefined) {
      ledger = new Set(await readJson<string[]>(this.ledgerFile(destinationId)) ?? [])
      this.ledgers.set(destinationId, ledger)
    }
    return ledger
  }

  private forgetOldFinished (): void {
    const finished = this.jobs.filter((j) => j.state === 'done' || j.state === 'failed')
    if (finished.length <= KEEP_FINISHED) return
    const drop = new Set(finished.slice(0, finished.length - KEEP_FINISHED))
    // an automatic export's key must outlive it, or the same task would be queued again: keep those
    this.jobs = this.jobs.filter((j) => !drop.has(j) || j.autoKey !== undefined)
  }

  /** Writes the queue; writes are chained so that the file always holds the latest state. */
  private async save (): Promise<void> {
    const text = JSON.stringify(this.jobs)
    this.saving = this.saving.then(async () => { await writeFileAtomic(this.jobsFile, text) })
    await this.saving
  }
}

/** The DICOM files of the results, once each (by blob), in the results' order. */
function dicomFilesOf (results: Result[]): ExportFile[] {
  const files: ExportFile[] = []
  const seen = new Set<string>()
  for (const result of results) {
    if (result.type !== 'DICOM') continue
    for (const file of result.files) {
      if (file.type !== 'application/dicom' || seen.has(file.sha256)) continue
      seen.add(file.sha256)
      files.push({ resultId: result.id, name: file.name, sha256: file.sha256, status: 'pending' })
    }
  }
  return files
}

async function readJson<T> (path: string): Promise<T | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  return JSON.parse(text) as T
}
