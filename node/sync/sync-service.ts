// Keeps the lab's Yjs documents in sync with every connected peer over /scanhub/sync/1.0.0: one
// long-lived stream per peer carries all documents. What happens on a stream (step 1 on open,
// updates, the read-only, mayHold and acceptUpdate rules, presence relay) is protocol/sync-session.ts,
// shared with the browser; this file opens the streams: it handles the protocol and dials it once a
// peer is identified. Presence travels as awareness on the `lab` document and is relayed, so that a
// browser connected to one hub sees every peer.
import { Awareness, removeAwarenessStates } from 'y-protocols/awareness'
import { SYNC_PROTOCOL } from '../../protocol/ids.ts'
import { SyncSessions } from '../../protocol/sync-session.ts'
import type { SyncSessionsInit } from '../../protocol/sync-session.ts'
import type { Connection, Libp2p, PeerId, Stream, IdentifyResult } from '@libp2p/interface'
import type * as Y from 'yjs'

export { syncStep1Message, syncUpdateMessage } from '../../protocol/sync-session.ts'

/** The documents a peer holds (DocStore on disk, MemoryDocSource in tests). */
export interface SyncDocs {
  get (docId: string): Y.Doc
  ids (): string[]
  /** whether this peer holds the document (without creating it) */
  has (docId: string): boolean
}

export interface SyncServiceInit extends Pick<SyncSessionsInit, 'acceptUpdate' | 'mayHold' | 'onRefused' | 'log'> {
  /** the document that carries presence (awareness) */
  presenceDocId?: string
  /** peers whose changes are refused (they may read); decided per remote peer id */
  isReadOnly?: (peerId: string) => boolean
}

export interface SyncServiceComponents {
  libp2p: Pick<Libp2p, 'handle' | 'unhandle' | 'addEventListener' | 'removeEventListener' | 'peerId' | 'getConnections'>
  docs: SyncDocs
}

const DEFAULT_PRESENCE_DOC = 'lab'

export class SyncService {
  readonly awareness: Awareness
  private readonly components: SyncServiceComponents
  private readonly isReadOnly: (peerId: string) => boolean
  private readonly log: (message: string) => void
  private readonly sessions: SyncSessions
  private started = false

  constructor (components: SyncServiceComponents, init: SyncServiceInit = {}) {
    this.components = components
    const presenceDocId = init.presenceDocId ?? DEFAULT_PRESENCE_DOC
    this.isReadOnly = init.isReadOnly ?? (() => false)
    this.log = init.log ?? (() => {})
    this.awareness = new Awareness(components.docs.get(presenceDocId))
    this.sessions = new SyncSessions({
      docs: components.docs,
      awareness: this.awareness,
      presenceDocId,
      relayAwareness: true,
      mayHold: init.mayHold,
      acceptUpdate: init.acceptUpdate,
      onRefused: init.onRefused,
      log: this.log
    })
  }

  async start (): Promise<void> {
    if (this.started) return
    this.started = true
    this.sessions.start()
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
    await this.sessions.closeSessions()
    this.sessions.stop()
    this.awareness.destroy()
  }

  /** Peer ids with an open sync session. */
  syncedPeers (): string[] {
    return this.sessions.remotePeers()
  }

  /**
   * Starts syncing a document this peer just created or loaded; documents that arrive from peers are
   * watched automatically.
   */
  watch (docId: string): void {
    this.sessions.watch(docId)
  }

  private readonly handleIdentify = (event: CustomEvent<IdentifyResult>): void => {
    if (!event.detail.protocols.includes(SYNC_PROTOCOL)) return
    this.maybeOpen(event.detail.connection)
  }

  /** The dialling side opens the session, so that two peers normally share one stream. */
  private maybeOpen (connection: Connection): void {
    if (!this.started || connection.direction !== 'outbound' || connection.status !== 'open') return
    const remote = connection.remotePeer.toString()
    if (this.sessions.remotePeers().includes(remote)) return
    connection.newStream(SYNC_PROTOCOL).then((stream) => {
      this.runSession(stream, connection)
    }, (err: Error) => {
      this.log(`sync: could not open a stream to ${remote}: ${err.message}`)
    })
  }

  private runSession (stream: Stream, connection: Connection): void {
    const remotePeer = connection.remotePeer.toString()
    this.log(`sync: session with ${remotePeer} opened (${stream.direction})`)
    void this.sessions.run(stream, { remotePeer, readOnly: this.isReadOnly(remotePeer) })
  }
}

export type { PeerId }
