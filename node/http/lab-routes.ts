// The REST API over the lab document (/api/v1): patients, exams, workflows, tasks, templates, devices,
// results, blobs, the audit log and the peer's status. Reads and writes go to this peer's own copy of
// the documents, so they work while it is cut off from the lab and merge when it is back; a write is
// answered only once it is on this peer's disk.
import { LabNotFoundError, LabSchemaError, LabValidationError, deriveStatus } from '../../protocol/lab/index.ts'
import { SHA256_HEX } from '../../protocol/blob.ts'
import { listPeerRecords, type PeerPresence } from '../../protocol/peers.ts'
import { HttpError, type Route, type RouteRequest, type RouteResponse } from './router.ts'
import { openApiDocument } from './openapi.ts'
import * as schemas from './schemas.ts'
import type { PeerContext } from '../peer.ts'
import type { Actor } from '../../protocol/lab/index.ts'
import { chooseScanner } from '../../protocol/scanner-choice.ts'

const API = '/api/v1'

/** Runs a lab call, turning the model's errors into HTTP answers. */
function call<T> (fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    if (err instanceof LabValidationError) throw new HttpError(400, err.message)
    if (err instanceof LabNotFoundError) throw new HttpError(404, err.message)
    if (err instanceof LabSchemaError) throw new HttpError(409, err.message)
    throw err
  }
}

function requireObject (body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'request body must be a JSON object')
  }
  return body as Record<string, unknown>
}

function found<T> (value: T | undefined, what: string, id: string): T {
  if (value === undefined) throw new HttpError(404, `no ${what} with id ${id}`)
  return value
}

interface Collection<T> {
  list: (filter: Record<string, string | undefined>) => T[]
  get: (id: string) => T | undefined
  create: (input: never, actor: Actor) => T
  update: (id: string, patch: never, actor: Actor) => T
  remove: (id: string, actor: Actor) => void
  move?: (id: string, index: number, actor: Actor) => T
}

interface ResourceSpec<T> {
  /** plural path segment, e.g. patients */
  path: string
  /** singular name for messages and docs, e.g. patient */
  noun: string
  tag: string
  collection: Collection<T>
  /** query parameters that filter the list, e.g. patientId */
  filters?: string[]
  /** a filter that must be given (children are listed per parent) */
  requiredFilter?: boolean
  inputSchema: Record<string, unknown>
  entitySchema: Record<string, unknown>
  /** adds derived fields to what is returned */
  present?: (entity: T) => unknown
  /** extra list filtering from the query (e.g. search) */
  search?: (entities: T[], query: URLSearchParams) => T[]
}

/** The five routes of a resource, so that every entity behaves the same way. */
function resourceRoutes<T> (context: PeerContext, spec: ResourceSpec<T>): Route[] {
  const { collection } = spec
  const present = (entity: T): unknown => spec.present?.(entity) ?? entity
  const base = `${API}/${spec.path}`
  const write = async <R>(fn: () => R): Promise<R> => {
    const result = call(fn)
    await context.docs.flush()
    return result
  }
  return [
    {
      method: 'GET',
      path: base,
      tag: spec.tag,
      summary: `List ${spec.path}${spec.filters !== undefined ? ` (filter by ${spec.filters.join(', ')})` : ''}`,
      responseSchema: { type: 'array', items: spec.entitySchema },
      handle: ({ query }) => {
        const filter: Record<string, string | undefined> = {}
        for (const key of spec.filters ?? []) filter[key] = query.get(key) ?? undefined
        if (spec.requiredFilter === true && Object.values(filter).every((v) => v === undefined)) {
          throw new HttpError(400, `give one of ${spec.filters?.join(', ')} as a query parameter`)
        }
        let entities = call(() => collection.list(filter))
        if (spec.search !== undefined) entities = spec.search(entities, query)
        return { status: 200, body: entities.map(present) }
      }
    },
    {
      method: 'POST',
      path: base,
      tag: spec.tag,
      summary: `Create a ${spec.noun}`,
      requestSchema: spec.inputSchema,
      responseSchema: spec.entitySchema,
      successStatus: 201,
      handle: async ({ body }) => {
        const created = await write(() => collection.create(requireObject(body) as never, context.actor))
        return { status: 201, body: present(created) }
      }
    },
    {
      method: 'GET',
      path: `${base}/:id`,
      tag: spec.tag,
      summary: `Get a ${spec.noun}`,
      responseSchema: spec.entitySchema,
      handle: ({ params }) => ({ status: 200, body: present(found(collection.get(params.id), spec.noun, params.id)) })
    },
    {
      method: 'PATCH',
      path: `${base}/:id`,
      tag: spec.tag,
      summary: `Change fields of a ${spec.noun}${collection.move !== undefined ? '; `position` moves it within its parent' : ''}`,
      requestSchema: { type: 'object', description: `any fields of a ${spec.noun} except ids and timestamps` },
      responseSchema: spec.entitySchema,
      handle: async ({ params, body }) => {
        const patch = { ...requireObject(body) }
        found(collection.get(params.id), spec.noun, params.id)
        const updated = await write(() => {
          if ('position' in patch && collection.move !== undefined) {
            const position = patch.position
            delete patch.position
            if (typeof position !== 'number' || !Number.isInteger(position) || position < 0) {
              throw new LabValidationError('position must be a whole number from 0')
            }
            collection.move(params.id, position, context.actor)
          }
          return Object.keys(patch).length > 0 ? collection.update(params.id, patch as never, context.actor) : found(collection.get(params.id), spec.noun, params.id)
        })
        return { status: 200, body: present(updated) }
      }
    },
    {
      method: 'DELETE',
      path: `${base}/:id`,
      tag: spec.tag,
      summary: `Delete a ${spec.noun}${spec.path === 'exams' || spec.path === 'workflows' ? ' with everything under it' : ''}`,
      successStatus: 204,
      handle: async ({ params }) => {
        found(collection.get(params.id), spec.noun, params.id)
        await write(() => collection.remove(params.id, context.actor))
        return { status: 204 }
      }
    }
  ]
}

