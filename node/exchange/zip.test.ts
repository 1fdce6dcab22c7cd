// The store-only ZIP writer checked by Python's zipfile (CRCs and sizes), and read back by our reader,
// which must notice a damaged entry.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { readZipDirectory, readZipEntry, writeZip, zipSize, ZipError, type ZipEntry } from './zip.ts'

const dir = mkdtempSync(join(tmpdir(), 'scanhub-zip-'))
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7) & 0xff)
const entry = (path: string, data: Uint8Array, chunk = 1000): ZipEntry => ({
  path,
  size: data.length,
  read: function * () { for (let i = 0; i < data.length; i += chunk) yield data.subarray(i, i + chunk) }
})

async function write (name: string, entries: ZipEntry[]): Promise<string> {
  const parts: Uint8Array[] = []
  for await (const part of writeZip(entries)) parts.push(part)
  const file = join(dir, name)
  writeFileSync(file, Buffer.concat(parts))
  return file
}

async function collect (chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const c of chunks) parts.push(c)
  return Buffer.concat(parts)
}

describe('store-only ZIP', () => {
  const contents = { 'DICOM/ST000001/SE000001/IM000001': bytes(5000, 1), 'RAW/EX000001/TK000001/Gr\u00fcn.mrd': bytes(123_457, 2), 'empty': new Uint8Array(0), 'manifest.json': Buffer.from('{"a":1}\n') }
  const entries = Object.entries(contents).map(([path, data]) => entry(path, data))

  it('is as large as announced, and Python\'s zipfile finds every entry intact', async () => {
    const file = await write('a.zip', entries)
    expect(readFileSync(file).length).toBe(zipSize(entries))
    const script = 'import sys, zipfile, json\nz = zipfile.ZipFile(sys.argv[1])\nprint(json.dumps({"bad": z.testzip(), "names": z.namelist(), "sizes": [i.file_size for i in z.infolist()]}))'
    const r = spawnSync('python3', ['-c', script, file], { encoding: 'utf8' })
    expect(r.status, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual({ bad: null, names: Object.keys(contents), sizes: Object.values(contents).map((c) => c.length) })
  })

  it('reads back what it wrote, and notices a damaged entry', async () => {
    const file = await write('b.zip', entries)
    const stored = await readZipDirectory(file)
    expect(stored.map((e) => e.path)).toEqual(Object.keys(contents))
    for (const e of stored) expect(new Uint8Array(await collect(readZipEntry(file, e, 777)))).toEqual(new Uint8Array(contents[e.path as keyof typeof contents]))
    const damaged = readFileSync(file)
    damaged[stored[1].dataOffset + 100] ^= 0xff
    writeFileSync(file, damaged)
    await expect(collect(readZipEntry(file, stored[1]))).rejects.toThrow(/CRC-32 mismatch/)
  })

  it('refuses an entry whose bytes differ from its announced size, and a file that is no ZIP', async () => {
    await expect(write('c.zip', [{ path: 'x', size: 10, read: () => [new Uint8Array(9)] }])).rejects.toThrow(ZipError)
    const junk = join(dir, 'junk.zip')
    writeFileSync(junk, 'not a zip at all')
    await expect(readZipDirectory(junk)).rejects.toThrow(/not a ZIP file/)
  })
})
