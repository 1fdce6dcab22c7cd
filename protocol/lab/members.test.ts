// Membership as every peer computes it from the lab document: signatures along a chain from the founder,
// forged and unsigned entries ignored, revocations that stick, invites that expire.
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { founderRecord, putMember, putRevocation, readMembers, signRecord, type MemberRecord } from './members.ts'
import type { PrivateKey } from '@libp2p/interface'

const LAB = 'lab-1'

async function key (): Promise<{ key: PrivateKey, id: string }> {
  const k = await generateKeyPair('Ed25519')
  return { key: k, id: peerIdFromPrivateKey(k).toString() }
}

function record (peerId: string, signer: string, fields: Partial<MemberRecord> = {}): MemberRecord {
  return { labId: LAB, peerId, name: peerId.slice(-4), kind: 'recon', ceiling: 'engineer', addedBy: 'ada', addedAt: new Date().toISOString(), signer, ...fields }
}

async function add (doc: Y.Doc, signerKey: PrivateKey, r: MemberRecord): Promise<void> {
  putMember(doc, r.peerId, await signRecord(r, (b) => signerKey.sign(b)))
}

async function labWithFounder (): Promise<{ doc: Y.Doc, founder: { key: PrivateKey, id: string } }> {
  const founder = await key()
  const doc = new Y.Doc()
  await add(doc, founder.key, founderRecord(LAB, founder.id, 'hub'))
  return { doc, founder }
}

describe('lab members', () => {
  it('counts records signed by the founder and by admin hubs it added, and nothing else', async () => {
    const { doc, founder } = await labWithFounder()
    const hub2 = await key()
    const recon = await key()
    const viaRecon = await key()
    const stranger = await key()
    const forged = await key()
    await add(doc, founder.key, record(hub2.id, founder.id, { kind: 'hub', ceiling: 'admin' }))
    await add(doc, hub2.key, record(recon.id, hub2.id))
    // a recon peer may not add members
    await add(doc, recon.key, record(viaRecon.id, recon.id))
    // signed by a key that is no member
    await add(doc, stranger.key, record(stranger.id, stranger.id, { kind: 'hub', ceiling: 'admin' }))
    // claims the founder signed it, signed by someone else
    await add(doc, forged.key, record(forged.id, founder.id, { kind: 'hub', ceiling: 'admin' }))
    // a valid signature whose record was changed afterwards
    const signed = await signRecord(record((await key()).id, founder.id), (b) => founder.key.sign(b))
    const tampered = JSON.parse(signed.body) as MemberRecord
    putMember(doc, tampered.peerId, { body: JSON.stringify({ ...tampered, ceiling: 'admin' }), sig: signed.sig })

    const members = readMembers(doc, LAB, founder.id)
    const active = [...members.values()].filter((m) => m.active).map((m) => m.record.peerId).sort()
    expect(active).toEqual([founder.id, hub2.id, recon.id].sort())
    expect(members.get(viaRecon.id)?.problem).toMatch(/may not add members/)
    expect(members.get(stranger.id)?.problem).toMatch(/not signed by a member/)
    expect(members.get(forged.id)?.valid).toBe(false)
    expect(members.get(tampered.peerId)?.valid).toBe(false)
    // the same document read by a peer of a lab founded by someone else trusts only what that founder signed
    expect([...readMembers(doc, LAB, stranger.id).values()].filter((m) => m.active).map((m) => m.record.peerId)).toEqual([stranger.id])
    // and records of another lab do not count here
    expect([...readMembers(doc, 'other-lab', founder.id).values()]).toEqual([])
  })

  it('keeps a revoked peer out even after the hub that revoked it is revoked, and never revokes the founder', async () => {
    const { doc, founder } = await labWithFounder()
    const hub2 = await key()
    const tablet = await key()
    const later = await key()
    await add(doc, founder.key, record(hub2.id, founder.id, { kind: 'hub', ceiling: 'admin' }))
    await add(doc, hub2.key, record(tablet.id, hub2.id, { kind: 'browser', ceiling: 'medical' }))
    const revoke = async (signer: { key: PrivateKey, id: string }, peerId: string): Promise<void> => {
      putRevocation(doc, peerId, await signRecord({ labId: LAB, peerId, reason: 'revoked', revokedBy: 'ada', revokedAt: new Date().toISOString(), signer: signer.id }, (b) => signer.key.sign(b)))
    }
    await revoke(hub2, tablet.id)
    expect(readMembers(doc, LAB, founder.id).get(tablet.id)).toMatchObject({ active: false, problem: expect.stringMatching(/revoked by ada/) })
    await revoke(founder, hub2.id)
    // hub2's later signatures count for nothing; its earlier revocation still stands
    await add(doc, hub2.key, record(later.id, hub2.id))
    const members = readMembers(doc, LAB, founder.id)
    expect(members.get(hub2.id)?.active).toBe(false)
    expect(members.get(tablet.id)?.active).toBe(false)
    expect(members.get(later.id)?.active).toBe(false)
    // a revocation of the founder is ignored
    await revoke(founder, founder.id)
    expect(readMembers(doc, LAB, founder.id).get(founder.id)?.active).toBe(true)
  })

  it('lets an invite in only until it expires or is used', async () => {
    const { doc, founder } = await labWithFounder()
    const invite = await key()
    const now = Date.now()
    await add(doc, founder.key, record(invite.id, founder.id, { kind: 'invite', ceiling: 'viewer', invite: { kind: 'scanner', ceiling: 'engineer', expiresAt: new Date(now + 60_000).toISOString() } }))
    expect(readMembers(doc, LAB, founder.id, now).get(invite.id)?.active).toBe(true)
    expect(readMembers(doc, LAB, founder.id, now + 61_000).get(invite.id)).toMatchObject({ active: false, problem: 'invite expired' })
    putRevocation(doc, invite.id, await signRecord({ labId: LAB, peerId: invite.id, reason: 'redeemed', revokedBy: 'ada', revokedAt: new Date().toISOString(), signer: founder.id }, (b) => founder.key.sign(b)))
    expect(readMembers(doc, LAB, founder.id, now).get(invite.id)).toMatchObject({ active: false, problem: 'invite used' })
  })

  it('ignores entries that are not signed records at all', async () => {
    const { doc, founder } = await labWithFounder()
    doc.getMap('members').set('junk', 'not a record')
    doc.getMap('members').set('junk2', { body: 'x'.repeat(10_000), sig: 'y' })
    doc.getMap('members').set('junk3', { body: '{"labId":1}', sig: '!!' })
    doc.getMap('revocations').set(founder.id, { body: '[]', sig: '' })
    const members = readMembers(doc, LAB, founder.id)
    expect([...members.keys()]).toEqual([founder.id])
    expect(members.get(founder.id)?.active).toBe(true)
  })
})
