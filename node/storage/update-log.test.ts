import { spawn } from 'node:child_process'
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  RECORD_HEADER_BYTES,
  UPDATE_LOG_HEADER_BYTES,
  UpdateLog,
  encodeRecord,
  scanUpdateLog
} from './update-log.ts'

let dir: string
let file: string
let warnings: string[]
const onWarning = (message: string): void => { warnings.push(message) }

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'scanhub-update-log-'))
  file = path.join(dir, 'doc.ylog')
  warnings = []
})

afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true })
})

function payload (index: number, length = 1 + (index * 37) % 300): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (index * 31 + i) & 0xff)
}

async function writeLog (payloads: Uint8Array[]): Promise<void> {
  const { log } = await UpdateLog.open(file, { onWarning })
  await Promise.all(payloads.map(async (p) => await log.append(p)))
  await log.close()
}

async function reopen (): Promise<Uint8Array[]> {
  const { log, records } = await UpdateLog.open(file, { onWarning })
  await log.close()
  return records.map((r) => Uint8Array.from(r))
}

describe('UpdateLog', () => {
  it('creates an empty log with a header', async () => {
    const { log, records } = await UpdateLog.open(file, { onWarning })
    expect(records).toEqual([])
    expect(log.recordCount).toBe(0)
    expect(log.byteLength).toBe(UPDATE_LOG_HEADER_BYTES)
    await log.close()
    const bytes = await fs.readFile(file)
    expect(bytes.subarray(0, 4).toString('latin1')).toBe('SHUL')
    expect(bytes.readUInt32LE(4)).toBe(1)
    expect(warnings).toEqual([])
  })

  it('round-trips records of many sizes', async () => {
    const payloads = [payload(0, 1), payload(1, 2), payload(2, 100_000), payload(3), payload(4, 8)]
    await writeLog(payloads)
    expect(await reopen()).toEqual(payloads)
    const size = (await fs.stat(file)).size
    expect(size).toBe(UPDATE_LOG_HEADER_BYTES + payloads.reduce((sum, p) => sum + RECORD_HEADER_BYTES + p.byteLength, 0))
    expect(warnings).toEqual([])
  })

  it('copies the payload, so the caller may reuse its buffer', async () => {
    const { log } = await UpdateLog.open(file, { onWarning })
    const buffer = Uint8Array.of(1, 2, 3)
    const written = log.append(buffer)
    buffer.fill(9)
    await written
    await log.close()
    expect(await reopen()).toEqual([Uint8Array.of(1, 2, 3)])
  })

  it('shares one fsync among the appends of a tick (group commit)', async () => {
    const { log } = await UpdateLog.open(file, { onWarning })
    const appends = Array.from({ length: 200 }, async (_, i) => await log.append(payload(i)))
    await Promise.resolve()
    appends.push(log.append(payload(200)))
    await Promise.all(appends)
    expect(log.syncCount).toBe(1)
    expect(log.recordCount).toBe(201)
    await log.append(payload(201))
    expect(log.syncCount).toBe(2)
    await log.close()
    expect((await reopen()).length).toBe(202)
  })

  it('keeps appends made during a write for the next batch, in order', async () => {
    const { log } = await UpdateLog.open(file, { onWarning })
    const first = log.append(payload(0))
    await new Promise((resolve) => setImmediate(resolve))
    const rest = Array.from({ length: 50 }, async (_, i) => await log.append(payload(i + 1)))
    await Promise.all([first, ...rest])
    await log.close()
    expect(await reopen()).toEqual(Array.from({ length: 51 }, (_, i) => payload(i)))
  })

  it('refuses empty and oversized records and appends after close', async () => {
    const { log } = await UpdateLog.open(file, { onWarning, maxRecordBytes: 16 })
    await expect(log.append(new Uint8Array(0))).rejects.toHaveProperty('name', 'InvalidRecordError')
    await expect(log.append(new Uint8Array(17))).rejects.toHaveProperty('name', 'InvalidRecordError')
    await log.append(new Uint8Array(16).fill(1))
    await log.close()
    await expect(log.append(Uint8Array.of(1))).rejects.toHaveProperty('name', 'UpdateLogClosedError')
    expect(await reopen()).toEqual([new Uint8Array(16).fill(1)])
  })

  it('writes appends made just before close', async () => {
    const { log } = await UpdateLog.open(file, { onWarning })
    const pending = [log.append(payload(0)), log.append(payload(1))]
    await log.close()
    await Promise.all(pending)
    expect(await reopen()).toEqual([payload(0), payload(1)])
  })

  it('resolves flush once earlier appends are on disk', async () => {
    const { log } = await UpdateLog.open(file, { onWarning })
    let done = 0
    for (let i = 0; i < 10; i++) void log.append(payload(i)).then(() => { done += 1 })
    await log.flush()
    expect(done).toBe(10)
    await log.close()
  })

  describe('a damaged tail', () => {
    const good = [payload(0), payload(1, 40), payload(2, 7)]
    const last = payload(3, 23)
    const goodBytes = UPDATE_LOG_HEADER_BYTES + good.reduce((sum, p) => sum + RECORD_HEADER_BYTES + p.byteLength, 0)

    /** The earlier records survive, the tail is cut, the problem is reported, and the log works on. */
    async function expectRepaired (): Promise<void> {
      warnings = []
      const { log, records } = await UpdateLog.open(file, { onWarning })
      expect(records).toEqual(good)
      expect(warnings).toHaveLength(1)
      expect((await fs.stat(file)).size).toBe(goodBytes)
      await log.append(payload(9))
      await log.close()
      warnings = []
      expect(await reopen()).toEqual([...good, payload(9)])
      expect(warnings).toEqual([])
    }

    it('is cut at every byte of the last record', async () => {
      await writeLog([...good, last])
      const whole = await fs.readFile(file)
      expect(whole.byteLength).toBe(goodBytes + RECORD_HEADER_BYTES + last.byteLength)
      for (let cut = goodBytes + 1; cut < whole.byteLength; cut++) {
        await fs.writeFile(file, whole.subarray(0, cut))
        await expectRepaired()
      }
    })

    it('is cut when a payload byte is flipped', async () => {
      await writeLog([...good, last])
      const bytes = await fs.readFile(file)
      for (const index of [0, 11, last.byteLength - 1]) {
        const damaged = Buffer.from(bytes)
        damaged[goodBytes + RECORD_HEADER_BYTES + index] ^= 0x40
        await fs.writeFile(file, damaged)
        await expectRepaired()
      }
    })

    it('is cut when the CRC or the length is damaged', async () => {
      await writeLog([...good, last])
      const bytes = await fs.readFile(file)
      for (const offset of [0, 1, 4, 7]) {
        const damaged = Buffer.from(bytes)
        damaged[goodBytes + offset] ^= 0x01
        await fs.writeFile(file, damaged)
        await expectRepaired()
      }
    })

    it('is cut when garbage follows the records', async () => {
      await writeLog(good)
      const bytes = await fs.readFile(file)
      const absurd = Buffer.alloc(12)
      absurd.writeUInt32LE(0xffff_fff0, 0)
      const badCrc = Buffer.from(encodeRecord(payload(5)))
      badCrc.writeUInt32LE((badCrc.readUInt32LE(4) + 1) >>> 0, 4)
      const tails = [
        Buffer.from([0x01]),
        Buffer.from([1, 2, 3, 4, 5, 6, 7]),
        absurd,
        Buffer.alloc(4096), // zero-filled, as a file system may leave an extension it never wrote
        badCrc,
        Buffer.from('garbage that is longer than a record header, of no particular shape')
      ]
      for (const tail of tails) {
        await fs.writeFile(file, Buffer.concat([bytes, tail]))
        await expectRepaired()
      }
    })

    it('rejects a length over the bound without reading that far', async () => {
      await writeLog(good)
      const bytes = await fs.readFile(file)
      const big = Buffer.alloc(RECORD_HEADER_BYTES + 64)
      big.writeUInt32LE(64, 0)
      await fs.writeFile(file, Buffer.concat([bytes, big]))
      const { log, records } = await UpdateLog.open(file, { onWarning, maxRecordBytes: 63 })
      await log.close()
      expect(records).toEqual(good)
      expect(warnings.join()).toMatch(/exceeds the bound/)
    })

    it('recovers the records after a corrupt record in the middle and keeps the damaged bytes beside the log', async () => {
      await writeLog([...good, last])
      const bytes = await fs.readFile(file)
      const damaged = Buffer.from(bytes)
      damaged[UPDATE_LOG_HEADER_BYTES + RECORD_HEADER_BYTES] ^= 0xff
      await fs.writeFile(file, damaged)
      const records = await reopen()
      expect(records).toEqual([...good.slice(1), last])
      expect(warnings.join()).toMatch(/CRC mismatch at record 0.*recovered 3 after the damage/)
      const side = (await fs.readdir(path.dirname(file))).filter((f) => f.startsWith(`${path.basename(file)}.damaged-`))
      expect(side).toHaveLength(1)
      expect(await fs.readFile(path.join(path.dirname(file), side[0]))).toEqual(damaged.subarray(UPDATE_LOG_HEADER_BYTES, UPDATE_LOG_HEADER_BYTES + RECORD_HEADER_BYTES + good[0].byteLength))
      // the repaired log reads clean
      warnings = []
      expect(await reopen()).toEqual([...good.slice(1), last])
      expect(warnings).toEqual([])
    })
  })

  it('treats a torn file header as an empty log', async () => {
    const header = Buffer.from([0x53, 0x48, 0x55, 0x4c, 1, 0, 0, 0])
    for (let length = 0; length < header.byteLength; length++) {
      await fs.writeFile(file, header.subarray(0, length))
      warnings = []
      const { log, records } = await UpdateLog.open(file, { onWarning })
      expect(records).toEqual([])
      expect(warnings).toHaveLength(1)
      await log.append(payload(1))
      await log.close()
      expect(await reopen()).toEqual([payload(1)])
      await fs.rm(file)
    }
  })

  it('leaves a file that is not an update log, or of a newer version, untouched', async () => {
    await fs.writeFile(file, 'hello, this is not a log')
    await expect(UpdateLog.open(file, { onWarning })).rejects.toHaveProperty('name', 'UpdateLogFormatError')
    expect(await fs.readFile(file, 'utf8')).toBe('hello, this is not a log')

    await fs.writeFile(file, 'xy')
    await expect(UpdateLog.open(file, { onWarning })).rejects.toHaveProperty('name', 'UpdateLogFormatError')

    const newer = Buffer.from([0x53, 0x48, 0x55, 0x4c, 2, 0, 0, 0, 9, 9])
    await fs.writeFile(file, newer)
    await expect(UpdateLog.open(file, { onWarning })).rejects.toHaveProperty('name', 'UpdateLogVersionError')
    expect(await fs.readFile(file)).toEqual(newer)
  })

  it('removes a temp file left by an interrupted compaction', async () => {
    await writeLog([payload(0)])
    await fs.writeFile(`${file}.tmp`, 'half a snapshot')
    expect(await reopen()).toEqual([payload(0)])
    await expect(fs.stat(`${file}.tmp`)).rejects.toHaveProperty('code', 'ENOENT')
  })

  it('fails every later append after a write fails', async () => {
    const { log } = await UpdateLog.open(file, { onWarning })
    await log.append(payload(0))
    await fs.rm(file)
    await expect(log.append(payload(1))).rejects.toHaveProperty('name', 'UpdateLogFailedError')
    await expect(log.append(payload(2))).rejects.toHaveProperty('name', 'UpdateLogFailedError')
    await expect(log.flush()).rejects.toHaveProperty('name', 'UpdateLogFailedError')
    await log.close()
  })

  describe('compaction', () => {
    it('replaces the records with the snapshot and shrinks the file', async () => {
      const { log } = await UpdateLog.open(file, { onWarning })
      for (let i = 0; i < 20; i++) await log.append(payload(i, 100))
      const before = (await fs.stat(file)).size
      await log.compact(payload(99, 150))
      expect(log.recordCount).toBe(1)
      expect(log.byteLength).toBe(UPDATE_LOG_HEADER_BYTES + RECORD_HEADER_BYTES + 150)
      await log.append(payload(100))
      await log.close()
      expect((await fs.stat(file)).size).toBeLessThan(before)
      expect(await reopen()).toEqual([payload(99, 150), payload(100)])
      await expect(fs.stat(`${file}.tmp`)).rejects.toHaveProperty('code', 'ENOENT')
    })

    it('loses no append made around it', async () => {
      const { log } = await UpdateLog.open(file, { onWarning })
      const before = Array.from({ length: 5 }, async (_, i) => await log.append(payload(i)))
      const compaction = log.compact(payload(50))
      const after = Array.from({ length: 5 }, async (_, i) => await log.append(payload(i + 10)))
      await Promise.all([...before, compaction, ...after])
      const onDisk = scanUpdateLog(await fs.readFile(file)).records
      expect(onDisk).toEqual([payload(50), ...Array.from({ length: 5 }, (_, i) => payload(i + 10))])
      // Appends made while the compaction runs (not only in the same tick) land after the snapshot too.
      const second = log.compact(payload(60))
      await new Promise((resolve) => setImmediate(resolve))
      const late = log.append(payload(70))
      await Promise.all([second, late])
      await log.close()
      expect(await reopen()).toEqual([payload(60), payload(70)])
    })

    it('keeps the snapshot plus later appends', async () => {
      const { log } = await UpdateLog.open(file, { onWarning })
      const early = log.append(payload(1))
      const compaction = log.compact(payload(2))
      const later = [log.append(payload(3)), log.append(payload(4))]
      await Promise.all([early, compaction, ...later])
      await log.close()
      expect(await reopen()).toEqual([payload(2), payload(3), payload(4)])
    })
  })

  it('keeps every acknowledged record when the process is killed mid-burst', async () => {
    const child = fileURLToPath(new URL('./update-log.crash-child.ts', import.meta.url))
    const root = fileURLToPath(new URL('../..', import.meta.url))
    const acknowledged = new Set<number>()
    for (let round = 0; round < 3; round++) {
      const killAfter = 200 + Math.floor(Math.random() * 300)
      const stdout = await new Promise<string>((resolve, reject) => {
        const proc = spawn(process.execPath, ['--import', 'tsx', child, file], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
        let out = ''
        let err = ''
        let killed = false
        proc.stdout.setEncoding('utf8')
        proc.stdout.on('data', (data: string) => {
          out += data
          if (!killed && out.split('\n').length > killAfter) {
            killed = true
            proc.kill('SIGKILL')
          }
        })
        proc.stderr.on('data', (data: Buffer) => { err += data.toString() })
        proc.on('error', reject)
        proc.on('close', (_code, signal) => {
          if (signal === 'SIGKILL') resolve(out)
          else reject(new Error(`child ended without being killed: ${err}`))
        })
      })
      const lines = stdout.split('\n').filter((line) => line !== '')
      for (const line of lines) acknowledged.add(Number(line))
      expect(lines.length).toBeGreaterThanOrEqual(killAfter)

      warnings = []
      const records = await reopen()
      // The log holds records 0..n-1 in order, each intact, and n covers every acknowledged record.
      records.forEach((record, index) => {
        const view = new DataView(record.buffer, record.byteOffset, record.byteLength)
        expect(view.getUint32(0, true)).toBe(index)
        expect(record.byteLength).toBe(4 + index % 200)
        expect(record.subarray(4).every((b) => b === (index & 0xff))).toBe(true)
      })
      for (const index of acknowledged) expect(index).toBeLessThan(records.length)
    }
  })
})
