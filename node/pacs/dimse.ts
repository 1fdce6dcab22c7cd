// DICOM networking to a PACS with dcmjs-dimse (a maintained DIMSE library): C-ECHO to test a destination
// and C-STORE to send instances, one association per call. Every failure is put in plain words: who
// refused what and why, not a PDU dump.
import dimse from 'dcmjs-dimse'
import { parseDicom } from '../../protocol/dicom/read.ts'
import type { DimseDestinationFields } from '../../protocol/lab/index.ts'
import { PacsError } from './pacs-error.ts'

const { Client, Dataset, constants, requests, log: dimseLog } = dimse
// the library logs every PDU, and every failure it reports to us as well: our own messages say what matters
dimseLog.setLevel('silent')

/** The AE title the lab calls as when a destination names none. */
export const DEFAULT_CALLING_AE_TITLE = 'SCANHUB'

export interface DimseTimeouts {
  /** to open the TCP connection */
  connectMs: number
  /** for the PACS to accept or reject the association, and between PDUs after that */
  associationMs: number
}

export const DEFAULT_DIMSE_TIMEOUTS: DimseTimeouts = { connectMs: 10_000, associationMs: 30_000 }

/** One instance to send: its bytes as a DICOM Part 10 file and its SOP Instance UID. */
export interface DicomInstance {
  sopInstanceUid: string
  bytes: Uint8Array
}

/** What the PACS answered for one instance. */
export type InstanceOutcome = { ok: true, warning?: string } | { ok: false, error: string }

export interface StoreReport {
  /** answers per SOP Instance UID; instances without one were not answered (the association ended first) */
  outcomes: Map<string, InstanceOutcome>
  /** why the association ended before every instance was answered */
  error?: string
  /** the destination refused for good (a permanent association rejection, a wrong URL or password): retrying cannot help */
  permanent?: boolean
}

// PS3.8 9.3.4: A-ASSOCIATE-RJ result, source and reason
const REJECT_RESULT: Record<number, string> = { 1: 'permanently', 2: 'for now (transient)' }
const REJECT_REASON: Record<string, string> = {
  '1:1': 'no reason given',
  '1:2': 'the application context is not supported',
  '1:3': 'the calling AE title is not recognised',
  '1:7': 'the called AE title is not recognised',
  '2:1': 'no reason given',
  '2:2': 'the protocol version is not supported',
  '3:1': 'temporary congestion',
  '3:2': 'a local limit was exceeded'
}

/** Words for an A-ASSOCIATE-RJ: "rejected the association permanently: the called AE title is not recognised". */
export function describeRejection (reject: { result: number, source: number, reason: number }, calledAeTitle: string): string {
  const reason = REJECT_REASON[`${reject.source}:${reject.reason}`] ?? `reason ${reject.reason} from source ${reject.source}`
  const hint = reject.source === 1 && reject.reason === 7
    ? ` (is "${calledAeTitle}" the PACS's AE title?)`
    : reject.source === 1 && reject.reason === 3 ? ' (the PACS must list this lab\'s calling AE title among its known modalities)' : ''
  return `the PACS rejected the association ${REJECT_RESULT[reject.result] ?? ''}: ${reason}${hint}`.replace('  ', ' ')
}

/** Words for a C-STORE status that is not success (PS3.4 B.2.3 and the general statuses of PS3.7 C). */
export function describeStoreStatus (status: number, comment: string | undefined): string {
  const hex = '0x' + status.toString(16).toUpperCase().padStart(4, '0')
  let meaning: string
  if ((status & 0xff00) === 0xa700) meaning = 'the PACS is out of resources'
  else if ((status & 0xff00) === 0xa900) meaning = 'the data set does not match the SOP class'
  else if ((status & 0xf000) === 0xc000) meaning = 'the PACS cannot understand the data set'
  else if (status === 0x0122 || status === constants.Status.SopClassNotSupported) meaning = 'the PACS does not accept this kind of image (SOP class not supported)'
  else if (status === constants.Status.NotAuthorized) meaning = 'this lab is not authorised to store there'
  else if (status === constants.Status.DuplicateSOPInstance) meaning = 'the PACS holds another image with this SOP Instance UID'
  else if (status === constants.Status.ProcessingFailure) meaning = 'the PACS failed to process it'
  else meaning = 'the PACS refused it'
  const detail = comment !== undefined && comment.trim() !== '' ? `: ${comment.trim()}` : ''
  return `${meaning} (status ${hex})${detail}`
}

function isWarningStatus (status: number): boolean {
  return status === 0x0001 || (status & 0xf000) === 0xb000
}

/** Words for a socket error: refused, unreachable, timed out. */
export function describeNetworkError (err: unknown, host: string, port: number): string {
  const e = err as NodeJS.ErrnoException | undefined
  const where = `${host}:${port}`
  // dcmjs-dimse wraps socket errors in its own Error whose message names the code
  const code = e?.code ?? /\b(E[A-Z]{4,})\b/.exec(e?.message ?? '')?.[1]
  switch (code) {
    case 'ECONNREFUSED': return `connection refused by ${where}: nothing listens there (is the PACS running, and is the port right?)`
    case 'ENOTFOUND': case 'EAI_AGAIN': return `the host name ${host} is not known`
    case 'EHOSTUNREACH': case 'ENETUNREACH': return `${where} cannot be reached from this peer's network`
    case 'ECONNRESET': case 'EPIPE': return `the PACS at ${where} closed the connection`
    case 'ETIMEDOUT': return `no answer from ${where}: the connection timed out`
    default: {
      // its messages start with the called AE title and an arrow: "PACS -> Connection timeout"
      const message = (e?.message ?? String(err)).replace(/^[^>]*->\s*/, '')
      // the connection, the association or a later answer took longer than its timeout
      if (/timeout|timed out/i.test(message)) return `no answer from ${where}: timed out`
      return `network error talking to ${where}: ${message}`
    }
  }
}

