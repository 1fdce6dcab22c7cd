// REST routes for sending images to a PACS: the lab's destinations and this peer's export queue.
//
// Contract (all under /api/v1; JSON; errors are { "error": "<plain words>" } with 400, 401, 403 or 404):
//
//   A destination (stored in the lab document, synced to every peer):
//     { id, name, kind: "dimse",    aeTitle, host, port, callingAeTitle?,              createdAt, updatedAt, createdBy, updatedBy }
//     { id, name, kind: "dicomweb", url, username?, hasPassword: boolean,              createdAt, updatedAt, createdBy, updatedBy }
//     aeTitle/callingAeTitle: 1–16 characters, no backslash or control characters, not all spaces (stored
//     trimmed; callingAeTitle defaults to SCANHUB). port: 1–65535. url: http(s) base URL of the DICOMweb
//     service (e.g. http://pacs:8042/dicom-web), no credentials in it. The password is never answered.
//
//   GET    /destinations                 → 200 [destination]
//   POST   /destinations                 ← { name, kind: "dimse", aeTitle, host, port, callingAeTitle? }
//                                          | { name, kind: "dicomweb", url, username?, password? }   → 201 destination
//   GET    /destinations/:id             → 200 destination
//   PATCH  /destinations/:id             ← any fields of its kind (not kind); null clears an optional one → 200 destination
//   DELETE /destinations/:id             → 204
//   POST   /destinations/:id/echo        → 200 { ok: true, ms } | { ok: false, error }   ("test connection": C-ECHO, or a QIDO-RS query)
//
//   An export (this peer's queue; it sends the files it holds or fetches from the lab):
//     { id, destinationId, patientId, examId?, taskId?, state: "queued" | "sending" | "done" | "failed",
//       total, sent, skipped (the destination had it from an earlier export), failed (refused by the destination),
//       errors: [{ file, sopInstanceUid?, error }] (what the destination refused, per image),
//       attempts (tries that could not finish), nextAttemptAt? (ISO time of the next try while queued),
//       lastError? (why the last try stopped, or why it failed), automatic (started by the exam's setting),
//       createdAt, updatedAt, createdBy }
//     "done": every image sent or already there. "failed": the destination refused an image, or could not be
//     reached after 8 tries (2 s, 4 s, … apart). A failed export is not retried: create a new one (images the
//     destination took are skipped).
//
//   POST   /exports                      ← { destinationId, examId } | { destinationId, taskId }  → 202 { id, ...export }
//   GET    /exports                      → 200 [export], newest first
//   GET    /exports/:id                  → 200 export
//
// Who may: reading needs the API key or any logged-in user. Changing destinations: the API key, or an admin
// or engineer (as write-policy.ts lets them change the lab document's destinations). Echo and exports: the
// API key or any logged-in user who is not a viewer.
import type { IncomingMessage } from 'node:http'
import type { Destination, Role } from '../../protocol/lab/index.ts'
import { LabNotFoundError, LabValidationError } from '../../protocol/lab/index.ts'
import type { AuthService } from '../auth/auth-service.ts'
import { bearerToken } from '../auth/auth-service.ts'
import { rolesAllowedToChange } from '../auth/write-policy.ts'
import { dicomwebPing } from '../pacs/dicomweb.ts'
import { dimseEcho } from '../pacs/dimse.ts'
import { ExportRequestError } from '../pacs/export-queue.ts'
import type { ExportQueue } from '../pacs/export-queue.ts'
import type { PeerContext } from '../peer.ts'
import { HttpError } from './router.ts'
import type { Route, RouteRequest } from './router.ts'

const API = '/api/v1'
const DESTINATIONS = `${API}/destinations`
const EXPORTS = `${API}/exports`

const SENDERS: readonly Role[] = ['admin', 'medical', 'scientist', 'engineer']

const destinationSchema = {
  type: 'object',
  required: ['id', 'name', 'kind'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    kind: { type: 'string', enum: ['dimse', 'dicomweb'] },
    aeTitle: { type: 'string', maxLength: 16, description: 'dimse: the called AE title of the PACS' },
    host: { type: 'string', description: 'dimse' },
    port: { type: 'integer', minimum: 1, maximum: 65535, description: 'dimse' },
    callingAeTitle: { type: 'string', maxLength: 16, description: 'dimse: the AE title this lab calls as (SCANHUB when absent)' },
    url: { type: 'string', description: 'dicomweb: the base URL, e.g. http://pacs:8042/dicom-web' },
    username: { type: 'string', description: 'dicomweb: HTTP basic authentication' },
    hasPassword: { type: 'boolean', description: 'dicomweb: whether a password is set (it is never answered)' }
  }
}

