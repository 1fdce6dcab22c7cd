// A hub on a LAN of its own, for tests of `scanhub start --lan`: a network namespace (the hub's
// machine) joined by a virtual cable to this test process's namespace (a tablet or a desktop on the
// same LAN), so that the test reaches the hub by a non-loopback address as another device would, with
// nothing but Node's https and the lab's CA. Needs root (to create namespaces) and `ip`.
import { spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { hasTool } from './external-tools.ts'
import type { PeerProcess, PeerProcessOptions, TestLab } from './peer-process.ts'

function ip (...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`)
}

/** Whether this process can make network namespaces; says loudly why not when it cannot. */
export function canMakeLanNamespaces (): boolean {
  const why = typeof process.getuid !== 'function' || process.getuid() !== 0
    ? 'not root'
    : !hasTool('ip') ? '`ip` (iproute2) is not installed' : undefined
  if (why === undefined) {
    const probe = `shQ${Math.random().toString(36).slice(2, 7)}`
    const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' })
    if (r.status === 0) {
      spawnSync('ip', ['netns', 'del', probe])
      return true
    }
    console.warn(`\n*** SKIPPING LAN (--lan) tests: cannot create a network namespace (${r.stderr.trim()}) ***\n`)
    return false
  }
  console.warn(`\n*** SKIPPING LAN (--lan) tests: they run the hub in a network namespace, which needs root and ip: ${why} ***\n`)
  return false
}

export interface LanTestHost {
  /** the hub machine's namespace */
  netns: string
  /** the hub machine's address on the LAN */
  address: string
  /** this process's address on the same LAN */
  deviceAddress: string
  cleanup: () => void
}

/** A namespace with one LAN address, cabled to this process's namespace (which gets .254 of the same /24). */
export function createLanTestHost (): LanTestHost {
  const tag = Math.random().toString(36).slice(2, 7)
  const subnet = `10.232.${1 + Math.floor(Math.random() * 250)}`
  const netns = `shL${tag}`
  const hubSide = `vlh${tag}`
  const deviceSide = `vld${tag}`
  ip('netns', 'add', netns)
  try {
    ip('link', 'add', deviceSide, 'type', 'veth', 'peer', 'name', hubSide)
    ip('link', 'set', hubSide, 'netns', netns)
    ip('-n', netns, 'addr', 'add', `${subnet}.1/24`, 'dev', hubSide)
    ip('-n', netns, 'link', 'set', hubSide, 'up')
    ip('-n', netns, 'link', 'set', 'lo', 'up')
    ip('addr', 'add', `${subnet}.254/24`, 'dev', deviceSide)
    ip('link', 'set', deviceSide, 'up')
  } catch (err) {
    spawnSync('ip', ['link', 'del', deviceSide])
    spawnSync('ip', ['netns', 'del', netns])
    throw err
  }
  return {
    netns,
    address: `${subnet}.1`,
    deviceAddress: `${subnet}.254`,
    cleanup: () => {
      // deleting the namespace deletes its end of the cable, and with it the other end
      spawnSync('ip', ['netns', 'del', netns])
      spawnSync('ip', ['link', 'del', deviceSide])
    }
  }
}

export interface LanPeer {
  peer: PeerProcess
  /** the app over https by the hub's LAN address, as `scanhub start --lan` printed it */
  appUrl: string
  /** the plain-http page that hands out the CA (its certificate at `${caPageUrl}ca.crt`) */
  caPageUrl: string
  /** port of the hub's wss listener for browsers */
  wssPort: number
  /** the CA certificate (PEM), read from the hub's data directory */
  caCert: string
  caFingerprint: string
}

/** Starts a peer with --lan inside the host's namespace and reads from its output where it serves what. */
export async function startLanPeer (lab: TestLab, host: LanTestHost, options: Partial<PeerProcessOptions> = {}): Promise<LanPeer> {
  const peer = await lab.peer({ name: 'hub', ...options, netns: host.netns, listen: host.address, extraArgs: ['--lan', ...(options.extraArgs ?? [])] })
  await peer.start(30_000)
  const find = (re: RegExp, what: string): string => {
    const m = re.exec(peer.output)
    if (m === null) throw new Error(`no ${what} in the output of scanhub start --lan:\n${peer.output}`)
    return m[1]!
  }
  const escaped = host.address.replace(/\./g, '\\.')
  return {
    peer,
    appUrl: find(new RegExp(`app\\s+(https://${escaped}:\\d+/)`), 'https app URL'),
    caPageUrl: find(new RegExp(`CA\\s+(http://${escaped}:\\d+/)`), 'CA page URL'),
    wssPort: Number(find(new RegExp(`/ip4/${escaped}/tcp/(\\d+)/tls/ws/`), 'wss listen address')),
    caCert: await readFile(join(peer.dataDir, 'tls', 'ca.crt'), 'utf8'),
    caFingerprint: find(/CA SHA-256\s+([0-9A-F:]{95})/, 'CA fingerprint')
  }
}

export interface SimpleResponse { status: number, headers: IncomingHttpHeaders, body: string }

/** One GET over https (trusting `ca` alone) or http, with an optional TLS server name and headers. */
export async function get (url: string, options: { ca?: string, servername?: string, headers?: Record<string, string> } = {}): Promise<SimpleResponse> {
  const target = new URL(url)
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest
  return await new Promise((resolve, reject) => {
    const req = send(target, {
      ...(target.protocol === 'https:' ? { ca: options.ca, ...(options.servername !== undefined ? { servername: options.servername } : {}) } : {}),
      headers: options.headers ?? {},
      timeout: 10_000
    }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { body += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within 10 s`)))
    req.on('error', reject)
    req.end()
  })
}

/**
 * A HOME whose NSS database (~/.pki/nssdb, what Chromium on Linux reads) trusts the lab's CA for
 * websites, as the README tells a user to do with certutil: launch Chromium with `env: { HOME }`.
 * Needs certutil (Debian's libnss3-tools).
 */
export async function homeTrustingCa (caCert: string): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), 'scanhub-nss-'))
  const db = join(home, '.pki', 'nssdb')
  await mkdir(db, { recursive: true })
  await writeFile(join(home, 'ca.crt'), caCert)
  for (const args of [['-N', '--empty-password'], ['-A', '-t', 'C,,', '-n', 'scanhub', '-i', join(home, 'ca.crt')]]) {
    const r = spawnSync('certutil', ['-d', `sql:${db}`, ...args], { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`certutil ${args.join(' ')}: ${r.stderr}`)
  }
  return home
}
