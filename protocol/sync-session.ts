// What one peer does on its sync streams (/scanhub/sync/1.0.0, sync.ts, PROTOCOL.md), shared by the
// lab's peers (node/sync/sync-service.ts) and the browser (pwa/src/net/sync-client.ts), so that the
// rules about what is taken from a stream are written once:
// - on open, sync step 1 for every document held, and presence;
// - a step 1 is answered with step 2; a step 2 or update is applied with the session as origin, so
//   that it is relayed to every other session and never echoed back;
// - a read-only session may ask (step 1) but its changes are refused with an error frame;
// - a document this peer does not hold is created only if `mayHold` allows it, never for a
//   read-only session;
// - `acceptUpdate` may refuse a change: it is answered with an error frame, never applied, never relayed;
// - presence (awareness on the presence document) is relayed, and the states a session brought are
//   removed when it closes.
// What is the caller's own (opening streams, what the browser learns from the hub's answers) hooks in
// through SyncSessionsInit and SyncSessionObserver.
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import { applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness'
import type { Awareness } from 'y-protocols/awareness'
import * as syncProtocol from 'y-protocols/sync'
import { FrameWriter, readFrames } from './framed-stream.ts'
import type { ByteStream } from './framed-stream.ts'
import { FrameError } from './framing.ts'
import type { DocSource } from './lab/doc-source.ts'
import {
  MAX_SYNC_FRAME_LENGTH, MESSAGE_AWARENESS, MESSAGE_ERROR, MESSAGE_SYNC, SyncProtocolError,
  encodeAwarenessFrame, encodeErrorFrame, encodeSyncFrame, readSyncFrameOrAnswer
} from './sync.ts'

/** The documents a peer holds. */
export interface SyncSessionDocs extends DocSource {
  /**
   * Whether this peer holds the document, without creating it. Asked only when a rule needs it
   * (read-only sessions, mayHold, acceptUpdate); without it, ids() is searched.
   */
  has?: (docId: string) => boolean
}

export interface SyncSessionsInit {
  docs: SyncSessionDocs
  /** presence, exchanged as awareness of the presence document */
  awareness: Awareness
  /** the document that carries presence (default `lab`) */
  presenceDocId?: string
  /**
   * Whether presence learnt from one session is passed on to the others, as a peer does so that a
   * browser on one hub sees every peer (default). A browser, which talks to one hub, sends only its
   * own: the hub relays everyone else's, and a browser's stale view must not overwrite the hub's.
   */
  relayAwareness?: boolean
  /**
   * Whether this peer takes a document it does not hold yet when a session offers it (step 1, step 2
   * or update). Without a rule every offered id becomes a document, so one message naming thousands of
   * ids would make every peer create thousands of them. Default: any.
   */
  mayHold?: (docId: string) => boolean
  /**
   * Why a change from a session that may write must still be refused (e.g. a user's role does not
   * allow changing a collection), or undefined to apply it; asked before every step 2 and update of a
   * document this peer holds.
   */
  acceptUpdate?: (remotePeer: string, docId: string, doc: Y.Doc, update: Uint8Array) => string | undefined
  /** Told of every change refused by acceptUpdate (it was dropped here and is never relayed). */
  onRefused?: (remotePeer: string, docId: string, reason: string) => void
  /** Told of every change made on this peer (not received from a session), before it goes out. */
  onLocalUpdate?: (docId: string, update: Uint8Array, origin: unknown) => void
  log?: (message: string) => void
}

/** Told what happens on one session; everything is optional. */
export interface SyncSessionObserver {
  /** a sync step 1 of docId is going out */
  step1Sent?: (docId: string) => void
  /** an update of docId went out */
  updateSent?: (docId: string, update: Uint8Array) => void
  /** the remote's step 1 (its state vector) was answered with our step 2 */
  step1Answered?: (docId: string, remoteStateVector: Uint8Array) => void
  /** the remote's step 2 or update was applied */
  applied?: (docId: string, update: Uint8Array, isStep2: boolean) => void
  /** the remote sent an error frame: it refused something we sent (docId '' for a whole frame) */
  errorReceived?: (docId: string, message: string) => void
  /** the session ended */
  closed?: () => void
}

export interface SyncSessionOptions {
  remotePeer: string
  /** changes from this session are refused (it may still read) */
  readOnly?: boolean
  /** makes the observer of the session, before anything is sent on it */
  observe?: (session: SyncSession) => SyncSessionObserver
}

const DEFAULT_PRESENCE_DOC = 'lab'
const NO_OBSERVER: SyncSessionObserver = {}

/** One sync stream with one remote peer. */
export class SyncSession {
  readonly remotePeer: string
  readonly readOnly: boolean
  readonly stream: ByteStream
  /** awareness clients whose state reached us through this session, removed when it closes */
  readonly awarenessClients = new Set<number>()
  readonly observer: SyncSessionObserver
  private readonly writer: FrameWriter
  private readonly docs: DocSource

  constructor (stream: ByteStream, options: SyncSessionOptions, docs: DocSource) {
    this.stream = stream
    this.remotePeer = options.remotePeer
    this.readOnly = options.readOnly ?? false
    this.docs = docs
    this.writer = new FrameWriter(stream)
    this.observer = options.observe?.(this) ?? NO_OBSERVER
  }

  send (frame: Uint8Array): void {
    this.writer.send(frame).catch(() => {})
  }

  async sendAndFlush (frame: Uint8Array): Promise<void> {
    await this.writer.send(frame).catch(() => {})
  }

  /** Sends sync step 1 of a document: the remote answers with step 2, what we lack. */
  sendStep1 (docId: string): void {
    this.observer.step1Sent?.(docId)
    this.send(encodeSyncFrame(docId, syncStep1Message(this.docs.get(docId))))
  }
}

/** A peer's sync sessions: its documents and presence kept in sync over every open sync stream. */
export class SyncSessions {
  private readonly docs: SyncSessionDocs
  private readonly awareness: Awareness
  private readonly presenceDocId: string
  private readonly relayAwareness: boolean
  private readonly mayHold?: SyncSessionsInit['mayHold']
  private readonly acceptUpdate?: SyncSessionsInit['acceptUpdate']
  private readonly onRefused?: SyncSessionsInit['onRefused']
  private readonly onLocalUpdate?: SyncSessionsInit['onLocalUpdate']
  private readonly log: (message: string) => void
  private readonly sessions = new Set<SyncSession>()
  private readonly watched = new Map<string, () => void>()
  private listening = false

  constructor (init: SyncSessionsInit) {
    this.docs = init.docs
    this.awareness = init.awareness
    this.presenceDocId = init.presenceDocId ?? DEFAULT_PRESENCE_DOC
    this.relayAwareness = init.relayAwareness ?? true
    this.mayHold = init.mayHold
    this.acceptUpdate = init.acceptUpdate
    this.onRefused = init.onRefused
    this.onLocalUpdate = init.onLocalUpdate
    this.log = init.log ?? (() => {})
  }

  /** Starts passing presence on; documents are synced once watched. */
  start (): void {
    if (this.listening) return
    this.listening = true
    this.awareness.on('update', this.handleAwarenessUpdate)
  }

  /** Ends every session (aborting its stream) and stops watching documents and presence. */
  stop (): void {
    for (const session of [...this.sessions]) this.end(session)
    for (const off of this.watched.values()) off()
    this.watched.clear()
    if (this.listening) this.awareness.off('update', this.handleAwarenessUpdate)
    this.listening = false
  }

  /** Closes every session's stream gracefully (aborting it where that fails) and ends the sessions. */
  async closeSessions (): Promise<void> {
    await Promise.all([...this.sessions].map(async (session) => {
      await session.stream.close().catch(() => { session.stream.abort(new Error('sync stopped')) })
      this.end(session)
    }))
  }

  get size (): number {
    return this.sessions.size
  }

  /** Remote peers with an open session. */
  remotePeers (): string[] {
    return [...new Set([...this.sessions].map((s) => s.remotePeer))]
  }

  /**
   * Starts syncing a document: its changes go to every session (except the one they came from), and
   * a document new to this peer is announced to the sessions already open.
   */
  watch (docId: string): void {
    if (this.watched.has(docId)) return
    const doc = this.docs.get(docId)
    // Creating the document may have made the source announce it, and a listener of that watch it.
    if (this.watched.has(docId)) return
    const onUpdate = (update: Uint8Array, origin: unknown): void => {
      if (!(origin instanceof SyncSession)) this.onLocalUpdate?.(docId, update, origin)
      const frame = encodeSyncFrame(docId, syncUpdateMessage(update))
      for (const session of this.sessions) {
        if (session === origin) continue
        session.send(frame)
        session.observer.updateSent?.(docId, update)
      }
    }
    doc.on('update', onUpdate)
    this.watched.set(docId, () => { doc.off('update', onUpdate) })
    for (const session of this.sessions) session.sendStep1(docId)
  }

  /** Runs a session on a freshly opened sync stream; resolves when the stream has ended. */
  async run (stream: ByteStream, options: SyncSessionOptions): Promise<void> {
    const session = new SyncSession(stream, options, this.docs)
    this.sessions.add(session)
    for (const docId of this.docs.ids()) {
      // watch() announces a document it did not watch yet to every session, this one included.
      if (this.watched.has(docId)) session.sendStep1(docId)
      else this.watch(docId)
    }
    const presence = this.relayAwareness
      ? [...this.awareness.getStates().keys()]
      : this.awareness.getLocalState() === null ? [] : [this.awareness.clientID]
    if (presence.length > 0) {
      session.send(encodeAwarenessFrame(this.presenceDocId, encodeAwarenessUpdate(this.awareness, presence)))
    }
    try {
      await this.read(session)
    } catch (err) {
      this.log(`sync: session with ${session.remotePeer} failed: ${(err as Error).message}`)
    } finally {
      this.end(session)
    }
  }

  private async read (session: SyncSession): Promise<void> {
    try {
      for await (const frame of readFrames(session.stream, MAX_SYNC_FRAME_LENGTH)) {
        this.handleFrame(session, frame)
      }
    } catch (err) {
      if (err instanceof FrameError) {
        // The framing is broken: nothing after this point can be trusted. Say why, then hang up.
        await session.sendAndFlush(encodeErrorFrame('', err.message))
        await session.stream.close({ signal: AbortSignal.timeout(1000) }).catch(() => {})
        session.stream.abort(err)
      }
      throw err
    }
  }

  private handleFrame (session: SyncSession, bytes: Uint8Array): void {
    const frame = readSyncFrameOrAnswer(bytes, session, this.log)
    if (frame === undefined) return
    if (frame.type === MESSAGE_ERROR) {
      this.log(`sync: ${session.remotePeer} refused ${frame.docId === '' ? 'a frame' : frame.docId}: ${frame.message}`)
      session.observer.errorReceived?.(frame.docId, frame.message)
    } else if (frame.type === MESSAGE_SYNC) {
      this.handleSyncMessage(session, frame.docId, frame.payload)
    } else if (frame.type === MESSAGE_AWARENESS) {
      if (frame.docId !== this.presenceDocId) return
      try {
        applyAwarenessUpdate(this.awareness, frame.payload, session)
      } catch (err) {
        this.log(`sync: presence from ${session.remotePeer} refused: ${(err as Error).message}`)
        session.send(encodeErrorFrame(frame.docId, `awareness update refused: ${(err as Error).message}`))
      }
    }
  }

  private handleSyncMessage (session: SyncSession, docId: string, payload: Uint8Array): void {
    const decoder = decoding.createDecoder(payload)
    let type: number
    try {
      type = decoding.readVarUint(decoder)
    } catch {
      session.send(encodeErrorFrame(docId, 'empty sync message'))
      return
    }
    if (session.readOnly && type !== syncProtocol.messageYjsSyncStep1) {
      // A read-only peer may ask for state (step 1) but its changes are dropped.
      session.send(encodeErrorFrame(docId, 'this peer is read-only here: its changes are not accepted'))
      return
    }
    const refuse = (reason: string): void => {
      this.log(`sync: ${docId} from ${session.remotePeer}: ${reason}`)
      session.send(encodeErrorFrame(docId, reason))
    }
    // step 1 carries a state vector, step 2 and update an update
    let content: Uint8Array
    try {
      if (type !== syncProtocol.messageYjsSyncStep1 && type !== syncProtocol.messageYjsSyncStep2 && type !== syncProtocol.messageYjsUpdate) {
        throw new SyncProtocolError(`unknown sync message type ${type}`)
      }
      content = decoding.readVarUint8Array(decoder)
    } catch (err) {
      refuse(`update could not be applied: ${(err as Error).message}`)
      return
    }
    let held: boolean | undefined
    const holds = (): boolean => {
      held ??= this.docs.has?.(docId) ?? this.docs.ids().includes(docId)
      return held
    }
    // A read-only peer cannot make this peer hold documents it does not have.
    if (session.readOnly && !holds()) return
    // Documents this peer has no reason to hold are not created on a peer's word (see mayHold).
    if (this.mayHold !== undefined && !holds() && !this.mayHold(docId)) return
    if (type !== syncProtocol.messageYjsSyncStep1 && this.acceptUpdate !== undefined) {
      // A document this peer does not hold yet is judged as a change of an empty one, without creating it.
      const blank = holds() ? undefined : new Y.Doc()
      let refusal: string | undefined
      try {
        refusal = this.acceptUpdate(session.remotePeer, docId, blank ?? this.docs.get(docId), content)
      } finally {
        blank?.destroy()
      }
      if (refusal !== undefined) {
        refuse(`change refused: ${refusal}`)
        this.onRefused?.(session.remotePeer, docId, refusal)
        return
      }
    }
    try {
      // A document new to this peer is created and announced (watch sends our step 1 to every session).
      this.watch(docId)
      const doc = this.docs.get(docId)
      if (type === syncProtocol.messageYjsSyncStep1) {
        const encoder = encoding.createEncoder()
        syncProtocol.writeSyncStep2(encoder, doc, content)
        session.send(encodeSyncFrame(docId, encoding.toUint8Array(encoder)))
        session.observer.step1Answered?.(docId, content)
      } else {
        Y.applyUpdate(doc, content, session)
        session.observer.applied?.(docId, content, type === syncProtocol.messageYjsSyncStep2)
      }
    } catch (err) {
      refuse(`update could not be applied: ${(err as Error).message}`)
    }
  }

  private readonly handleAwarenessUpdate = (
    { added, updated, removed }: { added: number[], updated: number[], removed: number[] },
    origin: unknown
  ): void => {
    const changed = [...added, ...updated, ...removed]
    const fromSession = origin instanceof SyncSession
    if (fromSession) {
      for (const id of [...added, ...updated]) origin.awarenessClients.add(id)
      for (const id of removed) origin.awarenessClients.delete(id)
    }
    const outgoing = this.relayAwareness
      ? changed
      : fromSession ? [] : changed.filter((id) => id === this.awareness.clientID)
    if (outgoing.length === 0) return
    const frame = encodeAwarenessFrame(this.presenceDocId, encodeAwarenessUpdate(this.awareness, outgoing))
    for (const session of this.sessions) {
      if (session !== origin) session.send(frame)
    }
  }

  private end (session: SyncSession): void {
    if (!this.sessions.delete(session)) return
    session.observer.closed?.()
    if (session.stream.status === 'open') session.stream.abort(new Error('sync session ended'))
    const gone = [...session.awarenessClients].filter((id) => id !== this.awareness.clientID)
    if (gone.length > 0) removeAwarenessStates(this.awareness, gone, 'session-closed')
    // Forget their clocks too: the next stream re-sends the same states with the same clocks, which
    // awareness would otherwise ignore as old until each peer renews its state.
    for (const id of gone) this.awareness.meta.delete(id)
    this.log(`sync: session with ${session.remotePeer} closed`)
  }
}

/** A y-protocols sync step 1 (the document's state vector) as one message. */
export function syncStep1Message (doc: Y.Doc): Uint8Array {
  const encoder = encoding.createEncoder()
  syncProtocol.writeSyncStep1(encoder, doc)
  return encoding.toUint8Array(encoder)
}

/** A y-protocols update message carrying `update`. */
export function syncUpdateMessage (update: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder()
  syncProtocol.writeUpdate(encoder, update)
  return encoding.toUint8Array(encoder)
}
