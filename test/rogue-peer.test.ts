// Hostile clients on the lab network, as separate libp2p hosts talking to a lab of three real peers:
// - one with the lab key (from an old invite, a lost laptop) but no membership: every peer refuses the
//   connection right after the handshake, so it cannot open any stream;
// - a member recon peer (it redeemed a real invite) that sends what a recon peer may not: a patient
//   deletion, an audit rewrite, a change of users. The first peer drops each, records the refusal with
//   the sender in its audit log, and never relays it: the other peers never see it;
// - the same peer once revoked on one hub: every peer of the lab cuts it off within 5 s, and it cannot
//   connect again.
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { decodeInvite } from '../protocol/invite.ts'
import { SYNC_PROTOCOL, BLOB_PROTOCOL, JOIN_PROTOCOL } from '../protocol/ids.ts'
import { swarmKeyFromHex } from '../protocol/lab-key.ts'
import { MemoryDocSource } from '../protocol/lab/memory-doc-source.ts'
import { redeemInvite } from '../node/lab/join.ts'
import { createLabHost, type LabHost } from '../node/p2p/host.ts'
import { SyncService } from '../node/sync/sync-service.ts'
import { eventually, sleep, TestLab, type PeerProcess } from './support/peer-process.ts'
import type { PrivateKey } from '@libp2p/interface'

interface AuditRow { actor: string, peerId: string, action: string, entity: string, detail?: string }

const lab = new TestLab()
let hub: PeerProcess
let second: PeerProcess
let third: PeerProcess
const hosts: LabHost[] = []
const syncs: SyncService[] = []

async function tcpAddr (peer: PeerProcess): Promise<string> {
  const addr = (await peer.api<{ addrs: string[] }>('GET', '/api/v1/status')).body.addrs.find((a) => a.includes('/tcp/') && !a.includes('/ws'))
  if (addr === undefined) throw new Error(`${peer.name} has no TCP address`)
  return addr
}

async function host (key: PrivateKey): Promise<LabHost> {
  const h = await createLabHost({ privateKey: key, swarmKey: swarmKeyFromHex(hub.labKeyHex()), mdns: false })
  hosts.push(h)
  return h
}

beforeAll(async () => {
  hub = await lab.peer({ name: 'hub', roles: 'hub' })
  await hub.start()
  second = await lab.peer({ name: 'second', roles: 'hub', join: hub.invite() })
  third = await lab.peer({ name: 'third', roles: 'hub', join: hub.invite() })
  await Promise.all([second.start(), third.start()])
  for (const name of ['Lovelace', 'Hopper', 'Noether']) {
    expect((await hub.api('POST', '/api/v1/patients', { firstName: 'A', lastName: name, birthDate: '1980-01-01', sex: 'FEMALE' })).status).toBe(201)
  }
  for (const peer of [second, third]) {
    await eventually(async () => (await peer.api<unknown[]>('GET', '/api/v1/patients')).body.length === 3, 20_000, `${peer.name} has the patients`)
  }
}, 120_000)

afterAll(async () => {
  for (const s of syncs) await s.stop()
  for (const h of hosts) await h.stop()
  await lab.cleanup()
})

describe('a client with the lab key but no membership', () => {
  it('cannot open any stream on any peer', async () => {
    const outsider = await host(await generateKeyPair('Ed25519'))
    for (const peer of [hub, second, third]) {
      const addr = multiaddr(await tcpAddr(peer))
      for (const protocol of [SYNC_PROTOCOL, BLOB_PROTOCOL, JOIN_PROTOCOL]) {
        await expect(outsider.dialProtocol(addr, protocol, { signal: AbortSignal.timeout(10_000) })).rejects.toThrow()
      }
    }
    expect(outsider.getConnections()).toHaveLength(0)
    expect((await hub.api('GET', '/api/v1/status')).status).toBe(200)
  }, 60_000)
})

