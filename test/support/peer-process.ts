// Starts real ScanHub peers as separate processes for multi-peer tests, the way a user would
// (`scanhub start`), each with its own data directory, on loopback and free ports. Peers are spawned
// on the bin file directly (not through npx) in their own process group, so that signals reach them.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const SCANHUB_BIN = join(PROJECT_ROOT, 'node', 'bin', 'scanhub.js')

export interface PeerProcessOptions {
  name: string
  dataDir?: string
  roles?: string
  join?: string
  extraArgs?: string[]
  /** run inside this network namespace (a test host); the API is then reached with curl inside it */
  netns?: string
  /** address for peer connections (default 127.0.0.1) */
  listen?: string
}

export class PeerProcess {
  readonly name: string
  readonly dataDir: string
  private readonly options: PeerProcessOptions
  child?: ChildProcess
  httpPort = 0
  apiKey = ''
  peerId = ''
  /** the link with the one-time setup code, while the lab has no user */
  setupUrl = ''
  /** the link printed at start: a one-time pairing code for a browser (and the setup code while the lab has no user) */
  pairUrl = ''
  output = ''

  constructor (options: PeerProcessOptions & { dataDir: string }) {
    this.options = options
    this.name = options.name
    this.dataDir = options.dataDir
  }

  get baseUrl (): string {
    return `http://127.0.0.1:${this.httpPort}`
  }

