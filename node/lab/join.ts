// Joining a lab with a one-time invite, over /scanhub/join/1.0.0.
//
// The invite carries a fresh key that the lab lists as an `invite` member (node/lab/membership.ts), so
// the inviting hub's connection gater lets it in, and nothing else: it is read-only and may only open
// this protocol. The joining peer dials with the invite's key, names the key it will use from now on
// (with a signature by that key, so that nobody can enrol a key they do not hold), and gets back the
// lab document, which lists it as a member. The hub then revokes the invite's key: used once.
import * as Y from 'yjs'
import { ed25519 } from '@noble/curves/ed25519.js'
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { FrameWriter, readOneFrame } from '../../protocol/framed-stream.ts'
import { JOIN_PROTOCOL } from '../../protocol/ids.ts'
import { base64UrlDecode, type Invite } from '../../protocol/invite.ts'
import { ed25519PublicKeyOf } from '../../protocol/lab/members.ts'
import { swarmKeyFromHex } from '../../protocol/lab-key.ts'
import { createLabHost, labMdnsServiceTag } from '../p2p/host.ts'
import type { Membership } from './membership.ts'
import type { Libp2p, PeerId, PeerInfo, PrivateKey, Stream } from '@libp2p/interface'

const MAX_REQUEST = 4096
/** the answer carries the lab document */
const MAX_ANSWER = 64 * 1024 * 1024
const REQUEST_TIMEOUT_MS = 10_000
const JOIN_TIMEOUT_MS = 30_000
const DISCOVERY_TIMEOUT_MS = 20_000

/** Whether the peer shows up in the host's discovery (mDNS) within the time. */
async function waitForDiscovery (host: Libp2p, peerId: string, timeoutMs: number): Promise<boolean> {
  return await new Promise((resolvePromise) => {
    const onDiscovery = (event: CustomEvent<PeerInfo>): void => {
      if (event.detail.id.toString() !== peerId) return
      done(true)
    }
    const timer = setTimeout(() => { done(false) }, timeoutMs)
    const done = (found: boolean): void => {
      clearTimeout(timer)
      host.removeEventListener('peer:discovery', onDiscovery)
      resolvePromise(found)
    }
    host.addEventListener('peer:discovery', onDiscovery)
  })
}

export class JoinError extends Error {
  override name = 'JoinError'
}

interface JoinRequest { peerId: string, name: string, proof: string }
type JoinAnswer = { ok: true, lab: string } | { ok: false, error: string }

function proofBytes (labId: string, invitePeerId: string, peerId: string): Uint8Array {
  return new TextEncoder().encode(`scanhub-join:v1\n${labId}\n${invitePeerId}\n${peerId}`)
}

/** Serves redemptions of this hub's invites. */
export async function serveJoin (
  libp2p: Pick<Libp2p, 'handle' | 'unhandle'>,
  init: { labId: string, membership: Membership, lab: Y.Doc, flush: () => Promise<void>, log: (message: string) => void }
): Promise<() => Promise<void>> {
  await libp2p.handle(JOIN_PROTOCOL, (stream, connection) => {
    const invitePeerId = connection.remotePeer.toString()
    answerJoin(stream, invitePeerId, init).catch((err: Error) => {
      init.log(`join: ${invitePeerId}: ${err.message}`)
      stream.abort(err)
    })
  }, { maxInboundStreams: 2 })
  return async () => { await libp2p.unhandle(JOIN_PROTOCOL) }
}

async function answerJoin (stream: Stream, invitePeerId: string, init: { labId: string, membership: Membership, lab: Y.Doc, flush: () => Promise<void>, log: (message: string) => void }): Promise<void> {
  const writer = new FrameWriter(stream)
  const answer = async (value: JoinAnswer): Promise<void> => {
    await writer.send(new TextEncoder().encode(JSON.stringify(value)))
    await stream.close({ signal: AbortSignal.timeout(5000) }).catch(() => { stream.abort(new Error('join answered')) })
  }
  const frame = await readOneFrame(stream, MAX_REQUEST, REQUEST_TIMEOUT_MS, (m) => new JoinError(m))
  let request: JoinRequest
  try {
    const v = JSON.parse(new TextDecoder().decode(frame)) as Record<string, unknown>
    if (typeof v.peerId !== 'string' || typeof v.name !== 'string' || typeof v.proof !== 'string') throw new Error('fields')
    request = { peerId: v.peerId, name: v.name, proof: v.proof }
  } catch {
    await answer({ ok: false, error: 'malformed join request' })
    return
  }
  const invite = init.membership.get(invitePeerId)
  if (invite?.record.kind !== 'invite') {
    await answer({ ok: false, error: 'only the key of an invite may join' })
    return
  }
  const publicKey = ed25519PublicKeyOf(request.peerId)
  let proven = false
  try {
    proven = publicKey !== undefined && ed25519.verify(base64UrlDecode(request.proof), proofBytes(init.labId, invitePeerId, request.peerId), publicKey)
  } catch {
    proven = false
  }
  if (!proven) {
    await answer({ ok: false, error: 'the joining key\'s signature does not verify' })
    return
  }
  try {
    const member = await init.membership.redeem(invitePeerId, { peerId: request.peerId, name: request.name })
    await init.flush()
    init.log(`join: ${member.record.name} (${request.peerId}) joined as ${member.record.kind}`)
    await answer({ ok: true, lab: Buffer.from(Y.encodeStateAsUpdate(init.lab)).toString('base64') })
  } catch (err) {
    await answer({ ok: false, error: (err as Error).message })
  }
}

