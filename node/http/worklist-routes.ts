// REST routes of the modality worklist: GET /api/v1/worklist asks the hospital's worklist provider for the
// scheduled procedures, POST /api/v1/worklist/pick makes one of them the lab's patient and exam.
//
// The provider is one of the lab's PACS destinations of kind "dimse" (an AE title, host and port; the
// same entry a RIS or a PACS's worklist service has when it also takes images): the one named by
// ?destinationId=, or the lab's only DIMSE destination. Who may: the API key, or a logged-in admin,
// medical or scientist user (those who may create patients and exams, node/auth/write-policy.ts).
import { LabNotFoundError, LabValidationError } from '../../protocol/lab/index.ts'
import type { Actor, Destination, Role } from '../../protocol/lab/index.ts'
import { bearerToken, type AuthService } from '../auth/auth-service.ts'
import { sameSecret } from '../auth/same-secret.ts'
import { entryFromJson, pickWorklistEntry } from '../worklist/pick.ts'
import { parseDateRange, queryWorklist, WORKLIST_ENTRY_FIELDS, WorklistError, type WorklistProvider, type WorklistQuery, type WorklistTimeouts } from '../worklist/worklist.ts'
import { guard, header } from './auth-routes.ts'
import { HttpError, type Route, type RouteRequest } from './router.ts'
import type { PeerContext } from '../peer.ts'

const API = '/api/v1'
/** Who may ask the worklist and pick from it: those who may create patients and exams. */
export const WORKLIST_ROLES: readonly Role[] = ['admin', 'medical', 'scientist']

export interface WorklistRoutesInit {
  context: PeerContext
  auth: AuthService
  apiKey: string
  timeouts?: WorklistTimeouts
}

const str = { type: 'string' }
const entrySchema = {
  type: 'object',
  description: 'a scheduled procedure step; fields the provider left empty are absent and named in `missing`',
  properties: {
    ...Object.fromEntries(WORKLIST_ENTRY_FIELDS.map((field) => [field, str])),
    birthDate: { type: 'string', description: 'YYYY-MM-DD' },
    patientName: { type: 'string', description: 'family^given, as DICOM writes it' },
    sex: { type: 'string', enum: ['MALE', 'FEMALE', 'OTHER'] },
    scheduledStart: { type: 'string', description: 'YYYY-MM-DDTHH:MM[:SS], the provider\'s local time' },
    missing: { type: 'array', items: str, description: 'the fields the answer left empty' },
    problems: { type: 'array', items: str, description: 'values given but unusable, in words' }
  }
}

/** Today as YYYYMMDD in this peer's local time. */
function today (): string {
  const now = new Date()
  return `${now.getFullYear()}${String(now.getMonth() + 1).padStart(2, '0')}${String(now.getDate()).padStart(2, '0')}`
}