const destinationInputSchema = {
  oneOf: [
    {
      type: 'object',
      required: ['name', 'kind', 'aeTitle', 'host', 'port'],
      properties: { name: { type: 'string' }, kind: { const: 'dimse' }, aeTitle: { type: 'string' }, host: { type: 'string' }, port: { type: 'integer' }, callingAeTitle: { type: 'string' } }
    },
    {
      type: 'object',
      required: ['name', 'kind', 'url'],
      properties: { name: { type: 'string' }, kind: { const: 'dicomweb' }, url: { type: 'string' }, username: { type: 'string' }, password: { type: 'string' } }
    }
  ]
}

const exportSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    destinationId: { type: 'string' },
    patientId: { type: 'string' },
    examId: { type: 'string' },
    taskId: { type: 'string' },
    state: { type: 'string', enum: ['queued', 'sending', 'done', 'failed'] },
    total: { type: 'integer' },
    sent: { type: 'integer' },
    skipped: { type: 'integer', description: 'images the destination had from an earlier export' },
    failed: { type: 'integer', description: 'images the destination refused' },
    errors: { type: 'array', items: { type: 'object', properties: { file: { type: 'string' }, sopInstanceUid: { type: 'string' }, error: { type: 'string' } } } },
    attempts: { type: 'integer' },
    nextAttemptAt: { type: 'string', format: 'date-time' },
    lastError: { type: 'string' },
    automatic: { type: 'boolean' }
  }
}

/** A destination as answered: the password stays in the lab document. */
function present (destination: Destination): Record<string, unknown> {
  if (destination.kind !== 'dicomweb') return { ...destination }
  const { password, ...rest } = destination
  return { ...rest, hasPassword: password !== undefined && password !== '' }
}

function requireObject (body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'request body must be a JSON object')
  return body as Record<string, unknown>
}

function call<T> (fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    if (err instanceof LabValidationError) throw new HttpError(400, err.message)
    if (err instanceof LabNotFoundError) throw new HttpError(404, err.message)
    throw err
  }
}

export interface PacsRouteParts {
  context: PeerContext
  auth: AuthService
  queue: ExportQueue
}

/**
 * Whether a request to these routes carries a session of a user who may make it (the server has already
 * let GETs of any logged-in user through, and everything with the API key).
 */
export function pacsRequestAuthorised (auth: AuthService, req: IncomingMessage): boolean {
  const path = (req.url ?? '').split('?')[0]
  const method = req.method ?? 'GET'
  if (!path.startsWith(DESTINATIONS) && !path.startsWith(EXPORTS)) return false
  const role = sessionRole(auth, req)
  if (role === undefined) return false
  if (method === 'POST' && (path === EXPORTS || /^\/api\/v1\/destinations\/[^/]+\/echo$/.test(path))) return SENDERS.includes(role)
  if (path.startsWith(DESTINATIONS) && (method === 'POST' || method === 'PATCH' || method === 'DELETE')) return rolesAllowedToChange('destinations').includes(role)
  return false
}

function sessionRole (auth: AuthService, req: IncomingMessage): Role | undefined {
  const token = bearerToken(req.headers.authorization)
  if (token === undefined) return undefined
  try {
    return auth.authenticate(token).user.role
  } catch {
    return undefined
  }
}