/**
 * Redeems an invite for `privateKey` (the joining peer's own key): dials the inviting hub with the
 * invite's key and returns the lab document's state, which lists the new member.
 */
export async function redeemInvite (invite: Invite, privateKey: PrivateKey, name: string, options: { mdns?: boolean } = {}): Promise<Uint8Array> {
  if (Date.parse(invite.expiresAt) <= Date.now()) {
    throw new JoinError(`the invite expired at ${invite.expiresAt}: ask a lab admin for a new one (\`scanhub lab invite\`)`)
  }
  let inviteKey: PrivateKey
  try {
    inviteKey = privateKeyFromProtobuf(base64UrlDecode(invite.inviteKey))
  } catch {
    throw new JoinError('the invite\'s key is damaged: copy the whole line again')
  }
  const invitePeerId = peerIdFromPrivateKey(inviteKey).toString()
  const peerId = peerIdFromPrivateKey(privateKey).toString()
  const proof = Buffer.from(await privateKey.sign(proofBytes(invite.labId, invitePeerId, peerId))).toString('base64url')
  // A host of its own, with the invite's key, that talks to the inviting hub alone. An invite that names
  // no address the joiner can use is found by mDNS on the LAN, by the inviting hub's peer id.
  const host = await createLabHost({
    privateKey: inviteKey,
    swarmKey: swarmKeyFromHex(invite.swarmKeyHex),
    tcpPort: 0,
    mdns: options.mdns ?? true,
    mdnsServiceTag: labMdnsServiceTag(invite.labId),
    connectionGater: { denyOutboundEncryptedConnection: (remote) => remote.toString() !== invite.peerId }
  })
  const errors: string[] = []
  const ask = async (target: Multiaddr | PeerId): Promise<Uint8Array> => {
    const stream = await host.dialProtocol(target, JOIN_PROTOCOL, { signal: AbortSignal.timeout(JOIN_TIMEOUT_MS) })
    await new FrameWriter(stream).send(new TextEncoder().encode(JSON.stringify({ peerId, name, proof } satisfies JoinRequest)))
    const frame = await readOneFrame(stream, MAX_ANSWER, JOIN_TIMEOUT_MS, (m) => new JoinError(m))
    const answer = JSON.parse(new TextDecoder().decode(frame)) as JoinAnswer
    if (!answer.ok) throw new JoinError(`the lab refused the invite: ${answer.error}`)
    return new Uint8Array(Buffer.from(answer.lab, 'base64'))
  }
  const failed = (where: string, err: unknown): void => {
    if (err instanceof JoinError && !/stream closed/.test(err.message)) throw err
    errors.push(`${where}: ${(err as Error).message ?? String(err)}`)
  }
  try {
    for (const addr of invite.addrs) {
      try {
        return await ask(multiaddr(addr))
      } catch (err) {
        failed(addr, err)
      }
    }
    const hub = peerIdFromString(invite.peerId)
    const found = options.mdns !== false && await waitForDiscovery(host, invite.peerId, DISCOVERY_TIMEOUT_MS)
    if (found) {
      try {
        return await ask(hub)
      } catch (err) {
        failed('found by mDNS', err)
      }
    } else {
      errors.push(options.mdns === false ? 'no address to dial, and mDNS is off' : `not found by mDNS within ${DISCOVERY_TIMEOUT_MS / 1000} s`)
    }
  } finally {
    await host.stop()
  }
  // The hub's gater closes the connection of an invite it no longer lists (used, expired, revoked), and
  // the lab key's handshake resets one made with another lab's key: from here both look like a hang-up.
  throw new JoinError(`could not redeem the invite (${errors.join('; ')}): the hub that made it must be running and reachable from here, and the invite unused and unexpired; ask an admin for a new one if it was used (\`scanhub lab invite\`)`)
}
