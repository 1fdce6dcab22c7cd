// Export and import over the REST API: an exam (or a patient's exams) as a ZIP of DICOM media, raw data
// and a manifest; one file per import request (its bytes are the body, what the caller knows about it
// goes in the query), so a client shows progress per file and one bad file fails alone.
import { planExport, ExportError } from '../exchange/export.ts'
import { importFile, ImportError, type ImportHints } from '../exchange/import.ts'
import { writeZip, zipSize, ZipError } from '../exchange/zip.ts'
import type { PeerContext } from '../peer.ts'
import { HttpError, type Route, type RouteResponse } from './router.ts'
import type { Exam, Patient } from '../../protocol/lab/index.ts'
import { bearerToken, type AuthService } from '../auth/auth-service.ts'
import { rolesAllowedToChange } from '../auth/write-policy.ts'
import type { IncomingMessage } from 'node:http'

const API = '/api/v1'
/** The largest file one import request takes (the body is held in memory while it is read). */
export const MAX_IMPORT_FILE_BYTES = 1024 * 1024 * 1024

async function zipResponse (context: PeerContext, patient: Patient, exams: Exam[]): Promise<RouteResponse> {
  let plan
  try {
    plan = await planExport(context, patient, exams)
  } catch (err) {
    if (err instanceof ExportError) throw new HttpError(409, err.message)
    throw err
  }
  const size = zipSize(plan.entries)
  if (size >= 0xffffffff) throw new HttpError(413, new ZipError('the export is 4 GiB or more: export one exam at a time').message)
  return {
    status: 200,
    bytes: { data: writeZip(plan.entries), contentType: 'application/zip', size, filename: plan.filename },
    headers: { 'cache-control': 'no-store', 'x-scanhub-files': String(plan.manifest.files.length) }
  }
}

function hintsOf (query: URLSearchParams): ImportHints {
  const get = (key: string): string | undefined => {
    const value = query.get(key)?.trim()
    return value === undefined || value === '' ? undefined : value
  }
  const patient = { mrn: get('mrn'), firstName: get('firstName'), lastName: get('lastName'), birthDate: get('birthDate'), sex: get('sex') }
  const hasPatient = Object.values(patient).some((v) => v !== undefined)
  return {
    ...(get('patientId') !== undefined ? { patientId: get('patientId') } : {}),
    ...(hasPatient ? { patient: Object.fromEntries(Object.entries(patient).filter(([, v]) => v !== undefined)) } : {}),
    ...(get('studyInstanceUid') !== undefined ? { studyInstanceUid: get('studyInstanceUid') } : {}),
    ...(get('examName') !== undefined ? { examName: get('examName') } : {}),
    ...(get('accessionNumber') !== undefined ? { accessionNumber: get('accessionNumber') } : {}),
    ...(get('taskName') !== undefined ? { taskName: get('taskName') } : {})
  }
}

/**
 * Whether an import from the app may go through: a logged-in user who may create patients and their
 * exams (write-policy.ts). Exports are reads, which any session may make.
 */
export function importRequestAuthorised (auth: AuthService, req: IncomingMessage): boolean {
  if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== `${API}/import`) return false
  const token = bearerToken(req.headers.authorization)
  if (token === undefined) return false
  try {
    return rolesAllowedToChange('patients').includes(auth.authenticate(token).user.role)
  } catch {
    return false
  }
}

export function exchangeRoutes (context: PeerContext): Route[] {
  const { lab } = context
  return [
    {
      method: 'GET',
      path: `${API}/exams/:id/export`,
      tag: 'exchange',
      summary: 'The exam as a ZIP: DICOMDIR, DICOM/ST…/SE…/IM… files, RAW/ MRD v1 streams of its acquisitions and manifest.json (every file with its sha-256)',
      handle: async ({ params }) => {
        const exam = lab.exams.get(params.id)
        if (exam === undefined) throw new HttpError(404, `no exam with id ${params.id}`)
        const patient = lab.patients.get(exam.patientId)
        if (patient === undefined) throw new HttpError(404, `the exam's patient ${exam.patientId} is not in the lab`)
        return await zipResponse(context, patient, [exam])
      }
    },
    {
      method: 'GET',
      path: `${API}/patients/:id/export`,
      tag: 'exchange',
      summary: 'Every exam of the patient as one ZIP, laid out as an exam export',
      handle: async ({ params }) => {
        const patient = lab.patients.get(params.id)
        if (patient === undefined) throw new HttpError(404, `no patient with id ${params.id}`)
        return await zipResponse(context, patient, lab.exams.list({ patientId: patient.id }))
      }
    },
    {
      method: 'POST',
      path: `${API}/import`,
      tag: 'exchange',
      summary: 'Import one file (the body): DICOM Part 10, MRD v1 stream or ISMRMRD HDF5. Query: name (for messages); optional patientId (a lab patient to put it in), mrn, firstName, lastName, birthDate, sex (the patient of raw data that names none), studyInstanceUid, examName, accessionNumber, taskName. Answers status imported, duplicate or skipped; 422 with the reason for a file that cannot be imported.',
      bodyKind: 'bytes',
      maxBodyBytes: MAX_IMPORT_FILE_BYTES,
      responseSchema: { type: 'object', properties: { status: { enum: ['imported', 'duplicate', 'skipped'] }, kind: { type: 'string' }, patientId: { type: 'string' }, examId: { type: 'string' }, taskId: { type: 'string' }, resultId: { type: 'string' } } },
      handle: async ({ body, query }) => {
        const bytes = body as Uint8Array
        const name = query.get('name') ?? 'upload'
        if (bytes.length === 0) throw new HttpError(422, `${name} is empty`)
        try {
          return { status: 200, body: await importFile(context, bytes, name, hintsOf(query)) }
        } catch (err) {
          if (err instanceof ImportError) throw new HttpError(422, err.message)
          if (err instanceof Error && err.name === 'LabValidationError') throw new HttpError(422, `${name}: ${err.message}`)
          throw err
        }
      }
    }
  ]
}
