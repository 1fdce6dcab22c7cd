// The browser's side of the lab's sync protocol (/scanhub/sync/1.0.0), speaking to a hub over the one
// stream the browser opens. What happens on the stream (step 1 for every document, step 2 answers,
// updates, presence) is protocol/sync-session.ts, the same as on the hub; the browser sends only its
// own presence, and the hub relays everyone else's.
//
// What the browser adds is knowing what reached the hub. Each sync step 1 it sends is a probe: the
// hub handles a stream's frames in order, so its step 2 reply means every frame sent before the
// probe was handled, and unless the hub refused some of them (an error frame comes first), what the
// browser had sent by then is on the hub.
import * as Y from 'yjs'
import type { Awareness } from 'y-protocols/awareness'
import type { DocSource, DocSourceEvents } from '../../../protocol/lab/doc-source.ts'
import { SyncSessions } from '../../../protocol/sync-session.ts'
import type { SyncSession, SyncSessionObserver } from '../../../protocol/sync-session.ts'
import { mergeInto, updateEnds } from './sync-ledger.ts'
import type { StateVector, SyncLedger } from './sync-ledger.ts'
import type { Stream } from '@libp2p/interface'

export interface SyncClientComponents {
  docs: DocSource & DocSourceEvents
  awareness: Awareness
  ledger: SyncLedger
}

export interface SyncClientInit {
  /** the document that carries presence (default `lab`) */
  presenceDocId?: string
  /** how long after a local change the browser asks the hub whether it has it (default 300 ms) */
  probeDelayMs?: number
  /** whether an update's origin is the local store replaying what it holds (not a new change) */
  isStoredOrigin?: (origin: unknown) => boolean
  log?: (message: string) => void
}

/** Detail of `sh-sync-refused`: the hub did not accept a change of ours. */
export interface SyncRefusal {
  docId: string
  message: string
}

interface Probe {
  /** what the session had handed the hub when the probe went out */
  sent: StateVector
  refused: boolean
}

/** Per document, what one session has handed the hub and the probes that will confirm it. */
class SessionProbes {
  readonly sent = new Map<string, StateVector>()
  readonly probes = new Map<string, Probe[]>()
  readonly timers = new Map<string, ReturnType<typeof setTimeout>>()
  closed = false

  sentOf (docId: string): StateVector {
    let sv = this.sent.get(docId)
    if (sv === undefined) {
      sv = new Map()
      this.sent.set(docId, sv)
    }
    return sv
  }

  clearTimer (docId: string): void {
    clearTimeout(this.timers.get(docId))
    this.timers.delete(docId)
  }
}

export class SyncClient extends EventTarget {
  private readonly components: SyncClientComponents
  private readonly probeDelayMs: number
  private readonly isStoredOrigin: (origin: unknown) => boolean
  private readonly sessions: SyncSessions
  private offAdded: (() => void) | undefined
  private notifyScheduled = false
  private refusedSinceOpen = false

  constructor (components: SyncClientComponents, init: SyncClientInit = {}) {
    super()
    this.components = components
    this.probeDelayMs = init.probeDelayMs ?? 300
    this.isStoredOrigin = init.isStoredOrigin ?? (() => false)
    this.sessions = new SyncSessions({
      docs: components.docs,
      awareness: components.awareness,
      presenceDocId: init.presenceDocId,
      relayAwareness: false,
      onLocalUpdate: (docId, update, origin) => {
        if (!this.isStoredOrigin(origin)) this.components.ledger.recordLocal(docId, update)
        this.notify()
      },
      log: init.log
    })
  }

  start (): void {
    this.sessions.start()
    for (const docId of this.components.docs.ids()) this.sessions.watch(docId)
    this.offAdded = this.components.docs.onAdded((docId) => { this.sessions.watch(docId) })
    this.components.awareness.on('update', this.notify)
  }

  stop (): void {
    this.offAdded?.()
    this.sessions.stop()
    this.components.awareness.off('update', this.notify)
  }

  /** Whether a sync stream with a hub is open. */
  get connected (): boolean {
    return this.sessions.size > 0
  }

  /** Whether the hub refused a change of ours since the stream opened (not logged in, or a viewer). */
  get refused (): boolean {
    return this.refusedSinceOpen
  }

  /** Local changes the hub has not confirmed. */
  unsynced (): number {
    return this.components.ledger.unsynced()
  }

  /** Runs a session on a freshly opened sync stream; resolves when the stream ends. */
  async run (stream: Stream, remotePeer: string): Promise<void> {
    this.refusedSinceOpen = false
    const done = this.sessions.run(stream, { remotePeer, observe: (session) => this.observe(session) })
    this.notify()
    await done
  }

  /** Follows one session: what it hands the hub, and what the hub's answers confirm. */
  private observe (session: SyncSession): SyncSessionObserver {
    const { docs, ledger } = this.components
    const probes = new SessionProbes()
    // A probe shortly after changes, so that the hub's answer confirms them.
    const scheduleProbe = (docId: string): void => {
      if (probes.timers.has(docId) || probes.closed) return
      probes.timers.set(docId, setTimeout(() => {
        probes.timers.delete(docId)
        session.sendStep1(docId)
      }, this.probeDelayMs))
    }
    return {
      step1Sent: (docId) => {
        probes.clearTimer(docId)
        const queue = probes.probes.get(docId) ?? []
        queue.push({ sent: new Map(probes.sentOf(docId)), refused: false })
        probes.probes.set(docId, queue)
      },
      updateSent: (docId, update) => {
        mergeInto(probes.sentOf(docId), updateEnds(update))
        scheduleProbe(docId)
      },
      step1Answered: (docId, remoteStateVector) => {
        // The hub has what its step 1 says, and our step 2 handed it everything we hold.
        ledger.learn(docId, Y.decodeStateVector(remoteStateVector))
        mergeInto(probes.sentOf(docId), Y.decodeStateVector(Y.encodeStateVector(docs.get(docId))))
        scheduleProbe(docId)
        this.notify()
      },
      applied: (docId, update, isStep2) => {
        // The hub sends only what it holds, and holds each client's items from the first on.
        ledger.learn(docId, updateEnds(update))
        if (isStep2) {
          const probe = probes.probes.get(docId)?.shift()
          if (probe !== undefined && !probe.refused) ledger.learn(docId, probe.sent)
        }
        this.notify()
      },
      errorReceived: (docId, message) => {
        if (docId !== '') {
          for (const probe of probes.probes.get(docId) ?? []) probe.refused = true
          // Nothing sent so far counts as delivered; the next stream's step 1 exchange sends it again.
          probes.sent.set(docId, ledger.knownOf(docId))
        }
        this.refusedSinceOpen = true
        this.dispatchEvent(new CustomEvent<SyncRefusal>('sh-sync-refused', { detail: { docId, message } }))
        this.notify()
      },
      closed: () => {
        probes.closed = true
        for (const docId of [...probes.timers.keys()]) probes.clearTimer(docId)
        this.notify()
      }
    }
  }

  /** Tells listeners (at most once per microtask) that connection, presence or unsynced count changed. */
  private readonly notify = (): void => {
    if (this.notifyScheduled) return
    this.notifyScheduled = true
    queueMicrotask(() => {
      this.notifyScheduled = false
      this.dispatchEvent(new Event('sh-sync-change'))
    })
  }
}
