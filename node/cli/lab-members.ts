// `scanhub lab invite|members|revoke|pair`: the admin's acts on the lab's members, asked of the peer
// running on this data directory through its REST API (with the API key of the data directory), since
// only the running peer holds the lab document and signs with its key.
import { readFile } from 'node:fs/promises'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { join, resolve } from 'node:path'
import { API_KEY_FILE } from '../lab/data-dir.ts'
import { CA_CERT_FILE } from '../lab/lab-ca.ts'
import { PEER_INFO_FILE, readPeerInfo } from '../lab/peer-info.ts'
import { formatHelp, parseCommand, UsageError, type CommandSpec } from './args.ts'

interface MemberView {
  peerId: string
  name: string
  kind: string
  ceiling: string
  addedBy: string
  addedAt: string
  active: boolean
  problem?: string
}

const DATA_HELP = { '--data DIR': 'the peer\'s data directory (default ~/.local/share/scanhub or $SCANHUB_DATA)', '-h, --help': 'show this help' }
const DATA_OPTION = { data: { type: 'string' } } as const

export const INVITE: CommandSpec = {
  usage: 'scanhub lab invite [--kind hub|scanner|recon] [--ceiling ROLE] [--minutes N] [--data DIR]',
  description: 'Prints a one-time invite (one line) that lets another computer join this lab: `scanhub start --join <invite>` there. It works once, for --minutes (default 15), and makes the new peer a member of that kind: a hub (default; ceiling admin), a scanner or a recon peer (which write only their own devices, task states and results). Asks the hub running on this data directory, which must be an admin hub.',
  options: { ...DATA_OPTION, kind: { type: 'string' }, ceiling: { type: 'string' }, minutes: { type: 'string' } },
  help: { '--kind KIND': 'hub, scanner or recon (default hub)', '--ceiling ROLE': 'the most the new peer may change, as a user of this role (admin, medical, scientist, engineer, viewer)', '--minutes N': 'how long the invite works (default 15)', ...DATA_HELP }
}

export const MEMBERS: CommandSpec = {
  usage: 'scanhub lab members [--json] [--data DIR]',
  description: 'Lists the lab\'s members (hubs, scanners, recon peers, paired browsers, open invites), with their kind, ceiling, who added them and whether they are active, as the hub on this data directory judges them after checking every signature.',
  options: { ...DATA_OPTION, json: { type: 'boolean' } },
  help: { '--json': 'print JSON', ...DATA_HELP }
}

export const REVOKE: CommandSpec = {
  usage: 'scanhub lab revoke PEER [--data DIR]',
  description: 'Revokes a member (by its peer id, or a unique end of it, or its name): every peer of the lab closes its connections and refuses it from the moment it hears of it. A revoked key never comes back; a revoked device must pair or join again with a new key.',
  options: DATA_OPTION,
  help: DATA_HELP
}

export const PAIR: CommandSpec = {
  usage: 'scanhub lab pair [--ceiling ROLE] [--data DIR]',
  description: 'Prints a one-time code (5 minutes) that pairs a browser (a tablet) with the lab: open the hub\'s app on the tablet and enter it. Compare the confirmation code the tablet shows with the one printed here.',
  options: { ...DATA_OPTION, ceiling: { type: 'string' } },
  help: { '--ceiling ROLE': 'the most the device may change, whoever logs in on it (default medical)', ...DATA_HELP }
}

function defaultDataDir (): string {
  return process.env.SCANHUB_DATA ?? join(process.env.HOME ?? '.', '.local', 'share', 'scanhub')
}

/** Bytes to send instead of a JSON body, and/or a reader of a successful answer's bytes (exports, imports). */
export interface RawExchange {
  bytes?: Uint8Array
  contentType?: string
  /** reads a 2xx answer itself (its body is then not parsed) */
  download?: (res: IncomingMessage) => Promise<void>
}

