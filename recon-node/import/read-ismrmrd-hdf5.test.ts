import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as h5wasm from 'h5wasm/node'
import type { Acquisition } from '../../protocol/mrd/types.ts'
import { AcquisitionFlag, hasFlag } from '../../protocol/mrd/flags.ts'
import { readIsmrmrdHdf5 } from './read-ismrmrd-hdf5.ts'
import type { MrdWarning } from '../../protocol/mrd/xml-header.ts'
import { IsmrmrdImportError } from './errors.ts'
import { DEBIAN_PYTHON, fixture, hasFixtures, hasPythonModules, hasTool } from '../../test/support/external-tools.ts'

const hasGenerator = hasTool('ismrmrd_generate_cartesian_shepp_logan')
const hasPython = hasPythonModules('h5py', 'numpy')
const OSI2ONE = fixture('ismrmrd', 'osi2one_tse3d.h5')

let dir: string
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'scanhub-hdf5-')) })
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

function run (command: string, args: string[]): string {
  const result = spawnSync(command, args, { cwd: dir, encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}${result.stdout}`)
  return result.stdout
}

function python (script: string, ...args: string[]): string {
  return run(DEBIAN_PYTHON, ['-c', script, ...args])
}

/** Writes an ISMRMRD file with the generator; returns its path. */
function generate (name: string, args: string[]): string {
  const out = join(dir, name)
  run('ismrmrd_generate_cartesian_shepp_logan', [...args, '-o', out])
  return out
}

interface PyRow {
  index: number
  version: number
  flags: string
  scan_counter: number
  number_of_samples: number
  available_channels: number
  active_channels: number
  trajectory_dimensions: number
  center_sample: number
  sample_time_us: number
  read_dir: number[]
  channel_mask0: string
  kspace_encode_step_1: number
  kspace_encode_step_2: number
  repetition: number
  user_int: number[]
  data: number[]
  traj: number[]
}

/** What h5py reads from the same file: the reference the importer is checked against. */
function readWithH5py (path: string, rows: number[], group = 'dataset'): { count: number, xml: string, absSum: number, rows: PyRow[] } {
  const script = `
import sys, json, h5py, numpy as np
f = h5py.File(sys.argv[1], 'r'); g = f[sys.argv[2]]; d = g['data']
xml = g['xml'][0]
xml = xml.decode() if isinstance(xml, bytes) else xml
out = {'count': len(d), 'xml': xml, 'rows': [], 'absSum': float(sum(np.abs(r['data'].astype(np.float64)).sum() for r in d))}
for i in [int(x) for x in sys.argv[3].split(',') if x]:
    r = d[i]; h = r['head']; idx = h['idx']
    out['rows'].append({'index': i, 'version': int(h['version']), 'flags': str(int(h['flags'])),
      'scan_counter': int(h['scan_counter']), 'number_of_samples': int(h['number_of_samples']),
      'available_channels': int(h['available_channels']), 'active_channels': int(h['active_channels']),
      'trajectory_dimensions': int(h['trajectory_dimensions']), 'center_sample': int(h['center_sample']),
      'sample_time_us': float(h['sample_time_us']), 'read_dir': [float(x) for x in h['read_dir']],
      'channel_mask0': str(int(h['channel_mask'][0])),
      'kspace_encode_step_1': int(idx['kspace_encode_step_1']), 'kspace_encode_step_2': int(idx['kspace_encode_step_2']),
      'repetition': int(idx['repetition']), 'user_int': [int(x) for x in h['user_int']],
      'data': [float(x) for x in r['data']], 'traj': [float(x) for x in r['traj']]})
print(json.dumps(out))
`
  return JSON.parse(python(script, path, group, rows.join(',')))
}

function expectRowMatches (ours: Acquisition, py: PyRow): void {
  const h = ours.head
  expect({
    version: h.version,
    flags: h.flags.toString(),
    scan_counter: h.scanCounter,
    number_of_samples: h.numberOfSamples,
    available_channels: h.availableChannels,
    active_channels: h.activeChannels,
    trajectory_dimensions: h.trajectoryDimensions,
    center_sample: h.centerSample,
    sample_time_us: h.sampleTimeUs,
    read_dir: h.readDir,
    channel_mask0: h.channelMask[0].toString(),
    kspace_encode_step_1: h.idx.kspaceEncodeStep1,
    kspace_encode_step_2: h.idx.kspaceEncodeStep2,
    repetition: h.idx.repetition,
    user_int: h.userInt
  }).toEqual({ ...py, index: undefined, data: undefined, traj: undefined })
  expect(Array.from(ours.data)).toEqual(py.data)
  expect(Array.from(ours.traj)).toEqual(py.traj)
}

async function collect (iterable: AsyncIterable<Acquisition>): Promise<Acquisition[]> {
  const out: Acquisition[] = []
  for await (const a of iterable) out.push(a)
  return out
}

describe.skipIf(!hasGenerator || !hasPython)('readIsmrmrdHdf5 on files from ismrmrd_generate_cartesian_shepp_logan', () => {
  const cases = [
    { name: 'm32c2.h5', args: ['-m', '32', '-c', '2'], matrix: 32, coils: 2 },
    { name: 'm48c3-traj-noise-rep2.h5', args: ['-m', '48', '-c', '3', '-k', '-C', '-r', '2'], matrix: 48, coils: 3 },
    { name: 'm64c8-os1.h5', args: ['-m', '64', '-c', '8', '-O', '1', '-n', '0'], matrix: 64, coils: 8 }
  ]

  for (const c of cases) {
    it(`reads ${c.name} as h5py does`, async () => {
      const path = generate(c.name, c.args)
      const warnings: MrdWarning[] = []
      const imported = await readIsmrmrdHdf5(path, { onWarning: (w) => warnings.push(w) })
      const reference = readWithH5py(path, [0, 1, 2])
      expect(imported.count).toBe(reference.count)
      expect(imported.xml).toBe(reference.xml)
      expect(imported.header.encoding[0].encodedSpace.matrixSize.y).toBe(c.matrix)
      expect(imported.header.acquisitionSystemInformation?.receiverChannels).toBe(c.coils)

      const all = await collect(imported.acquisitions)
      expect(all).toHaveLength(reference.count)
      for (const row of reference.rows) expectRowMatches(all[row.index], row)
      const absSum = all.reduce((s, a) => s + a.data.reduce((t, v) => t + Math.abs(v), 0), 0)
      expect(absSum).toBeCloseTo(reference.absSum, 6)
      for (const a of all) expect(a.data.length).toBe(2 * a.head.activeChannels * a.head.numberOfSamples)
      expect(warnings).toEqual([])
      expect(imported.warnings).toEqual([])
    })
  }

  it('reads trajectories and the noise-calibration flag', async () => {
    const path = join(dir, 'm48c3-traj-noise-rep2.h5')
    const all = await collect((await readIsmrmrdHdf5(path)).acquisitions)
    expect(hasFlag(all[0].head.flags, AcquisitionFlag.IS_NOISE_MEASUREMENT)).toBe(true)
    expect(all[1].head.trajectoryDimensions).toBe(2)
    expect(all[1].traj).toHaveLength(2 * all[1].head.numberOfSamples)
    expect(new Set(all.map((a) => a.head.idx.repetition))).toEqual(new Set([0, 1]))
    expect(all.filter((a) => hasFlag(a.head.flags, AcquisitionFlag.LAST_IN_SLICE))).toHaveLength(2)
  })

  it('gives the same acquisitions whatever the hyperslab size, by range, and through Dataset.slice()', async () => {
    const path = join(dir, 'm48c3-traj-noise-rep2.h5')
    const byDefault = await collect((await readIsmrmrdHdf5(path)).acquisitions)
    const oneByOne = await collect((await readIsmrmrdHdf5(path, { sliceBytes: 1 })).acquisitions)
    const viaSlice = await readIsmrmrdHdf5(path, { reader: 'slice', sliceBytes: 5000 })
    expect(oneByOne).toEqual(byDefault)
    expect(await collect(viaSlice.acquisitions)).toEqual(byDefault)
    const imported = await readIsmrmrdHdf5(path)
    expect(await imported.readAcquisitions(10, 20)).toEqual(byDefault.slice(10, 20))
    expect(await imported.readAcquisitions()).toEqual(byDefault)
    expect(await imported.readAcquisitions(5, 5)).toEqual([])
    await expect(imported.readAcquisitions(0, imported.count + 1)).rejects.toThrow(RangeError)
  })

  it('does not leak wasm memory across reads (Dataset.slice() would)', async () => {
    const path = generate('m128c8.h5', ['-m', '128', '-c', '8'])
    const imported = await readIsmrmrdHdf5(path)
    await imported.readAcquisitions()
    await imported.readAcquisitions()
    const heap = h5wasm.Module.HEAPU8.length
    for (let i = 0; i < 5; i++) await imported.readAcquisitions()
    expect(h5wasm.Module.HEAPU8.length).toBe(heap)
  })

  it('stops reading and closes the file when the caller breaks off', async () => {
    const imported = await readIsmrmrdHdf5(join(dir, 'm32c2.h5'), { sliceBytes: 1 })
    let n = 0
    for await (const a of imported.acquisitions) {
      expect(a.head.idx.kspaceEncodeStep1).toBe(n)
      if (++n === 3) break
    }
    expect(n).toBe(3)
    expect(await collect(imported.acquisitions)).toHaveLength(imported.count)
  })

  it('reads a head laid out differently, by member name (aligned, as numpy align=True writes it)', async () => {
    const source = join(dir, 'm32c2.h5')
    const aligned = join(dir, 'aligned.h5')
    python(`
import sys, h5py, numpy as np
src = h5py.File(sys.argv[1], 'r')['dataset']
d = src['data']
head = d.dtype['head']
aligned = np.dtype([(n, head.fields[n][0]) for n in head.names], align=True)
row = np.dtype([('head', aligned), ('traj', h5py.vlen_dtype(np.float32)), ('data', h5py.vlen_dtype(np.float32))])
rows = np.zeros(len(d), dtype=row)
for i in range(len(d)):
    for n in head.names: rows[i]['head'][n] = d[i]['head'][n]
    rows[i]['traj'] = d[i]['traj']; rows[i]['data'] = d[i]['data']
with h5py.File(sys.argv[2], 'w') as f:
    g = f.create_group('dataset')
    g.create_dataset('xml', data=src['xml'][...])
    g.create_dataset('data', data=rows)
    assert aligned.fields['flags'][1] == 8, aligned.fields['flags']
`, source, aligned)
    const expected = await collect((await readIsmrmrdHdf5(source)).acquisitions)
    expect(await collect((await readIsmrmrdHdf5(aligned)).acquisitions)).toEqual(expected)
  })

  it('reads another group than /dataset', async () => {
    const path = generate('other-group.h5', ['-m', '32', '-c', '1', '-d', 'scan7'])
    const imported = await readIsmrmrdHdf5(path, { dataset: 'scan7' })
    expect(imported.count).toBe(32)
    await expect(readIsmrmrdHdf5(path)).rejects.toThrow(/no \/dataset\/xml/)
  })
})

describe.skipIf(!hasFixtures() || !hasPython)('readIsmrmrdHdf5 on the OSI2 ONE fixture (real scanner data with header bugs)', () => {
  it('imports it, with warnings for the impossible field strength and frequency and the missing flags', async () => {
    const seen: MrdWarning[] = []
    const imported = await readIsmrmrdHdf5(OSI2ONE, { onWarning: (w) => seen.push(w) })
    expect(imported.count).toBe(1000)
    expect(imported.header.acquisitionSystemInformation?.systemVendor).toBe('osi2')
    expect(imported.header.encoding[0].encodedSpace.matrixSize).toEqual({ x: 100, y: 100, z: 10 })
    // Header warnings are there before any acquisition is read.
    const headerPaths = imported.warnings.map((w) => w.path)
    expect(headerPaths).toContain('acquisitionSystemInformation/systemFieldStrength_T')
    expect(headerPaths).toContain('experimentalConditions/H1resonanceFrequency_Hz')
    expect(imported.warnings.find((w) => w.path.endsWith('systemFieldStrength_T'))?.message).toMatch(/48511\.9775 T is implausible.*µT/)

    const all = await collect(imported.acquisitions)
    expect(all).toHaveLength(1000)
    expect(new Set(all.map((a) => a.head.numberOfSamples))).toEqual(new Set([100]))
    expect(new Set(all.map((a) => a.head.trajectoryDimensions))).toEqual(new Set([3]))
    expect(all.every((a) => a.head.flags === 0n)).toBe(true)
    expect(all.every((a) => a.traj.length === 300 && a.data.length === 200)).toBe(true)
    const flagWarning = imported.warnings.find((w) => w.path === '/dataset/data/head/flags')
    expect(flagWarning?.message).toMatch(/none of the 1000 acquisitions has a flag set/)
    expect(imported.warnings.find((w) => w.path === '/dataset/data/head/available_channels')?.message).toMatch(/1 active channels but 0 available/)
    // Each warning once, and the callback saw exactly the same.
    expect(new Set(imported.warnings.map((w) => w.path)).size).toBe(imported.warnings.length)
    expect(seen).toEqual(imported.warnings)

    const reference = readWithH5py(OSI2ONE, [0, 1, 500, 999])
    for (const row of reference.rows) expectRowMatches(all[row.index], row)
    // The k-space centre (step1 50, step2 5) is where the signal peaks.
    const centre = all.find((a) => a.head.idx.kspaceEncodeStep1 === 50 && a.head.idx.kspaceEncodeStep2 === 5)
    expect(centre).toBeDefined()
  })
})

describe('readIsmrmrdHdf5 on files that are not ISMRMRD', () => {
  it('names a missing file', async () => {
    const missing = join(tmpdir(), 'scanhub-no-such-file.h5')
    const err = await readIsmrmrdHdf5(missing).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(IsmrmrdImportError)
    expect((err as Error).name).toBe('IsmrmrdImportError')
    expect((err as Error).message).toMatch(/cannot read .*scanhub-no-such-file\.h5/)
  })

  it('refuses a file that is not HDF5 without h5wasm printing HDF5 errors', async () => {
    const text = join(dir, 'not-hdf5.h5')
    writeFileSync(text, 'this is not HDF5\n'.repeat(100))
    await expect(readIsmrmrdHdf5(text)).rejects.toThrow(/not an HDF5 file/)
    await expect(readIsmrmrdHdf5(dir)).rejects.toThrow(/is not a file/)
  })

  it.skipIf(!hasPython)('refuses HDF5 files without the ISMRMRD layout, with a clear message', async () => {
    const make = (name: string, body: string): string => {
      const path = join(dir, name)
      python(`
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], 'w') as f:
${body.trim().split('\n').map((l) => '    ' + l).join('\n')}
`, path)
      return path
    }
    const xml = `'<ismrmrdHeader><experimentalConditions><H1resonanceFrequency_Hz>63500000</H1resonanceFrequency_Hz></experimentalConditions><encoding><encodedSpace><matrixSize><x>2</x><y>1</y><z>1</z></matrixSize><fieldOfView_mm><x>1</x><y>1</y><z>1</z></fieldOfView_mm></encodedSpace><reconSpace><matrixSize><x>2</x><y>1</y><z>1</z></matrixSize><fieldOfView_mm><x>1</x><y>1</y><z>1</z></fieldOfView_mm></reconSpace><trajectory>cartesian</trajectory></encoding></ismrmrdHeader>'`
    const empty = make('empty.h5', `f.create_group('other')`)
    await expect(readIsmrmrdHdf5(empty)).rejects.toThrow(/not an ISMRMRD file: no \/dataset\/xml/)
    const noData = make('nodata.h5', `f.create_dataset('dataset/xml', data=[${xml}])`)
    await expect(readIsmrmrdHdf5(noData)).rejects.toThrow(/no \/dataset\/data/)
    const floats = make('floats.h5', `f.create_dataset('dataset/xml', data=[${xml}])\nf.create_dataset('dataset/data', data=np.zeros(4, 'f4'))`)
    await expect(readIsmrmrdHdf5(floats)).rejects.toThrow(/not an ISMRMRD acquisition table: HDF5 type class 1/)
    const badXml = make('badxml.h5', `f.create_dataset('dataset/xml', data=['<html/>'])\nf.create_dataset('dataset/data', data=np.zeros(4, 'f4'))`)
    const err = await readIsmrmrdHdf5(badXml).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(IsmrmrdImportError)
    expect((err as Error).message).toMatch(/unreadable ISMRMRD header: not an ISMRMRD header: the root element is <html>/)
    expect((err as Error).cause).toBeDefined()
  })

  it.skipIf(!hasPython || !hasGenerator)('refuses acquisitions whose data disagree with their header, naming the acquisition', async () => {
    const source = generate('for-corruption.h5', ['-m', '32', '-c', '2'])
    const corrupt = join(dir, 'corrupt.h5')
    python(`
import sys, shutil, h5py, numpy as np
shutil.copy(sys.argv[1], sys.argv[2])
with h5py.File(sys.argv[2], 'r+') as f:
    d = f['dataset/data']
    row = d[7]
    row['data'] = row['data'][:10]
    d[7] = row
`, source, corrupt)
    const imported = await readIsmrmrdHdf5(corrupt)
    await expect(imported.readAcquisitions(0, 7)).resolves.toHaveLength(7)
    await expect(collect(imported.acquisitions)).rejects.toThrow(/\/dataset\/data\[7\]: data has 10 floats, but the header announces 2 channels × 64 samples = 256/)
  })
})