export function labRoutes (context: PeerContext): Route[] {
  const { lab } = context
  const routes: Route[] = []

  routes.push(...resourceRoutes(context, {
    path: 'patients',
    noun: 'patient',
    tag: 'patients',
    collection: lab.patients as unknown as Collection<unknown>,
    inputSchema: schemas.patientInput,
    entitySchema: schemas.patient,
    search: (patients, query) => {
      const q = query.get('q')?.trim().toLowerCase()
      if (q === undefined || q === '') return patients
      return patients.filter((p) => JSON.stringify(p).toLowerCase().includes(q))
    }
  }))
  routes.push(...resourceRoutes(context, {
    path: 'exams',
    noun: 'exam',
    tag: 'exams',
    collection: lab.exams as unknown as Collection<unknown>,
    filters: ['patientId'],
    inputSchema: schemas.examInput,
    entitySchema: schemas.exam,
    present: (exam) => ({ ...(exam as object), status: deriveStatus(lab.tasks.list({ examId: (exam as { id: string }).id }).map((t) => t.status)) })
  }))
  routes.push(...resourceRoutes(context, {
    path: 'workflows',
    noun: 'workflow',
    tag: 'workflows',
    collection: lab.workflows as unknown as Collection<unknown>,
    filters: ['examId', 'patientId'],
    inputSchema: schemas.workflowInput,
    entitySchema: schemas.workflow,
    present: (workflow) => ({ ...(workflow as object), status: deriveStatus(lab.tasks.list({ workflowId: (workflow as { id: string }).id }).map((t) => t.status)) })
  }))
  routes.push(...resourceRoutes(context, {
    path: 'tasks',
    noun: 'task',
    tag: 'tasks',
    collection: lab.tasks as unknown as Collection<unknown>,
    filters: ['workflowId', 'examId', 'patientId'],
    inputSchema: schemas.taskInput,
    entitySchema: schemas.task,
    present: (task) => ({ ...(task as object), results: lab.results.list({ taskId: (task as { id: string }).id }) })
  }))
  for (const [path, noun, collection, inputSchema] of [
    ['templates/exams', 'exam template', lab.examTemplates, schemas.examTemplateInput],
    ['templates/workflows', 'workflow template', lab.workflowTemplates, schemas.workflowTemplateInput],
    ['templates/tasks', 'task template', lab.taskTemplates, schemas.taskTemplateInput]
  ] as const) {
    routes.push(...resourceRoutes(context, {
      path,
      noun,
      tag: 'templates',
      collection: collection as unknown as Collection<unknown>,
      filters: path === 'templates/workflows' ? ['examTemplateId'] : path === 'templates/tasks' ? ['workflowTemplateId'] : undefined,
      inputSchema,
      entitySchema: { type: 'object' }
    }))
  }
  routes.push(...instantiateRoutes(context), ...taskControlRoutes(context))

  routes.push(
    {
      method: 'GET',
      path: `${API}/devices`,
      tag: 'devices',
      summary: 'List the lab\'s devices (scanners) with their live status',
      handle: () => ({ status: 200, body: lab.devices.list().map((d) => ({ ...d, status: deviceStatus(context, d.peerId) })) })
    },
    {
      method: 'GET',
      path: `${API}/devices/:id`,
      tag: 'devices',
      summary: 'Get a device',
      handle: ({ params }) => {
        const device = found(lab.devices.get(params.id), 'device', params.id)
        return { status: 200, body: { ...device, status: deviceStatus(context, device.peerId) } }
      }
    },
    {
      method: 'PATCH',
      path: `${API}/devices/:id`,
      tag: 'devices',
      summary: 'Change a device\'s name or parameters (e.g. its Larmor frequency)',
      handle: async ({ params, body }) => {
        found(lab.devices.get(params.id), 'device', params.id)
        const device = call(() => lab.devices.update(params.id, requireObject(body) as never, context.actor))
        await context.docs.flush()
        return { status: 200, body: device }
      }
    },
    {
      method: 'GET',
      path: `${API}/results`,
      tag: 'results',
      summary: 'List results (filter by taskId or patientId)',
      handle: ({ query }) => ({ status: 200, body: lab.results.list({ taskId: query.get('taskId') ?? undefined, patientId: query.get('patientId') ?? undefined }) })
    },
    {
      method: 'GET',
      path: `${API}/blobs/:sha256`,
      tag: 'results',
      summary: 'The bytes of a blob (raw data, sequence, DICOM), from this peer or fetched from the lab peer that has it',
      handle: async ({ params, query }) => await blobResponse(context, params.sha256, query)
    },
    {
      method: 'POST',
      path: `${API}/blobs`,
      tag: 'results',
      summary: 'Store bytes as a content-addressed blob on this peer; answers its sha-256 and size',
      bodyKind: 'bytes',
      maxBodyBytes: 1024 * 1024 * 1024,
      successStatus: 201,
      handle: async ({ body }) => ({ status: 201, body: await context.blobs.put(body as Uint8Array) })
    },
    {
      method: 'GET',
      path: `${API}/audit`,
      tag: 'lab',
      summary: 'The audit log: who changed what and when (query: since=ISO time, limit=N newest)',
      handle: ({ query }) => {
        const limit = query.get('limit')
        const since = query.get('since') ?? undefined
        if (limit !== null && !/^\d+$/.test(limit)) throw new HttpError(400, 'limit must be a whole number')
        if (since !== undefined && Number.isNaN(Date.parse(since))) throw new HttpError(400, 'since must be an ISO 8601 time')
        return { status: 200, body: lab.audit({ since, limit: limit === null ? undefined : Number(limit) }) }
      }
    },
    {
      method: 'GET',
      path: `${API}/status`,
      tag: 'lab',
      summary: 'This peer, its lab and the lab\'s peers with whether they are connected',
      handle: () => ({ status: 200, body: peerStatus(context) })
    },
    {
      method: 'GET',
      path: `${API}/openapi.json`,
      tag: 'lab',
      summary: 'This document',
      public: true,
      handle: () => ({ status: 200, body: openApiDocument(context.router.routes) })
    }
  )
  return routes
}

