// Test support: a real serial line without hardware. `socat -d -d pty,raw,echo=0 pty,raw,echo=0` joins
// two pseudo-terminals back to back; the driver opens one, the emulator process the other. Every
// process here is started in its own process group and killed by its id.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const HERE = dirname(fileURLToPath(import.meta.url))
const PROJECT_ROOT = resolve(HERE, '..', '..')
const EMULATOR_MAIN = join(HERE, 'emulator-main.ts')

export interface TestProcess {
  child: ChildProcess
  /** stdout and stderr so far */
  output: () => string
  /** resolves with the exit code (null when killed by a signal) */
  exited: Promise<number | null>
  /** SIGKILL to its process group; resolves once it has exited */
  kill: () => Promise<void>
}

function track (child: ChildProcess): TestProcess {
  let output = ''
  child.stdout?.on('data', (d: Buffer) => { output += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { output += d.toString() })
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode)
    else child.once('exit', (code) => resolve(code))
  })
  return {
    child,
    output: () => output,
    exited,
    kill: async () => {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid, 'SIGKILL')
        } catch {
          // gone already
        }
      }
      await exited
    }
  }
}

async function waitFor (process: TestProcess, pattern: RegExp, timeoutMs: number, what: string): Promise<RegExpMatchArray> {
  const end = performance.now() + timeoutMs
  for (;;) {
    const match = process.output().match(pattern)
    if (match !== null) return match
    if (process.child.exitCode !== null || process.child.signalCode !== null) throw new Error(`${what} exited early:\n${process.output()}`)
    if (performance.now() > end) throw new Error(`${what} not ready within ${timeoutMs} ms:\n${process.output()}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

export interface PtyPair {
  /** the driver's end */
  host: string
  /** the emulator's end */
  device: string
  socat: TestProcess
}

/** Starts socat and waits until both ptys exist. */
export async function openPtyPair (timeoutMs = 5000): Promise<PtyPair> {
  const socat = track(spawn('socat', ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] }))
  try {
    await waitFor(socat, /starting data transfer loop/, timeoutMs, 'socat')
  } catch (error) {
    await socat.kill()
    throw error
  }
  const ptys = [...socat.output().matchAll(/PTY is (\/dev\/\S+)/g)].map((m) => m[1])
  if (ptys.length !== 2) {
    await socat.kill()
    throw new Error(`socat did not name two ptys:\n${socat.output()}`)
  }
  return { host: ptys[0], device: ptys[1], socat }
}

/** Starts emulator-main.ts on a port (node --import tsx) and waits until it listens. */
export async function startEmulator (port: string, args: string[] = [], timeoutMs = 30_000): Promise<TestProcess> {
  const emulator = track(spawn(process.execPath, ['--import', 'tsx', EMULATOR_MAIN, '--port', port, ...args], {
    cwd: PROJECT_ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe']
  }))
  try {
    await waitFor(emulator, /emulator ready on/, timeoutMs, 'the emulator')
  } catch (error) {
    await emulator.kill()
    throw error
  }
  return emulator
}
