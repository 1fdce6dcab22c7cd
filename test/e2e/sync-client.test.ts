// The browser's SyncClient (pwa/src/net/sync-client.ts) against the hub's SyncService
// (node/sync/sync-service.ts), both in Node over real libp2p hosts: the two speak one protocol,
// the client counts its changes as unsynced until the hub has them, and a hub that judges the
// client read-only refuses its changes until a new stream is opened with write access.
import '../../node/runtime/promise-with-resolvers.ts'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { afterEach, describe, expect, it } from 'vitest'
import { Awareness } from 'y-protocols/awareness'
import { SYNC_PROTOCOL } from '../../protocol/ids.ts'
import { generateSwarmKeyHex, swarmKeyFromHex } from '../../protocol/lab-key.ts'
import { MemoryDocSource } from '../../protocol/lab/index.ts'
import { createLabHost } from '../../node/p2p/host.ts'
import type { LabHost } from '../../node/p2p/host.ts'
import { SyncService } from '../../node/sync/sync-service.ts'
import { SyncClient } from '../../pwa/src/net/sync-client.ts'
import { SyncLedger } from '../../pwa/src/net/sync-ledger.ts'
import { eventually } from '../support/peer-process.ts'

const hosts: LabHost[] = []
const stops: Array<() => Promise<void> | void> = []

afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop()
  for (const host of hosts.splice(0)) await host.stop()
})

async function host (key: string): Promise<LabHost> {
  const h = await createLabHost({ privateKey: await generateKeyPair('Ed25519'), swarmKey: swarmKeyFromHex(key), mdns: false })
  hosts.push(h)
  return h
}

async function setup (readOnly: { value: boolean }): Promise<{ hubDocs: MemoryDocSource, docs: MemoryDocSource, client: SyncClient, hub: SyncService, open: () => Promise<() => Promise<void>> }> {
  const key = generateSwarmKeyHex()
  const hubHost = await host(key)
  const browserHost = await host(key)
  const hubDocs = new MemoryDocSource()
  hubDocs.get('lab').getMap('patients').set('p0', 'from the hub')
  const hub = new SyncService({ libp2p: hubHost, docs: hubDocs }, { isReadOnly: () => readOnly.value })
  hubDocs.onAdded((docId) => { hub.watch(docId) })
  await hub.start()
  stops.push(async () => { await hub.stop() })
  const docs = new MemoryDocSource()
  const awareness = new Awareness(docs.get('lab'))
  awareness.setLocalState({ peerId: browserHost.peerId.toString(), name: 'browser', roles: ['browser'], status: 'ONLINE' })
  const client = new SyncClient({ docs, awareness, ledger: new SyncLedger() }, { probeDelayMs: 50 })
  client.start()
  stops.push(() => { client.stop() })
  const open = async (): Promise<() => Promise<void>> => {
    const connection = await browserHost.dial(hubHost.getMultiaddrs()[0])
    const stream = await connection.newStream(SYNC_PROTOCOL)
    const done = client.run(stream, connection.remotePeer.toString())
    return async () => { await stream.close(); await done }
  }
  return { hubDocs, docs, client, hub, open }
}

describe('browser SyncClient with a hub SyncService', () => {
  it('syncs both ways, relays presence, and counts changes until the hub has them', async () => {
    const { hubDocs, docs, client, hub, open } = await setup({ value: false })
    docs.get('lab').getMap('patients').set('p1', 'made before connecting')
    expect(client.unsynced()).toBe(1)
    await open()
    await eventually(() => docs.get('lab').getMap('patients').get('p0') === 'from the hub', 5000, 'hub data in the browser')
    await eventually(() => hubDocs.get('lab').getMap('patients').get('p1') === 'made before connecting', 5000, 'browser data on the hub')
    await eventually(() => client.unsynced() === 0, 5000, 'unsynced back to 0')

    // A new document made in the browser reaches the hub; presence reaches the hub's awareness.
    docs.get('patient:x1').getMap('exams').set('e1', 'new doc')
    expect(client.unsynced()).toBe(1)
    await eventually(() => hubDocs.ids().includes('patient:x1') && hubDocs.get('patient:x1').getMap('exams').get('e1') === 'new doc', 5000, 'new doc on the hub')
    await eventually(() => client.unsynced() === 0, 5000, 'new doc confirmed')
    await eventually(() => [...hub.awareness.getStates().values()].some((s) => (s as { name?: string }).name === 'browser'), 5000, 'presence on the hub')

    // Hub-side changes arrive live.
    hubDocs.get('patient:x1').getMap('exams').set('e2', 'from the hub')
    await eventually(() => docs.get('patient:x1').getMap('exams').get('e2') === 'from the hub', 5000, 'live hub update')
    expect(client.unsynced()).toBe(0)
  })

  it('keeps refused changes unsynced, and delivers them on a writable stream', async () => {
    const readOnly = { value: true }
    const { hubDocs, docs, client, open } = await setup(readOnly)
    const close = await open()
    await eventually(() => docs.get('lab').getMap('patients').get('p0') === 'from the hub', 5000, 'a read-only peer still reads')
    docs.get('lab').getMap('patients').set('p9', 'refused')
    await eventually(() => client.refused, 5000, 'the refusal')
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(hubDocs.get('lab').getMap('patients').get('p9')).toBeUndefined()
    expect(client.unsynced()).toBe(1)

    readOnly.value = false
    await close()
    await open()
    await eventually(() => hubDocs.get('lab').getMap('patients').get('p9') === 'refused', 5000, 'delivered after reopening')
    await eventually(() => client.unsynced() === 0, 5000, 'confirmed')
    expect(client.refused).toBe(false)
  })
})
