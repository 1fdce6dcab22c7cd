// The join protocol faces whoever holds an invite's key (a leaked invite line): arbitrary bytes and
// arbitrary JSON on /scanhub/join must be answered or hung up on, never end the hub, never enrol a
// key whose holder did not sign, and leave the invite usable for the real joiner.
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { FrameWriter, readOneFrame } from '../../protocol/framed-stream.ts'
import { JOIN_PROTOCOL } from '../../protocol/ids.ts'
import { base64UrlEncode, type Invite } from '../../protocol/invite.ts'
import { generateSwarmKeyHex, swarmKeyFromHex } from '../../protocol/lab-key.ts'
import { createLabHost, type LabHost } from '../p2p/host.ts'
import { redeemInvite, serveJoin } from './join.ts'
import { Membership } from './membership.ts'
import type { PrivateKey } from '@libp2p/interface'

const LAB = 'fuzz-lab'
const swarmKeyHex = generateSwarmKeyHex()
let hub: LabHost
let membership: Membership
let lab: Y.Doc
let stopJoin: () => Promise<void>

async function newInvite (): Promise<{ invite: Invite, key: PrivateKey }> {
  const made = await membership.createInvite({ kind: 'recon', addedBy: 'ada', ttlMs: 60_000 })
  const { privateKeyFromProtobuf } = await import('@libp2p/crypto/keys')
  const invite: Invite = {
    labId: LAB,
    labName: 'Fuzz lab',
    swarmKeyHex,
    peerId: hub.peerId.toString(),
    addrs: hub.getMultiaddrs().map((a) => a.toString()),
    founder: hub.peerId.toString(),
    inviteKey: base64UrlEncode(made.privateKey),
    kind: 'recon',
    expiresAt: made.expiresAt
  }
  return { invite, key: privateKeyFromProtobuf(made.privateKey) }
}

beforeAll(async () => {
  const hubKey = await generateKeyPair('Ed25519')
  lab = new Y.Doc()
  membership = new Membership({ labId: LAB, founder: peerIdFromPrivateKey(hubKey).toString(), privateKey: hubKey, lab })
  await membership.ensureFounderRecord('hub')
  hub = await createLabHost({ privateKey: hubKey, swarmKey: swarmKeyFromHex(swarmKeyHex), mdns: false, connectionGater: membership.gater() })
  membership.attach(hub)
  stopJoin = await serveJoin(hub, { labId: LAB, membership, lab, flush: async () => {}, log: () => {} })
})

afterAll(async () => {
  await stopJoin?.()
  membership?.detach()
  await hub?.stop()
})

describe('the join protocol under arbitrary input from an invite\'s key', () => {
  it('answers or hangs up, enrols nobody, and the invite still works for the real joiner', async () => {
    const { invite, key } = await newInvite()
    const client = await createLabHost({ privateKey: key, swarmKey: swarmKeyFromHex(swarmKeyHex), mdns: false })
    const membersBefore = membership.list().length
    try {
      const jsonish = fc.oneof(
        fc.uint8Array({ maxLength: 300 }),
        fc.record({ peerId: fc.string(), name: fc.string(), proof: fc.string() }).map((v) => new TextEncoder().encode(JSON.stringify(v))),
        fc.jsonValue().map((v) => new TextEncoder().encode(JSON.stringify(v)))
      )
      await fc.assert(fc.asyncProperty(jsonish, fc.boolean(), async (payload, framed) => {
        const stream = await client.dialProtocol(hub.getMultiaddrs()[0], JOIN_PROTOCOL, { signal: AbortSignal.timeout(5_000) })
        const writer = new FrameWriter(stream)
        if (framed) await writer.send(payload)
        else await writer.sendRaw(payload)
        await stream.close({ signal: AbortSignal.timeout(2_000) }).catch(() => {})
        // an answer, if any, is a refusal
        const answer = await readOneFrame(stream, 1 << 20, 2_000, (m) => new Error(m)).catch(() => undefined)
        if (answer !== undefined) expect(JSON.parse(new TextDecoder().decode(answer))).toMatchObject({ ok: false })
      }), { numRuns: 40 })
      expect(membership.list().length).toBe(membersBefore)
    } finally {
      await client.stop()
    }
    // the real joiner, with a signature of its own key, is enrolled once
    const joiner = await generateKeyPair('Ed25519')
    const state = await redeemInvite(invite, joiner, 'recon laptop', { mdns: false })
    expect(state.length).toBeGreaterThan(0)
    expect(membership.get(peerIdFromPrivateKey(joiner).toString())).toMatchObject({ active: true, record: { kind: 'recon' } })
    await expect(redeemInvite(invite, await generateKeyPair('Ed25519'), 'second use', { mdns: false })).rejects.toThrow(/could not redeem the invite/)
  }, 120_000)

  it('refuses a joiner that names a key it does not hold', async () => {
    const { key } = await newInvite()
    const client = await createLabHost({ privateKey: key, swarmKey: swarmKeyFromHex(swarmKeyHex), mdns: false })
    try {
      const victim = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
      const stream = await client.dialProtocol(hub.getMultiaddrs()[0], JOIN_PROTOCOL, { signal: AbortSignal.timeout(5_000) })
      await new FrameWriter(stream).send(new TextEncoder().encode(JSON.stringify({ peerId: victim, name: 'forged', proof: 'AAAA' })))
      const answer = JSON.parse(new TextDecoder().decode(await readOneFrame(stream, 1 << 20, 5_000, (m) => new Error(m)))) as { ok: boolean, error?: string }
      expect(answer).toMatchObject({ ok: false, error: expect.stringMatching(/signature does not verify/) })
      expect(membership.get(victim)).toBeUndefined()
    } finally {
      await client.stop()
    }
  }, 60_000)
})