  /**
   * Starts the peer and resolves once its HTTP API answers. A peer starts in 2–5 s; the default leaves
   * room for a two-core machine that is also running other test files.
   */
  async start (timeoutMs = 60_000): Promise<void> {
    const args = [SCANHUB_BIN, 'start', '--data', this.dataDir, '--http', '0', '--p2p', '0', '--listen', this.options.listen ?? '127.0.0.1',
      '--name', this.name, '--roles', this.options.roles ?? 'hub', ...(this.options.extraArgs ?? [])]
    // Outside a namespace of its own, a test peer must not find (or be found by) anything else on this machine.
    if (this.options.netns === undefined) args.push('--no-mdns')
    if (this.options.join !== undefined) args.push('--join', this.options.join)
    this.output = ''
    const [command, argv] = this.options.netns === undefined
      ? [process.execPath, args]
      : ['ip', ['netns', 'exec', this.options.netns, process.execPath, ...args]]
    const child = spawn(command, argv, { cwd: PROJECT_ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    this.child = child
    child.stdout?.on('data', (d: Buffer) => { this.output += d.toString() })
    child.stderr?.on('data', (d: Buffer) => { this.output += d.toString() })
    const end = Date.now() + timeoutMs
    while (Date.now() < end) {
      if (child.exitCode !== null) throw new Error(`peer ${this.name} exited with ${child.exitCode}:\n${this.output}`)
      const m = /Open ScanHub: https?:\/\/[^:]+:(\d+)\//.exec(this.output)
      if (m !== null) {
        this.httpPort = Number(m[1])
        this.apiKey = (await readFile(join(this.dataDir, 'api-key'), 'utf8')).trim()
        this.peerId = /peer id\s+(\S+)/.exec(this.output)?.[1] ?? ''
        this.setupUrl = /the setup code alone: (\S+)/.exec(this.output)?.[1] ?? ''
        this.pairUrl = /Open ScanHub: (\S+#pair=\S+)/.exec(this.output)?.[1] ?? ''
        return
      }
      await sleep(50)
    }
    throw new Error(`peer ${this.name} did not start within ${timeoutMs} ms:\n${this.output}`)
  }

  /** Sends a signal to the peer's process group and waits for it to exit. */
  async kill (signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<number | null> {
    const child = this.child
    if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    try { process.kill(-child.pid, signal) } catch { /* already gone */ }
    const timer = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL') } catch { /* exited meanwhile */ } }, timeoutMs)
    const code = await exited
    clearTimeout(timer)
    return code
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test responses are checked by the assertions
  async api<T = any> (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number, body: T }> {
    if (this.options.netns !== undefined) return this.apiInNamespace<T>(method, path, body)
    const init: RequestInit = { method, headers: { 'x-api-key': this.apiKey, ...headers } }
    if (body !== undefined) {
      init.body = typeof body === 'string' || body instanceof Uint8Array ? body as string : JSON.stringify(body)
      ;(init.headers as Record<string, string>)['content-type'] = 'application/json'
    }
    const res = await fetch(this.baseUrl + path, init)
    const text = await res.text()
    let parsed: unknown = text
    try { parsed = JSON.parse(text) } catch { /* not JSON */ }
    return { status: res.status, body: parsed as T }
  }

  /** The API of a peer inside a network namespace: curl run inside the same namespace. */
  private apiInNamespace<T> (method: string, path: string, body?: unknown): { status: number, body: T } {
    const args = ['netns', 'exec', this.options.netns!, 'curl', '-s', '-m', '5', '-o', '-', '-w', '\n%{http_code}', '-X', method,
      '-H', `x-api-key: ${this.apiKey}`, '-H', 'content-type: application/json']
    if (body !== undefined) args.push('--data-binary', typeof body === 'string' ? body : JSON.stringify(body))
    const r = spawnSync('ip', [...args, `http://127.0.0.1:${this.httpPort}${path}`], { encoding: 'utf8', timeout: 10_000 })
    const text = r.stdout ?? ''
    const cut = text.lastIndexOf('\n')
    const status = Number(text.slice(cut + 1))
    let parsed: unknown = text.slice(0, cut)
    try { parsed = JSON.parse(parsed as string) } catch { /* not JSON */ }
    if (!Number.isFinite(status) || status === 0) throw new Error(`curl in ${this.options.netns} failed: ${r.stderr}`)
    return { status, body: parsed as T }
  }

  /** the lab key of this peer's lab.json */
  labKeyHex (): string {
    return (JSON.parse(readFileSync(join(this.dataDir, 'lab.json'), 'utf8')) as { swarmKeyHex: string }).swarmKeyHex
  }

  /** `scanhub lab invite` on this peer's data directory (in its namespace, where it has one): a one-time invite. */
  invite (options: { kind?: 'hub' | 'scanner' | 'recon', ceiling?: string, minutes?: number } = {}): string {
    return this.labCommand(['invite', ...(options.kind !== undefined ? ['--kind', options.kind] : []),
      ...(options.ceiling !== undefined ? ['--ceiling', options.ceiling] : []), ...(options.minutes !== undefined ? ['--minutes', String(options.minutes)] : [])])
  }

  /** `scanhub lab <args>` on this peer's data directory, run where the peer runs; its standard output. */
  labCommand (args: string[]): string {
    const argv = [SCANHUB_BIN, 'lab', ...args, '--data', this.dataDir]
    const result = this.options.netns === undefined
      ? spawnSync(process.execPath, argv, { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 30_000 })
      : spawnSync('ip', ['netns', 'exec', this.options.netns, process.execPath, ...argv], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 30_000 })
    if (result.status !== 0) throw new Error(`scanhub lab ${args[0]} failed: ${result.stderr}`)
    return result.stdout.trim()
  }
}

/** A set of peers in one temporary folder, all stopped and removed by `cleanup()`. */
export class TestLab {
  readonly peers: PeerProcess[] = []
  private root?: string

  async peer (options: PeerProcessOptions): Promise<PeerProcess> {
    this.root ??= await mkdtemp(join(tmpdir(), 'scanhub-test-'))
    const peer = new PeerProcess({ ...options, dataDir: options.dataDir ?? join(this.root, options.name) })
    this.peers.push(peer)
    return peer
  }

  async cleanup (): Promise<void> {
    await Promise.all(this.peers.map(async (p) => await p.kill('SIGKILL')))
    if (this.root !== undefined) await rm(this.root, { recursive: true, force: true })
  }
}

export async function sleep (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}

/** Polls until check() returns a truthy value; returns it, or throws with what was last seen. */
export async function eventually<T> (check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value !== undefined && value !== false) return value
    } catch (err) {
      last = err
    }
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms${last !== undefined ? ` (last error: ${(last as Error).message})` : ''}`)
    await sleep(50)
  }
}
