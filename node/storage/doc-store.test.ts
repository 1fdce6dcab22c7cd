import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { docIdToFileName } from './doc-file-name.ts'
import type { DocStoreOptions } from './doc-store.ts'
import { DocStore } from './doc-store.ts'
import { UpdateLog, scanUpdateLog } from './update-log.ts'

let dir: string
let warnings: string[]
const onWarning = (message: string): void => { warnings.push(message) }
const open = async (options: DocStoreOptions = {}): Promise<DocStore> => await DocStore.open(dir, { onWarning, ...options })

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'scanhub-doc-store-'))
  warnings = []
})

afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true })
})

/** Many small transactions, as a technician's edits arrive: one update each. */
function edit (doc: Y.Doc, count: number): void {
  const tasks = doc.getArray<string>('tasks')
  const meta = doc.getMap<number>('meta')
  for (let i = 0; i < count; i++) {
    doc.transact(() => {
      tasks.push([`task ${tasks.length}`])
      meta.set('revision', i)
      if (tasks.length > 5 && i % 3 === 0) tasks.delete(0, 1)
    })
  }
}

/** What {@link edit} wrote; a loaded document only knows a shared type's kind once it is asked for it. */
function content (doc: Y.Doc): unknown {
  return { tasks: doc.getArray('tasks').toJSON(), meta: doc.getMap('meta').toJSON() }
}

async function logRecords (docId: string): Promise<number> {
  return scanUpdateLog(await fs.readFile(path.join(dir, docIdToFileName(docId)))).records.length
}

