// The sequence library over REST as a lab uses it: an upload is typed from what the sequence does, the
// same file twice points at the first, a sequence can be renamed, and deleted only while nothing uses it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BUILTIN_SEQUENCES, writeSeq, type Sequence } from '../protocol/pulseq/index.ts'
import { TestLab, type PeerProcess } from './support/peer-process.ts'

const lab = new TestLab()
let hub: PeerProcess

beforeAll(async () => {
  hub = await lab.peer({ name: 'hub', roles: 'hub' })
  await hub.start()
}, 60_000)

afterAll(async () => { await lab.cleanup() })

/** A built-in design written as a file without labels, as another lab would bring it. */
function file (name: keyof typeof BUILTIN_SEQUENCES, params: Record<string, unknown> = {}): string {
  return writeSeq((BUILTIN_SEQUENCES[name].build as (p: Record<string, unknown>) => Sequence)({ labels: false, ...params }))
}

async function upload (text: string, name: string): Promise<{ status: number, body: { id: string, type: string, error?: string } }> {
  return await hub.api('POST', `/api/v1/sequences?name=${encodeURIComponent(name)}`, text, { 'content-type': 'text/plain' })
}

describe('the sequence library', () => {
  it('types an upload from what the sequence does', async () => {
    const cases: Array<[string, string, string]> = [
      [file('gre', { matrix: [32, 32] }), 'my gre', 'GRE'],
      [file('spin-echo', { matrix: [32, 32] }), 'my se', 'SE'],
      [file('tse', { matrix: [32, 32] }), 'my tse', 'TSE'],
      [file('epi', { matrix: [32, 32] }), 'my epi', 'EPI'],
      [file('fid', { numSamples: 512 }), 'my fid', 'FID'],
      [file('radial', { matrix: [32, 32] }), 'my radial', 'GRE']
    ]
    for (const [text, name, type] of cases) {
      const response = await upload(text, name)
      expect(response.status, name).toBe(201)
      expect(response.body.type, name).toBe(type)
    }
  }, 60_000)

  it('points a second upload of the same file at the first', async () => {
    const text = file('gre', { matrix: [48, 48] })
    const first = await upload(text, 'original')
    expect(first.status).toBe(201)
    const again = await upload(text, 'copy')
    expect(again.status).toBe(409)
    expect(again.body).toMatchObject({ id: first.body.id, name: 'original' })
    expect(again.body.error).toBe(`this file is in the library already, as "original" (id ${first.body.id}): use that sequence, or rename it`)
    const copies = (await hub.api('GET', '/api/v1/sequences')).body as Array<{ name: string }>
    expect(copies.filter((s) => s.name === 'original' || s.name === 'copy').map((s) => s.name)).toEqual(['original'])
  })

  it('types a file that fits no pattern as OTHER and says why', async () => {
    // a GRE with its ADCs taken out acquires nothing
    const lines = file('gre', { matrix: [24, 24] }).split('\n')
    const start = lines.indexOf('[BLOCKS]')
    for (let i = start + 1; i < lines.length && lines[i].trim() !== ''; i++) {
      const columns = lines[i].trim().split(/\s+/) // id duration rf gx gy gz adc ext
      columns[6] = '0'
      lines[i] = columns.join(' ')
    }
    const text = lines.join('\n')
    const response = await upload(text, 'no readouts')
    expect(response.status).toBe(201)
    expect(response.body.type).toBe('OTHER')
    const stored = (await hub.api('GET', `/api/v1/sequences/${response.body.id}`)).body as { summary: { sequenceTypeReason: string } }
    expect(stored.summary.sequenceTypeReason).toBe('the sequence has no ADC event: it acquires nothing')
  })

  it('renames, and deletes only what no task uses', async () => {
    const seq = (await upload(file('gre', { matrix: [40, 40] }), 'to rename')).body
    const renamed = await hub.api('PATCH', `/api/v1/sequences/${seq.id}`, { name: 'T1 GRE', tags: ['head'] })
    expect(renamed.status).toBe(200)
    expect(renamed.body).toMatchObject({ name: 'T1 GRE', tags: ['head'] })
    expect((await hub.api('PATCH', `/api/v1/sequences/${seq.id}`, { blob: { sha256: '0'.repeat(64) } })).status).toBe(400)

    const patient = (await hub.api('POST', '/api/v1/patients', { firstName: 'Ada', lastName: 'Lovelace', birthDate: '1985-12-10', sex: 'FEMALE' })).body
    const exam = (await hub.api('POST', '/api/v1/exams', { patientId: patient.id, name: 'Head' })).body
    const workflow = (await hub.api('POST', '/api/v1/workflows', { examId: exam.id, name: 'Routine' })).body
    const task = (await hub.api('POST', '/api/v1/tasks', { workflowId: workflow.id, type: 'ACQUISITION', name: 'T1', parameters: { sequenceId: seq.id } })).body
    const refused = await hub.api('DELETE', `/api/v1/sequences/${seq.id}`)
    expect(refused.status).toBe(409)
    expect(refused.body.error).toMatch(/"T1 GRE" is used by task "T1": change those first/)
    expect((await hub.api('DELETE', '/api/v1/sequences/builtin-gre')).status).toBe(409)

    expect((await hub.api('DELETE', `/api/v1/tasks/${task.id}`)).status).toBe(204)
    expect((await hub.api('DELETE', `/api/v1/sequences/${seq.id}`)).status).toBe(204)
    expect((await hub.api('GET', `/api/v1/sequences/${seq.id}`)).status).toBe(404)
  })

  it('the app renames and deletes with the session of a user the write policy lets change sequences, and the audit names that user', async () => {
    const seq = (await upload(file('gre', { matrix: [36, 36] }), 'session sequence')).body
    const session = async (username: string, role: string): Promise<string> => {
      const password = 'correct horse battery staple'
      expect((await hub.api('POST', '/api/v1/users', { username, firstName: username, lastName: 'User', email: '', role, password })).status).toBe(201)
      const login = await fetch(`${hub.baseUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) })
      return (await login.json() as { token: string }).token
    }
    const as = async (token: string, method: string, body?: unknown): Promise<number> => (await fetch(`${hub.baseUrl}/api/v1/sequences/${seq.id}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })).status
    const engineer = await session('eng', 'engineer')
    const medical = await session('med', 'medical')
    expect(await as(medical, 'PATCH', { name: 'not mine' })).toBe(401)
    expect(await as(medical, 'DELETE')).toBe(401)
    expect(await as(engineer, 'PATCH', { name: 'renamed by eng' })).toBe(200)
    expect(await as(engineer, 'DELETE')).toBe(204)
    const audit = (await hub.api('GET', '/api/v1/audit')).body as Array<{ actor: string, action: string, entityId: string, changes?: unknown }>
    const entries = audit.filter((e) => e.entityId === seq.id)
    expect(entries.map((e) => [e.action, e.actor])).toEqual([['create', entries[0].actor], ['update', 'eng'], ['delete', 'eng']])
    expect(entries[1].changes).toEqual([{ field: 'name', from: 'session sequence', to: 'renamed by eng' }])
  })
})
