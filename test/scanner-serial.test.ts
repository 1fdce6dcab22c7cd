// A scanner peer driving a spectrometer over a real serial line: the emulator on the far end of a
// socat pseudo-terminal pair, the peer started with --serial.
import { afterEach, describe, expect, it } from 'vitest'
import { hasTool } from './support/external-tools.ts'
import { TestLab, eventually, type PeerProcess } from './support/peer-process.ts'
import { openPtyPair, startEmulator, type PtyPair, type TestProcess } from '../scanner-node/serial/pty-pair.ts'

let lab: TestLab | undefined
let pty: PtyPair | undefined
let emulator: TestProcess | undefined

afterEach(async () => {
  await lab?.cleanup()
  await emulator?.kill()
  await pty?.socat.kill()
  lab = undefined; emulator = undefined; pty = undefined
})

async function gre (peer: PeerProcess, deviceId: string): Promise<string> {
  const p = (await peer.api('POST', '/api/v1/patients', { firstName: 'Ada', lastName: 'Lovelace', birthDate: '1985-12-10', sex: 'FEMALE' })).body
  const exam = (await peer.api('POST', '/api/v1/exams', { patientId: p.id, name: 'Head' })).body
  const wf = (await peer.api('POST', '/api/v1/workflows', { examId: exam.id, name: 'Routine' })).body
  return (await peer.api('POST', '/api/v1/tasks', { workflowId: wf.id, type: 'ACQUISITION', name: 'GRE', parameters: { sequenceId: 'builtin-gre', deviceId } })).body.id
}

describe.skipIf(!hasTool('socat'))('scanner peer on a serial spectrometer', () => {
  it('runs a task on the device, and marks the task ERROR when the device vanishes mid-run', async () => {
    pty = await openPtyPair()
    emulator = await startEmulator(pty.device, ['--channels', '2'])
    lab = new TestLab()
    const scanner = await lab.peer({ name: 'scanner', roles: 'hub,scanner', extraArgs: ['--serial', pty.host] })
    await scanner.start(40_000)
    const device = (await scanner.api<Array<{ id: string, driver: string, status: string }>>('GET', '/api/v1/devices')).body.find((d) => d.driver === 'serial')
    expect(device?.status).toBe('ONLINE')

    const ok = await gre(scanner, device!.id)
    await scanner.api('POST', `/api/v1/tasks/${ok}/start`)
    const done = await eventually(async () => {
      const t = (await scanner.api('GET', `/api/v1/tasks/${ok}`)).body
      if (t.status === 'ERROR') throw new Error(t.error)
      return t.status === 'FINISHED' ? t : undefined
    }, 60_000, 'serial scan finished')
    expect(done.results.map((r: { type: string }) => r.type)).toEqual(['RAW'])

    // the device goes away during the next scan
    const doomed = await gre(scanner, device!.id)
    await scanner.api('POST', `/api/v1/tasks/${doomed}/start`)
    await eventually(async () => (await scanner.api('GET', `/api/v1/tasks/${doomed}`)).body.status === 'INPROGRESS', 20_000, 'second scan running')
    await emulator.kill()
    const failed = await eventually(async () => {
      const t = (await scanner.api('GET', `/api/v1/tasks/${doomed}`)).body
      return t.status === 'ERROR' ? t : undefined
    }, 30_000, 'task ERROR after the device vanished')
    expect(failed.error).toMatch(/device|timeout|timed out|answer|gone/i)
    expect((await scanner.api('GET', '/api/v1/status')).status).toBe(200)
  }, 180_000)
})
