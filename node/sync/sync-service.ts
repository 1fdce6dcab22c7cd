// Keeps the lab's Yjs documents in sync with every connected peer over /scanhub/sync/1.0.0: one
// long-lived stream per peer carries all documents (protocol/sync.ts), both sides send sync step 1 for
// every document they hold when the stream opens, and every local change is sent as an update.
// Presence (which peers are up, what they do) travels as awareness on the `lab` document and is
// relayed, so that a browser connected to one hub sees every peer.
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness'
import * as syncProtocol from 'y-protocols/sync'
import { SYNC_PROTOCOL } from '../../protocol/ids.ts'
import { FrameError } from '../../protocol/framing.ts'
import {
  MAX_SYNC_FRAME_LENGTH, MESSAGE_AWARENESS, MESSAGE_ERROR, MESSAGE_SYNC,
  encodeAwarenessFrame, encodeErrorFrame, encodeSyncFrame, readSyncFrameOrAnswer
} from '../../protocol/sync.ts'
import { FrameWriter, readFrames } from '../streams/framed-stream.ts'
import type { Connection, Libp2p, PeerId, Stream, IdentifyResult } from '@libp2p/interface'
import type * as Y from 'yjs'

/** The documents a peer holds (DocStore on disk, MemoryDocSource in tests). */
export interface SyncDocs {
  get (docId: string): Y.Doc
  ids (): string[]
  /** whether this peer holds the document (without creating it) */
  has (docId: string): boolean
}

export interface SyncServiceInit {
  /** the document that carries presence (awareness) */
  presenceDocId?: string
  /** peers whose changes are refused (they may read); decided per remote peer id */
  isReadOnly?: (peerId: string) => boolean
  /**
   * Why an update from a peer that may write must still be refused (e.g. a user's role does not
   * allow changing a collection), or undefined to apply it; asked before every step 2 and update.
   */
  acceptUpdate?: (peerId: string, docId: string, doc: Y.Doc, update: Uint8Array) => string | undefined
  /**
   * Whether this peer takes a document it does not hold yet when a peer offers it (step 1, step 2 or
   * an update). Without a rule every offered id becomes a document log on disk, so one message naming
   * thousands of ids would make every peer of the lab create thousands of files. Default: any.
   */
  mayHold?: (docId: string) => boolean
  /** Told of every update refused by acceptUpdate (it was dropped here and is never relayed). */
  onRefused?: (peerId: string, docId: string, reason: string) => void
  log?: (message: string) => void
}

export interface SyncServiceComponents {
  libp2p: Pick<Libp2p, 'handle' | 'unhandle' | 'addEventListener' | 'removeEventListener' | 'peerId' | 'getConnections'>
  docs: SyncDocs
}

const DEFAULT_PRESENCE_DOC = 'lab'

/** One sync stream with one remote peer. */
class SyncSession {
  readonly remotePeer: string
  readonly stream: Stream
  readonly readOnly: boolean
  /** awareness clients whose state reached us through this session, removed when it closes */
  readonly awarenessClients = new Set<number>()
  private readonly writer: FrameWriter

  constructor (stream: Stream, remotePeer: string, readOnly: boolean) {
    this.stream = stream
    this.remotePeer = remotePeer
    this.readOnly = readOnly
    this.writer = new FrameWriter(stream)
  }

  send (frame: Uint8Array): void {
    this.writer.send(frame).catch(() => {})
  }

  async sendAndFlush (frame: Uint8Array): Promise<void> {
    await this.writer.send(frame).catch(() => {})
  }
}

export class SyncService {
  readonly awareness: Awareness
  private readonly components: SyncServiceComponents
  private readonly presenceDocId: string
  private readonly isReadOnly: (peerId: string) => boolean
  private readonly acceptUpdate?: SyncServiceInit['acceptUpdate']
  private readonly mayHold?: SyncServiceInit['mayHold']
  private readonly onRefused?: SyncServiceInit['onRefused']
  private readonly log: (message: string) => void
  private readonly sessions = new Set<SyncSession>()
  private readonly watched = new Map<string, { doc: Y.Doc, off: () => void }>()
  private started = false