/** Calls the REST API of the peer running on `dataDir`. */
export async function callPeer<T> (dataDir: string, method: 'GET' | 'POST', path: string, body?: unknown, raw?: RawExchange): Promise<T> {
  const info = await readPeerInfo(dataDir)
  if (info === undefined) throw new UsageError(`no peer has run on ${dataDir} (${PEER_INFO_FILE} is missing): start it with \`scanhub start --data ${dataDir}\``)
  const apiKey = (await readFile(join(dataDir, API_KEY_FILE), 'utf8').catch(() => '')).trim()
  // Under --lan the API is https with the lab CA's certificate: trust exactly that CA.
  const ca = await readFile(join(dataDir, CA_CERT_FILE), 'utf8').catch(() => undefined)
  const payload = raw?.bytes ?? (body === undefined ? undefined : JSON.stringify(body))
  const contentType = raw?.bytes !== undefined ? raw.contentType ?? 'application/octet-stream' : 'application/json'
  // a failure of the caller's reader is its own, not the peer's unreachability
  let downloadFailure: Error | undefined
  const attempt = async (tls: boolean): Promise<{ status: number, text: string }> => await new Promise((resolvePromise, reject) => {
    const options = {
      host: '127.0.0.1',
      port: info.httpPort,
      path,
      method,
      headers: { 'x-api-key': apiKey, host: `localhost:${info.httpPort}`, ...(payload !== undefined ? { 'content-type': contentType } : {}) },
      timeout: 15_000,
      ...(tls ? { ca, servername: 'localhost' } : {})
    }
    const req = (tls ? httpsRequest : httpRequest)(options, (res) => {
      const status = res.statusCode ?? 0
      if (raw?.download !== undefined && status >= 200 && status < 300) {
        raw.download(res).then(() => { resolvePromise({ status, text: '' }) }, (err: Error) => { downloadFailure = err; reject(err) })
        return
      }
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => { resolvePromise({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }) })
      res.on('error', reject)
    })
    req.on('timeout', () => { req.destroy(new Error('the peer did not answer within 15 s')) })
    req.on('error', reject)
    req.end(payload)
  })
  let answer: { status: number, text: string }
  try {
    answer = await attempt(false)
    // an https server answers plain http with a 400 and no JSON
    if (answer.status === 400 && ca !== undefined && !answer.text.startsWith('{')) answer = await attempt(true)
  } catch (err) {
    if (downloadFailure !== undefined) throw downloadFailure
    if (ca !== undefined && (err as NodeJS.ErrnoException).code === 'ECONNRESET') {
      answer = await attempt(true)
    } else {
      throw new UsageError(`the peer of ${dataDir} does not answer on port ${info.httpPort} (${(err as Error).message}): is it running? (\`scanhub start --data ${dataDir}\`)`)
    }
  }
  let parsed: unknown
  try { parsed = JSON.parse(answer.text) } catch { parsed = undefined }
  if (answer.status >= 400) {
    const message = (parsed as { error?: string } | undefined)?.error ?? answer.text.slice(0, 200)
    throw new Error(message)
  }
  return parsed as T
}

function dataDirOf (values: Record<string, string | boolean | undefined>): string {
  return resolve(String(values.data ?? defaultDataDir()))
}

export async function labInvite (argv: string[]): Promise<void> {
  const { values, help } = parseCommand(INVITE, argv)
  if (help) { process.stdout.write(formatHelp(INVITE)); return }
  const minutes = values.minutes === undefined ? undefined : Number(values.minutes)
  if (minutes !== undefined && !(minutes > 0)) throw new UsageError('--minutes takes a number of minutes')
  const made = await callPeer<{ invite: string, kind: string, ceiling: string, expiresAt: string }>(dataDirOf(values), 'POST', '/api/v1/members/invites', {
    kind: values.kind ?? 'hub',
    ...(values.ceiling !== undefined ? { ceiling: values.ceiling } : {}),
    ...(minutes !== undefined ? { ttlMinutes: minutes } : {})
  })
  process.stderr.write(`One-time invite for a ${made.kind} (ceiling ${made.ceiling}), valid until ${new Date(made.expiresAt).toLocaleString()}. On the new computer: scanhub start --join '<invite>'\n`)
  process.stdout.write(made.invite + '\n')
}

