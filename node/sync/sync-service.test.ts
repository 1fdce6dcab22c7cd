import { generateKeyPair } from '@libp2p/crypto/keys'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { encodeFrame } from '../../protocol/framing.ts'
import { SYNC_PROTOCOL } from '../../protocol/ids.ts'
import { createLabHost, type LabHost } from '../p2p/host.ts'
import { generateSwarmKeyHex, swarmKeyFromHex } from '../../protocol/lab-key.ts'
import { encodeSyncFrame } from '../../protocol/sync.ts'
import { followListedPatients, mayHoldLabDoc } from './patient-doc-admission.ts'
import { SyncService, syncStep1Message, syncUpdateMessage, type SyncDocs } from './sync-service.ts'

class Docs implements SyncDocs {
  readonly map = new Map<string, Y.Doc>()
  get (id: string): Y.Doc {
    let doc = this.map.get(id)
    if (doc === undefined) { doc = new Y.Doc(); this.map.set(id, doc) }
    return doc
  }

  ids (): string[] { return [...this.map.keys()] }
  has (id: string): boolean { return this.map.has(id) }
}

interface TestPeer { host: LabHost, docs: Docs, sync: SyncService }

const running: TestPeer[] = []

async function startPeer (swarmKeyHex: string, readOnly: (id: string) => boolean = () => false): Promise<TestPeer> {
  const host = await createLabHost({ privateKey: await generateKeyPair('Ed25519'), swarmKey: swarmKeyFromHex(swarmKeyHex), mdns: false })
  const docs = new Docs()
  docs.get('lab')
  const sync = new SyncService({ libp2p: host, docs }, { isReadOnly: readOnly })
  await sync.start()
  const peer = { host, docs, sync }
  running.push(peer)
  return peer
}

async function until (check: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

afterEach(async () => {
  for (const peer of running.splice(0)) {
    await peer.sync.stop()
    await peer.host.stop()
  }
})

describe('sync service', () => {
  it('syncs existing and new documents both ways over one stream', async () => {
    const key = generateSwarmKeyHex()
    const a = await startPeer(key)
    const b = await startPeer(key)
    a.docs.get('lab').getMap('patients').set('p1', 'from a')
    b.docs.get('patient:x1').getMap('exams').set('e1', 'from b')
    await a.host.dial(b.host.getMultiaddrs()[0])
    await until(() => b.docs.get('lab').getMap('patients').get('p1') === 'from a')
    await until(() => a.docs.map.has('patient:x1') && a.docs.get('patient:x1').getMap('exams').get('e1') === 'from b')
    // live updates after the handshake, and a document created after it
    a.docs.get('lab').getMap('patients').set('p2', 'later')
    a.docs.get('patient:x2').getMap('exams').set('e2', 'new doc')
    a.sync.watch('patient:x2')
    await until(() => b.docs.get('lab').getMap('patients').get('p2') === 'later')
    await until(() => b.docs.map.has('patient:x2') && b.docs.get('patient:x2').getMap('exams').get('e2') === 'new doc')
    expect(a.sync.syncedPeers()).toEqual([b.host.peerId.toString()])
  })

  it('relays updates and presence through a middle peer', async () => {
    const key = generateSwarmKeyHex()
    const [a, b, c] = [await startPeer(key), await startPeer(key), await startPeer(key)]
    await a.host.dial(b.host.getMultiaddrs()[0])
    await c.host.dial(b.host.getMultiaddrs()[0])
    a.sync.awareness.setLocalState({ name: 'a' })
    a.docs.get('lab').getMap('patients').set('p', 'via b')
    await until(() => c.docs.get('lab').getMap('patients').get('p') === 'via b')
    await until(() => [...c.sync.awareness.getStates().values()].some((s) => s.name === 'a'))
    // a leaves: its presence disappears on c without waiting for a timeout
    await a.sync.stop()
    await until(() => ![...c.sync.awareness.getStates().values()].some((s) => s.name === 'a'))
  })

  it('drops changes from a read-only peer but still serves it', async () => {
    const key = generateSwarmKeyHex()
    const viewer = await startPeer(key)
    const hub = await startPeer(key, (id) => id === viewer.host.peerId.toString())
    hub.docs.get('lab').getMap('patients').set('p', 'hub data')
    await viewer.host.dial(hub.host.getMultiaddrs()[0])
    await until(() => viewer.docs.get('lab').getMap('patients').get('p') === 'hub data')
    viewer.docs.get('lab').getMap('patients').set('p', 'vandalised')
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(hub.docs.get('lab').getMap('patients').get('p')).toBe('hub data')
  })

  it('answers garbage and oversized frames with an error and keeps running', async () => {
    const key = generateSwarmKeyHex()
    const a = await startPeer(key)
    const b = await startPeer(key)
    a.docs.get('lab').getMap('patients').set('p', 'safe')
    // a raw client on the sync protocol, not a SyncService
    const stream = await b.host.dialProtocol(a.host.getMultiaddrs()[0], SYNC_PROTOCOL)
    const received: Uint8Array[] = []
    stream.addEventListener('message', (e) => { received.push(e.data instanceof Uint8Array ? e.data : e.data.subarray()) })
    stream.send(encodeFrame(new Uint8Array([7, 1, 65, 0])))           // unknown message type
    stream.send(encodeFrame(new Uint8Array([0, 3, 46, 46, 47, 0])))    // invalid doc id
    stream.send(encodeFrame(new Uint8Array([0, 3, 108, 97, 98, 5, 2, 9, 9, 9, 9]))) // undecodable update
    await until(() => Buffer.concat(received).toString('latin1').includes('update could not be applied'))
    const text = Buffer.concat(received).toString('latin1')
    expect(text).toContain('unknown sync message type 7')
    expect(text).toContain('invalid document id')
    // a lying length prefix: 1 GiB
    stream.send(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x04]))
    await until(() => Buffer.concat(received).toString('latin1').includes('exceeds the limit'))
    await until(() => stream.status !== 'open')
    // the peer is fine and its data intact
    expect(a.docs.get('lab').getMap('patients').get('p')).toBe('safe')
    await b.host.hangUp(a.host.peerId)
    const c = await startPeer(key)
    await c.host.dial(a.host.getMultiaddrs()[0])
    await until(() => c.docs.get('lab').getMap('patients').get('p') === 'safe')
  })

  it('cannot connect peers of different labs', async () => {
    const a = await startPeer(generateSwarmKeyHex())
    const other = await startPeer(generateSwarmKeyHex())
    a.docs.get('lab').getMap('patients').set('p', 'secret')
    await expect(other.host.dial(a.host.getMultiaddrs()[0], { signal: AbortSignal.timeout(8000) })).rejects.toThrow()
    expect(other.docs.get('lab').getMap('patients').get('p')).toBeUndefined()
  })
})

