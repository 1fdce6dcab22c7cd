// A real Orthanc PACS (Debian's `orthanc`, with `orthanc-dicomweb`) for tests: started on loopback with a
// throwaway configuration and storage folder, stopped and removed after. Stopping and starting it again
// keeps its storage and ports, as a PACS restarted by its admin would.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sleep } from './peer-process.ts'

export const ORTHANC_BIN = ['/usr/sbin/Orthanc', '/usr/bin/Orthanc'].find((p) => existsSync(p))
export const DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so'

/** Whether Orthanc is installed; warns loudly once when it is not. */
export function hasOrthanc (): boolean {
  if (ORTHANC_BIN === undefined) {
    console.warn('\n*** SKIPPING the PACS tests: Orthanc is not installed (apt-get install orthanc orthanc-dicomweb; npm test\'s pretest does it as root) ***\n')
    return false
  }
  return true
}

export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port
      server.close(() => resolve(port))
    })
  })
}

export interface OrthancOptions {
  aeTitle?: string
  /** refuse associations that call another AE title (Orthanc's DicomCheckCalledAet) */
  checkCalledAeTitle?: boolean
}

export class Orthanc {
  readonly aeTitle: string
  dicomPort = 0
  httpPort = 0
  output = ''
  private dir = ''
  private child: ChildProcess | undefined
  private readonly options: OrthancOptions

  constructor (options: OrthancOptions = {}) {
    this.options = options
    this.aeTitle = options.aeTitle ?? 'ORTHANC'
  }

  get url (): string {
    return `http://127.0.0.1:${this.httpPort}`
  }

  get dicomWebUrl (): string {
    return `${this.url}/dicom-web`
  }

  async start (timeoutMs = 20_000): Promise<void> {
    if (ORTHANC_BIN === undefined) throw new Error('Orthanc is not installed')
    if (this.dir === '') {
      this.dir = await mkdtemp(join(tmpdir(), 'scanhub-orthanc-'))
      this.dicomPort = await freePort()
      this.httpPort = await freePort()
      const config = {
        Name: 'scanhub-test',
        StorageDirectory: join(this.dir, 'storage'),
        IndexDirectory: join(this.dir, 'index'),
        HttpPort: this.httpPort,
        DicomPort: this.dicomPort,
        DicomAet: this.aeTitle,
        RemoteAccessAllowed: false,
        AuthenticationEnabled: false,
        DicomCheckCalledAet: this.options.checkCalledAeTitle ?? true,
        // any modality may store: the lab's calling AE title is not registered
        DicomAlwaysAllowStore: true,
        DicomAlwaysAllowEcho: true,
        StableAge: 1,
        Plugins: existsSync(DICOMWEB_PLUGIN) ? [DICOMWEB_PLUGIN] : [],
        DicomWeb: { Enable: true, Root: '/dicom-web/' }
      }
      await writeFile(join(this.dir, 'config.json'), JSON.stringify(config, null, 2))
    }
    this.output = ''
    const child = spawn(ORTHANC_BIN, [join(this.dir, 'config.json')], { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child = child
    child.stdout?.on('data', (d: Buffer) => { this.output += d.toString() })
    child.stderr?.on('data', (d: Buffer) => { this.output += d.toString() })
    const end = Date.now() + timeoutMs
    while (Date.now() < end) {
      if (child.exitCode !== null) throw new Error(`Orthanc exited with ${child.exitCode}:\n${this.output}`)
      try {
        const response = await fetch(`${this.url}/system`)
        if (response.ok) return
      } catch { /* not listening yet */ }
      await sleep(100)
    }
    throw new Error(`Orthanc did not start within ${timeoutMs} ms:\n${this.output}`)
  }

  /** Stops the server (its storage stays for a restart). */
  async stop (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child
    this.child = undefined
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill(signal)
    const timer = setTimeout(() => { child.kill('SIGKILL') }, 10_000)
    await exited
    clearTimeout(timer)
  }

  async cleanup (): Promise<void> {
    await this.stop('SIGKILL')
    if (this.dir !== '') await rm(this.dir, { recursive: true, force: true })
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Orthanc's answers are checked by the assertions
  async get<T = any> (path: string): Promise<T> {
    const response = await fetch(this.url + path)
    if (!response.ok) throw new Error(`Orthanc GET ${path}: HTTP ${response.status}`)
    return await response.json() as T
  }
}
