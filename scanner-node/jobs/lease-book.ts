// Who holds which reconstruction job, and until when: the scanner's single record of assignments. It
// does no I/O and reads time only through `now` (the scanner's monotonic clock, performance.now(),
// never a wall clock: an offline lab has no NTP), so that it can be tested with a fake clock. The job
// manager asks it what to grant, renew, revoke and re-offer, and does the talking.

export interface LeaseBookInit {
  /** how long a grant or a renewal holds; default 15 s */
  leaseMs?: number
  /** how long a job waits for its preferred peer before it is offered to others; default 5 s */
  preferredGraceMs?: number
  /** non-fatal failures (a worker gave up, its lease lapsed) before a job is given up; default 3 */
  maxAttempts?: number
  /** monotonic milliseconds; default performance.now() */
  now?: () => number
}

export const DEFAULT_LEASE_MS = 15_000
export const DEFAULT_PREFERRED_GRACE_MS = 5_000
export const DEFAULT_MAX_ATTEMPTS = 3

/** A grant to make: job `jobId` to worker session `sessionId` under `epoch`. */
export interface Grant {
  jobId: string
  sessionId: string
  epoch: number
}

/** A lease that ended without the worker's doing: tell the worker, under this epoch. */
export interface Lapse {
  jobId: string
  sessionId: string
  epoch: number
  reason: string
}

interface JobEntry {
  jobId: string
  /** highest epoch granted so far; the next grant takes epoch + 1 */
  epoch: number
  state: 'waiting' | 'pending' | 'leased'
  holder?: string
  deadline: number
  /** when the job became offerable: the preferred peer's grace runs from here */
  offerableSince: number
  preferredPeerId?: string
  attempts: number
}

interface WorkerEntry {
  sessionId: string
  peerId: string
  slots: number
  order: number
}

export class LeaseBook {
  readonly leaseMs: number
  private readonly graceMs: number
  private readonly maxAttempts: number
  private readonly now: () => number
  private readonly jobs = new Map<string, JobEntry>()
  private readonly workers = new Map<string, WorkerEntry>()
  private workerOrder = 0

  constructor (init: LeaseBookInit = {}) {
    this.leaseMs = init.leaseMs ?? DEFAULT_LEASE_MS
    this.graceMs = init.preferredGraceMs ?? DEFAULT_PREFERRED_GRACE_MS
    this.maxAttempts = init.maxAttempts ?? DEFAULT_MAX_ATTEMPTS
    this.now = init.now ?? (() => performance.now())
  }

  /**
   * Adds a job. `ready` false: its input is not there yet (the acquisition has not started); it is
   * not offered until markReady. `firstEpoch` is the epoch of its first grant (above every epoch a
   * result of the task already carries).
   */
  addJob (jobId: string, options: { firstEpoch?: number, preferredPeerId?: string, ready?: boolean } = {}): void {
    if (this.jobs.has(jobId)) return
    const ready = options.ready ?? true
    this.jobs.set(jobId, {
      jobId,
      epoch: Math.max(1, options.firstEpoch ?? 1) - 1,
      state: ready ? 'pending' : 'waiting',
      deadline: Infinity,
      offerableSince: this.now(),
      ...(options.preferredPeerId !== undefined ? { preferredPeerId: options.preferredPeerId } : {}),
      attempts: 0
    })
  }

  markReady (jobId: string): void {
    const job = this.jobs.get(jobId)
    if (job === undefined || job.state !== 'waiting') return
    job.state = 'pending'
    job.offerableSince = this.now()
  }

  hasJob (jobId: string): boolean {
    return this.jobs.has(jobId)
  }

  jobIds (): string[] {
    return [...this.jobs.keys()]
  }

  /** The job's state, epoch and holder, for the manager's decisions and for tests. */
  job (jobId: string): { state: JobEntry['state'], epoch: number, holder?: string, peerId?: string, attempts: number } | undefined {
    const job = this.jobs.get(jobId)
    if (job === undefined) return undefined
    const peerId = job.holder !== undefined ? this.workers.get(job.holder)?.peerId : undefined
    return { state: job.state, epoch: job.epoch, ...(job.holder !== undefined ? { holder: job.holder } : {}), ...(peerId !== undefined ? { peerId } : {}), attempts: job.attempts }
  }

  /** Removes a job (finished, failed, cancelled); returns the lease to revoke, if one was held. */
  removeJob (jobId: string, reason: string): Lapse | undefined {
    const job = this.jobs.get(jobId)
    if (job === undefined) return undefined
    this.jobs.delete(jobId)
    return job.holder !== undefined ? { jobId, sessionId: job.holder, epoch: job.epoch, reason } : undefined
  }

  /** A worker's stream opened (or it said again how many jobs it takes). */
  setWorker (sessionId: string, peerId: string, slots: number): void {
    const existing = this.workers.get(sessionId)
    if (existing !== undefined) existing.slots = slots
    else this.workers.set(sessionId, { sessionId, peerId, slots, order: this.workerOrder++ })
  }