/**
 * Starting and stopping a task are milestones in the task's document: any peer (or the app, offline)
 * may ask, and the peer that owns the work (the scanner of the task's device, the reconstruction job
 * manager) acts on it. Asking twice changes nothing.
 */
function taskControlRoutes (context: PeerContext): Route[] {
  const { lab } = context
  return [
    {
      method: 'POST',
      path: `${API}/tasks/:id/start`,
      tag: 'tasks',
      summary: 'Start a task: an acquisition on its device, a reconstruction of its input. Starting a running task changes nothing.',
      successStatus: 202,
      handle: async ({ params }) => {
        const task = found(lab.tasks.get(params.id), 'task', params.id)
        if (task.status === 'STARTED' || task.status === 'INPROGRESS') return { status: 202, body: task }
        if (task.type === 'ACQUISITION') {
          const p = task.parameters as { sequenceId?: string, deviceId?: string }
          if (p.sequenceId === undefined) throw new HttpError(400, 'choose a sequence for this acquisition task first (parameters.sequenceId)')
          if (lab.sequences.get(p.sequenceId) === undefined) throw new HttpError(400, `the task's sequence ${p.sequenceId} is not in the lab's library`)
          if (p.deviceId === undefined) {
            // "any scanner": the lab's scanner is written into the task, so that its peer takes it up
            const choice = chooseScanner(lab.devices.list(), (d) => deviceStatus(context, d.peerId) !== 'OFFLINE')
            if (!choice.ok) throw new HttpError(400, choice.problem.replace('(Edit → Device)', '(parameters.deviceId)'))
            call(() => lab.tasks.update(task.id, { parameters: { deviceId: choice.device.id } }, context.actor))
          } else if (lab.devices.get(p.deviceId) === undefined) throw new HttpError(400, `the task's device ${p.deviceId} is not in the lab`)
        } else {
          const p = task.parameters as { inputTaskId?: string }
          if (p.inputTaskId === undefined) throw new HttpError(400, 'choose the input task of this reconstruction first (parameters.inputTaskId)')
        }
        const started = call(() => lab.tasks.setStatus(task.id, 'STARTED', context.actor))
        await context.docs.flush()
        return { status: 202, body: started }
      }
    },
    {
      method: 'POST',
      path: `${API}/tasks/:id/stop`,
      tag: 'tasks',
      summary: 'Stop a task now (the scanner halts within one TR); a task that is not running is left as it is',
      handle: async ({ params }) => {
        const task = found(lab.tasks.get(params.id), 'task', params.id)
        if (task.status !== 'STARTED' && task.status !== 'INPROGRESS') return { status: 200, body: task }
        const stopped = call(() => lab.tasks.setStatus(task.id, 'CANCELLED', context.actor))
        await context.docs.flush()
        return { status: 200, body: stopped }
      }
    }
  ]
}