describe('a member recon peer', () => {
  let key: PrivateKey
  let rogue: LabHost

  /** A fresh copy of the lab (new Yjs client ids) synced from the hub, for one attempt. */
  async function syncedCopy (): Promise<{ docs: MemoryDocSource, sync: SyncService }> {
    for (const s of syncs.splice(0)) await s.stop()
    await rogue.hangUp(multiaddr(await tcpAddr(hub)))
    const docs = new MemoryDocSource()
    const sync = new SyncService({ libp2p: rogue, docs }, {})
    syncs.push(sync)
    await sync.start()
    await rogue.dial(multiaddr(await tcpAddr(hub)))
    await eventually(() => docs.get('lab').getMap('patients').size === 3 && docs.get('lab').getArray('audit').length >= 3, 15_000, 'the rogue has the lab document')
    return { docs, sync }
  }

  async function refusedOnHub (pattern: RegExp): Promise<AuditRow> {
    return await eventually(async () => {
      const rows = (await hub.api<AuditRow[]>('GET', '/api/v1/audit')).body
      return rows.find((r) => r.action === 'refuse' && r.peerId === rogue.peerId.toString() && pattern.test(r.detail ?? ''))
    }, 15_000, `the hub records the refusal ${String(pattern)}`)
  }

  beforeAll(async () => {
    key = await generateKeyPair('Ed25519')
    const invite = decodeInvite(hub.invite({ kind: 'recon' }))
    const state = await redeemInvite(invite, key, 'rogue recon')
    const labDoc = new Y.Doc()
    Y.applyUpdate(labDoc, state)
    expect(labDoc.getMap('members').has((await import('@libp2p/peer-id')).peerIdFromPrivateKey(key).toString())).toBe(true)
    rogue = await host(key)
  }, 60_000)

  it('has a patient deletion dropped by the first peer, recorded there, and never relayed', async () => {
    const { docs } = await syncedCopy()
    const victim = [...docs.get('lab').getMap('patients').keys()][0]
    docs.get('lab').getMap('patients').delete(victim)
    const row = await refusedOnHub(/recon peer may not delete patients/)
    expect(row.actor).toBe(`peer:${rogue.peerId.toString()}`)
    await sleep(1500)
    for (const peer of [hub, second, third]) expect((await peer.api<unknown[]>('GET', '/api/v1/patients')).body).toHaveLength(3)
  }, 60_000)

  it('has an audit rewrite dropped and never relayed', async () => {
    const { docs } = await syncedCopy()
    const before = (await second.api<AuditRow[]>('GET', '/api/v1/audit')).body.length
    const audit = docs.get('lab').getArray('audit')
    docs.get('lab').transact(() => {
      audit.delete(0, audit.length)
      audit.push([{ at: new Date().toISOString(), actor: 'admin', peerId: rogue.peerId.toString(), action: 'create', entity: 'lab', entityId: 'lab' }])
    })
    await refusedOnHub(/audit log, which is append-only/)
    await sleep(1500)
    for (const peer of [hub, second, third]) {
      const rows = (await peer.api<AuditRow[]>('GET', '/api/v1/audit')).body
      expect(rows.length).toBeGreaterThanOrEqual(before)
      expect(rows.some((r) => r.actor === 'admin' && r.peerId === rogue.peerId.toString())).toBe(false)
    }
  }, 60_000)

  it('has a change of users dropped and never relayed', async () => {
    const { docs } = await syncedCopy()
    const users = docs.get('lab').getMap('users')
    const user = new Y.Map<unknown>()
    docs.get('lab').transact(() => {
      users.set('mallory', user)
      user.set('username', 'mallory')
      user.set('role', 'admin')
      user.set('passwordHash', 'scrypt$forged')
    })
    await refusedOnHub(/recon peer may not change users/)
    await sleep(1500)
    for (const peer of [hub, second, third]) {
      const list = (await peer.api<Array<{ username: string }>>('GET', '/api/v1/users')).body
      expect(list.some((u) => u.username === 'mallory')).toBe(false)
    }
  }, 60_000)

  it('is cut off by every peer of the lab within 5 s of being revoked on one, and stays out', async () => {
    for (const s of syncs.splice(0)) await s.stop()
    const peers = [hub, second, third]
    const ids = peers.map((p) => p.peerId)
    for (const peer of peers) await rogue.dial(multiaddr(await tcpAddr(peer)))
    expect(ids.every((id) => rogue.getConnections().some((c) => c.remotePeer.toString() === id))).toBe(true)

    expect(hub.labCommand(['revoke', rogue.peerId.toString()])).toMatch(/revoked rogue recon/)
    const revokedAt = Date.now()
    await eventually(() => rogue.getConnections().length === 0, 5_000, 'every peer hangs up')
    expect(Date.now() - revokedAt).toBeLessThan(5_000)
    for (const peer of peers) {
      await expect(rogue.dialProtocol(multiaddr(await tcpAddr(peer)), SYNC_PROTOCOL, { signal: AbortSignal.timeout(10_000) })).rejects.toThrow()
    }
    const members = JSON.parse(third.labCommand(['members', '--json'])) as Array<{ peerId: string, active: boolean, problem?: string }>
    expect(members.find((m) => m.peerId === rogue.peerId.toString())).toMatchObject({ active: false, problem: expect.stringMatching(/revoked by operator/) })
  }, 60_000)
})