describe('DocStore', () => {
  it('persists two documents across a reopen', async () => {
    const store = await open()
    const lab = store.get('lab')
    const patient = store.get('patient:3f2a')
    lab.getMap('devices').set('scanner-1', 'OSI2 ONE')
    lab.getMap('devices').set('recon-1', 'laptop')
    edit(patient, 30)
    await store.flush()
    await store.close()

    const again = await open()
    expect(again.ids().sort()).toEqual(['lab', 'patient:3f2a'])
    const lab2 = again.get('lab')
    const patient2 = again.get('patient:3f2a')
    expect(lab2.getMap('devices').toJSON()).toEqual({ 'scanner-1': 'OSI2 ONE', 'recon-1': 'laptop' })
    expect(content(patient2)).toEqual(content(patient))
    expect(Y.encodeStateVector(patient2)).toEqual(Y.encodeStateVector(patient))
    expect(Y.encodeStateAsUpdate(lab2)).toEqual(Y.encodeStateAsUpdate(lab))
    await again.close()
    expect(warnings).toEqual([])
  })

  it('persists remote updates and edits made before the log finished opening', async () => {
    const store = await open()
    const doc = store.get('exam:1')
    doc.getMap('m').set('early', 1)
    const remote = new Y.Doc()
    remote.getMap('m').set('remote', 2)
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(remote), 'sync')
    await store.close()
    const again = await open()
    expect(again.get('exam:1').getMap('m').toJSON()).toEqual({ early: 1, remote: 2 })
    await again.close()
  })

  it("emits 'doc' for documents it creates, not for those it loads", async () => {
    const store = await open()
    const created: string[] = []
    store.on('doc', (docId, doc) => {
      expect(doc).toBe(store.get(docId))
      created.push(docId)
    })
    store.get('lab')
    store.get('lab')
    store.get('patient:1')
    expect(created).toEqual(['lab', 'patient:1'])
    expect(store.has('lab')).toBe(true)
    await store.close()

    const again = await open()
    again.on('doc', (docId) => created.push(docId))
    again.get('lab')
    expect(created).toEqual(['lab', 'patient:1'])
    await again.close()
  })

  it('compacts a long log in the background, keeping its content and shrinking the file', async () => {
    const plain = await DocStore.open(path.join(dir, 'plain'), { onWarning, compactAfterRecords: Number.POSITIVE_INFINITY })
    const compacting = await DocStore.open(path.join(dir, 'compacting'), { onWarning, compactAfterRecords: 50 })
    const a = plain.get('exam:1')
    const b = compacting.get('exam:1')
    for (let round = 0; round < 4; round++) {
      edit(a, 60)
      edit(b, 60)
      await Promise.all([plain.flush(), compacting.flush()])
    }
    await Promise.all([plain.close(), compacting.close()])
    const file = docIdToFileName('exam:1')
    const plainSize = (await fs.stat(path.join(dir, 'plain', file))).size
    const compactSize = (await fs.stat(path.join(dir, 'compacting', file))).size
    // How much smaller depends on how many records arrived after the last background compaction (fewer
    // compactions run on a loaded machine); what is certain is a bounded record count and a smaller file.
    expect(compactSize).toBeLessThan(plainSize)
    const records = scanUpdateLog(await fs.readFile(path.join(dir, 'compacting', file))).records.length
    expect(records).toBeLessThanOrEqual(51)

    const again = await DocStore.open(path.join(dir, 'compacting'), { onWarning })
    expect(content(again.get('exam:1'))).toEqual(content(a))
    expect(content(again.get('exam:1'))).toEqual(content(b))
    await again.close()
    expect(warnings).toEqual([])
  })

  it('compacts by bytes too, and a log already too long when opened', async () => {
    const store = await open({ compactAfterRecords: Number.POSITIVE_INFINITY })
    const doc = store.get('lab')
    edit(doc, 120)
    await store.close()
    expect(await logRecords('lab')).toBe(120)

    const bySize = await open({ compactAfterBytes: 1024 })
    await bySize.flush()
    await bySize.close()
    expect(await logRecords('lab')).toBe(1)

    const again = await open()
    expect(content(again.get('lab'))).toEqual(content(doc))
    await again.close()
  })

  it('reports and skips a record Yjs cannot apply', async () => {
    const source = new Y.Doc()
    const updates: Uint8Array[] = []
    source.on('update', (update: Uint8Array) => updates.push(update))
    source.getMap('m').set('a', 1)
    source.getMap('m').set('b', 2)
    const { log } = await UpdateLog.open(path.join(dir, docIdToFileName('lab')))
    await log.append(updates[0])
    await log.append(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff))
    await log.append(updates[1])
    await log.close()

    const store = await open()
    expect(store.get('lab').getMap('m').toJSON()).toEqual({ a: 1, b: 2 })
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/lab: record 1/)
    await store.close()
  })

  it('repairs a torn tail and reports it', async () => {
    const store = await open()
    edit(store.get('lab'), 10)
    await store.close()
    const file = path.join(dir, docIdToFileName('lab'))
    const bytes = await fs.readFile(file)
    await fs.writeFile(file, bytes.subarray(0, bytes.byteLength - 3))
    const again = await open()
    expect(again.get('lab').getArray('tasks').length).toBeGreaterThan(0)
    expect(warnings.join()).toMatch(/torn payload/)
    await again.close()
  })

  it('leaves an unreadable log untouched and refuses its document', async () => {
    await fs.writeFile(path.join(dir, 'lab.ylog'), 'not a log at all')
    const store = await open()
    expect(warnings.join()).toMatch(/left untouched/)
    expect(store.ids()).toEqual([])
    expect(() => store.get('lab')).toThrow(expect.objectContaining({ name: 'DocUnavailableError' }))
    await store.close()
    expect(await fs.readFile(path.join(dir, 'lab.ylog'), 'utf8')).toBe('not a log at all')
  })

  it('keeps hostile ids inside its directory and round-trips them', async () => {
    const ids = ['../x', 'a/b', '..', '/etc/passwd', 'C:\\windows', '.hidden', 'Lab', 'lab', 'x'.repeat(200), 'ü🎉']
    const inside = path.join(dir, 'store')
    const store = await DocStore.open(inside, { onWarning })
    for (const id of ids) store.get(id).getMap('m').set('id', id)
    for (const id of ['', 'x'.repeat(201)]) {
      expect(() => store.get(id)).toThrow(expect.objectContaining({ name: 'DocIdError' }))
    }
    await store.close()
    expect(await fs.readdir(dir)).toEqual(['store'])
    const entries = await fs.readdir(inside, { withFileTypes: true })
    expect(entries.every((entry) => entry.isFile())).toBe(true)
    expect(entries).toHaveLength(ids.length)

    const again = await DocStore.open(inside, { onWarning })
    expect(again.ids().sort()).toEqual([...ids].sort())
    for (const id of ids) expect(again.get(id).getMap('m').get('id')).toBe(id)
    await again.close()
    expect(warnings).toEqual([])
  })

  it('ignores foreign files and removes orphan temp files', async () => {
    await fs.writeFile(path.join(dir, 'README'), 'hello')
    await fs.writeFile(path.join(dir, 'Lab.ylog'), 'not canonical')
    await fs.writeFile(path.join(dir, 'orphan.ylog.tmp'), 'x')
    const store = await open()
    expect(store.ids()).toEqual([])
    expect(warnings.join()).toMatch(/Lab\.ylog: not a document log name/)
    await store.close()
    expect((await fs.readdir(dir)).sort()).toEqual(['Lab.ylog', 'README'])
  })

  it('rejects flush when a write fails, and reports it once', async () => {
    const store = await open()
    const doc = store.get('lab')
    await store.flush()
    await fs.rm(path.join(dir, 'lab.ylog'))
    doc.getMap('m').set('a', 1)
    doc.getMap('m').set('b', 2)
    await expect(store.flush()).rejects.toHaveProperty('name', 'DocStoreWriteError')
    expect(warnings.filter((w) => w.includes('not being persisted'))).toHaveLength(1)
    await expect(store.close()).rejects.toHaveProperty('name', 'DocStoreWriteError')
  })

  it('refuses get after close and reports updates it can no longer persist', async () => {
    const store = await open()
    const doc = store.get('lab')
    await store.close()
    expect(() => store.get('lab')).toThrow(expect.objectContaining({ name: 'DocStoreClosedError' }))
    doc.getMap('m').set('late', true)
    expect(warnings.join()).toMatch(/after the store closed/)
  })
})

