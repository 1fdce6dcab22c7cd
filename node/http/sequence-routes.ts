// The sequence library over REST: upload a Pulseq file (kept as a blob, its metadata and summary in the
// lab document), list, inspect, and the waveforms a sequence plot needs. A file the parser refuses is
// answered 400 with the parser's message and nothing is stored.
import { collectKspace, parseSeq, SeqLimitError, SeqParseError, waveforms } from '../../protocol/pulseq/index.ts'
import { sequenceSummaryRecord } from '../../protocol/sequence-library.ts'
import { LabValidationError } from '../../protocol/lab/index.ts'
import type { IncomingMessage } from 'node:http'
import { bearerToken } from '../auth/auth-service.ts'
import type { AuthService } from '../auth/auth-service.ts'
import { rolesAllowedToChange } from '../auth/write-policy.ts'
import { HttpError, type Route, type RouteRequest } from './router.ts'
import type { PeerContext } from '../peer.ts'

const API = '/api/v1'
/** A large 3D sequence is a few MB; anything far beyond is not a sequence. */
const MAX_SEQ_BYTES = 64 * 1024 * 1024
/** Points returned for a plot: enough for a screen, bounded for the browser. */
const MAX_PLOT_POINTS = 2_000_000
const MAX_KSPACE_SAMPLES = 1_000_000

async function loadSequenceText (context: PeerContext, id: string): Promise<string> {
  const sequence = context.lab.sequences.get(id)
  if (sequence === undefined) throw new HttpError(404, `no sequence with id ${id}`)
  try {
    await context.blobService.ensure(sequence.blob.sha256)
  } catch (err) {
    throw new HttpError(404, `the file of sequence ${id} is on no reachable peer: ${(err as Error).message}`)
  }
  return new TextDecoder().decode(await context.blobs.read(sequence.blob.sha256))
}

function toArray (a: Float64Array): number[] {
  return Array.from(a, (x) => Math.round(x * 1e9) / 1e9)
}

/**
 * Whether a request renames or deletes a sequence with the session of a user who may change the
 * library (write-policy.ts: admin, scientist, engineer). Uploads are let through by the peer; reads by
 * any session; everything with the API key.
 */
export function sequenceRequestAuthorised (auth: AuthService, req: IncomingMessage): boolean {
  const method = req.method ?? 'GET'
  if ((method !== 'PATCH' && method !== 'DELETE') || !/^\/api\/v1\/sequences\/[^/]+$/.test((req.url ?? '').split('?')[0])) return false
  const token = bearerToken(req.headers.authorization)
  if (token === undefined) return false
  try {
    return rolesAllowedToChange('sequences').includes(auth.authenticate(token).user.role)
  } catch {
    return false
  }
}

