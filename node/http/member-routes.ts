// REST routes of the lab's members (/api/v1/members), one-time invites for computers, and pairing of
// browsers (/api/v1/pairings, /api/v1/pair). Members are managed by an admin's session or the API key
// (the hub's own command line: `scanhub lab invite|members|revoke`); a browser pairs with a one-time
// code, which is its only credential.
import { ROLES } from '../../protocol/lab/schema.ts'
import { encodeInvite, base64UrlEncode, type Invite } from '../../protocol/invite.ts'
import { formatPairingCode } from '../../protocol/pairing.ts'
import { AuthForbiddenError, bearerToken, type AuthService } from '../auth/auth-service.ts'
import { PairingError, type Pairings } from '../auth/pairings.ts'
import { sameSecret } from '../auth/same-secret.ts'
import { MembershipError, type AddableKind, type Membership } from '../lab/membership.ts'
import { body, guard, header } from './auth-routes.ts'
import { HttpError } from './router.ts'
import type { MemberState } from '../../protocol/lab/members.ts'
import type { Role } from '../../protocol/lab/schema.ts'
import type { BootstrapInfo } from '../auth/bootstrap.ts'
import type { Route, RouteRequest, RouteResponse } from './router.ts'
import type { IncomingMessage } from 'node:http'

const API = '/api/v1'
const DEFAULT_INVITE_MINUTES = 15
const MAX_INVITE_MINUTES = 7 * 24 * 60

export interface MemberRoutesInit {
  auth: AuthService
  membership: Membership
  pairings: Pairings
  apiKey: string
  labId: string
  founder: string
  swarmKeyHex: string
  /** this hub's peer id and addresses, for invites (TCP) and pairings (WebSocket, as the page reached us) */
  peerId: string
  tcpAddrs: () => string[]
  bootstrap: (req: IncomingMessage) => BootstrapInfo
  labName: () => string
  flush: () => Promise<void>
}

const str = { type: 'string' }
const role = { type: 'string', enum: [...ROLES] }
const memberSchema = {
  type: 'object',
  properties: {
    peerId: str, name: str, kind: { type: 'string', enum: ['hub', 'scanner', 'recon', 'browser', 'invite'] }, ceiling: role,
    addedBy: str, addedAt: str, active: { type: 'boolean' }, problem: str, revokedBy: str, revokedAt: str
  }
}

/** A member as the API shows it. */
export function presentMember (state: MemberState): Record<string, unknown> {
  const { record, revocation } = state
  return {
    peerId: record.peerId,
    name: record.name,
    kind: record.kind,
    ceiling: record.ceiling,
    addedBy: record.addedBy,
    addedAt: record.addedAt,
    active: state.active,
    ...(state.problem !== undefined ? { problem: state.problem } : {}),
    ...(record.invite !== undefined ? { invite: record.invite } : {}),
    ...(revocation !== undefined ? { revokedBy: revocation.revokedBy, revokedAt: revocation.revokedAt } : {})
  }
}

async function memberGuard (fn: () => Promise<RouteResponse> | RouteResponse): Promise<RouteResponse> {
  return await guard(async () => {
    try {
      return await fn()
    } catch (err) {
      if (err instanceof MembershipError) throw new HttpError(409, err.message)
      if (err instanceof PairingError) throw new HttpError(err.status, err.message)
      throw err
    }
  })
}

function roleOf (value: unknown, fallback: Role): Role {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || !(ROLES as readonly string[]).includes(value)) throw new HttpError(400, `ceiling must be one of ${ROLES.join(', ')}`)
  return value as Role
}

function nameOf (value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > 100) throw new HttpError(400, 'name must be a text of 1 to 100 characters (e.g. "Ward tablet")')
  return value.trim()
}

