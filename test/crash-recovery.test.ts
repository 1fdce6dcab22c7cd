// Crash tests on real peer processes: a peer killed with SIGKILL at random moments while it answers
// REST writes and while it records a scan must come back every time with everything it had
// acknowledged; a bit flipped in the middle of a document log must cost no record that another peer
// of the lab still holds.
//
// The moments are random but seeded: the seed is printed, and CRASH_SEED=<seed> replays a failure.
import { readFile, readdir, writeFile } from 'node:fs/promises'
import { createServer, type AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { MrdStreamDecoder } from '../protocol/mrd/index.ts'
import { docIdToFileName } from '../node/storage/doc-file-name.ts'
import { TestLab, eventually, sleep, type PeerProcess } from './support/peer-process.ts'

const SEED = Number(process.env.CRASH_SEED ?? Date.now() % 2 ** 31)
console.log(`crash-recovery: seed ${SEED} (replay with CRASH_SEED=${SEED})`)

/** mulberry32: a small seeded generator, so that a failing sequence of kill moments can be replayed */
function seededRandom (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
}

const labs: TestLab[] = []
afterAll(async () => { await Promise.all(labs.map(async (lab) => await lab.cleanup())) })

const ada = { firstName: 'Ada', lastName: 'Lovelace', birthDate: '1985-12-10', sex: 'FEMALE' }

/** Statuses of a task that is still meant to be running. */
const RUNNING = new Set(['STARTED', 'INPROGRESS'])

interface Acknowledged {
  kind: 'patients' | 'exams'
  /** the body of the 2xx answer: what the peer promised it keeps */
  body: { id: string } & Record<string, unknown>
  round: number
}

interface ScanOfRound {
  round: number
  acquisitionId: string
  reconstructionId: string
  /**
   * The raw file as a reader saw it just before the kill. The peer acknowledges a readout (counts it in
   * the progress it shows, serves it to a reconstruction peer) only once its write returned, so this
   * holds at least every readout it had acknowledged by then.
   */
  rawBeforeKill: Uint8Array
  msAfterStart: number
}

/** Bytes of whole MRD messages at the start of `bytes`, and how many of them are acquisitions. */
function wholeMessages (bytes: Uint8Array): { offset: number, acquisitions: number, types: string[] } {
  const decoder = new MrdStreamDecoder()
  const types = decoder.push(bytes).map((m) => m.type)
  return { offset: decoder.offset, acquisitions: types.filter((t) => t === 'acquisition').length, types }
}

async function readIfExists (file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(file))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Uint8Array(0)
    throw err
  }
}

/** Posts writes until the peer dies or `until` passes, remembering every acknowledged one. */
async function writeUntilKilled (peer: PeerProcess, round: number, random: () => number, acknowledged: Map<string, Acknowledged>, unexpected: string[], until: number): Promise<void> {
  const patientIds = [...acknowledged.values()].filter((a) => a.kind === 'patients').map((a) => a.body.id)
  for (let i = 0; i < 200 && Date.now() < until; i++) {
    const kind = patientIds.length === 0 || random() < 0.5 ? 'patients' : 'exams'
    const input = kind === 'patients'
      ? { ...ada, firstName: `Round${round}`, lastName: `Write${i}`, comment: 'x'.repeat(Math.floor(random() * 2000)) }
      : { patientId: patientIds[Math.floor(random() * patientIds.length)], name: `Exam ${round}.${i}`, description: 'y'.repeat(Math.floor(random() * 500)) }
    let answer: { status: number, body: Acknowledged['body'] }
    try {
      answer = await peer.api('POST', `/api/v1/${kind}`, input)
    } catch {
      return // the peer was killed while this write was in flight: its outcome is unknown, nothing was promised
    }
    if (answer.status !== 201) {
      unexpected.push(`round ${round}: POST ${kind} answered ${answer.status} ${JSON.stringify(answer.body)}`)
      continue
    }
    acknowledged.set(answer.body.id, { kind, body: answer.body, round })
    if (kind === 'patients') patientIds.push(answer.body.id)
  }
}