  constructor (components: SyncServiceComponents, init: SyncServiceInit = {}) {
    this.components = components
    this.presenceDocId = init.presenceDocId ?? DEFAULT_PRESENCE_DOC
    this.isReadOnly = init.isReadOnly ?? (() => false)
    this.acceptUpdate = init.acceptUpdate
    this.mayHold = init.mayHold
    this.onRefused = init.onRefused
    this.log = init.log ?? (() => {})
    this.awareness = new Awareness(components.docs.get(this.presenceDocId))
    this.awareness.on('update', this.handleAwarenessUpdate)
  }

  async start (): Promise<void> {
    if (this.started) return
    this.started = true
    for (const docId of this.components.docs.ids()) this.watch(docId)
    await this.components.libp2p.handle(SYNC_PROTOCOL, (stream, connection) => {
      this.runSession(stream, connection)
    }, { maxInboundStreams: 8 })
    this.components.libp2p.addEventListener('peer:identify', this.handleIdentify)
    // Connections identified before start() (none in practice) still get a session.
    for (const connection of this.components.libp2p.getConnections()) this.maybeOpen(connection)
  }

  async stop (): Promise<void> {
    if (!this.started) return
    this.started = false
    this.components.libp2p.removeEventListener('peer:identify', this.handleIdentify)
    await this.components.libp2p.unhandle(SYNC_PROTOCOL)
    // Tell the others we are going, so presence shows us gone at once rather than after a timeout.
    removeAwarenessStates(this.awareness, [this.awareness.clientID], 'local')
    await Promise.all([...this.sessions].map(async (s) => {
      await s.stream.close().catch(() => s.stream.abort(new Error('sync service stopped')))
    }))
    this.sessions.clear()
    for (const { off } of this.watched.values()) off()
    this.watched.clear()
    this.awareness.destroy()
  }

  /** Peer ids with an open sync session. */
  syncedPeers (): string[] {
    return [...new Set([...this.sessions].map((s) => s.remotePeer))]
  }

  /**
   * Starts syncing a document this peer just created or loaded; documents that arrive from peers are
   * watched automatically.
   */
  watch (docId: string): void {
    if (this.watched.has(docId)) return
    const doc = this.components.docs.get(docId)
    const onUpdate = (update: Uint8Array, origin: unknown): void => {
      const frame = encodeSyncFrame(docId, syncUpdateMessage(update))
      for (const session of this.sessions) {
        if (session !== origin) session.send(frame)
      }
    }
    doc.on('update', onUpdate)
    this.watched.set(docId, { doc, off: () => doc.off('update', onUpdate) })
    // A document new to this peer is announced to the peers already connected.
    const step1 = encodeSyncFrame(docId, syncStep1Message(doc))
    for (const session of this.sessions) session.send(step1)
  }

  private readonly handleIdentify = (event: CustomEvent<IdentifyResult>): void => {
    if (!event.detail.protocols.includes(SYNC_PROTOCOL)) return
    this.maybeOpen(event.detail.connection)
  }

  /** The dialling side opens the session, so that two peers normally share one stream. */
  private maybeOpen (connection: Connection): void {
    if (!this.started || connection.direction !== 'outbound' || connection.status !== 'open') return
    const remote = connection.remotePeer.toString()
    if ([...this.sessions].some((s) => s.remotePeer === remote)) return
    connection.newStream(SYNC_PROTOCOL).then((stream) => {
      this.runSession(stream, connection)
    }, (err: Error) => {
      this.log(`sync: could not open a stream to ${remote}: ${err.message}`)
    })
  }

  private runSession (stream: Stream, connection: Connection): void {
    const remote = connection.remotePeer.toString()
    const session = new SyncSession(stream, remote, this.isReadOnly(remote))
    this.sessions.add(session)
    this.log(`sync: session with ${remote} opened (${stream.direction})`)
    const docs = this.components.docs
    for (const docId of docs.ids()) {
      this.watch(docId)
      session.send(encodeSyncFrame(docId, syncStep1Message(docs.get(docId))))
    }
    const states = [...this.awareness.getStates().keys()]
    if (states.length > 0) {
      session.send(encodeAwarenessFrame(this.presenceDocId, encodeAwarenessUpdate(this.awareness, states)))
    }
    this.readSession(session).catch((err: Error) => {
      this.log(`sync: session with ${remote} failed: ${err.message}`)
    }).finally(() => {
      this.closeSession(session)
    })
  }