describe('documents offered by peers', () => {
  async function admittingPeer (swarmKeyHex: string): Promise<TestPeer> {
    const host = await createLabHost({ privateKey: await generateKeyPair('Ed25519'), swarmKey: swarmKeyFromHex(swarmKeyHex), mdns: false })
    const docs = new Docs()
    docs.get('lab')
    const sync = new SyncService({ libp2p: host, docs }, { mayHold: (docId) => mayHoldLabDoc(docs, docId) })
    followListedPatients(docs, (docId) => { sync.watch(docId) })
    await sync.start()
    const peer = { host, docs, sync }
    running.push(peer)
    return peer
  }

  it('creates no document for ids the lab does not list, however many are offered', async () => {
    const key = generateSwarmKeyHex()
    const hub = await admittingPeer(key)
    const permissive = await startPeer(key)
    const client = await startPeer(key)
    const fake = new Y.Doc()
    fake.getMap('exams').set('e', 'x')
    for (const target of [hub, permissive]) {
      const stream = await client.host.dialProtocol(target.host.getMultiaddrs()[0], SYNC_PROTOCOL)
      for (let i = 0; i < 500; i++) stream.send(encodeFrame(encodeSyncFrame(`patient:${crypto.randomUUID()}`, syncStep1Message(fake))))
      stream.send(encodeFrame(encodeSyncFrame(`patient:${crypto.randomUUID()}`, syncUpdateMessage(Y.encodeStateAsUpdate(fake)))))
    }
    // a peer without the rule creates every one of them (so the messages did arrive) ...
    await until(() => permissive.docs.ids().length === 502, 15_000)
    // ... the hub, which takes only what its lab lists, holds its lab document alone
    expect(hub.docs.ids()).toEqual(['lab'])
  }, 30_000)

  it('takes a patient document once the lab document lists the patient, in either order', async () => {
    const key = generateSwarmKeyHex()
    const hub = await admittingPeer(key)
    const scanner = await admittingPeer(key)
    // the patient document exists on the scanner before the lab document lists the patient
    scanner.docs.get('patient:p1').getMap('exams').set('e1', 'head exam')
    scanner.sync.watch('patient:p1')
    await scanner.host.dial(hub.host.getMultiaddrs()[0])
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(hub.docs.has('patient:p1')).toBe(false)
    scanner.docs.get('lab').getMap('patients').set('p1', { lastName: 'Lovelace' })
    await until(() => hub.docs.has('patient:p1') && hub.docs.get('patient:p1').getMap('exams').get('e1') === 'head exam')
  })
})