export async function labMembers (argv: string[]): Promise<void> {
  const { values, help } = parseCommand(MEMBERS, argv)
  if (help) { process.stdout.write(formatHelp(MEMBERS)); return }
  const members = await callPeer<MemberView[]>(dataDirOf(values), 'GET', '/api/v1/members')
  if (values.json === true) { process.stdout.write(JSON.stringify(members, null, 2) + '\n'); return }
  const rows = members.map((m) => [m.name, m.kind, m.ceiling, m.addedBy, m.addedAt.slice(0, 16).replace('T', ' '), m.active ? 'active' : (m.problem ?? 'inactive'), m.peerId])
  const header = ['NAME', 'KIND', 'CEILING', 'ADDED BY', 'ADDED', 'STATE', 'PEER ID']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  for (const row of [header, ...rows]) process.stdout.write(row.map((cell, i) => i === row.length - 1 ? cell : cell.padEnd(widths[i])).join('  ') + '\n')
}

export async function labRevoke (argv: string[]): Promise<void> {
  const { values, positionals, help } = parseCommand(REVOKE, argv)
  if (help) { process.stdout.write(formatHelp(REVOKE)); return }
  const wanted = positionals[0]
  if (wanted === undefined) throw new UsageError(`usage: ${REVOKE.usage}`)
  const dataDir = dataDirOf(values)
  const members = await callPeer<MemberView[]>(dataDir, 'GET', '/api/v1/members')
  const matches = members.filter((m) => m.kind !== 'invite' && (m.peerId === wanted || m.name === wanted || (wanted.length >= 6 && m.peerId.endsWith(wanted))))
  if (matches.length === 0) throw new UsageError(`no member matches "${wanted}": see \`scanhub lab members\``)
  if (matches.length > 1) throw new UsageError(`"${wanted}" matches ${matches.length} members (${matches.map((m) => m.peerId).join(', ')}): give the whole peer id`)
  const revoked = await callPeer<MemberView>(dataDir, 'POST', `/api/v1/members/${encodeURIComponent(matches[0].peerId)}/revoke`)
  process.stdout.write(`revoked ${revoked.name} (${revoked.kind}, ${revoked.peerId}): every peer refuses it from now on\n`)
}

export async function labPair (argv: string[]): Promise<void> {
  const { values, help } = parseCommand(PAIR, argv)
  if (help) { process.stdout.write(formatHelp(PAIR)); return }
  const dataDir = dataDirOf(values)
  const pairing = await callPeer<{ id: string, code: string, expiresAt: string, ceiling: string }>(dataDir, 'POST', '/api/v1/pairings', values.ceiling !== undefined ? { ceiling: values.ceiling } : {})
  process.stdout.write(`Pairing code ${pairing.code} (ceiling ${pairing.ceiling}), valid until ${new Date(pairing.expiresAt).toLocaleTimeString()}.\nOpen the hub's app on the device and enter it; waiting for the device…\n`)
  const until = Date.parse(pairing.expiresAt)
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 1000))
    const state = await callPeer<{ state: string, name?: string, confirmation?: string }>(dataDir, 'GET', `/api/v1/pairings/${pairing.id}`)
    if (state.state === 'paired') {
      process.stdout.write(`Paired: ${state.name ?? 'a device'}. Confirmation code ${state.confirmation ?? ''}: it must match the device's screen; if not, revoke it (\`scanhub lab revoke\`).\n`)
      return
    }
    if (state.state === 'expired') break
  }
  throw new Error('the pairing code expired unused: run `scanhub lab pair` again')
}
