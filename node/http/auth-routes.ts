// REST routes of the lab's users and sessions (/api/v1/auth, /api/v1/users) and the page's
// bootstrap (/api/v1/bootstrap). They are public to the API-key check of the server: each checks
// what it needs itself (a bearer session, an admin, the API key for scripts, or a request from this
// machine).
import { LabNotFoundError, LabValidationError, ROLES } from '../../protocol/lab/index.ts'
import { AuthConflictError, AuthError, AuthForbiddenError, AuthThrottledError, bearerToken } from '../auth/auth-service.ts'
import type { AuthService, NewUser, UserChanges } from '../auth/auth-service.ts'
import { isLoopbackRequest } from '../auth/bootstrap.ts'
import type { BootstrapInfo } from '../auth/bootstrap.ts'
import type { IncomingMessage } from 'node:http'
import { PasswordPolicyError } from '../auth/password.ts'
import { sameSecret } from '../auth/same-secret.ts'
import { HttpError } from './router.ts'
import type { Route, RouteRequest, RouteResponse } from './router.ts'

const API = '/api/v1'

export interface AuthRoutesInit {
  auth: AuthService
  /** what a page on this machine needs to join the lab */
  /** what the page needs to join; the request tells by which host the page reached the hub */
  bootstrap: (req: IncomingMessage) => BootstrapInfo
  /** the REST API key: scripts may manage users with it as well as an admin's session */
  apiKey: string
  /** the setup code the first user needs (setup-token.ts); undefined once the lab has users */
  setupToken: () => string | undefined
  /** called once the first user exists */
  onFirstUser?: () => Promise<void>
}

const str = { type: 'string' }
const role = { type: 'string', enum: [...ROLES] }
const publicUser = {
  type: 'object',
  properties: { username: str, firstName: str, lastName: str, email: str, role, createdAt: str, lastLoginAt: str, lastActivityAt: str }
}
const newUser = {
  type: 'object',
  required: ['username', 'firstName', 'lastName', 'password'],
  properties: { username: str, firstName: str, lastName: str, email: str, role, password: { type: 'string', minLength: 12 } }
}

/** Turns the auth and lab errors into HTTP answers. */
export async function guard (fn: () => Promise<RouteResponse> | RouteResponse): Promise<RouteResponse> {
  try {
    return await fn()
  } catch (err) {
    if (err instanceof AuthThrottledError) {
      return { status: 429, body: { error: err.message }, headers: { 'retry-after': String(err.retryAfterSeconds) } }
    }
    if (err instanceof AuthError) throw new HttpError(401, err.message)
    if (err instanceof AuthForbiddenError) throw new HttpError(403, err.message)
    if (err instanceof AuthConflictError) throw new HttpError(409, err.message)
    if (err instanceof PasswordPolicyError || err instanceof LabValidationError) throw new HttpError(400, err.message)
    if (err instanceof LabNotFoundError) throw new HttpError(404, err.message)
    throw err
  }
}

export function body (request: RouteRequest): Record<string, unknown> {
  const value = request.body
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HttpError(400, 'request body must be a JSON object')
  return value as Record<string, unknown>
}

function optionalString (value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw new HttpError(400, `${field} must be a string`)
  return value
}

export function header (request: RouteRequest, name: string): string | undefined {
  const value = request.raw.headers[name]
  return Array.isArray(value) ? value[0] : value
}