/** Every acknowledged write is there with the content the answer showed. */
async function expectAllAcknowledged (peer: PeerProcess, acknowledged: Map<string, Acknowledged>, seedNote: string): Promise<void> {
  for (const kind of ['patients', 'exams'] as const) {
    const { status, body } = await peer.api<Array<{ id: string }>>('GET', `/api/v1/${kind}`)
    expect(status).toBe(200)
    const held = new Map(body.map((entity) => [entity.id, entity]))
    const expected = [...acknowledged.values()].filter((a) => a.kind === kind)
    const lost = expected.filter((a) => !held.has(a.body.id)).map((a) => `${a.body.id} (round ${a.round})`)
    expect(lost, `${kind} acknowledged and lost; ${seedNote}`).toEqual([])
    for (const a of expected) expect(held.get(a.body.id), `${kind} ${a.body.id} changed; ${seedNote}`).toEqual(a.body)
  }
}

async function planScan (peer: PeerProcess, deviceId: string, round: number, sequenceId: string): Promise<{ acquisitionId: string, reconstructionId: string }> {
  const created = async (path: string, body: unknown): Promise<{ id: string }> => {
    const answer = await peer.api('POST', path, body)
    expect(answer.status, `${path}: ${JSON.stringify(answer.body)}`).toBe(201)
    return answer.body
  }
  const patient = await created('/api/v1/patients', { ...ada, firstName: `Scan${round}` })
  const exam = await created('/api/v1/exams', { patientId: patient.id, name: `Head ${round}` })
  const workflow = await created('/api/v1/workflows', { examId: exam.id, name: 'Routine' })
  const acquisition = await created('/api/v1/tasks', { workflowId: workflow.id, type: 'ACQUISITION', name: `GRE ${round}`, parameters: { sequenceId, deviceId } })
  const reconstruction = await created('/api/v1/tasks', { workflowId: workflow.id, type: 'RECONSTRUCTION', name: `Images ${round}`, parameters: { pipeline: 'default', inputTaskId: acquisition.id } })
  return { acquisitionId: acquisition.id, reconstructionId: reconstruction.id }
}

/**
 * After a restart, the scan of the round before must not be shown as running forever, and every
 * readout a reader could see before the kill must still be in its raw file, byte for byte and
 * readable; a finished scan's raw data is its RAW result.
 */
async function expectScanRecovered (peer: PeerProcess, scan: ScanOfRound, seedNote: string): Promise<string> {
  const what = `scan of round ${scan.round} (killed ${scan.msAfterStart} ms after its start; ${seedNote})`
  const settled = async (taskId: string, timeoutMs: number): Promise<{ status: string, error?: string, results: Array<{ type: string, files: Array<{ sha256: string, size: number }> }> }> =>
    await eventually(async () => {
      const task = (await peer.api('GET', `/api/v1/tasks/${taskId}`)).body
      return RUNNING.has(task.status) ? undefined : task
    }, timeoutMs, `task ${taskId} of the ${what} stops being shown as running`)
  const acquisition = await settled(scan.acquisitionId, 15_000)
  // its start was acknowledged (202), so it cannot be NEW again
  expect(['FINISHED', 'ERROR'], what).toContain(acquisition.status)
  if (acquisition.status === 'ERROR') expect(acquisition.error, what).toMatch(/stopped during this acquisition/)

  const rawFile = join(peer.dataDir, 'raw', `${scan.acquisitionId}.mrd`)
  const before = wholeMessages(scan.rawBeforeKill)
  let raw = await readIfExists(rawFile)
  const rawResult = acquisition.results.find((r) => r.type === 'RAW')
  if (rawResult !== undefined) {
    const answer = await fetch(`${peer.baseUrl}/api/v1/blobs/${rawResult.files[0].sha256}`, { headers: { 'x-api-key': peer.apiKey } })
    expect(answer.status, what).toBe(200)
    raw = new Uint8Array(await answer.arrayBuffer())
    expect(raw.byteLength, what).toBe(rawResult.files[0].size)
    expect(wholeMessages(raw).types.at(-1), what).toBe('close')
  }
  const after = wholeMessages(raw)
  expect(after.offset, `${what}: whole messages on disk after the restart`).toBeGreaterThanOrEqual(before.offset)
  expect(Buffer.from(raw.subarray(0, before.offset)).equals(Buffer.from(scan.rawBeforeKill.subarray(0, before.offset))), `${what}: the readouts seen before the kill are unchanged`).toBe(true)
  if (before.acquisitions > 0) expect(after.types[0], what).toBe('header')
  // the operator is told where the readouts of an interrupted scan are
  if (acquisition.status === 'ERROR' && raw.byteLength > 0) expect(acquisition.error, what).toContain(rawFile)

  const reconstruction = await settled(scan.reconstructionId, 30_000)
  if (reconstruction.status === 'ERROR') expect(reconstruction.error, what).toMatch(/acquisition|raw data/)
  return `round ${scan.round}: killed at ${scan.msAfterStart} ms, ${before.acquisitions} readouts seen → ${after.acquisitions} kept, acquisition ${acquisition.status}, reconstruction ${reconstruction.status}`
}

