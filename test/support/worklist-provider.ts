// A real modality worklist provider for tests: dcmtk's wlmscpfs serving .wl files written with dump2dcm
// into a throwaway folder (one subfolder per AE title, as wlmscpfs wants), stopped and removed after.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { hasTool } from './external-tools.ts'
import { freePort } from './orthanc.ts'
import { eventually } from './peer-process.ts'

/** Whether dcmtk's worklist tools are installed; warns loudly once when not. */
export function hasWorklistTools (): boolean {
  return hasTool('wlmscpfs') && hasTool('dump2dcm')
}

/** One scheduled procedure step; a field left out is absent from the .wl file. */
export interface ScheduledStep {
  patientId?: string
  patientName?: string
  birthDate?: string
  sex?: string
  accessionNumber?: string
  requestedProcedureId?: string
  requestedProcedureDescription?: string
  studyInstanceUid?: string
  modality?: string
  stationAeTitle?: string
  startDate?: string
  startTime?: string
  stepId?: string
  stepDescription?: string
}

/** The dcmdump text of a worklist file (dump2dcm reads it back). */
export function worklistDump (step: ScheduledStep): string {
  const line = (tag: string, vr: string, value: string | undefined): string => value === undefined ? '' : `(${tag}) ${vr} [${value}]\n`
  return '(0008,0005) CS [ISO_IR 100]\n' +
    line('0008,0050', 'SH', step.accessionNumber) +
    line('0010,0010', 'PN', step.patientName) +
    line('0010,0020', 'LO', step.patientId) +
    line('0010,0030', 'DA', step.birthDate) +
    line('0010,0040', 'CS', step.sex) +
    line('0020,000d', 'UI', step.studyInstanceUid) +
    line('0032,1060', 'LO', step.requestedProcedureDescription) +
    '(0040,0100) SQ (Sequence with explicit length #=1)\n' +
    '(fffe,e000) na (Item with explicit length #=1)\n' +
    line('0008,0060', 'CS', step.modality) +
    line('0040,0001', 'AE', step.stationAeTitle) +
    line('0040,0002', 'DA', step.startDate) +
    line('0040,0003', 'TM', step.startTime) +
    line('0040,0007', 'LO', step.stepDescription) +
    line('0040,0009', 'SH', step.stepId) +
    '(fffe,e00d) na (ItemDelimitationItem)\n' +
    '(fffe,e0dd) na (SequenceDelimitationItem)\n' +
    line('0040,1001', 'SH', step.requestedProcedureId)
}

export class WorklistProvider {
  port = 0
  private child?: ChildProcess
  private root?: string
  output = ''

  constructor (readonly aeTitle: string, private readonly steps: ScheduledStep[]) {}

  async start (): Promise<void> {
    this.root = await mkdtemp(join(tmpdir(), 'scanhub-worklist-'))
    const folder = join(this.root, this.aeTitle)
    await mkdir(folder)
    // wlmscpfs locks the folder through this file while it reads it
    await writeFile(join(folder, 'lockfile'), '')
    for (const [index, step] of this.steps.entries()) {
      const dump = join(this.root, `${index}.dump`)
      await writeFile(dump, worklistDump(step))
      const made = spawnSync('dump2dcm', ['+te', dump, join(folder, `${index}.wl`)], { encoding: 'utf8' })
      if (made.status !== 0) throw new Error(`dump2dcm failed: ${made.stderr}`)
    }
    this.port = await freePort()
    // -dfr: incomplete entries are answered too (the lab must show what they lack); -s: one process to stop
    this.child = spawn('wlmscpfs', ['-dfr', '-s', '-dfp', this.root, String(this.port)], { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child.stdout?.on('data', (d: Buffer) => { this.output += d.toString() })
    this.child.stderr?.on('data', (d: Buffer) => { this.output += d.toString() })
    await eventually(async () => await new Promise<boolean>((resolve) => {
      const socket = connect(this.port, '127.0.0.1', () => { socket.destroy(); resolve(true) })
      socket.on('error', () => { resolve(false) })
    }), 10_000, `wlmscpfs listening on ${this.port} (${this.output})`)
  }

  /** Stops wlmscpfs and removes its folder; a second call does nothing. */
  async stop (): Promise<void> {
    const child = this.child
    this.child = undefined
    // a child killed by a signal keeps exitCode null: signalCode tells it has gone
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    }
    if (this.root !== undefined) await rm(this.root, { recursive: true, force: true })
    this.root = undefined
  }
}