interface Association {
  client: InstanceType<typeof Client>
  /** settles when the association is over: released, rejected, aborted or broken */
  ended: Promise<void>
  /** the first reason it failed, if it did */
  failure: () => string | undefined
  /** whether the PACS rejected the association permanently */
  rejectedPermanently: () => boolean
}

/** Opens one association with the requests already added; `ended` settles when it is over, whatever happened. */
function associate (destination: DimseDestinationFields, prepare: (client: InstanceType<typeof Client>) => void, timeouts: DimseTimeouts): Association {
  const client = new Client()
  prepare(client)
  let failure: string | undefined
  let permanent = false
  const fail = (message: string): void => { failure ??= message }
  const ended = new Promise<void>((resolve) => {
    let done = false
    const finish = (): void => {
      if (done) return
      done = true
      clearTimeout(guard)
      resolve()
    }
    // the library's own timeouts close the socket; this guard covers a peer that never answers at all
    const guard = setTimeout(() => {
      fail(`no answer from ${destination.host}:${destination.port} within ${Math.round((timeouts.connectMs + timeouts.associationMs) / 1000)} s`)
      try { client.abort() } catch { /* nothing open to abort */ }
      finish()
    }, timeouts.connectMs + timeouts.associationMs * 4)
    guard.unref()
    client.on('associationRejected', (reject: { result: number, source: number, reason: number }) => {
      // PS3.8 9.3.4: result 1 is "rejected-permanent", 2 "rejected-transient"
      permanent = reject.result === 1
      fail(describeRejection(reject, destination.aeTitle))
    })
    client.on('networkError', (err: unknown) => {
      fail(describeNetworkError(err, destination.host, destination.port))
      finish()
    })
    client.on('closed', () => { finish() })
    client.on('associationReleased', () => { finish() })
  })
  client.send(destination.host, destination.port, destination.callingAeTitle ?? DEFAULT_CALLING_AE_TITLE, destination.aeTitle, {
    connectTimeout: timeouts.connectMs,
    associationTimeout: timeouts.associationMs,
    pduTimeout: timeouts.associationMs,
    associationLingerTimeout: 0
  })
  return { client, ended, failure: () => failure, rejectedPermanently: () => permanent }
}

/** C-ECHO: whether the PACS accepts an association from this lab and answers a verification. */
export async function dimseEcho (destination: DimseDestinationFields, timeouts: DimseTimeouts = DEFAULT_DIMSE_TIMEOUTS): Promise<{ ms: number }> {
  const started = performance.now()
  let status: number | undefined
  const association = associate(destination, (client) => {
    const request = new requests.CEchoRequest()
    request.on('response', (response: { getStatus: () => number }) => { status = response.getStatus() })
    client.addRequest(request)
  }, timeouts)
  await association.ended
  const failure = association.failure()
  if (failure !== undefined) throw new PacsError(failure)
  if (status === undefined) throw new PacsError(`the PACS at ${destination.host}:${destination.port} ended the association without answering the echo`)
  if (status !== constants.Status.Success) throw new PacsError(`the PACS answered the echo with status 0x${status.toString(16).padStart(4, '0')}`)
  return { ms: Math.round(performance.now() - started) }
}

/**
 * C-STORE of the instances over one association. Each answered instance gets its outcome; if the
 * association breaks, the instances answered so far keep theirs and `error` says what happened.
 */
export async function dimseStore (destination: DimseDestinationFields, instances: DicomInstance[], timeouts: DimseTimeouts = DEFAULT_DIMSE_TIMEOUTS): Promise<StoreReport> {
  const outcomes = new Map<string, InstanceOutcome>()
  const unreadable: Array<[string, string]> = []
  const association = associate(destination, (client) => {
    for (const instance of instances) {
      let dataset: InstanceType<typeof Dataset>
      try {
        // parsed by the project's reader, and handed over as elements in the file's transfer syntax
        const parsed = parseDicom(instance.bytes)
        dataset = new Dataset(parsed.dataset as Record<string, unknown>, parsed.transferSyntaxUid)
      } catch (err) {
        unreadable.push([instance.sopInstanceUid, `the file is not readable DICOM: ${(err as Error).message}`])
        continue
      }
      const request = new requests.CStoreRequest(dataset)
      request.on('response', (response: { getStatus: () => number, getErrorComment: () => string | undefined }) => {
        const status = response.getStatus()
        if (status === constants.Status.Success) outcomes.set(instance.sopInstanceUid, { ok: true })
        else if (isWarningStatus(status)) outcomes.set(instance.sopInstanceUid, { ok: true, warning: describeStoreStatus(status, response.getErrorComment()) })
        else outcomes.set(instance.sopInstanceUid, { ok: false, error: describeStoreStatus(status, response.getErrorComment()) })
      })
      client.addRequest(request)
    }
  }, timeouts)
  await association.ended
  for (const [uid, error] of unreadable) outcomes.set(uid, { ok: false, error })
  const failure = association.failure()
  const unanswered = instances.filter((i) => !outcomes.has(i.sopInstanceUid)).length
  if (failure !== undefined) return { outcomes, error: failure, ...(association.rejectedPermanently() ? { permanent: true } : {}) }
  if (unanswered > 0) {
    return { outcomes, error: `the PACS at ${destination.host}:${destination.port} ended the association with ${unanswered} of ${instances.length} images unanswered (it may not accept their kind or transfer syntax)` }
  }
  return { outcomes }
}