  /** A worker's stream closed: its leases lapse now, not when they would have expired. */
  removeWorker (sessionId: string): Lapse[] {
    if (!this.workers.delete(sessionId)) return []
    const lapsed: Lapse[] = []
    for (const job of this.jobs.values()) {
      if (job.holder === sessionId) lapsed.push(this.lapse(job, 'the worker went away'))
    }
    return lapsed
  }

  /** Whether `sessionId` holds `jobId` under `epoch` (anything else is a stale worker). */
  isCurrent (jobId: string, epoch: number, sessionId: string): boolean {
    const job = this.jobs.get(jobId)
    return job !== undefined && job.state === 'leased' && job.holder === sessionId && job.epoch === epoch
  }

  /** Whether the lease of `jobId` under `epoch` is held by a session of `peerId` (raw streams come on their own streams). */
  isHeldBy (jobId: string, epoch: number, peerId: string): boolean {
    const job = this.jobs.get(jobId)
    return job !== undefined && job.state === 'leased' && job.epoch === epoch && job.holder !== undefined && this.workers.get(job.holder)?.peerId === peerId
  }

  /** Extends a current lease; false for a stale one (the worker must stop). */
  renew (jobId: string, epoch: number, sessionId: string): boolean {
    if (!this.isCurrent(jobId, epoch, sessionId)) return false
    const job = this.jobs.get(jobId) as JobEntry
    job.deadline = this.now() + this.leaseMs
    return true
  }

  /**
   * The worker gave the job back without a verdict on the data (it stops, it ran out of resources):
   * offered again. Returns false for a stale epoch, and 'exhausted' when the job has failed this way
   * too often and should be given up.
   */
  release (jobId: string, epoch: number, sessionId: string): boolean | 'exhausted' {
    if (!this.isCurrent(jobId, epoch, sessionId)) return false
    const job = this.jobs.get(jobId) as JobEntry
    this.lapse(job, 'released')
    return job.attempts >= this.maxAttempts ? 'exhausted' : true
  }

  /** Leases past their deadline lapse and their jobs are offered again. */
  expire (): Lapse[] {
    const now = this.now()
    const lapsed: Lapse[] = []
    for (const job of this.jobs.values()) {
      if (job.state === 'leased' && job.deadline <= now) lapsed.push(this.lapse(job, `lease of ${this.leaseMs} ms lapsed without renewal`))
    }
    return lapsed
  }

  /** Jobs whose attempts are used up (after expire or removeWorker): the manager fails them. */
  exhausted (): string[] {
    return [...this.jobs.values()].filter((j) => j.state === 'pending' && j.attempts >= this.maxAttempts).map((j) => j.jobId)
  }

  /**
   * Grants for pending jobs, in the order they were added, to workers with free slots: the job's
   * preferred peer first, and only it while the grace lasts; otherwise the least loaded worker (the
   * one that asked first among equals).
   */
  assign (): Grant[] {
    const now = this.now()
    const grants: Grant[] = []
    const load = new Map<string, number>()
    for (const job of this.jobs.values()) {
      if (job.holder !== undefined) load.set(job.holder, (load.get(job.holder) ?? 0) + 1)
    }
    const free = (w: WorkerEntry): number => w.slots - (load.get(w.sessionId) ?? 0)
    for (const job of this.jobs.values()) {
      if (job.state !== 'pending' || job.attempts >= this.maxAttempts) continue
      let candidates = [...this.workers.values()].filter((w) => free(w) > 0)
      if (job.preferredPeerId !== undefined) {
        const preferred = candidates.filter((w) => w.peerId === job.preferredPeerId)
        if (preferred.length > 0) candidates = preferred
        else if (now < job.offerableSince + this.graceMs) continue
      }
      if (candidates.length === 0) continue
      candidates.sort((a, b) => free(b) - free(a) || a.order - b.order)
      const worker = candidates[0]
      job.epoch++
      job.state = 'leased'
      job.holder = worker.sessionId
      job.deadline = now + this.leaseMs
      load.set(worker.sessionId, (load.get(worker.sessionId) ?? 0) + 1)
      grants.push({ jobId: job.jobId, sessionId: worker.sessionId, epoch: job.epoch })
    }
    return grants
  }

  /** When something will next change by itself (a lease deadline, the end of a grace), for a timer. */
  nextDeadline (): number | undefined {
    let next = Infinity
    for (const job of this.jobs.values()) {
      if (job.state === 'leased') next = Math.min(next, job.deadline)
      else if (job.state === 'pending' && job.preferredPeerId !== undefined) {
        const graceEnd = job.offerableSince + this.graceMs
        if (graceEnd > this.now()) next = Math.min(next, graceEnd)
      }
    }
    return Number.isFinite(next) ? next : undefined
  }

  private lapse (job: JobEntry, reason: string): Lapse {
    const lapse: Lapse = { jobId: job.jobId, sessionId: job.holder as string, epoch: job.epoch, reason }
    job.state = 'pending'
    job.holder = undefined
    job.deadline = Infinity
    job.attempts++
    return lapse
  }
}