export function authRoutes (init: AuthRoutesInit): Route[] {
  const { auth } = init

  const hasApiKey = (request: RouteRequest): boolean => sameSecret(header(request, 'x-api-key'), init.apiKey)
  /** The admin behind a request (by username), or 'api-key' for a script. */
  const admin = (request: RouteRequest): string => {
    if (hasApiKey(request)) return 'api-key'
    return auth.authenticateAdmin(bearerToken(header(request, 'authorization'))).user.username
  }
  const token = (request: RouteRequest): string | undefined => bearerToken(header(request, 'authorization'))

  return [
    {
      method: 'GET',
      path: `${API}/bootstrap`,
      tag: 'auth',
      summary: 'Where the page finds this hub (lab id and name, the hub\'s peer id and WebSocket addresses). Not a secret: the lab key comes only with pairing (POST /api/v1/pair).',
      public: true,
      responseSchema: {
        type: 'object',
        properties: { labId: str, labName: str, peerId: str, wsAddrs: { type: 'array', items: str } }
      },
      handle: (request) => {
        return { status: 200, body: init.bootstrap(request.raw), headers: { 'cache-control': 'no-store' } }
      }
    },
    {
      method: 'GET',
      path: `${API}/auth/state`,
      tag: 'auth',
      summary: 'Whether the lab has users yet (if not, the app asks for the first one)',
      public: true,
      responseSchema: { type: 'object', properties: { hasUsers: { type: 'boolean' } } },
      handle: () => ({ status: 200, body: { hasUsers: auth.hasUsers() }, headers: { 'cache-control': 'no-store' } })
    },
    {
      method: 'POST',
      path: `${API}/auth/first-user`,
      tag: 'auth',
      summary: 'Create the lab\'s first user, an admin. Only while the lab has no users, only from this machine, with the setup code (header X-Setup-Token) that `scanhub start` prints.',
      public: true,
      requestSchema: { ...newUser, properties: { ...newUser.properties, role: undefined } },
      responseSchema: publicUser,
      successStatus: 201,
      handle: async (request) => await guard(async () => {
        if (!isLoopbackRequest(request.raw)) throw new AuthForbiddenError('the first user is created on the hub\'s own machine (http://localhost)')
        // a JSON body cannot be sent cross-site without a CORS preflight, which this API never grants
        if (!/^application\/json\b/i.test(request.raw.headers['content-type'] ?? '')) throw new HttpError(415, 'the first user is sent as JSON (Content-Type: application/json)')
        if (auth.hasUsers()) throw new AuthConflictError('the lab has users already: ask an admin for an account')
        if (!sameSecret(request.raw.headers['x-setup-token'], init.setupToken())) {
          throw new AuthForbiddenError('the first user needs the setup code: open the link `scanhub start` printed on the hub\'s machine (the code is also in the file setup-token of its data directory)')
        }
        const input = body(request)
        const user = await auth.createFirstUser({
          username: input.username as string,
          firstName: input.firstName as string,
          lastName: input.lastName as string,
          email: optionalString(input.email, 'email'),
          password: input.password as string
        })
        await init.onFirstUser?.()
        return { status: 201, body: user }
      })
    },
    {
      method: 'POST',
      path: `${API}/auth/login`,
      tag: 'auth',
      summary: 'Log in; answers a bearer token. browserPeerId (the app\'s libp2p peer id) lets that browser\'s sync stream write.',
      public: true,
      requestSchema: { type: 'object', required: ['username', 'password'], properties: { username: str, password: str, browserPeerId: str } },
      responseSchema: { type: 'object', properties: { token: str, user: publicUser, expiresAt: str } },
      handle: async (request) => await guard(async () => {
        const input = body(request)
        return { status: 200, body: await auth.login(input.username, input.password, input.browserPeerId), headers: { 'cache-control': 'no-store' } }
      })
    },
    {
      method: 'POST',
      path: `${API}/auth/logout`,
      tag: 'auth',
      summary: 'End the session of the bearer token',
      public: true,
      successStatus: 204,
      handle: (request) => {
        const given = token(request)
        if (given !== undefined) auth.logout(given)
        return { status: 204 }
      }
    },
    {
      method: 'GET',
      path: `${API}/auth/me`,
      tag: 'auth',
      summary: 'The user of the bearer token and when the session ends if unused (each call extends it)',
      public: true,
      responseSchema: { type: 'object', properties: { user: publicUser, expiresAt: str } },
      handle: async (request) => await guard(() => ({ status: 200, body: auth.me(token(request)), headers: { 'cache-control': 'no-store' } }))
    },
    {
      method: 'POST',
      path: `${API}/auth/password`,
      tag: 'auth',
      summary: 'Change the password of the bearer token\'s user',
      public: true,
      requestSchema: { type: 'object', required: ['currentPassword', 'newPassword'], properties: { currentPassword: str, newPassword: str } },
      successStatus: 204,
      handle: async (request) => await guard(async () => {
        const input = body(request)
        await auth.changeOwnPassword(token(request), input.currentPassword, input.newPassword)
        return { status: 204 }
      })
    },
    {
      method: 'GET',
      path: `${API}/users`,
      tag: 'auth',
      summary: 'List the lab\'s users (admin session or API key)',
      public: true,
      responseSchema: { type: 'array', items: publicUser },
      handle: async (request) => await guard(() => {
        admin(request)
        return { status: 200, body: auth.listUsers() }
      })
    },
    {
      method: 'POST',
      path: `${API}/users`,
      tag: 'auth',
      summary: 'Create a user (admin session or API key); passwords have at least 12 characters',
      public: true,
      requestSchema: newUser,
      responseSchema: publicUser,
      successStatus: 201,
      handle: async (request) => await guard(async () => {
        const by = admin(request)
        const input = body(request)
        const user = await auth.createUser({
          username: input.username as string,
          firstName: input.firstName as string,
          lastName: input.lastName as string,
          email: optionalString(input.email, 'email'),
          role: (input.role ?? 'viewer') as NewUser['role'],
          password: input.password as string
        }, by)
        return { status: 201, body: user }
      })
    },
    {
      method: 'PATCH',
      path: `${API}/users/:username`,
      tag: 'auth',
      summary: 'Change a user\'s names, e-mail, role or password (admin session or API key); the last admin cannot be demoted',
      public: true,
      requestSchema: { type: 'object', properties: { firstName: str, lastName: str, email: str, role, password: str } },
      responseSchema: publicUser,
      handle: async (request) => await guard(async () => {
        const by = admin(request)
        const input = body(request)
        const changes: UserChanges = {}
        for (const key of ['firstName', 'lastName', 'email', 'password'] as const) {
          const value = optionalString(input[key], key)
          if (value !== undefined) changes[key] = value
        }
        const newRole = optionalString(input.role, 'role')
        if (newRole !== undefined) changes.role = newRole as UserChanges['role']
        return { status: 200, body: await auth.updateUser(request.params.username, changes, by) }
      })
    },
    {
      method: 'DELETE',
      path: `${API}/users/:username`,
      tag: 'auth',
      summary: 'Remove a user (admin session or API key); the last admin cannot be removed',
      public: true,
      successStatus: 204,
      handle: async (request) => await guard(async () => {
        const by = admin(request)
        await auth.removeUser(request.params.username, by)
        return { status: 204 }
      })
    }
  ]
}
