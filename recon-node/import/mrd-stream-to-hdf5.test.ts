// Round trip through Debian's ismrmrd tools: an HDF5 file from ismrmrd_generate_cartesian_shepp_logan
// is imported, written as our MRD v1 stream, converted back to HDF5 by mrd-stream-to-hdf5.py, and
// reconstructed by ismrmrd_recon_cartesian_2d; the image must equal the reconstruction of the original.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Acquisition } from '../../protocol/mrd/types.ts'
import {
  decodeMrdStream, emptyWaveformHeader, encodeAcquisitionMessage, encodeCloseMessage, encodeConfigFileMessage,
  encodeHeaderMessage, encodeTextMessage, encodeWaveformMessage, isAcquisitionMessage, isHeaderMessage,
  parseIsmrmrdXml, writeIsmrmrdXml
} from '../../protocol/mrd/index.ts'
import { readIsmrmrdHdf5 } from './read-ismrmrd-hdf5.ts'
import { DEBIAN_PYTHON, hasPythonModules, hasTool } from '../../test/support/external-tools.ts'

const HELPER = join(dirname(fileURLToPath(import.meta.url)), 'mrd-stream-to-hdf5.py')
const ready = hasTool('ismrmrd_generate_cartesian_shepp_logan') && hasTool('ismrmrd_recon_cartesian_2d') && hasPythonModules('h5py', 'numpy')

let dir: string
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'scanhub-mrd-roundtrip-')) })
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

function run (command: string, args: string[]): { status: number | null, stdout: string, stderr: string } {
  return spawnSync(command, args, { cwd: dir, encoding: 'utf8' })
}

function mustRun (command: string, args: string[]): string {
  const r = run(command, args)
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`)
  return r.stdout
}

function concat (parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) { out.set(p, at); at += p.length }
  return out
}

async function collect (iterable: AsyncIterable<Acquisition>): Promise<Acquisition[]> {
  const out: Acquisition[] = []
  for await (const a of iterable) out.push(a)
  return out
}

describe.skipIf(!ready)('MRD stream → mrd-stream-to-hdf5.py → ismrmrd_recon_cartesian_2d', () => {
  for (const [matrix, coils] of [[64, 4], [96, 2]]) {
    it(`reconstructs our stream of a ${matrix}² ${coils}-coil phantom exactly as the original file`, async () => {
      const original = join(dir, `orig-${matrix}.h5`)
      mustRun('ismrmrd_generate_cartesian_shepp_logan', ['-m', String(matrix), '-c', String(coils), '-o', original])
      const imported = await readIsmrmrdHdf5(original)
      const acquisitions = await collect(imported.acquisitions)

      // Our XML writer's output, so that ismrmrd's own C++ parser reads it too.
      const xml = writeIsmrmrdXml(parseIsmrmrdXml(imported.xml))
      const stream = concat([encodeHeaderMessage(xml), ...acquisitions.map(encodeAcquisitionMessage), encodeCloseMessage()])
      const streamPath = join(dir, `ours-${matrix}.mrd`)
      writeFileSync(streamPath, stream)

      // The stream decodes back to what was imported.
      const decoded = decodeMrdStream(new Uint8Array(readFileSync(streamPath)))
      expect(decoded.filter(isHeaderMessage).map((m) => m.xml)).toEqual([xml])
      expect(decoded.filter(isAcquisitionMessage).map((m) => m.acquisition)).toEqual(acquisitions)

      const converted = join(dir, `ours-${matrix}.h5`)
      expect(mustRun(DEBIAN_PYTHON, [HELPER, streamPath, converted])).toMatch(new RegExp(`${acquisitions.length} acquisitions written`))
      const reference = join(dir, `orig-${matrix}-recon.h5`)
      copyFileSync(original, reference) // the recon tool writes its image into the file it reads
      mustRun('ismrmrd_recon_cartesian_2d', [converted])
      mustRun('ismrmrd_recon_cartesian_2d', [reference])

      const comparison = JSON.parse(mustRun(DEBIAN_PYTHON, ['-c', `
import sys, json, h5py, numpy as np
a = h5py.File(sys.argv[1], 'r'); b = h5py.File(sys.argv[2], 'r')
ia = a['dataset/cpp/data'][...]; ib = b['dataset/cpp/data'][...]
ta = a['dataset/data'].id.get_type(); tb = b['dataset/data'].id.get_type()
layout = lambda t: [(t.get_member_name(i).decode(), t.get_member_offset(i)) for i in range(t.get_nmembers())] + [t.get_size()]
da = a['dataset/data']; db = b['dataset/data']
print(json.dumps({
  'shape': list(ib.shape), 'sameShape': ia.shape == ib.shape,
  'maxDiff': float(np.abs(ia - ib).max()), 'maxValue': float(np.abs(ia).max()),
  'layoutOurs': layout(tb), 'layoutOriginal': layout(ta),
  'headsEqual': bool(all(da[i]['head'].tobytes() == db[i]['head'].tobytes() for i in range(len(da)))),
}))
`, reference, converted]))
      expect(comparison.sameShape).toBe(true)
      expect(comparison.shape.slice(-2)).toEqual([matrix, matrix])
      expect(comparison.maxValue).toBeGreaterThan(0)
      expect(comparison.maxDiff).toBe(0)
      expect(comparison.layoutOurs).toEqual(comparison.layoutOriginal)
      expect(comparison.layoutOurs).toEqual([['head', 0], ['traj', 344], ['data', 360], 376])
      expect(comparison.headsEqual).toBe(true)
    })
  }

  it('skips what it does not convert and accepts NUL-terminated headers', async () => {
    const original = join(dir, 'orig-64.h5')
    const imported = await readIsmrmrdHdf5(original)
    const acquisitions = await imported.readAcquisitions(0, 4)
    const waveform = { head: { ...emptyWaveformHeader(), channels: 1, numberOfSamples: 3 }, data: Uint32Array.of(1, 2, 3) }
    const stream = concat([
      encodeConfigFileMessage('default.xml'),
      encodeHeaderMessage(imported.xml, { nulTerminated: true }),
      encodeTextMessage('hello'),
      encodeWaveformMessage(waveform),
      ...acquisitions.map(encodeAcquisitionMessage),
      encodeCloseMessage()
    ])
    const streamPath = join(dir, 'mixed.mrd')
    writeFileSync(streamPath, stream)
    const out = join(dir, 'mixed.h5')
    expect(mustRun(DEBIAN_PYTHON, [HELPER, streamPath, out])).toMatch(/4 acquisitions written/)
    const xmlBack = mustRun(DEBIAN_PYTHON, ['-c', "import sys, h5py; x = h5py.File(sys.argv[1], 'r')['dataset/xml'][0]; sys.stdout.write(x.decode() if isinstance(x, bytes) else x)", out])
    expect(xmlBack).toBe(imported.xml)
  })

  it('refuses a truncated stream with a message and exit code 2', () => {
    const bytes = concat([encodeHeaderMessage('<x/>'), encodeCloseMessage()])
    const streamPath = join(dir, 'truncated.mrd')
    writeFileSync(streamPath, bytes.subarray(0, 5))
    const r = run(DEBIAN_PYTHON, [HELPER, streamPath, join(dir, 'never.h5')])
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/stream truncated at offset 2 inside a text length/)
  })
})