export function pacsRoutes ({ context, auth, queue }: PacsRouteParts): Route[] {
  const { lab } = context
  /** A change is audited under the logged-in user's name, or the peer's for the API key. */
  const actorOf = (request: RouteRequest): PeerContext['actor'] => {
    const token = bearerToken(request.raw.headers.authorization)
    if (token !== undefined) {
      try {
        return { name: auth.authenticate(token).user.username, peerId: context.actor.peerId }
      } catch { /* the API key was given too */ }
    }
    return context.actor
  }
  const destination = (id: string): Destination => {
    const found = lab.destinations.get(id)
    if (found === undefined) throw new HttpError(404, `no destination with id ${id}`)
    return found
  }
  return [
    {
      method: 'GET',
      path: DESTINATIONS,
      tag: 'pacs',
      summary: 'List the lab\'s PACS destinations (DICOM C-STORE receivers and DICOMweb servers)',
      responseSchema: { type: 'array', items: destinationSchema },
      handle: () => ({ status: 200, body: lab.destinations.list().map(present) })
    },
    {
      method: 'POST',
      path: DESTINATIONS,
      tag: 'pacs',
      summary: 'Add a PACS destination (admin or engineer)',
      requestSchema: destinationInputSchema,
      responseSchema: destinationSchema,
      successStatus: 201,
      handle: async (request) => {
        const created = call(() => lab.destinations.create(requireObject(request.body) as never, actorOf(request)))
        await context.docs.flush()
        return { status: 201, body: present(created) }
      }
    },
    {
      method: 'GET',
      path: `${DESTINATIONS}/:id`,
      tag: 'pacs',
      summary: 'Get a PACS destination',
      responseSchema: destinationSchema,
      handle: ({ params }) => ({ status: 200, body: present(destination(params.id)) })
    },
    {
      method: 'PATCH',
      path: `${DESTINATIONS}/:id`,
      tag: 'pacs',
      summary: 'Change fields of a PACS destination (not its kind; null clears an optional field)',
      requestSchema: { type: 'object', description: 'any fields of the destination\'s kind' },
      responseSchema: destinationSchema,
      handle: async (request) => {
        destination(request.params.id)
        const updated = call(() => lab.destinations.update(request.params.id, requireObject(request.body) as never, actorOf(request)))
        await context.docs.flush()
        return { status: 200, body: present(updated) }
      }
    },
    {
      method: 'DELETE',
      path: `${DESTINATIONS}/:id`,
      tag: 'pacs',
      summary: 'Delete a PACS destination (exports queued for it then fail)',
      successStatus: 204,
      handle: async (request) => {
        destination(request.params.id)
        call(() => { lab.destinations.remove(request.params.id, actorOf(request)) })
        await context.docs.flush()
        return { status: 204 }
      }
    },
    {
      method: 'POST',
      path: `${DESTINATIONS}/:id/echo`,
      tag: 'pacs',
      summary: 'Test the connection: a DICOM C-ECHO, or a QIDO-RS query of a DICOMweb server; answers { ok, ms } or { ok: false, error }',
      responseSchema: { type: 'object', properties: { ok: { type: 'boolean' }, ms: { type: 'number' }, error: { type: 'string' } } },
      handle: async ({ params }) => {
        const target = destination(params.id)
        try {
          const { ms } = target.kind === 'dimse' ? await dimseEcho(target) : await dicomwebPing(target)
          return { status: 200, body: { ok: true, ms } }
        } catch (err) {
          return { status: 200, body: { ok: false, error: (err as Error).message } }
        }
      }
    },
    {
      method: 'POST',
      path: EXPORTS,
      tag: 'pacs',
      summary: 'Send the DICOM images of an exam (all its tasks) or of one task to a destination: queued, answered 202 with the export',
      requestSchema: {
        type: 'object',
        required: ['destinationId'],
        properties: { destinationId: { type: 'string' }, examId: { type: 'string' }, taskId: { type: 'string' } },
        description: 'examId or taskId'
      },
      responseSchema: exportSchema,
      successStatus: 202,
      handle: async (request) => {
        const body = requireObject(request.body)
        for (const key of Object.keys(body)) {
          if (!['destinationId', 'examId', 'taskId'].includes(key)) throw new HttpError(400, `unknown field '${key}': give destinationId and examId or taskId`)
        }
        const { destinationId, examId, taskId } = body
        if (typeof destinationId !== 'string') throw new HttpError(400, 'destinationId is required')
        if ((examId === undefined) === (taskId === undefined)) throw new HttpError(400, 'give either examId or taskId')
        if ((examId !== undefined && typeof examId !== 'string') || (taskId !== undefined && typeof taskId !== 'string')) {
          throw new HttpError(400, 'examId and taskId are ids (strings)')
        }
        try {
          const view = await queue.create({ destinationId, examId: examId as string | undefined, taskId: taskId as string | undefined }, actorOf(request).name)
          return { status: 202, body: view }
        } catch (err) {
          if (err instanceof ExportRequestError) throw new HttpError(err.status, err.message)
          throw err
        }
      }
    },
    {
      method: 'GET',
      path: EXPORTS,
      tag: 'pacs',
      summary: 'This peer\'s exports to PACS destinations, newest first, with their state and counts',
      responseSchema: { type: 'array', items: exportSchema },
      handle: () => ({ status: 200, body: queue.list() })
    },
    {
      method: 'GET',
      path: `${EXPORTS}/:id`,
      tag: 'pacs',
      summary: 'One export: state (queued, sending, done, failed), counts, what the destination refused',
      responseSchema: exportSchema,
      handle: ({ params }) => {
        const view = queue.get(params.id)
        if (view === undefined) throw new HttpError(404, `no export with id ${params.id} on this peer`)
        return { status: 200, body: view }
      }
    }
  ]
}