describe('a log damaged in the middle', () => {
  it('keeps the records after the damage and the damaged bytes, and a peer fills in what was lost', async () => {
    const store = await open({ compactAfterRecords: 100_000, compactAfterBytes: 1 << 30 })
    const doc = store.get('lab')
    const patients = doc.getMap<string>('patients')
    for (let i = 0; i < 330; i++) patients.set(`p${i}`, `patient ${i}`)
    await store.flush()
    // another peer of the lab has everything
    const peer = new Y.Doc()
    Y.applyUpdate(peer, Y.encodeStateAsUpdate(doc))
    await store.close()

    // one flipped bit in the payload of record 160 of 330
    const file = path.join(dir, docIdToFileName('lab'))
    const bytes = await fs.readFile(file)
    let offset = 8
    for (let r = 0; r < 160; r++) offset += 8 + bytes.readUInt32LE(offset)
    bytes[offset + 8 + 2] ^= 0x10
    await fs.writeFile(file, bytes)

    const again = await open()
    const damaged = again.get('lab')
    expect(warnings.join('\n')).toMatch(/CRC mismatch.*could not be read, kept in .*damaged.*recovered 169 after the damage/)
    expect(await logRecords('lab')).toBe(329)
    const side = (await fs.readdir(dir)).filter((f) => f.includes('.damaged-'))
    expect(side).toHaveLength(1)
    expect((await fs.stat(path.join(dir, side[0]))).size).toBe(8 + bytes.readUInt32LE(offset))
    // Yjs holds the updates after the lost one until it comes back; the peer's sync brings it
    expect(damaged.getMap('patients').size).toBeLessThan(330)
    Y.applyUpdate(damaged, Y.encodeStateAsUpdate(peer, Y.encodeStateVector(damaged)))
    expect(damaged.getMap('patients').size).toBe(330)
    expect(damaged.getMap('patients').get('p329')).toBe('patient 329')
    await again.flush()
    await again.close()
    // and it stays whole on disk
    warnings = []
    const third = await open()
    expect(third.get('lab').getMap('patients').size).toBe(330)
    expect(warnings).toEqual([])
    await third.close()
  })
})