export function memberRoutes (init: MemberRoutesInit): Route[] {
  const { auth, membership, pairings } = init
  /** The admin behind a request: a username, or `operator` for the hub's command line (API key). */
  const admin = (request: RouteRequest): string => {
    if (sameSecret(header(request, 'x-api-key'), init.apiKey)) return 'operator'
    const found = auth.authenticate(bearerToken(header(request, 'authorization')))
    if (found.user.role !== 'admin') throw new AuthForbiddenError('only an admin may manage the lab\'s members')
    return found.user.username
  }

  return [
    {
      method: 'GET',
      path: `${API}/members`,
      tag: 'members',
      summary: 'The lab\'s members as this hub judges them, signatures checked (admin session or API key)',
      public: true,
      responseSchema: { type: 'array', items: memberSchema },
      handle: async (request) => await memberGuard(() => {
        admin(request)
        return { status: 200, body: membership.list().map(presentMember) }
      })
    },
    {
      method: 'GET',
      path: `${API}/members/self`,
      tag: 'members',
      summary: 'Whether a device (by its peer id) is an active member; a paired browser asks this to learn that it was removed',
      public: true,
      handle: (request) => {
        const peerId = request.query.get('peerId') ?? ''
        const state = membership.get(peerId)
        return { status: 200, body: state === undefined ? { active: false, problem: 'not a member of this lab' } : { active: state.active, ...(state.problem !== undefined ? { problem: state.problem } : {}) } }
      }
    },
    {
      method: 'POST',
      path: `${API}/members/invites`,
      tag: 'members',
      summary: 'A one-time invite for a computer to join the lab (`scanhub start --join <invite>`), valid 15 minutes unless ttlMinutes says otherwise',
      public: true,
      requestSchema: { type: 'object', properties: { kind: { type: 'string', enum: ['hub', 'scanner', 'recon'] }, ceiling: role, ttlMinutes: { type: 'number' } } },
      successStatus: 201,
      handle: async (request) => await memberGuard(async () => {
        const by = admin(request)
        const input = body(request)
        const kind = input.kind ?? 'hub'
        if (kind !== 'hub' && kind !== 'scanner' && kind !== 'recon') throw new HttpError(400, 'kind must be hub, scanner or recon (browsers pair with a code: POST /api/v1/pairings)')
        const minutes = input.ttlMinutes ?? DEFAULT_INVITE_MINUTES
        if (typeof minutes !== 'number' || !Number.isFinite(minutes) || minutes <= 0 || minutes > MAX_INVITE_MINUTES) throw new HttpError(400, `ttlMinutes must be a number of minutes from 1 to ${MAX_INVITE_MINUTES}`)
        const addrs = init.tcpAddrs()
        if (addrs.length === 0) throw new HttpError(409, 'this hub listens on no TCP address that another computer could dial')
        const made = await membership.createInvite({ kind: kind as AddableKind, ceiling: input.ceiling === undefined ? undefined : roleOf(input.ceiling, 'viewer'), addedBy: by, ttlMs: minutes * 60_000 })
        await init.flush()
        const labName = init.labName()
        const invite = encodeInvite({
          labId: init.labId, labName, swarmKeyHex: init.swarmKeyHex, peerId: init.peerId, addrs,
          founder: init.founder, inviteKey: base64UrlEncode(made.privateKey), kind: made.kind as Invite['kind'], expiresAt: made.expiresAt
        })
        return { status: 201, body: { invite, kind: made.kind, ceiling: made.ceiling, expiresAt: made.expiresAt } }
      })
    },
    {
      method: 'POST',
      path: `${API}/members/:peerId/revoke`,
      tag: 'members',
      summary: 'Revoke a member: every peer of the lab closes its connections and refuses it from then on (admin session or API key)',
      public: true,
      responseSchema: memberSchema,
      handle: async (request) => await memberGuard(async () => {
        const by = admin(request)
        const state = await membership.revoke(decodeURIComponent(request.params.peerId), by)
        await init.flush()
        auth.endPeerSessions(state.record.peerId)
        return { status: 200, body: presentMember(state) }
      })
    },
    {
      method: 'POST',
      path: `${API}/pairings`,
      tag: 'members',
      summary: 'A one-time code (5 minutes) that pairs a browser as a member with this ceiling (admin session or API key)',
      public: true,
      requestSchema: { type: 'object', properties: { ceiling: role } },
      successStatus: 201,
      handle: async (request) => await memberGuard(() => {
        const by = admin(request)
        if (!membership.mayAdminister()) throw new MembershipError('this hub is not an admin hub of the lab: pair devices on the lab\'s admin hub')
        const input = request.body === undefined ? {} : body(request)
        const pairing = pairings.create({ ceiling: roleOf(input.ceiling, 'medical'), createdBy: by })
        return { status: 201, body: { id: pairing.id, code: formatPairingCode(pairing.code), ceiling: pairing.ceiling, expiresAt: new Date(pairing.expiresAt).toISOString() } }
      })
    },
    {
      method: 'GET',
      path: `${API}/pairings/:id`,
      tag: 'members',
      summary: 'The state of a pairing code: waiting, paired (with the device and the confirmation code both screens show) or expired',
      public: true,
      handle: async (request) => await memberGuard(() => {
        admin(request)
        const pairing = pairings.get(request.params.id)
        if (pairing === undefined) throw new HttpError(404, 'no such pairing on this hub')
        return {
          status: 200,
          body: {
            id: pairing.id,
            state: pairing.expired ? 'expired' : pairing.state,
            ceiling: pairing.ceiling,
            expiresAt: new Date(pairing.expiresAt).toISOString(),
            ...(pairing.peerId !== undefined ? { peerId: pairing.peerId, name: pairing.name, confirmation: pairing.confirmation } : {})
          }
        }
      })
    },
    {
      method: 'POST',
      path: `${API}/pair`,
      tag: 'members',
      summary: 'Pair this browser with the lab: a one-time code and the browser\'s peer id; answers what the browser needs to join (the lab key included)',
      public: true,
      requestSchema: { type: 'object', required: ['code', 'peerId', 'name'], properties: { code: str, peerId: str, name: str } },
      handle: async (request) => await memberGuard(async () => {
        const input = body(request)
        if (typeof input.code !== 'string' || input.code.length > 40) throw new HttpError(400, 'code must be the pairing code the admin shows')
        if (typeof input.peerId !== 'string' || input.peerId.length > 200) throw new HttpError(400, 'peerId must be this browser\'s peer id')
        const name = nameOf(input.name)
        const pairing = await pairings.redeem(input.code, { peerId: input.peerId, name }, init.peerId, async (p) => {
          await membership.add({ peerId: input.peerId as string, name, kind: 'browser', ceiling: p.ceiling, addedBy: p.createdBy })
          await init.flush()
        })
        const info = init.bootstrap(request.raw)
        return {
          status: 200,
          body: {
            labId: init.labId,
            labName: info.labName,
            swarmKeyHex: init.swarmKeyHex,
            hubPeerId: init.peerId,
            founder: init.founder,
            wsAddrs: info.wsAddrs,
            ceiling: pairing.ceiling
          }
        }
      })
    }
  ]
}
