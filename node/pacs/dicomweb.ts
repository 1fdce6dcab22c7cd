// DICOMweb to a PACS: STOW-RS (PS3.18 10.5) to send instances and a QIDO-RS query as "test connection".
// Failures in plain words: HTTP status with what the server said, and each instance the server listed
// in its FailedSOPSequence with its failure reason.
import { randomBytes } from 'node:crypto'
import type { DicomwebDestinationFields } from '../../protocol/lab/index.ts'
import type { DicomInstance, InstanceOutcome, StoreReport } from './dimse.ts'
import { describeNetworkError, describeStoreStatus } from './dimse.ts'
import { PacsError } from './pacs-error.ts'

export const DEFAULT_DICOMWEB_TIMEOUT_MS = 60_000

// DICOM JSON tags of the STOW-RS answer (PS3.18 Table 10.5.3-1)
const FAILED_SOP_SEQUENCE = '00081198'
const REFERENCED_SOP_SEQUENCE = '00081199'
const REFERENCED_SOP_INSTANCE_UID = '00081155'
const FAILURE_REASON = '00081197'
const WARNING_REASON = '00081196'

function headersFor (destination: DicomwebDestinationFields): Record<string, string> {
  if (destination.username === undefined) return {}
  const credentials = Buffer.from(`${destination.username}:${destination.password ?? ''}`, 'utf8').toString('base64')
  return { authorization: `Basic ${credentials}` }
}

/** fetch with a deadline, its network failures put in words. */
async function request (destination: DicomwebDestinationFields, url: string, init: RequestInit, timeoutMs: number): Promise<Response> {
  const target = new URL(url)
  const port = Number(target.port !== '' ? target.port : target.protocol === 'https:' ? 443 : 80)
  try {
    return await fetch(url, { ...init, headers: { ...headersFor(destination), ...(init.headers as Record<string, string>) }, signal: AbortSignal.timeout(timeoutMs) })
  } catch (err) {
    const e = err as Error & { cause?: unknown }
    if (e.name === 'TimeoutError') throw new PacsError(`no answer from ${target.host} within ${Math.round(timeoutMs / 1000)} s`)
    throw new PacsError(describeNetworkError(e.cause ?? e, target.hostname, port))
  }
}

/** What a refusing server said, shortened: an HTML error page is no message. */
async function answerText (response: Response): Promise<string> {
  return answerTextOf(await response.text().catch(() => ''))
}

function answerTextOf (answer: string): string {
  const text = answer.trim()
  if (text === '' || /^<(!doctype|html)/i.test(text)) return ''
  try {
    // servers answer errors as JSON with a message (Orthanc: Message; others: message, error)
    const answer = JSON.parse(text) as Record<string, unknown>
    const message = answer.Message ?? answer.message ?? answer.error
    if (typeof message === 'string' && message !== '') return ': ' + message.slice(0, 300)
  } catch { /* plain text */ }
  return ': ' + text.replace(/\s+/g, ' ').slice(0, 300)
}

function httpRefusal (response: Response, what: string, detail: string): PacsError {
  if (response.status === 401 || response.status === 403) {
    return new PacsError(`the DICOMweb server refused ${what} (HTTP ${response.status}): check the user name and password${detail}`)
  }
  if (response.status === 404) return new PacsError(`the DICOMweb server has no such path (HTTP 404): check the base URL${detail}`)
  return new PacsError(`the DICOMweb server answered ${what} with HTTP ${response.status}${detail}`)
}

/** QIDO-RS: asks for one study, which any working DICOMweb server answers (possibly with none). */
export async function dicomwebPing (destination: DicomwebDestinationFields, timeoutMs = DEFAULT_DICOMWEB_TIMEOUT_MS): Promise<{ ms: number }> {
  const started = performance.now()
  const response = await request(destination, `${destination.url}/studies?limit=1`, { headers: { accept: 'application/dicom+json' } }, timeoutMs)
  if (response.status !== 200 && response.status !== 204) throw httpRefusal(response, 'the study query', await answerText(response))
  await response.arrayBuffer()
  return { ms: Math.round(performance.now() - started) }
}

/** The multipart/related body of a STOW-RS request: one application/dicom part per instance. */
export function stowBody (instances: DicomInstance[], boundary: string): Buffer {
  const parts: Uint8Array[] = []
  for (const instance of instances) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`, 'ascii'), instance.bytes, Buffer.from('\r\n', 'ascii'))
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`, 'ascii'))
  return Buffer.concat(parts)
}

