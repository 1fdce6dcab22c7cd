// The scanner peer as a lab runs it: tasks started from any peer's REST API run on the scanner's
// virtual device, with calibration, live status, an emergency stop, and the raw data kept as a blob.
import { afterEach, describe, expect, it } from 'vitest'
import { MrdStreamDecoder } from '../protocol/mrd/index.ts'
import { TestLab, eventually, type PeerProcess } from './support/peer-process.ts'

let lab: TestLab
afterEach(async () => { await lab?.cleanup() })

const patient = { firstName: 'Ada', lastName: 'Lovelace', birthDate: '1985-12-10', sex: 'FEMALE', heightCm: 165, weightKg: 60 }

async function planTask (peer: PeerProcess, sequenceId: string, deviceId: string, calibrations: string[] = []): Promise<string> {
  const p = (await peer.api('POST', '/api/v1/patients', patient)).body
  const exam = (await peer.api('POST', '/api/v1/exams', { patientId: p.id, name: 'Head' })).body
  const wf = (await peer.api('POST', '/api/v1/workflows', { examId: exam.id, name: 'Routine' })).body
  const task = await peer.api('POST', '/api/v1/tasks', { workflowId: wf.id, type: 'ACQUISITION', name: 'GRE', parameters: { sequenceId, deviceId, calibrations } })
  expect(task.status).toBe(201)
  return task.body.id
}

describe('scanner peer', () => {
  it('runs a task started on another peer: frequency calibration, acquisition, raw data as a blob', async () => {
    lab = new TestLab()
    const scanner = await lab.peer({ name: 'scanner', roles: 'hub,scanner', extraArgs: ['--virtual-offset-hz', '150'] })
    await scanner.start()
    const hub = await lab.peer({ name: 'hub', join: scanner.invite() })
    await hub.start()
    const device = await eventually(async () => {
      const devices = (await hub.api<Array<{ id: string, status: string, parameters: Record<string, number> }>>('GET', '/api/v1/devices')).body
      return devices.find((d) => d.status === 'ONLINE')
    }, 10_000, 'the scanner\'s device is ONLINE on the hub')
    const nominal = device.parameters.larmorFrequencyHz
    const sequences = (await hub.api<Array<{ id: string }>>('GET', '/api/v1/sequences')).body.map((s) => s.id)
    expect(sequences).toEqual(expect.arrayContaining(['builtin-gre', 'builtin-spin-echo', 'builtin-fid', 'builtin-gre-multislice']))

    const taskId = await planTask(hub, 'builtin-gre', device.id, ['FREQUENCY'])
    const start = await hub.api('POST', `/api/v1/tasks/${taskId}/start`)
    expect(start.status).toBe(202)
    // starting twice changes nothing
    expect((await hub.api('POST', `/api/v1/tasks/${taskId}/start`)).status).toBe(202)
    const finished = await eventually(async () => {
      const t = (await hub.api('GET', `/api/v1/tasks/${taskId}`)).body
      if (t.status === 'ERROR') throw new Error(`task failed: ${t.error}`)
      return t.status === 'FINISHED' && t.results.length === 2 ? t : undefined
    }, 30_000, 'task FINISHED with its results, seen on the hub')
    const calibrated = (await hub.api('GET', `/api/v1/devices/${device.id}`)).body.parameters.larmorFrequencyHz
    expect(Math.abs(calibrated - (nominal + 150))).toBeLessThan(5)

    const raw = finished.results.find((r: { type: string }) => r.type === 'RAW')
    const file = raw.files[0]
    const res = await fetch(`${hub.baseUrl}/api/v1/blobs/${file.sha256}`, { headers: { 'x-api-key': hub.apiKey } })
    expect(res.status).toBe(200)
    const bytes = new Uint8Array(await res.arrayBuffer())
    expect(bytes.length).toBe(file.size)
    const messages = new MrdStreamDecoder().push(bytes)
    expect(messages[0].type).toBe('header')
    expect(messages.at(-1)?.type).toBe('close')
    // 8 noise-calibration readouts, then the 64 lines of the GRE
    expect(messages.filter((m) => m.type === 'acquisition')).toHaveLength(64 + 8)
  })

  it('stops a running scan within a TR when told, and keeps running', async () => {
    lab = new TestLab()
    const scanner = await lab.peer({ name: 'scanner', roles: 'hub,scanner' })
    await scanner.start()
    const device = (await scanner.api<Array<{ id: string }>>('GET', '/api/v1/devices')).body[0]
    // spin echo: TR 500 ms, 64 lines: half a minute unless stopped
    const taskId = await planTask(scanner, 'builtin-spin-echo', device.id)
    await scanner.api('POST', `/api/v1/tasks/${taskId}/start`)
    await eventually(async () => {
      const d = (await scanner.api('GET', `/api/v1/devices/${device.id}`)).body
      return d.status === 'BUSY'
    }, 10_000, 'device BUSY')
    const stopAt = Date.now()
    const stopped = await scanner.api('POST', `/api/v1/tasks/${taskId}/stop`)
    expect(stopped.body.status, JSON.stringify(stopped.body)).toBe('CANCELLED')
    await eventually(async () => (await scanner.api('GET', `/api/v1/devices/${device.id}`)).body.status === 'ONLINE', 5_000, 'device ONLINE again')
    expect(Date.now() - stopAt).toBeLessThan(1_500)
    const task = (await scanner.api('GET', `/api/v1/tasks/${taskId}`)).body
    expect(task.status).toBe('CANCELLED')
    expect(task.results.filter((r: { type: string }) => r.type === 'RAW')).toEqual([])
    expect((await scanner.api('GET', '/api/v1/status')).status).toBe(200)
  })

  it('refuses to start a task without a sequence, and a malformed sequence upload', async () => {
    lab = new TestLab()
    const scanner = await lab.peer({ name: 'scanner', roles: 'hub,scanner' })
    await scanner.start()
    const p = (await scanner.api('POST', '/api/v1/patients', patient)).body
    const exam = (await scanner.api('POST', '/api/v1/exams', { patientId: p.id, name: 'Head' })).body
    const wf = (await scanner.api('POST', '/api/v1/workflows', { examId: exam.id, name: 'Routine' })).body
    const task = (await scanner.api('POST', '/api/v1/tasks', { workflowId: wf.id, type: 'ACQUISITION', name: 'GRE' })).body
    const r = await scanner.api('POST', `/api/v1/tasks/${task.id}/start`)
    expect(r.status).toBe(400)
    expect(r.body.error).toMatch(/sequence/)
    const before = (await scanner.api<unknown[]>('GET', '/api/v1/sequences')).body.length
    const bad = await fetch(`${scanner.baseUrl}/api/v1/sequences?name=broken`, { method: 'POST', headers: { 'x-api-key': scanner.apiKey }, body: '[VERSION]\nmajor 1\nminor 4\nrevision 2\n\n[BLOCKS]\n1 10 1 0 0 0 0 0\n' })
    expect(bad.status).toBe(400)
    expect((await bad.json()).error).toMatch(/line|RF|not valid/)
    expect((await scanner.api<unknown[]>('GET', '/api/v1/sequences')).body.length).toBe(before)
  })
})
