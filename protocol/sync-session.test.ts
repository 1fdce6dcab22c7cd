import { afterEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { Awareness } from 'y-protocols/awareness'
import * as syncProtocol from 'y-protocols/sync'
import * as decoding from 'lib0/decoding'
import type { ByteStream } from './framed-stream.ts'
import { FrameDecoder } from './framing.ts'
import { MemoryDocSource } from './lab/memory-doc-source.ts'
import { MESSAGE_ERROR, MESSAGE_SYNC, readSyncFrame } from './sync.ts'
import type { SyncFrame } from './sync.ts'
import { SyncSessions } from './sync-session.ts'
import type { SyncSessionOptions, SyncSessionsInit } from './sync-session.ts'

/** One end of an in-memory duplex stream: what is sent arrives at the other end a microtask later. */
class MemoryStream implements ByteStream {
  status = 'open'
  writeStatus = 'writable'
  other: MemoryStream | undefined
  /** the frames sent from this end, decoded */
  readonly sent: SyncFrame[] = []
  private readonly decoder = new FrameDecoder()
  private readonly inbox: Uint8Array[] = []
  private inputEnded = false
  private wake: (() => void) | undefined

  send (bytes: Uint8Array): boolean {
    if (this.writeStatus !== 'writable') throw new Error('stream is not writable')
    for (const frame of this.decoder.push(bytes.slice())) this.sent.push(readSyncFrame(frame))
    const copy = bytes.slice()
    queueMicrotask(() => { this.other?.deliver(copy) })
    return true
  }

  async onDrain (): Promise<void> {}

  async close (): Promise<void> {
    this.finish('closed')
  }

  abort (): void {
    this.finish('aborted')
  }

  async * [Symbol.asyncIterator] (): AsyncGenerator<Uint8Array> {
    for (;;) {
      const next = this.inbox.shift()
      if (next !== undefined) {
        yield next
        continue
      }
      if (this.inputEnded) return
      await new Promise<void>((resolve) => { this.wake = resolve })
    }
  }

  private finish (status: string): void {
    if (this.status !== 'open') return
    this.status = status
    this.writeStatus = 'closed'
    this.endInput()
    // after what was already sent
    queueMicrotask(() => { this.other?.endInput() })
  }

  private deliver (bytes: Uint8Array): void {
    if (this.inputEnded) return
    this.inbox.push(bytes)
    this.wakeReader()
  }

  private endInput (): void {
    this.inputEnded = true
    this.wakeReader()
  }

  private wakeReader (): void {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }
}

function streamPair (): [MemoryStream, MemoryStream] {
  const a = new MemoryStream()
  const b = new MemoryStream()
  a.other = b
  b.other = a
  return [a, b]
}

interface TestPeer {
  name: string
  docs: MemoryDocSource
  awareness: Awareness
  sessions: SyncSessions
  refused: Array<{ remotePeer: string, docId: string, reason: string }>
  errors: Array<{ docId: string, message: string }>
}

const stops: Array<() => void> = []

afterEach(() => {
  for (const stop of stops.splice(0)) stop()
})

function peer (name: string, init: Partial<SyncSessionsInit> = {}): TestPeer {
  const docs = new MemoryDocSource()
  const awareness = new Awareness(docs.get('lab'))
  const refused: TestPeer['refused'] = []
  const sessions = new SyncSessions({
    docs,
    awareness,
    onRefused: (remotePeer, docId, reason) => { refused.push({ remotePeer, docId, reason }) },
    ...init
  })
  sessions.start()
  for (const docId of docs.ids()) sessions.watch(docId)
  docs.onAdded((docId) => { sessions.watch(docId) })
  stops.push(() => { sessions.stop(); awareness.destroy() })
  return { name, docs, awareness, sessions, refused, errors: [] }
}

interface Link {
  /** frames the dialling side sent, and the other side */
  fromDialler: SyncFrame[]
  fromListener: SyncFrame[]
  close: () => Promise<void>
}

/** Connects two peers by one stream; `listenerSide` are the options the listening peer opens its end with. */
function connect (dialler: TestPeer, listener: TestPeer, listenerSide: Partial<SyncSessionOptions> = {}): Link {
  const [out, inbound] = streamPair()
  const dialled = dialler.sessions.run(out, {
    remotePeer: listener.name,
    observe: () => ({ errorReceived: (docId, message) => { dialler.errors.push({ docId, message }) } })
  })
  const listened = listener.sessions.run(inbound, { remotePeer: dialler.name, ...listenerSide })
  return {
    fromDialler: out.sent,
    fromListener: inbound.sent,
    close: async () => {
      await out.close()
      await Promise.all([dialled, listened])
    }
  }
}

function syncMessageTypes (frames: SyncFrame[], docId: string): number[] {
  return frames
    .filter((f) => f.type === MESSAGE_SYNC && f.docId === docId)
    .map((f) => decoding.readVarUint(decoding.createDecoder((f as { payload: Uint8Array }).payload)))
}

const patients = (p: TestPeer): Y.Map<unknown> => p.docs.get('lab').getMap('patients')

describe('SyncSessions', () => {
  it('converges both ways with step 1 / step 2, then sends each change once and never back', async () => {
    const a = peer('a')
    const b = peer('b')
    patients(a).set('p1', 'from a')
    patients(b).set('p2', 'from b')
    b.docs.get('patient:x1').getMap('exams').set('e1', 'only on b')
    const link = connect(a, b)
    await vi.waitFor(() => {
      expect(patients(a).toJSON()).toEqual({ p1: 'from a', p2: 'from b' })
      expect(patients(b).toJSON()).toEqual({ p1: 'from a', p2: 'from b' })
      expect(a.docs.get('patient:x1').getMap('exams').get('e1')).toBe('only on b')
    })
    // each side opened with step 1 for what it held and answered the other's with step 2
    expect(syncMessageTypes(link.fromDialler, 'lab').slice(0, 2)).toEqual([syncProtocol.messageYjsSyncStep1, syncProtocol.messageYjsSyncStep2])
    expect(syncMessageTypes(link.fromListener, 'patient:x1')).toContain(syncProtocol.messageYjsSyncStep2)
    // a document new to a is announced with a's own step 1
    expect(syncMessageTypes(link.fromDialler, 'patient:x1')).toContain(syncProtocol.messageYjsSyncStep1)

    const fromBBefore = syncMessageTypes(link.fromListener, 'lab').length
    patients(a).set('p3', 'live')
    await vi.waitFor(() => { expect(patients(b).get('p3')).toBe('live') })
    await new Promise((resolve) => setTimeout(resolve, 20))
    // b applied a's update with the session as origin: nothing goes back to a
    expect(syncMessageTypes(link.fromListener, 'lab')).toHaveLength(fromBBefore)
    expect(syncMessageTypes(link.fromDialler, 'lab').filter((t) => t === syncProtocol.messageYjsUpdate)).toHaveLength(1)
    expect(a.sessions.remotePeers()).toEqual(['b'])
    await link.close()
    expect(a.sessions.size).toBe(0)
    expect(b.sessions.size).toBe(0)
  })

  it('answers a refused change with an error frame, applies it nowhere and relays it to no other session', async () => {
    const forged = (update: Uint8Array): boolean => {
      const copy = new Y.Doc()
      Y.applyUpdate(copy, update)
      return copy.getMap('patients').has('forged')
    }
    const hub = peer('hub', { acceptUpdate: (_remote, _docId, _doc, update) => forged(update) ? 'no forged patients' : undefined })
    patients(hub).set('p0', 'hub data')
    const writer = peer('writer')
    const rogue = peer('rogue')
    const reader = peer('reader')
    connect(writer, hub)
    connect(rogue, hub)
    const toReader = connect(reader, hub)
    await vi.waitFor(() => { expect(patients(rogue).get('p0')).toBe('hub data') })

    patients(writer).set('p1', 'allowed')
    patients(rogue).set('forged', 'by the rogue')
    await vi.waitFor(() => { expect(rogue.errors).toContainEqual({ docId: 'lab', message: 'change refused: no forged patients' }) })
    expect(hub.refused).toEqual([{ remotePeer: 'rogue', docId: 'lab', reason: 'no forged patients' }])
    // a change made after the refusal reaches the reader: had the forged one been relayed, it came first
    patients(writer).set('p2', 'after the refusal')
    await vi.waitFor(() => { expect(patients(reader).get('p2')).toBe('after the refusal') })
    expect(patients(reader).get('p1')).toBe('allowed')
    expect(patients(hub).has('forged')).toBe(false)
    expect(patients(reader).has('forged')).toBe(false)
    expect(toReader.fromListener.some((f) => f.type === MESSAGE_ERROR)).toBe(false)
  })

  it('creates no document that mayHold refuses, and takes those it allows', async () => {
    const hub = peer('hub', { mayHold: (docId) => docId === 'lab' || docId === 'patient:listed' })
    const client = peer('client')
    client.docs.get('patient:unlisted').getMap('exams').set('e', 'x')
    client.docs.get('patient:listed').getMap('exams').set('e', 'y')
    const link = connect(client, hub)
    await vi.waitFor(() => { expect(hub.docs.has('patient:listed') && hub.docs.get('patient:listed').getMap('exams').get('e')).toBe('y') })
    // updates to it are dropped too, not only the step 1 that offered it
    client.docs.get('patient:unlisted').getMap('exams').set('e2', 'more')
    client.docs.get('lab').getMap('patients').set('p', 'after')
    await vi.waitFor(() => { expect(patients(hub).get('p')).toBe('after') })
    expect(hub.docs.has('patient:unlisted')).toBe(false)
    expect(syncMessageTypes(link.fromDialler, 'patient:unlisted')).toContain(syncProtocol.messageYjsUpdate)
  })

  it('serves a read-only session but refuses its changes with an error frame, and creates nothing for it', async () => {
    const hub = peer('hub')
    patients(hub).set('p', 'hub data')
    const viewer = peer('viewer')
    viewer.docs.get('patient:new').getMap('exams').set('e', 'offered')
    connect(viewer, hub, { readOnly: true })
    await vi.waitFor(() => { expect(patients(viewer).get('p')).toBe('hub data') })
    patients(viewer).set('p', 'vandalised')
    await vi.waitFor(() => {
      expect(viewer.errors).toContainEqual({ docId: 'lab', message: 'this peer is read-only here: its changes are not accepted' })
    })
    expect(patients(hub).get('p')).toBe('hub data')
    expect(hub.docs.has('patient:new')).toBe(false)
  })

  it('removes the presence a session brought when it closes, and takes it again from a new session', async () => {
    const hub = peer('hub')
    const a = peer('a')
    const c = peer('c')
    const names = (p: TestPeer): unknown[] => [...p.awareness.getStates().values()].map((s) => s.name).filter((n) => n !== undefined).sort()
    hub.awareness.setLocalState({ name: 'hub' })
    a.awareness.setLocalState({ name: 'a' })
    c.awareness.setLocalState({ name: 'c' })
    const aToHub = connect(a, hub)
    connect(c, hub)
    await vi.waitFor(() => { expect(names(c)).toEqual(['a', 'c', 'hub']) })
    await aToHub.close()
    await vi.waitFor(() => { expect(names(c)).toEqual(['c', 'hub']) })
    expect(names(hub)).toEqual(['c', 'hub'])
    // a's state has not changed (same clock): the hub takes it again all the same
    connect(a, hub)
    await vi.waitFor(() => { expect(names(hub)).toEqual(['a', 'c', 'hub']) })
  })

  it('passes on only its own presence when it does not relay (a browser)', async () => {
    const hub = peer('hub')
    const otherHub = peer('other hub')
    const browser = peer('browser', { relayAwareness: false })
    const other = peer('other')
    const names = (p: TestPeer): unknown[] => [...p.awareness.getStates().values()].map((s) => s.name).filter((n) => n !== undefined).sort()
    browser.awareness.setLocalState({ name: 'browser' })
    other.awareness.setLocalState({ name: 'other', status: 'ONLINE' })
    connect(other, hub)
    connect(browser, hub)
    await vi.waitFor(() => { expect(names(browser)).toEqual(['browser', 'other']) })
    // opened while the browser knows of `other`, then `other` changes
    connect(browser, otherHub)
    await vi.waitFor(() => { expect(names(otherHub)).toEqual(['browser']) })
    other.awareness.setLocalState({ name: 'other', status: 'BUSY' })
    browser.awareness.setLocalState({ name: 'browser', status: 'BUSY' })
    await vi.waitFor(() => {
      expect([...browser.awareness.getStates().values()].some((s) => s.status === 'BUSY' && s.name === 'other')).toBe(true)
      expect([...otherHub.awareness.getStates().values()].some((s) => s.status === 'BUSY' && s.name === 'browser')).toBe(true)
    })
    expect(names(otherHub)).toEqual(['browser'])
  })
})
