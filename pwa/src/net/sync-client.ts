// The browser's side of the lab's sync protocol (/scanhub/sync/1.0.0, protocol/sync.ts), speaking
// to a hub's SyncService (node/sync/sync-service.ts) over the one stream the browser opens: both
// sides send sync step 1 for every document they hold, answer each other's step 1 with step 2, then
// exchange updates; awareness on the `lab` document carries presence, which the hub relays.
//
// What the browser adds is knowing what reached the hub. Each sync step 1 it sends is a probe: the
// hub handles a stream's frames in order, so its step 2 reply means every frame sent before the
// probe was handled, and unless the hub refused some of them (an error frame comes first), what the
// browser had sent by then is on the hub.
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import { applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness'
import type { Awareness } from 'y-protocols/awareness'
import * as syncProtocol from 'y-protocols/sync'
import { FrameError } from '../../../protocol/framing.ts'
import {
  MAX_SYNC_FRAME_LENGTH, MESSAGE_AWARENESS, MESSAGE_ERROR, MESSAGE_SYNC, SyncProtocolError,
  encodeAwarenessFrame, encodeErrorFrame, encodeSyncFrame, readSyncFrameOrAnswer
} from '../../../protocol/sync.ts'
import type { DocSource, DocSourceEvents } from '../../../protocol/lab/doc-source.ts'
import { FrameWriter, readFrames } from './framed-stream.ts'
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

class ClientSession {
  readonly stream: Stream
  readonly remotePeer: string
  readonly awarenessClients = new Set<number>()
  /** per document: what this session has handed the hub */
  readonly sent = new Map<string, StateVector>()
  readonly probes = new Map<string, Probe[]>()
  readonly probeTimers = new Map<string, ReturnType<typeof setTimeout>>()
  private readonly writer: FrameWriter

  constructor (stream: Stream, remotePeer: string) {
    this.stream = stream
    this.remotePeer = remotePeer
    this.writer = new FrameWriter(stream)
  }

  send (frame: Uint8Array): void {
    this.writer.send(frame).catch(() => {})
  }

  sentOf (docId: string): StateVector {
    let sv = this.sent.get(docId)
    if (sv === undefined) {
      sv = new Map()
      this.sent.set(docId, sv)
    }
    return sv
  }
}

export class SyncClient extends EventTarget {
  private readonly components: SyncClientComponents
  private readonly presenceDocId: string
  private readonly probeDelayMs: number
  private readonly isStoredOrigin: (origin: unknown) => boolean
  private readonly log: (message: string) => void
  private readonly sessions = new Set<ClientSession>()
  private readonly watched = new Map<string, () => void>()
  private offAdded: (() => void) | undefined
  private notifyScheduled = false
  private refusedSinceOpen = false

  constructor (components: SyncClientComponents, init: SyncClientInit = {}) {
    super()
    this.components = components
    this.presenceDocId = init.presenceDocId ?? 'lab'
    this.probeDelayMs = init.probeDelayMs ?? 300
    this.isStoredOrigin = init.isStoredOrigin ?? (() => false)
    this.log = init.log ?? (() => {})
  }

  start (): void {
    for (const docId of this.components.docs.ids()) this.watch(docId)
    this.offAdded = this.components.docs.onAdded((docId) => { this.watch(docId) })
    this.components.awareness.on('update', this.handleAwarenessUpdate)
  }

  stop (): void {
    for (const session of [...this.sessions]) this.closeSession(session)
    this.offAdded?.()
    for (const off of this.watched.values()) off()
    this.watched.clear()
    this.components.awareness.off('update', this.handleAwarenessUpdate)
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
    const session = new ClientSession(stream, remotePeer)
    this.sessions.add(session)
    this.refusedSinceOpen = false
    const { docs, awareness } = this.components
    for (const docId of docs.ids()) this.probe(session, docId)
    if (awareness.getLocalState() !== null) {
      session.send(encodeAwarenessFrame(this.presenceDocId, encodeAwarenessUpdate(awareness, [awareness.clientID])))
    }
    this.notify()
    try {
      for await (const frame of readFrames(stream, MAX_SYNC_FRAME_LENGTH)) this.handleFrame(session, frame)
    } catch (err) {
      if (err instanceof FrameError) session.send(encodeErrorFrame('', err.message))
      this.log(`sync: session with ${remotePeer} ended: ${(err as Error).message}`)
    } finally {
      this.closeSession(session)
    }
  }

  private watch (docId: string): void {
    if (this.watched.has(docId)) return
    const doc = this.components.docs.get(docId)
    const onUpdate = (update: Uint8Array, origin: unknown): void => {
      if (origin instanceof ClientSession) return
      if (!this.isStoredOrigin(origin)) this.components.ledger.recordLocal(docId, update)
      const frame = encodeSyncFrame(docId, updateMessage(update))
      const ends = updateEnds(update)
      for (const session of this.sessions) {
        session.send(frame)
        mergeInto(session.sentOf(docId), ends)
        this.scheduleProbe(session, docId)
      }
      this.notify()
    }
    doc.on('update', onUpdate)
    this.watched.set(docId, () => { doc.off('update', onUpdate) })
    // A document new to this browser is announced to the hub, as the hub does for its own.
    for (const session of this.sessions) this.probe(session, docId)
  }

  /** Sends sync step 1: the hub answers with what we lack, and its answer confirms what we sent. */
  private probe (session: ClientSession, docId: string): void {
    const timer = session.probeTimers.get(docId)
    if (timer !== undefined) clearTimeout(timer)
    session.probeTimers.delete(docId)
    const queue = session.probes.get(docId) ?? []
    queue.push({ sent: new Map(session.sentOf(docId)), refused: false })
    session.probes.set(docId, queue)
    const encoder = encoding.createEncoder()
    syncProtocol.writeSyncStep1(encoder, this.components.docs.get(docId))
    session.send(encodeSyncFrame(docId, encoding.toUint8Array(encoder)))
  }

  private scheduleProbe (session: ClientSession, docId: string): void {
    if (session.probeTimers.has(docId)) return
    session.probeTimers.set(docId, setTimeout(() => {
      session.probeTimers.delete(docId)
      if (this.sessions.has(session)) this.probe(session, docId)
    }, this.probeDelayMs))
  }

  private handleFrame (session: ClientSession, bytes: Uint8Array): void {
    const frame = readSyncFrameOrAnswer(bytes, session, this.log)
    if (frame === undefined) return
    if (frame.type === MESSAGE_ERROR) {
      this.handleRefusal(session, frame.docId, frame.message)
    } else if (frame.type === MESSAGE_AWARENESS) {
      if (frame.docId !== this.presenceDocId) return
      try {
        applyAwarenessUpdate(this.components.awareness, frame.payload, session)
      } catch (err) {
        this.log(`sync: presence from ${session.remotePeer} ignored: ${(err as Error).message}`)
      }
    } else if (frame.type === MESSAGE_SYNC) {
      try {
        this.handleSyncMessage(session, frame.docId, frame.payload)
      } catch (err) {
        this.log(`sync: ${frame.docId} from ${session.remotePeer} ignored: ${(err as Error).message}`)
        session.send(encodeErrorFrame(frame.docId, `update could not be applied: ${(err as Error).message}`))
      }
    }
  }

  private handleSyncMessage (session: ClientSession, docId: string, payload: Uint8Array): void {
    const { docs, ledger } = this.components
    const decoder = decoding.createDecoder(payload)
    const type = decoding.readVarUint(decoder)
    // A document the hub holds and we do not is created here (and persisted by the store).
    const doc = docs.get(docId)
    if (type === syncProtocol.messageYjsSyncStep1) {
      const sv = decoding.readVarUint8Array(decoder)
      ledger.learn(docId, Y.decodeStateVector(sv))
      const encoder = encoding.createEncoder()
      syncProtocol.writeSyncStep2(encoder, doc, sv)
      session.send(encodeSyncFrame(docId, encoding.toUint8Array(encoder)))
      mergeInto(session.sentOf(docId), Y.decodeStateVector(Y.encodeStateVector(doc)))
      this.scheduleProbe(session, docId)
    } else if (type === syncProtocol.messageYjsSyncStep2 || type === syncProtocol.messageYjsUpdate) {
      const update = decoding.readVarUint8Array(decoder)
      Y.applyUpdate(doc, update, session)
      // The hub sends only what it holds, and holds each client's items from the first on.
      ledger.learn(docId, updateEnds(update))
      if (type === syncProtocol.messageYjsSyncStep2) {
        const probe = session.probes.get(docId)?.shift()
        if (probe !== undefined && !probe.refused) ledger.learn(docId, probe.sent)
      }
    } else {
      throw new SyncProtocolError(`unknown sync message type ${type}`)
    }
    this.notify()
  }

  private handleRefusal (session: ClientSession, docId: string, message: string): void {
    this.log(`sync: ${session.remotePeer} refused ${docId === '' ? 'a frame' : docId}: ${message}`)
    if (docId !== '') {
      for (const probe of session.probes.get(docId) ?? []) probe.refused = true
      // Nothing sent so far counts as delivered; the next stream's step 1 exchange sends it again.
      session.sent.set(docId, this.components.ledger.knownOf(docId))
    }
    this.refusedSinceOpen = true
    this.dispatchEvent(new CustomEvent<SyncRefusal>('sh-sync-refused', { detail: { docId, message } }))
    this.notify()
  }

  private readonly handleAwarenessUpdate = (
    { added, updated, removed }: { added: number[], updated: number[], removed: number[] },
    origin: unknown
  ): void => {
    if (origin instanceof ClientSession) {
      for (const id of [...added, ...updated]) origin.awarenessClients.add(id)
      for (const id of removed) origin.awarenessClients.delete(id)
    } else {
      // Only our own presence goes out: the hub relays everyone else's.
      const own = [...added, ...updated, ...removed].filter((id) => id === this.components.awareness.clientID)
      if (own.length > 0) {
        const frame = encodeAwarenessFrame(this.presenceDocId, encodeAwarenessUpdate(this.components.awareness, own))
        for (const session of this.sessions) session.send(frame)
      }
    }
    this.notify()
  }

  private closeSession (session: ClientSession): void {
    if (!this.sessions.delete(session)) return
    for (const timer of session.probeTimers.values()) clearTimeout(timer)
    session.probeTimers.clear()
    if (session.stream.status === 'open') session.stream.abort(new Error('sync session ended'))
    const { awareness } = this.components
    const gone = [...session.awarenessClients].filter((id) => id !== awareness.clientID)
    if (gone.length > 0) removeAwarenessStates(awareness, gone, 'session-closed')
    // Forget their clocks too: the next stream re-sends the same states with the same clocks, which
    // awareness would otherwise ignore as old until each peer renews its state.
    for (const id of gone) awareness.meta.delete(id)
    this.notify()
  }

  /** Tells listeners (at most once per microtask) that connection, presence or unsynced count changed. */
  private notify (): void {
    if (this.notifyScheduled) return
    this.notifyScheduled = true
    queueMicrotask(() => {
      this.notifyScheduled = false
      this.dispatchEvent(new Event('sh-sync-change'))
    })
  }
}

function updateMessage (update: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder()
  syncProtocol.writeUpdate(encoder, update)
  return encoding.toUint8Array(encoder)
}