export function worklistRoutes (init: WorklistRoutesInit): Route[] {
  const { context, auth } = init
  const { lab } = context

  /** The actor behind a request: the API key's peer, or the logged-in user; refuses everyone else. */
  const caller = (request: RouteRequest): Actor => {
    if (sameSecret(header(request, 'x-api-key'), init.apiKey)) return context.actor
    const { user } = auth.authenticate(bearerToken(header(request, 'authorization')))
    if (!WORKLIST_ROLES.includes(user.role)) throw new HttpError(403, `the worklist is for ${WORKLIST_ROLES.join(', ')} users (those who may create patients and exams); you are ${user.role}`)
    return { name: user.username, peerId: context.actor.peerId }
  }

  const provider = (destinationId: string | undefined): { destination: Destination, provider: WorklistProvider } => {
    let destination: Destination | undefined
    if (destinationId !== undefined && destinationId !== '') {
      destination = lab.destinations.get(destinationId)
      if (destination === undefined) throw new HttpError(404, `no destination with id ${destinationId}`)
      if (destination.kind !== 'dimse') throw new HttpError(400, `destination ${destination.name} is a DICOMweb server: a worklist is asked for over DICOM networking (a destination of kind dimse)`)
    } else {
      const dimse = lab.destinations.list().filter((d) => d.kind === 'dimse')
      if (dimse.length === 0) throw new HttpError(400, 'the lab has no worklist provider: add the hospital\'s worklist service as a DICOM destination (kind dimse: AE title, host, port), then ask again')
      if (dimse.length > 1) throw new HttpError(400, `the lab has ${dimse.length} DICOM destinations (${dimse.map((d) => d.name).join(', ')}): say which provides the worklist with destinationId`)
      destination = dimse[0]
    }
    if (destination.kind !== 'dimse') throw new HttpError(400, 'a worklist provider must be a destination of kind dimse')
    return {
      destination,
      provider: { aeTitle: destination.aeTitle, host: destination.host, port: destination.port, ...(destination.callingAeTitle !== undefined ? { callingAeTitle: destination.callingAeTitle } : {}) }
    }
  }

  /** Runs a query; the provider's failures answer 502, the caller's mistakes 400. */
  const ask = async (target: WorklistProvider, query: WorklistQuery): ReturnType<typeof queryWorklist> => {
    try {
      return await queryWorklist(target, query, init.timeouts)
    } catch (err) {
      if (err instanceof WorklistError) throw new HttpError(502, err.message)
      throw err
    }
  }

  const queryOf = (params: URLSearchParams): WorklistQuery => {
    let range: { dateFrom: string, dateTo?: string }
    try {
      range = parseDateRange(params.get('date') ?? today())
    } catch (err) {
      throw new HttpError(400, (err as Error).message)
    }
    const modality = params.get('modality') ?? 'MR'
    const station = params.get('station') ?? ''
    if (!/^[A-Z0-9_ ]{0,16}$/i.test(modality)) throw new HttpError(400, 'modality must be a DICOM modality code such as MR (empty for any)')
    if (station.length > 16 || station.includes('\\')) throw new HttpError(400, 'station must be an AE title of at most 16 characters (empty for any)')
    return { ...range, modality: modality.trim().toUpperCase(), station: station.trim() }
  }

  return [
    {
      method: 'GET',
      path: `${API}/worklist`,
      tag: 'worklist',
      summary: 'Scheduled procedures from the hospital\'s modality worklist (C-FIND). Query: date=YYYYMMDD or YYYYMMDD-YYYYMMDD (default today), modality (default MR; empty for any), station (the scheduled station AE title; default any), destinationId (the DICOM destination that provides the worklist; default the lab\'s only one). 502 when the provider cannot be reached or refuses. API key, or an admin, medical or scientist user.',
      public: true,
      responseSchema: {
        type: 'object',
        properties: {
          provider: { type: 'object', properties: { id: str, name: str, aeTitle: str, host: str, port: { type: 'integer' } } },
          entries: { type: 'array', items: entrySchema },
          truncated: { type: 'boolean', description: 'the provider had more answers than were kept' }
        }
      },
      handle: async (request) => await guard(async () => {
        caller(request)
        const query = queryOf(request.query)
        const { destination, provider: target } = provider(request.query.get('destinationId') ?? undefined)
        const answer = await ask(target, query)
        return {
          status: 200,
          body: { provider: { id: destination.id, name: destination.name, aeTitle: target.aeTitle, host: target.host, port: target.port }, ...answer },
          headers: { 'cache-control': 'no-store' }
        }
      })
    },
    {
      method: 'POST',
      path: `${API}/worklist/pick`,
      tag: 'worklist',
      summary: 'Make a worklist entry the lab\'s patient (matched by patient ID, else created) and exam (accession number, requested procedure, study instance UID; the same entry picked again gives the same exam). Body: { entry } as GET /worklist listed it, or { scheduledProcedureStepId, accessionNumber, date?, destinationId? } to find it at the provider again. API key, or an admin, medical or scientist user.',
      public: true,
      successStatus: 201,
      requestSchema: {
        type: 'object',
        properties: { entry: entrySchema, scheduledProcedureStepId: str, accessionNumber: str, date: str, destinationId: str }
      },
      responseSchema: {
        type: 'object',
        properties: { patientId: str, examId: str, patientCreated: { type: 'boolean' }, examCreated: { type: 'boolean' } }
      },
      handle: async (request) => await guard(async () => {
        const actor = caller(request)
        const input = request.body
        if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new HttpError(400, 'request body must be a JSON object: { entry } or { scheduledProcedureStepId, accessionNumber }')
        const body = input as Record<string, unknown>
        let entry
        try {
          if (body.entry !== undefined) {
            entry = entryFromJson(body.entry)
          } else {
            const { accessionNumber, scheduledProcedureStepId, date, destinationId } = body
            if (typeof accessionNumber !== 'string' || accessionNumber.trim() === '') throw new HttpError(400, 'give the entry, or its accessionNumber (and scheduledProcedureStepId) to find it at the provider')
            if (scheduledProcedureStepId !== undefined && typeof scheduledProcedureStepId !== 'string') throw new HttpError(400, 'scheduledProcedureStepId must be a string')
            const range = typeof date === 'string' ? parseDateRange(date) : {}
            const { provider: target } = provider(typeof destinationId === 'string' ? destinationId : undefined)
            const { entries } = await ask(target, { ...range, accessionNumber: accessionNumber.trim() })
            const matches = entries.filter((e) => e.accessionNumber === accessionNumber.trim() &&
              (scheduledProcedureStepId === undefined || e.scheduledProcedureStepId === scheduledProcedureStepId))
            if (matches.length === 0) throw new HttpError(404, `the worklist has no scheduled procedure with accession number ${accessionNumber}${scheduledProcedureStepId !== undefined ? ` and step ${scheduledProcedureStepId}` : ''}`)
            entry = matches[0]
          }
          const picked = pickWorklistEntry(lab, entry, actor)
          await context.docs.flush()
          return { status: 201, body: picked }
        } catch (err) {
          if (err instanceof WorklistError || err instanceof LabValidationError) throw new HttpError(400, err.message)
          if (err instanceof LabNotFoundError) throw new HttpError(404, err.message)
          throw err
        }
      })
    }
  ]
}