interface DicomJsonElement { Value?: unknown[] }
type DicomJson = Record<string, DicomJsonElement | undefined>

function itemsOf (answer: DicomJson, tag: string): DicomJson[] {
  const value = answer[tag]?.Value
  return Array.isArray(value) ? value as DicomJson[] : []
}

function firstValue (item: DicomJson, tag: string): unknown {
  return item[tag]?.Value?.[0]
}

/**
 * The outcome of each instance from a STOW-RS answer: listed in FailedSOPSequence → refused with its
 * reason, in ReferencedSOPSequence → stored (with a warning if it has one).
 */
export function parseStowAnswer (answer: unknown): Map<string, InstanceOutcome> {
  const outcomes = new Map<string, InstanceOutcome>()
  // the answer is one data set, sent as a DICOM JSON array of one or as the object itself
  const dataset = (Array.isArray(answer) ? answer[0] : answer) as DicomJson | undefined
  if (typeof dataset !== 'object' || dataset === null) return outcomes
  for (const item of itemsOf(dataset, REFERENCED_SOP_SEQUENCE)) {
    const uid = firstValue(item, REFERENCED_SOP_INSTANCE_UID)
    if (typeof uid !== 'string') continue
    const warning = firstValue(item, WARNING_REASON)
    outcomes.set(uid, typeof warning === 'number' ? { ok: true, warning: describeStoreStatus(warning, undefined) } : { ok: true })
  }
  for (const item of itemsOf(dataset, FAILED_SOP_SEQUENCE)) {
    const uid = firstValue(item, REFERENCED_SOP_INSTANCE_UID)
    if (typeof uid !== 'string') continue
    const reason = firstValue(item, FAILURE_REASON)
    outcomes.set(uid, { ok: false, error: typeof reason === 'number' ? describeStoreStatus(reason, undefined) : 'the DICOMweb server refused it without a reason' })
  }
  return outcomes
}

/** STOW-RS of the instances in one request to {url}/studies. */
export async function dicomwebStore (destination: DicomwebDestinationFields, instances: DicomInstance[], timeoutMs = DEFAULT_DICOMWEB_TIMEOUT_MS): Promise<StoreReport> {
  const boundary = `scanhub-${randomBytes(12).toString('hex')}`
  let response: Response
  try {
    response = await request(destination, `${destination.url}/studies`, {
      method: 'POST',
      headers: {
        'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
        accept: 'application/dicom+json'
      },
      body: new Uint8Array(stowBody(instances, boundary))
    }, timeoutMs)
  } catch (err) {
    return { outcomes: new Map(), error: (err as Error).message }
  }
  // 200: all stored; 202: some refused or with warnings; 409: none stored (PS3.18 10.5.3). Some servers
  // (Orthanc) answer another 4xx with the same data set when they refuse an image: what it lists counts.
  const text = await response.text().catch(() => '')
  let answer: unknown
  try { answer = text === '' ? undefined : JSON.parse(text) } catch { answer = undefined }
  const outcomes = parseStowAnswer(answer)
  if (response.status !== 200 && response.status !== 202 && response.status !== 409 && outcomes.size === 0) {
    // a wrong URL, password or request stays wrong; an overloaded or failing server may recover
    const permanent = response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429
    return { outcomes, error: httpRefusal(response, 'the upload', answerTextOf(text)).message, ...(permanent ? { permanent } : {}) }
  }
  // a server that answers 200 without listing the instances stored them all
  if (response.status === 200) for (const i of instances) if (!outcomes.has(i.sopInstanceUid)) outcomes.set(i.sopInstanceUid, { ok: true })
  const unanswered = instances.filter((i) => !outcomes.has(i.sopInstanceUid)).length
  if (unanswered > 0) {
    // 409: the server stored none of them (PS3.18 10.5.3); elsewhere an image not named may yet be sent again
    if (response.status === 409) {
      for (const i of instances) if (!outcomes.has(i.sopInstanceUid)) outcomes.set(i.sopInstanceUid, { ok: false, error: `the DICOMweb server refused the upload (HTTP ${response.status}) without naming this instance` })
      return { outcomes }
    }
    return { outcomes, error: `the DICOMweb server answered HTTP ${response.status} without saying what became of ${unanswered} of ${instances.length} images` }
  }
  return { outcomes }
}
