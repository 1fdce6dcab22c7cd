// A client holding the lab key (from an old invite, a lost laptop) talks the sync protocol to a hub and
// tries to rewrite history: it deletes the audit log's entries in its copy of the lab document and sends
// the change. The hub refuses it, records the refusal with the sender in its audit log, never relays
// it (the second peer's audit log is whole too), and keeps serving.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { swarmKeyFromHex } from '../protocol/lab-key.ts'
import { createLabHost, type LabHost } from '../node/p2p/host.ts'
import { SyncService } from '../node/sync/sync-service.ts'
import { MemoryDocSource } from '../protocol/lab/memory-doc-source.ts'
import { eventually, TestLab, type PeerProcess } from './support/peer-process.ts'

interface AuditRow { actor: string, peerId: string, action: string, entity: string, detail?: string }

const lab = new TestLab()
let hub: PeerProcess
let second: PeerProcess
let rogue: LabHost | undefined
let rogueSync: SyncService | undefined

beforeAll(async () => {
  hub = await lab.peer({ name: 'hub', roles: 'hub' })
  await hub.start()
  second = await lab.peer({ name: 'second', roles: 'hub', join: hub.invite() })
  await second.start()
  for (const name of ['Lovelace', 'Hopper', 'Noether']) {
    expect((await hub.api('POST', '/api/v1/patients', { firstName: 'A', lastName: name, birthDate: '1980-01-01', sex: 'FEMALE' })).status).toBe(201)
  }
  await eventually(async () => (await second.api<unknown[]>('GET', '/api/v1/patients')).body.length === 3, 20_000, 'the second peer has the patients')
}, 90_000)

afterAll(async () => {
  await rogueSync?.stop()
  await rogue?.stop()
  await lab.cleanup()
})

describe('a client with the lab key that rewrites the audit log', () => {
  it('is refused by the first peer, recorded there, and never reaches the second', async () => {
    const config = JSON.parse(await readFile(join(hub.dataDir, 'lab.json'), 'utf8')) as { swarmKeyHex: string }
    rogue = await createLabHost({ privateKey: await generateKeyPair('Ed25519'), swarmKey: swarmKeyFromHex(config.swarmKeyHex), mdns: false })
    const docs = new MemoryDocSource()
    rogueSync = new SyncService({ libp2p: rogue, docs }, {})
    await rogueSync.start()
    const hubAddr = (await hub.api<{ addrs: string[] }>('GET', '/api/v1/status')).body.addrs.find((a) => a.includes('/tcp/') && !a.includes('/ws'))
    expect(hubAddr).toBeDefined()
    await rogue.dial(multiaddr(hubAddr!))
    // the rogue receives the lab document like any peer
    const audit = await eventually(() => { const a = docs.get('lab').getArray('audit'); return a.length >= 3 ? a : undefined }, 15_000, 'the rogue gets the lab document')
    const before = (await hub.api<AuditRow[]>('GET', '/api/v1/audit')).body.map((r) => JSON.stringify(r))
    // history rewritten: every entry deleted, one forged entry in their place
    docs.get('lab').transact(() => {
      audit.delete(0, audit.length)
      audit.push([{ at: new Date().toISOString(), actor: 'admin', peerId: rogue!.peerId.toString(), action: 'create', entity: 'lab', entityId: 'lab' }])
    })

    const refusal = await eventually(async () => {
      const rows = (await hub.api<AuditRow[]>('GET', '/api/v1/audit')).body
      return rows.find((r) => r.action === 'refuse' && r.peerId === rogue!.peerId.toString())
    }, 15_000, 'the hub records the refusal')
    expect(refusal).toMatchObject({ actor: `peer:${rogue.peerId.toString()}`, entity: 'lab' })
    expect(refusal.detail).toMatch(/audit log, which is append-only/)
    // every entry is still in the hub's log, and in the second peer's once the refusal reached it; the forged one nowhere
    const whole = (rows: AuditRow[]): void => {
      const now = new Set(rows.map((r) => JSON.stringify(r)))
      expect(before.filter((r) => !now.has(r))).toEqual([])
      expect(rows.some((r) => r.actor === 'admin' && r.peerId === rogue!.peerId.toString())).toBe(false)
    }
    whole((await hub.api<AuditRow[]>('GET', '/api/v1/audit')).body)
    await eventually(async () => (await second.api<AuditRow[]>('GET', '/api/v1/audit')).body.some((r) => r.action === 'refuse'), 15_000, 'the refusal reaches the second peer')
    whole((await second.api<AuditRow[]>('GET', '/api/v1/audit')).body)
    expect((await second.api<unknown[]>('GET', '/api/v1/patients')).body).toHaveLength(3)
    expect((await hub.api('GET', '/api/v1/status')).status).toBe(200)
  }, 60_000)
})