/** `auth`, when given, lets a change be audited under the logged-in user's name rather than the peer's. */
export function sequenceRoutes (context: PeerContext, auth?: AuthService): Route[] {
  const { lab } = context
  const actorOf = (request: RouteRequest): PeerContext['actor'] => {
    const token = bearerToken(request.raw.headers.authorization)
    if (token !== undefined && auth !== undefined) {
      try {
        return { name: auth.authenticate(token).user.username, peerId: context.actor.peerId }
      } catch { /* the API key was given too */ }
    }
    return context.actor
  }
  return [
    {
      method: 'GET',
      path: `${API}/sequences`,
      tag: 'sequences',
      summary: 'List the lab\'s sequences (built-in and uploaded)',
      handle: () => ({ status: 200, body: lab.sequences.list() })
    },
    {
      method: 'POST',
      path: `${API}/sequences`,
      tag: 'sequences',
      summary: 'Upload a Pulseq .seq file (the body) as a new sequence; ?name= names it, ?description= describes it',
      bodyKind: 'bytes',
      maxBodyBytes: MAX_SEQ_BYTES,
      successStatus: 201,
      handle: async (request) => {
        const { body, query } = request
        const bytes = body as Buffer
        if (bytes.length === 0) throw new HttpError(400, 'the request body must be the .seq file')
        const text = bytes.toString('utf8')
        let summary
        try {
          summary = sequenceSummaryRecord(text)
        } catch (err) {
          if (err instanceof SeqParseError || err instanceof SeqLimitError) throw new HttpError(400, `not a valid Pulseq file: ${err.message}`)
          throw err
        }
        const name = query.get('name') ?? String(summary.name ?? 'sequence')
        const blob = await context.blobs.put(bytes)
        // the same file twice is one sequence: the upload points at the first
        const same = lab.sequences.list().find((s) => s.blob.sha256 === blob.sha256)
        if (same !== undefined) {
          return { status: 409, body: { error: `this file is in the library already, as "${same.name}" (id ${same.id}): use that sequence, or rename it`, id: same.id, name: same.name } }
        }
        const sequence = lab.sequences.create({
          name,
          description: query.get('description') ?? '',
          type: query.get('type') ?? String(summary.sequenceType ?? 'OTHER'),
          tags: (query.get('tags') ?? '').split(',').map((t) => t.trim()).filter((t) => t !== ''),
          blob,
          summary
        }, actorOf(request))
        await context.docs.flush()
        return { status: 201, body: sequence }
      }
    },
    {
      method: 'GET',
      path: `${API}/sequences/:id`,
      tag: 'sequences',
      summary: 'A sequence: metadata and summary (TE, TR, flip angle, FOV, matrix, duration, readouts)',
      handle: ({ params }) => {
        const sequence = lab.sequences.get(params.id)
        if (sequence === undefined) throw new HttpError(404, `no sequence with id ${params.id}`)
        return { status: 200, body: sequence }
      }
    },
    {
      method: 'PATCH',
      path: `${API}/sequences/:id`,
      tag: 'sequences',
      summary: 'Rename a sequence or change its description, type or tags (its file and summary stay)',
      handle: async (request) => {
        const { params, body } = request
        const sequence = lab.sequences.get(params.id)
        if (sequence === undefined) throw new HttpError(404, `no sequence with id ${params.id}`)
        if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'the body must be a JSON object of name, description, type and tags')
        const allowed = ['name', 'description', 'type', 'tags']
        const other = Object.keys(body).filter((k) => !allowed.includes(k))
        if (other.length > 0) throw new HttpError(400, `${other.join(', ')} cannot be changed: a sequence's file and summary are what it is (upload another file instead)`)
        try {
          const updated = lab.sequences.update(params.id, body as Record<string, never>, actorOf(request))
          await context.docs.flush()
          return { status: 200, body: updated }
        } catch (err) {
          if (err instanceof LabValidationError) throw new HttpError(400, err.message)
          throw err
        }
      }
    },
    {
      method: 'DELETE',
      path: `${API}/sequences/:id`,
      tag: 'sequences',
      summary: 'Delete a sequence from the library; refused while a task or task template uses it, and for built-ins',
      handle: async (request) => {
        const { params } = request
        const sequence = lab.sequences.get(params.id)
        if (sequence === undefined) throw new HttpError(404, `no sequence with id ${params.id}`)
        if (sequence.builtin === true) throw new HttpError(409, `"${sequence.name}" is a built-in sequence: every lab has it`)
        const uses = (parameters: unknown): boolean => (parameters as { sequenceId?: unknown } | undefined)?.sequenceId === params.id
        const tasks = lab.tasks.list().filter((t) => uses(t.parameters))
        const templates = lab.taskTemplates.list().filter((t) => uses(t.parameters))
        if (tasks.length > 0 || templates.length > 0) {
          const names = [...tasks.map((t) => `task "${t.name}"`), ...templates.map((t) => `template "${t.name}"`)]
          throw new HttpError(409, `"${sequence.name}" is used by ${names.slice(0, 5).join(', ')}${names.length > 5 ? ` and ${names.length - 5} more` : ''}: change those first`)
        }
        lab.sequences.remove(params.id, actorOf(request))
        await context.docs.flush()
        return { status: 204 }
      }
    },
    {
      method: 'GET',
      path: `${API}/sequences/:id/file`,
      tag: 'sequences',
      summary: 'The .seq file of a sequence',
      handle: async ({ params }) => {
        const text = await loadSequenceText(context, params.id)
        return { status: 200, bytes: { data: new TextEncoder().encode(text), contentType: 'text/plain; charset=utf-8', filename: `${params.id}.seq` } }
      }
    },
    {
      method: 'GET',
      path: `${API}/sequences/:id/waveforms`,
      tag: 'sequences',
      summary: 'RF magnitude/phase, Gx/Gy/Gz, ADC windows over time (?from=&to= in seconds) and the k-space trajectory, for plots',
      handle: async ({ params, query }) => {
        const text = await loadSequenceText(context, params.id)
        const seq = parseSeq(text)
        const from = query.get('from') === null ? undefined : Number(query.get('from'))
        const to = query.get('to') === null ? undefined : Number(query.get('to'))
        if ((from !== undefined && !Number.isFinite(from)) || (to !== undefined && !Number.isFinite(to))) throw new HttpError(400, 'from and to are times in seconds')
        let w
        try {
          w = waveforms(seq, { from, to, maxPoints: MAX_PLOT_POINTS })
        } catch (err) {
          if (err instanceof SeqLimitError) throw new HttpError(413, `${err.message}: ask for a shorter window with from= and to=`)
          throw err
        }
        let kspace: { kx: number[], ky: number[], kz: number[] } | undefined
        try {
          const k = collectKspace(seq, { maxSamples: MAX_KSPACE_SAMPLES })
          kspace = { kx: toArray(k.kx), ky: toArray(k.ky), kz: toArray(k.kz) }
        } catch (err) {
          if (!(err instanceof SeqLimitError)) throw err
        }
        return {
          status: 200,
          body: {
            from: w.from,
            to: w.to,
            gx: { t: toArray(w.gx.t), value: toArray(w.gx.value) },
            gy: { t: toArray(w.gy.t), value: toArray(w.gy.value) },
            gz: { t: toArray(w.gz.t), value: toArray(w.gz.value) },
            rf: w.rf.map((p) => ({ use: p.use, t: toArray(p.t), magnitude: toArray(p.magnitude), phase: toArray(p.phase) })),
            adc: w.adc,
            kspace
          }
        }
      }
    }
  ]
}