function instantiateRoutes (context: PeerContext): Route[] {
  const { lab } = context
  const make = (kind: 'exams' | 'workflows' | 'tasks', parentKey: string, fn: (templateId: string, parentId: string) => unknown): Route => ({
    method: 'POST',
    path: `${API}/templates/${kind}/:id/instantiate`,
    tag: 'templates',
    summary: `Copy a ${kind.slice(0, -1)} template (with everything under it) into a ${parentKey.replace('Id', '')}`,
    requestSchema: { type: 'object', required: [parentKey], properties: { [parentKey]: { type: 'string' } } },
    successStatus: 201,
    handle: async ({ params, body }) => {
      const parentId = requireObject(body)[parentKey]
      if (typeof parentId !== 'string') throw new HttpError(400, `${parentKey} is required`)
      const created = call(() => fn(params.id, parentId))
      await context.docs.flush()
      return { status: 201, body: created }
    }
  })
  return [
    make('exams', 'patientId', (t, p) => lab.instantiateExam(t, p, context.actor)),
    make('workflows', 'examId', (t, p) => lab.instantiateWorkflow(t, p, context.actor)),
    make('tasks', 'workflowId', (t, p) => lab.instantiateTask(t, p, context.actor))
  ]
}

async function blobResponse (context: PeerContext, sha256: string, query: URLSearchParams): Promise<RouteResponse> {
  if (!SHA256_HEX.test(sha256)) throw new HttpError(400, 'a blob id is the sha-256 of its content: 64 lowercase hex characters')
  let info
  try {
    info = await context.blobService.ensure(sha256)
  } catch (err) {
    throw new HttpError(404, (err as Error).message)
  }
  const filename = query.get('filename') ?? undefined
  return {
    status: 200,
    bytes: { data: await context.blobs.createReadStream(sha256), size: info.size, contentType: query.get('type') ?? 'application/octet-stream', filename },
    headers: { 'cache-control': 'public, max-age=31536000, immutable', etag: `"${sha256}"` }
  }
}

function presences (context: PeerContext): PeerPresence[] {
  return [...context.sync.awareness.getStates().values()].filter((s): s is PeerPresence => typeof (s as PeerPresence)?.peerId === 'string')
}

function deviceStatus (context: PeerContext, peerId: string): string {
  const presence = presences(context).find((p) => p.peerId === peerId)
  return presence?.status ?? 'OFFLINE'
}

function peerStatus (context: PeerContext): unknown {
  const { libp2p, options } = context
  const self = libp2p.peerId.toString()
  const connected = new Set(libp2p.getConnections().map((c) => c.remotePeer.toString()))
  const present = new Map(presences(context).map((p) => [p.peerId, p]))
  const info = context.lab.info()
  const records = listPeerRecords(context.docs.get('lab'))
  const ids = new Set([...records.map((r) => r.peerId), ...present.keys()])
  ids.delete(self)
  const peers = [...ids].map((peerId) => {
    const record = records.find((r) => r.peerId === peerId)
    const presence = present.get(peerId)
    return {
      peerId,
      name: presence?.name ?? record?.name ?? peerId,
      roles: presence?.roles ?? record?.roles ?? [],
      connected: connected.has(peerId) || presence !== undefined,
      direct: connected.has(peerId),
      status: presence?.status ?? 'OFFLINE',
      addrs: record?.addrs ?? []
    }
  })
  return {
    peerId: self,
    name: options.name,
    roles: options.roles,
    lab: { id: info.labId, name: info.labName },
    addrs: libp2p.getMultiaddrs().map((a) => a.toString()),
    peers
  }
}

export type { RouteRequest }