describe('crash recovery', () => {
  it('keeps every acknowledged write and recorded readout through 20 kills at random moments', async () => {
    // Two generators: the kill moments replay exactly from the seed even though how many writes fit
    // before each kill (and so how often the writes draw) depends on the machine's speed.
    const killMoments = seededRandom(SEED)
    const writeChoices = seededRandom(SEED ^ 0x5bd1e995)
    const seedNote = `CRASH_SEED=${SEED}`
    const lab = new TestLab()
    labs.push(lab)
    const peer = await lab.peer({ name: 'crashing', roles: 'hub,scanner,recon' })
    await peer.start()
    const deviceId = (await peer.api<Array<{ id: string }>>('GET', '/api/v1/devices')).body[0].id
    const acknowledged = new Map<string, Acknowledged>()
    const unexpected: string[] = []
    const report: string[] = []
    const startedAt = Date.now()

    for (let round = 1; round <= 20; round++) {
      // Even rounds also scan, mostly a multi-slice GRE (some 2.6 s) and every fourth round a single
      // slice (0.6 s): the kill then lands anywhere from before the first readout to after the end,
      // while the scan's reconstruction runs.
      let plannedScan: { acquisitionId: string, reconstructionId: string } | undefined
      if (round % 2 === 0) plannedScan = await planScan(peer, deviceId, round, round % 4 === 0 ? 'builtin-gre' : 'builtin-gre-multislice')
      const roundStart = Date.now()
      const killAfterMs = Math.floor(50 + killMoments() * 3_550)
      const writer = writeUntilKilled(peer, round, writeChoices, acknowledged, unexpected, roundStart + 10_000)
      if (plannedScan !== undefined) {
        const answer = await peer.api('POST', `/api/v1/tasks/${plannedScan.acquisitionId}/start`)
        expect(answer.status).toBe(202)
      }
      await sleep(killAfterMs - (Date.now() - roundStart))
      const scan: ScanOfRound | undefined = plannedScan === undefined
        ? undefined
        : { round, ...plannedScan, rawBeforeKill: await readIfExists(join(peer.dataDir, 'raw', `${plannedScan.acquisitionId}.mrd`)), msAfterStart: Date.now() - roundStart }
      await peer.kill('SIGKILL')
      await writer

      await peer.start() // throws, with the peer's output, if it does not come back
      await expectAllAcknowledged(peer, acknowledged, seedNote)
      if (scan !== undefined) report.push(await expectScanRecovered(peer, scan, seedNote))
    }
    expect(unexpected).toEqual([])
    console.log(`crash-recovery: ${acknowledged.size} acknowledged writes kept over 20 kills in ${Math.round((Date.now() - startedAt) / 1000)} s\n  ${report.join('\n  ')}`)
    await peer.kill('SIGTERM')
  }, 240_000)

  it('gets back from another peer every record of a log damaged by a flipped bit in its middle', async () => {
    const lab = new TestLab()
    labs.push(lab)
    // Both keep their ports across restarts, as a lab's peers do (7001 unless told otherwise), so that
    // each finds the other again at the address it knows: a's copy of b's address may be in the
    // damaged part of its log.
    const a = await lab.peer({ name: 'a', extraArgs: ['--p2p', String(await freePort())] })
    await a.start()
    const b = await lab.peer({ name: 'b', join: a.invite(), extraArgs: ['--p2p', String(await freePort())] })
    await b.start()

    const patients = 20
    for (let i = 0; i < patients; i++) {
      const patient = await a.api('POST', '/api/v1/patients', { ...ada, firstName: `Flip${i}`, comment: `patient ${i} of the bit-flip test` })
      expect(patient.status).toBe(201)
      for (let k = 0; k < 3; k++) {
        expect((await a.api('POST', '/api/v1/exams', { patientId: patient.body.id, name: `Exam ${i}.${k}` })).status).toBe(201)
      }
    }
    const everything = async (peer: PeerProcess): Promise<string> => {
      const list = (await peer.api<Array<{ id: string }>>('GET', '/api/v1/patients')).body.sort((x, y) => x.id.localeCompare(y.id))
      const exams = (await peer.api<Array<{ id: string }>>('GET', '/api/v1/exams')).body.sort((x, y) => x.id.localeCompare(y.id))
      return JSON.stringify({ patients: list, exams })
    }
    const onA = await everything(a)
    expect(JSON.parse(onA).exams).toHaveLength(3 * patients)
    await eventually(async () => await everything(b) === onA, 20_000, 'b holds every patient and exam of a')

    // b goes away first, so that what a shows after its restart is what it read from its own disk
    await b.kill('SIGTERM')
    await a.kill('SIGTERM')
    const docsDir = join(a.dataDir, 'docs')
    const patientId = JSON.parse(onA).patients[Math.floor(patients / 2)].id as string
    const damaged = [docIdToFileName('lab'), docIdToFileName(`patient:${patientId}`)]
    for (const name of damaged) {
      const bytes = await readFile(join(docsDir, name))
      bytes[Math.floor(bytes.byteLength / 2)] ^= 0x10
      await writeFile(join(docsDir, name), bytes)
    }

    await a.start()
    const names = await readdir(docsDir)
    for (const name of damaged) {
      expect(names.some((n) => n.startsWith(`${name}.damaged-`)), `${name} salvaged into a side file: ${names.join(' ')}`).toBe(true)
      // damage in the middle: records after it were read too, not just cut off with the tail
      expect(a.output).toMatch(new RegExp(`${name.replace(/[.%]/g, '\\$&')}: .* could not be read.* recovered [1-9]\\d* after the damage`))
    }
    // the records after the damage build on the lost one: the peer says they wait for the lab
    expect(a.output).toMatch(/lab: some records build on an update this log lacks/)
    const alone = await everything(a)
    console.log(`crash-recovery: after the flips a alone shows ${JSON.parse(alone).patients.length} patients and ${JSON.parse(alone).exams.length} exams of ${patients} and ${3 * patients}`)
    expect(alone).not.toBe(onA)

    await b.start()
    const backAt = Date.now()
    await eventually(async () => await everything(a) === onA, 30_000, 'a holds every patient and exam again after syncing with b').catch(async (err: Error) => {
      const status = (await a.api('GET', '/api/v1/status')).body
      const now = JSON.parse(await everything(a))
      const tail = (peer: PeerProcess): string => peer.output.split('\n').slice(-15).join('\n    ')
      throw new Error(`${err.message}; a's peers: ${JSON.stringify(status.peers)}; a shows ${now.patients.length} patients and ${now.exams.length} exams\n  a:\n    ${tail(a)}\n  b:\n    ${tail(b)}`)
    })
    console.log(`crash-recovery: a had everything back ${Date.now() - backAt} ms after b started`)
    expect(await everything(b)).toBe(onA)
    await Promise.all([a.kill('SIGTERM'), b.kill('SIGTERM')])
  }, 120_000)
})

/** A TCP port free on loopback right now. */
async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