  private async readSession (session: SyncSession): Promise<void> {
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
      this.log(`sync: ${session.remotePeer} reports: ${frame.message}`)
    } else if (frame.type === MESSAGE_SYNC) {
      this.handleSyncMessage(session, frame.docId, frame.payload)
    } else if (frame.type === MESSAGE_AWARENESS) {
      if (frame.docId !== this.presenceDocId) return
      try {
        applyAwarenessUpdate(this.awareness, frame.payload, session)
      } catch (err) {
        session.send(encodeErrorFrame(frame.docId, `awareness update refused: ${(err as Error).message}`))
      }
    }
  }

  private handleSyncMessage (session: SyncSession, docId: string, payload: Uint8Array): void {
    const decoder = decoding.createDecoder(payload)
    const encoder = encoding.createEncoder()
    let messageType: number
    try {
      messageType = decoding.peekVarUint(decoder)
    } catch {
      session.send(encodeErrorFrame(docId, 'empty sync message'))
      return
    }
    if (session.readOnly && messageType !== syncProtocol.messageYjsSyncStep1) {
      // A read-only peer may ask for state (step 1) but its changes are dropped.
      session.send(encodeErrorFrame(docId, 'this peer is read-only here: its changes are not accepted'))
      return
    }
    // A read-only peer cannot make this peer hold documents it does not have.
    const held = this.components.docs.has(docId)
    if (session.readOnly && !held) return
    // Documents this peer has no reason to hold are not created on a peer's word (see mayHold).
    if (!held && this.mayHold !== undefined && !this.mayHold(docId)) return
    if (this.acceptUpdate !== undefined && messageType !== syncProtocol.messageYjsSyncStep1 && held) {
      let update: Uint8Array
      try {
        const peek = decoding.createDecoder(payload)
        decoding.readVarUint(peek)
        update = decoding.readVarUint8Array(peek)
      } catch {
        session.send(encodeErrorFrame(docId, 'malformed sync message'))
        return
      }
      const refusal = this.acceptUpdate(session.remotePeer, docId, this.components.docs.get(docId), update)
      if (refusal !== undefined) {
        session.send(encodeErrorFrame(docId, `change refused: ${refusal}`))
        this.log(`sync: ${docId} from ${session.remotePeer}: change refused: ${refusal}`)
        this.onRefused?.(session.remotePeer, docId, refusal)
        return
      }
    }
    // A document new to this peer is created and announced (watch sends our step 1 to every session).
    this.watch(docId)
    const doc = this.components.docs.get(docId)
    try {
      syncProtocol.readSyncMessage(decoder, encoder, doc, session, (err: Error) => {
        throw err
      })
    } catch (err) {
      this.log(`sync: ${docId} from ${session.remotePeer}: update refused: ${(err as Error).message}`)
      session.send(encodeErrorFrame(docId, `update could not be applied: ${(err as Error).message}`))
      return
    }
    if (encoding.length(encoder) > 0) {
      session.send(encodeSyncFrame(docId, encoding.toUint8Array(encoder)))
    }
  }

  private readonly handleAwarenessUpdate = (
    { added, updated, removed }: { added: number[], updated: number[], removed: number[] },
    origin: unknown
  ): void => {
    const changed = [...added, ...updated, ...removed]
    if (origin instanceof SyncSession) {
      for (const id of [...added, ...updated]) origin.awarenessClients.add(id)
      for (const id of removed) origin.awarenessClients.delete(id)
    }
    const frame = encodeAwarenessFrame(this.presenceDocId, encodeAwarenessUpdate(this.awareness, changed))
    for (const session of this.sessions) {
      if (session !== origin) session.send(frame)
    }
  }

  private closeSession (session: SyncSession): void {
    if (!this.sessions.delete(session)) return
    this.log(`sync: session with ${session.remotePeer} closed`)
    if (session.stream.status === 'open') session.stream.abort(new Error('sync session ended'))
    const gone = [...session.awarenessClients].filter((id) => id !== this.awareness.clientID)
    if (gone.length > 0) removeAwarenessStates(this.awareness, gone, 'session-closed')
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

export type { PeerId }
