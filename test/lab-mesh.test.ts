// The lab mesh as users run it: separate `scanhub start` processes on loopback, each with its own data
// directory, joined with invites; checked through their REST APIs.
import { appendFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { TestLab, eventually, type PeerProcess } from './support/peer-process.ts'

let lab: TestLab

afterEach(async () => {
  await lab?.cleanup()
})

const ada = { firstName: 'Ada', lastName: 'Lovelace', birthDate: '1985-12-10', sex: 'FEMALE', heightCm: 165, weightKg: 60 }

async function startLabOfThree (): Promise<[PeerProcess, PeerProcess, PeerProcess]> {
  const a = await lab.peer({ name: 'a' })
  await a.start()
  // an invite works once: one each
  const b = await lab.peer({ name: 'b', join: a.invite() })
  const c = await lab.peer({ name: 'c', join: a.invite() })
  await Promise.all([b.start(), c.start()])
  return [a, b, c]
}

async function connectedPeers (peer: PeerProcess): Promise<string[]> {
  const { body } = await peer.api<{ peers: Array<{ name: string, connected: boolean }> }>('GET', '/api/v1/status')
  return body.peers.filter((p) => p.connected).map((p) => p.name).sort()
}

describe('lab mesh', () => {
  it('three peers joined by invites see each other and share a patient', async () => {
    lab = new TestLab()
    const started = Date.now()
    const [a, b, c] = await startLabOfThree()
    for (const [peer, others] of [[a, ['b', 'c']], [b, ['a', 'c']], [c, ['a', 'b']]] as const) {
      await eventually(async () => JSON.stringify(await connectedPeers(peer)) === JSON.stringify(others), 10_000 - (Date.now() - started) + 5_000, `${peer.name} sees ${others.join(', ')}`)
    }
    const created = await a.api('POST', '/api/v1/patients', ada)
    expect(created.status).toBe(201)
    const id = created.body.id as string
    const t0 = Date.now()
    const onC = await eventually(async () => {
      const r = await c.api('GET', `/api/v1/patients/${id}`)
      return r.status === 200 ? r.body : undefined
    }, 2_000, 'patient readable on c')
    expect(Date.now() - t0).toBeLessThan(2_000)
    expect(onC).toMatchObject(ada)
    // status names the lab and this peer
    const status = await c.api('GET', '/api/v1/status')
    expect(status.body).toMatchObject({ name: 'c', roles: ['hub'] })
    expect(status.body.peers).toHaveLength(2)
  })

  it('converges after a partition, and concurrent edits of one patient merge the same everywhere', async () => {
    lab = new TestLab()
    const [a, b, c] = await startLabOfThree()
    const { body: patient } = await a.api('POST', '/api/v1/patients', ada)
    await eventually(async () => (await c.api('GET', `/api/v1/patients/${patient.id}`)).status === 200, 5_000, 'patient on c')

    await c.kill('SIGTERM')
    // while c is away: a and b change different and the same fields of one patient, and add patients
    await Promise.all([
      a.api('PATCH', `/api/v1/patients/${patient.id}`, { comment: 'from a', weightKg: 61 }),
      b.api('PATCH', `/api/v1/patients/${patient.id}`, { heightCm: 166, weightKg: 62 })
    ])
    const onA = await a.api('POST', '/api/v1/patients', { ...ada, firstName: 'Grace', lastName: 'Hopper' })
    const onB = await b.api('POST', '/api/v1/patients', { ...ada, firstName: 'Marie', lastName: 'Curie' })
    expect([onA.status, onB.status]).toEqual([201, 201])

    await c.start()
    const expectedIds = [patient.id, onA.body.id, onB.body.id].sort()
    const views = await Promise.all([a, b, c].map(async (peer) => await eventually(async () => {
      const { body } = await peer.api<Array<{ id: string }>>('GET', '/api/v1/patients')
      const ids = body.map((p) => p.id).sort()
      if (JSON.stringify(ids) !== JSON.stringify(expectedIds)) return undefined
      const merged = (await peer.api('GET', `/api/v1/patients/${patient.id}`)).body
      return merged.comment === 'from a' && merged.heightCm === 166 ? merged : undefined
    }, 15_000, `${peer.name} converged`)))
    // different fields both survive; the field both changed resolves identically on every peer
    for (const view of views) {
      expect(view.weightKg).toBe(views[0].weightKg)
      expect([61, 62]).toContain(view.weightKg)
    }
    // the audit log tells who changed what, from which peer
    const audit = (await c.api<Array<{ action: string, entityId: string, peerId: string }>>('GET', '/api/v1/audit')).body
    const updates = audit.filter((e) => e.action === 'update' && e.entityId === patient.id)
    expect(new Set(updates.map((e) => e.peerId))).toEqual(new Set([a.peerId, b.peerId]))
  })

  it('keeps every acknowledged write through kill -9, and drops a torn log tail with a report', async () => {
    lab = new TestLab()
    const a = await lab.peer({ name: 'a' })
    await a.start()
    const acknowledged: string[] = []
    let stop = false
    const writer = (async () => {
      for (let i = 0; i < 400 && !stop; i++) {
        try {
          const r = await a.api('POST', '/api/v1/patients', { ...ada, firstName: `Burst${i}` })
          if (r.status === 201) acknowledged.push(r.body.id)
        } catch { break }
      }
    })()
    await eventually(() => acknowledged.length >= 30, 20_000, '30 writes acknowledged')
    await a.kill('SIGKILL')
    stop = true
    await writer
    // a crash in the middle of a record: append half a record to a document's log
    const docsDir = join(a.dataDir, 'docs')
    const logs = await readdir(docsDir)
    await appendFile(join(docsDir, logs[0]), Buffer.from([200, 0, 0, 0, 1, 2, 3, 4, 5, 6]))
    await a.start()
    const { body } = await a.api<Array<{ id: string }>>('GET', '/api/v1/patients')
    const ids = new Set(body.map((p) => p.id))
    const lost = acknowledged.filter((id) => !ids.has(id))
    expect(lost).toEqual([])
    expect(a.output).toMatch(/torn|truncat|dropped|corrupt/i)
  })

  it('keeps peers of another lab out', async () => {
    lab = new TestLab()
    const a = await lab.peer({ name: 'a' })
    await a.start()
    await a.api('POST', '/api/v1/patients', ada)
    const { body: aStatus } = await a.api('GET', '/api/v1/status')
    // a peer that founded its own lab, told where a is (as if by a stale invite or mDNS)
    const stranger = await lab.peer({ name: 'stranger' })
    await stranger.start()
    const strangerInvite = JSON.parse(Buffer.from(stranger.invite().slice('scanhub-invite:'.length), 'base64url').toString())
    await stranger.kill('SIGTERM')
    const forged = 'scanhub-invite:' + Buffer.from(JSON.stringify({ ...strangerInvite, addrs: aStatus.addrs.filter((x: string) => !x.includes('/ws')) })).toString('base64url')
    // its handshake with a's lab key fails: it cannot even redeem the invite, and says so
    const intruder = await lab.peer({ name: 'intruder', join: forged })
    await expect(intruder.start()).rejects.toThrow(/could not redeem the invite/)
    expect(await connectedPeers(a)).toEqual([])
    expect((await a.api('GET', '/api/v1/patients')).body).toHaveLength(1)
  })

  it('answers bad REST input clearly and keeps running with its data', async () => {
    lab = new TestLab()
    const a = await lab.peer({ name: 'a' })
    await a.start()
    const ok = await a.api('POST', '/api/v1/patients', ada)
    const bad = async (method: string, path: string, body?: unknown): Promise<{ status: number, body: { error: string } }> => await a.api(method, path, body)

    expect((await fetch(`${a.baseUrl}/api/v1/patients`)).status).toBe(401)
    expect((await fetch(`${a.baseUrl}/api/v1/patients`, { headers: { 'x-api-key': 'wrong' } })).status).toBe(401)
    const malformed = await bad('POST', '/api/v1/patients', '{"firstName": "Ada",')
    expect(malformed.status).toBe(400)
    expect(malformed.body.error).toMatch(/JSON/)
    for (const [body, field] of [
      [{ ...ada, birthDate: 19851210 }, 'birthDate'],
      [{ ...ada, sex: 'X' }, 'sex'],
      [{ ...ada, heightCm: 'tall' }, 'heightCm'],
      [{ ...ada, surprise: true }, 'surprise'],
      [{ lastName: 'Only' }, 'firstName'],
      [[1, 2, 3], 'object']
    ] as const) {
      const r = await bad('POST', '/api/v1/patients', body)
      expect(r.status, JSON.stringify(body)).toBe(400)
      expect(r.body.error).toContain(field)
    }
    expect((await bad('GET', '/api/v1/patients/no-such-id')).status).toBe(404)
    expect((await bad('PATCH', '/api/v1/patients/no-such-id', { comment: 'x' })).status).toBe(404)
    expect((await bad('DELETE', '/api/v1/exams/no-such-id')).status).toBe(404)
    expect((await bad('POST', '/api/v1/exams', { patientId: 'no-such-patient', name: 'Knee' })).status).toBe(404)
    expect((await bad('GET', '/api/v1/nothing-here')).status).toBe(404)
    const huge = await fetch(`${a.baseUrl}/api/v1/patients`, {
      method: 'POST',
      headers: { 'x-api-key': a.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ ...ada, comment: 'x'.repeat(3 * 1024 * 1024) })
    })
    expect(huge.status).toBe(413)
    // still alive, data intact
    const after = await a.api('GET', `/api/v1/patients/${ok.body.id}`)
    expect(after.status).toBe(200)
    expect(after.body).toMatchObject(ada)
  })

  it('serves its OpenAPI document and the exam → workflow → task hierarchy', async () => {
    lab = new TestLab()
    const a = await lab.peer({ name: 'a' })
    await a.start()
    const openapi = await fetch(`${a.baseUrl}/api/v1/openapi.json`).then(async (r) => await r.json())
    expect(openapi.openapi).toBe('3.1.0')
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/api/v1/patients', '/api/v1/patients/{id}', '/api/v1/exams', '/api/v1/tasks/{id}', '/api/v1/audit', '/api/v1/status']))
    const p = (await a.api('POST', '/api/v1/patients', ada)).body
    const exam = await a.api('POST', '/api/v1/exams', { patientId: p.id, name: 'Knee' })
    expect(exam.status).toBe(201)
    expect(exam.body.status).toBe('NEW')
    const wf = (await a.api('POST', '/api/v1/workflows', { examId: exam.body.id, name: 'Routine' })).body
    const t1 = (await a.api('POST', '/api/v1/tasks', { workflowId: wf.id, type: 'ACQUISITION', name: 'GRE' })).body
    const t2 = (await a.api('POST', '/api/v1/tasks', { workflowId: wf.id, type: 'RECONSTRUCTION', name: 'Recon', parameters: { pipeline: 'cartesian', inputTaskId: t1.id } })).body
    expect((await a.api('PATCH', `/api/v1/tasks/${t2.id}`, { position: 0 })).status).toBe(200)
    const tasks = (await a.api<Array<{ id: string }>>('GET', `/api/v1/tasks?workflowId=${wf.id}`)).body
    expect(tasks.map((t) => t.id)).toEqual([t2.id, t1.id])
    expect((await a.api('DELETE', `/api/v1/exams/${exam.body.id}`)).status).toBe(204)
    expect((await a.api('GET', `/api/v1/tasks/${t1.id}`)).status).toBe(404)
  })
})
