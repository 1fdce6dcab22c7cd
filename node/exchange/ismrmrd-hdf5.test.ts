// ISMRMRD HDF5 files written from MRD streams, read back by readers nobody on this project wrote:
// h5py (on Debian's libhdf5), Debian's ismrmrd tools (libismrmrd), and h5wasm through the lab's own
// importer. The source streams are made from ismrmrd_generate_cartesian_shepp_logan files.
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ACQUISITION_HEADER_SIZE, ENCODING_COUNTERS_SIZE, emptyAcquisitionHeader } from '../../protocol/mrd/acquisition-header.ts'
import { encodeAcquisitionMessage, encodeCloseMessage, encodeHeaderMessage, encodeTextMessage, encodeWaveformMessage } from '../../protocol/mrd/stream.ts'
import { emptyWaveformHeader } from '../../protocol/mrd/waveform.ts'
import type { Acquisition } from '../../protocol/mrd/types.ts'
import { DEBIAN_PYTHON, hasPythonModules, hasTool } from '../../test/support/external-tools.ts'
import { Hdf5WriteError, typeSize } from './hdf5-writer.ts'
import { ACQUISITION_HEADER_TYPE, ENCODING_COUNTERS_TYPE, IsmrmrdHdf5Error, planIsmrmrdHdf5, planIsmrmrdHdf5FromMrdStream } from './ismrmrd-hdf5.ts'

const hasGenerator = hasTool('ismrmrd_generate_cartesian_shepp_logan')
const hasRecon = hasTool('ismrmrd_recon_cartesian_2d')
const hasH5py = hasPythonModules('h5py', 'numpy')

let dir: string
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'scanhub-hdf5-write-')) })
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

function run (command: string, args: string[]): string {
  const result = spawnSync(command, args, { cwd: dir, encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}${result.stdout}`)
  return result.stdout
}

async function collect (chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const chunk of chunks) parts.push(chunk)
  return Buffer.concat(parts)
}

/** An MRD v1 stream of `acquisitions`, as the lab stores raw data. */
function mrdStream (xml: string, acquisitions: Acquisition[], extra: Uint8Array[] = []): Buffer {
  return Buffer.concat([encodeHeaderMessage(xml), ...extra, ...acquisitions.map(encodeAcquisitionMessage), encodeCloseMessage()])
}

/** Writes the ISMRMRD HDF5 file of an MRD stream; checks it has the size planned. */
async function writeFromStream (stream: Uint8Array, name: string): Promise<string> {
  // handed over in pieces, as a blob store reads a file
  const plan = await planIsmrmrdHdf5FromMrdStream(() => [stream.subarray(0, 1000), stream.subarray(1000)])
  const bytes = await collect(plan.bytes())
  expect(bytes.length).toBe(plan.size)
  // the same bytes every time: an export reads them once for its checksum and again to send them
  expect((await collect(plan.bytes())).equals(bytes)).toBe(true)
  const path = join(dir, name)
  writeFileSync(path, bytes)
  return path
}

/** The lab's importer of ISMRMRD HDF5 files (h5wasm), loaded as node/exchange/import.ts loads it. */
async function readIsmrmrdHdf5 (path: string): ReturnType<typeof import('../../recon-node/import/index.ts').readIsmrmrdHdf5> {
  const { readIsmrmrdHdf5: read } = await import('../../recon-node/import/index.ts')
  return await read(path)
}

/** Every acquisition of an ISMRMRD HDF5 file, read by the lab's importer. */
async function readBack (path: string): Promise<{ xml: string, acquisitions: Acquisition[] }> {
  const file = await readIsmrmrdHdf5(path)
  return { xml: file.xml, acquisitions: await file.readAcquisitions() }
}

/** Checks that two lists of acquisitions have the same bytes in an MRD stream: header, trajectory and data. */
function expectSameAcquisitions (actual: Acquisition[], expected: Acquisition[]): void {
  expect(actual).toHaveLength(expected.length)
  // compared as bytes, and only the indices that differ reported: a diff of MiB of samples is unreadable
  const differing = expected.flatMap((a, i) => Buffer.from(encodeAcquisitionMessage(a)).equals(encodeAcquisitionMessage(actual[i])) ? [] : [i])
  expect(differing, 'acquisitions that differ from the source').toEqual([])
}

describe('the ISMRMRD types', () => {
  it('have the sizes of ismrmrd.h', () => {
    expect(typeSize(ACQUISITION_HEADER_TYPE)).toBe(ACQUISITION_HEADER_SIZE)
    expect(typeSize(ENCODING_COUNTERS_TYPE)).toBe(ENCODING_COUNTERS_SIZE)
  })
})

describe.skipIf(!hasGenerator)('ISMRMRD HDF5 from a Shepp-Logan MRD stream', () => {
  // 4 coils; -k stores a 2-D trajectory with each readout, -C adds a noise readout without one
  let original: string
  let withTrajectory: string
  let written: string
  let writtenWithTrajectory: string
  let source: { xml: string, acquisitions: Acquisition[] }
  let sourceWithTrajectory: { xml: string, acquisitions: Acquisition[] }

  beforeAll(async () => {
    original = join(dir, 'shepp-logan.h5')
    run('ismrmrd_generate_cartesian_shepp_logan', ['-m', '32', '-c', '4', '-o', original])
    withTrajectory = join(dir, 'shepp-logan-k.h5')
    run('ismrmrd_generate_cartesian_shepp_logan', ['-m', '16', '-c', '3', '-k', '-C', '-o', withTrajectory])
    source = await readBack(original)
    sourceWithTrajectory = await readBack(withTrajectory)
    written = await writeFromStream(mrdStream(source.xml, source.acquisitions), 'written.h5')
    writtenWithTrajectory = await writeFromStream(mrdStream(sourceWithTrajectory.xml, sourceWithTrajectory.acquisitions), 'written-k.h5')
  }, 60_000)

  it('holds the source acquisitions byte for byte, read back by h5wasm (the lab\'s importer)', async () => {
    for (const [path, from] of [[written, source], [writtenWithTrajectory, sourceWithTrajectory]] as const) {
      const back = await readBack(path)
      expect(back.xml).toBe(from.xml)
      expectSameAcquisitions(back.acquisitions, from.acquisitions)
    }
    expect(source.acquisitions.every((a) => a.traj.length === 0 && a.head.activeChannels === 4)).toBe(true)
    const trajectories = sourceWithTrajectory.acquisitions.map((a) => a.traj.length)
    expect(trajectories).toContain(0)
    expect(trajectories.filter((n) => n > 0).length).toBeGreaterThan(1)
  })

  it.skipIf(!hasH5py)('is read by h5py: libismrmrd\'s member names, offsets and shapes, the XML, and the same rows as the generator\'s file', () => {
    const script = `
import sys, json, h5py, numpy as np
ours, theirs = h5py.File(sys.argv[1], 'r'), h5py.File(sys.argv[2], 'r')
d, e = ours['dataset/data'], theirs['dataset/data']
head = d.dtype['head']
out = {
  'names': list(d.dtype.names), 'offsets': [d.dtype.fields[n][1] for n in d.dtype.names], 'itemsize': d.dtype.itemsize,
  'shape': list(d.shape), 'head': {n: [str(head[n].base), list(head[n].shape)] for n in head.names},
  'idx': list(head['idx'].names), 'same_type_as_libismrmrd': d.dtype == e.dtype,
  'xml_same': ours['dataset/xml'][0] == theirs['dataset/xml'][0], 'xml_shape': list(ours['dataset/xml'].shape),
  'rows_same': all(a['head'].tobytes() == b['head'].tobytes() and np.array_equal(a['traj'], b['traj']) and np.array_equal(a['data'], b['data']) for a, b in zip(d[:], e[:])),
  'traj_lengths': sorted(set(len(r['traj']) for r in d[:])),
}
print(json.dumps(out))
`
    for (const [ours, theirs] of [[written, original], [writtenWithTrajectory, withTrajectory]]) {
      const read = JSON.parse(run(DEBIAN_PYTHON, ['-c', script, ours, theirs])) as Record<string, unknown>
      expect(read).toMatchObject({ names: ['head', 'traj', 'data'], offsets: [0, 344, 360], itemsize: 376, same_type_as_libismrmrd: true, xml_same: true, xml_shape: [1], rows_same: true })
      expect(read.head).toMatchObject({
        version: ['uint16', []], flags: ['uint64', []], physiology_time_stamp: ['uint32', [3]], channel_mask: ['uint64', [16]],
        sample_time_us: ['float32', []], position: ['float32', [3]], user_int: ['int32', [8]], user_float: ['float32', [8]]
      })
      expect(read.idx).toEqual(['kspace_encode_step_1', 'kspace_encode_step_2', 'average', 'slice', 'contrast', 'phase', 'repetition', 'set', 'segment', 'user'])
    }
  })

  it.skipIf(!hasRecon || !hasH5py)('is reconstructed by Debian\'s ismrmrd_recon_cartesian_2d into the image it makes of the generator\'s file', () => {
    // the tool writes its image into the file it reads: libhdf5 adds a group and datasets to ours
    const ours = join(dir, 'recon-ours.h5')
    const theirs = join(dir, 'recon-theirs.h5')
    copyFileSync(written, ours)
    copyFileSync(original, theirs)
    const log = run('ismrmrd_recon_cartesian_2d', [ours])
    expect(log).toMatch(/Number of acquisitions\s*:\s*32\b/)
    expect(log).toMatch(/Number of Channels\s*:\s*4\b/)
    run('ismrmrd_recon_cartesian_2d', [theirs])
    const compare = `
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1], 'r')['dataset/cpp/data'][()], h5py.File(sys.argv[2], 'r')['dataset/cpp/data'][()]
print(a.shape, float(np.abs(a - b).max()), float(np.abs(b).max()))
`
    const [shape, diff, peak] = run(DEBIAN_PYTHON, ['-c', compare, ours, theirs]).trim().split(/\) /).flatMap((s, i) => i === 0 ? [s + ')'] : s.split(' '))
    expect(shape).toBe('(1, 1, 1, 32, 32)')
    expect(Number(peak)).toBeGreaterThan(1)
    expect(Number(diff)).toBe(0)
  })

  it.skipIf(!hasRecon || !hasH5py)('keeps a header with non-ASCII text as UTF-8 bytes that libismrmrd reads', async () => {
    const xml = source.xml.replace(/<institutionName>[^<]*</, '<institutionName>Universität Zoë<')
    expect(xml).not.toBe(source.xml)
    const path = await writeFromStream(mrdStream(xml, source.acquisitions), 'utf8.h5')
    const read = run(DEBIAN_PYTHON, ['-c', 'import sys, h5py; print(h5py.File(sys.argv[1], "r")["dataset/xml"][0].decode("utf-8") == sys.argv[2])', path, xml]).trim()
    expect(read).toBe('True')
    expect(run('ismrmrd_recon_cartesian_2d', [path])).toMatch(/Number of acquisitions\s*:\s*32\b/)
    expect((await readIsmrmrdHdf5(path)).xml).toContain('<institutionName>Universität Zoë<')
  })

  it.skipIf(!hasTool('ismrmrd_info'))('is opened by ismrmrd_info', () => {
    // ismrmrd_info 1.8 prints the library's version only, whatever the file: it must not fail on ours
    expect(run('ismrmrd_info', [written])).toContain('Dataset support: yes')
  })
})

/** A synthetic acquisition with every header field set, the 64-bit ones above 2^53. */
function acquisition (n: number, channels: number, samples: number, trajectoryDimensions: number): Acquisition {
  const head = emptyAcquisitionHeader()
  Object.assign(head, {
    flags: (1n << 63n) | BigInt(n), measurementUid: 7, scanCounter: n, acquisitionTimeStamp: 1000 + n, physiologyTimeStamp: [1, 2, 3],
    numberOfSamples: samples, availableChannels: channels, activeChannels: channels, channelMask: Array.from({ length: 16 }, (_, i) => (1n << 63n) + BigInt(i)),
    discardPre: 1, discardPost: 2, centerSample: samples / 2, encodingSpaceRef: 0, trajectoryDimensions, sampleTimeUs: 2.5,
    position: [1.5, -2, 3], readDir: [1, 0, 0], phaseDir: [0, 1, 0], sliceDir: [0, 0, 1], patientTablePosition: [0, 0, -100],
    userInt: [-1, 2, -3, 4, -5, 6, -7, n], userFloat: [0.5, 1, 2, 3, 4, 5, 6, n]
  })
  head.idx = { ...head.idx, kspaceEncodeStep1: n, slice: n % 3, user: [1, 2, 3, 4, 5, 6, 7, 8] }
  const data = Float32Array.from({ length: 2 * channels * samples }, (_, i) => Math.sin(n * 1000 + i))
  const traj = Float32Array.from({ length: trajectoryDimensions * samples }, (_, i) => i / samples - n)
  return { head, data, traj }
}

const XML = '<?xml version="1.0"?><ismrmrdHeader xmlns="http://www.ismrm.org/ISMRMRD"><experimentalConditions><H1resonanceFrequency_Hz>63500000</H1resonanceFrequency_Hz></experimentalConditions><encoding><encodedSpace><matrixSize><x>64</x><y>40</y><z>1</z></matrixSize><fieldOfView_mm><x>256</x><y>256</y><z>5</z></fieldOfView_mm></encodedSpace><reconSpace><matrixSize><x>64</x><y>40</y><z>1</z></matrixSize><fieldOfView_mm><x>256</x><y>256</y><z>5</z></fieldOfView_mm></reconSpace><trajectory>cartesian</trajectory></encoding><subjectInformation><patientName>Lovelace^Ada</patientName></subjectInformation></ismrmrdHeader>'

describe('ISMRMRD HDF5 of synthetic raw data', () => {
  it('spreads data of several MiB over several heap collections; 64-bit fields survive; h5wasm and h5py read it back exactly', async () => {
    // 40 readouts of 16 coils × 1024 samples: 128 KiB each, about 5 MiB in all
    const acquisitions = Array.from({ length: 40 }, (_, n) => acquisition(n, 16, 1024, n % 2 === 0 ? 0 : 3))
    const path = await writeFromStream(mrdStream(XML, acquisitions), 'synthetic.h5')
    const collections = readFileSync(path).toString('latin1').split('GCOL').length - 1
    expect(collections).toBeGreaterThan(3)
    const back = await readBack(path)
    expect(back.xml).toBe(XML)
    expectSameAcquisitions(back.acquisitions, acquisitions)
    expect(back.acquisitions[5].head.channelMask[15]).toBe((1n << 63n) + 15n)
    if (!hasH5py) return
    // libhdf5 (through h5py) finds every sample in its collection too
    const dump = join(dir, 'synthetic-samples.bin')
    run(DEBIAN_PYTHON, ['-c', 'import sys, h5py; rows = h5py.File(sys.argv[1], "r")["dataset/data"][:]; open(sys.argv[2], "wb").write(b"".join(r["traj"].tobytes() + r["data"].tobytes() for r in rows))', path, dump])
    const expected = Buffer.concat(acquisitions.flatMap((a) => [Buffer.from(a.traj.buffer, a.traj.byteOffset, a.traj.byteLength), Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength)]))
    expect(readFileSync(dump).equals(expected)).toBe(true)
  })

  it.skipIf(!hasH5py)('with no acquisitions is an empty /dataset/data that h5py and h5wasm read', async () => {
    const path = await writeFromStream(mrdStream(XML, []), 'empty.h5')
    const read = run(DEBIAN_PYTHON, ['-c', 'import sys, h5py; f = h5py.File(sys.argv[1], "r"); print(f["dataset/data"].shape, f["dataset/xml"][0].decode("utf-8") == sys.argv[2])', path, XML]).trim()
    expect(read).toBe('(0,) True')
    const file = await readIsmrmrdHdf5(path)
    expect(file.count).toBe(0)
  })

  it('says what of an MRD stream it leaves out, and refuses a stream without an XML header or one that is cut off', async () => {
    const waveform = encodeWaveformMessage({ head: { ...emptyWaveformHeader(), numberOfSamples: 2, channels: 1 }, data: Uint32Array.from([1, 2]) })
    const stream = mrdStream(XML, [acquisition(0, 2, 8, 0)], [waveform, waveform, encodeTextMessage('hello')])
    const plan = await planIsmrmrdHdf5FromMrdStream(() => [stream])
    expect(plan.acquisitions).toBe(1)
    expect(plan.leftOut).toEqual(['2 waveforms', '1 text message'])

    const headless = Buffer.concat([encodeAcquisitionMessage(acquisition(0, 2, 8, 0)), encodeCloseMessage()])
    await expect(planIsmrmrdHdf5FromMrdStream(() => [headless])).rejects.toThrow(new IsmrmrdHdf5Error('the raw data has no ISMRMRD XML header, which an ISMRMRD HDF5 file needs'))
    await expect(planIsmrmrdHdf5FromMrdStream(() => [stream.subarray(0, stream.length - 10)])).rejects.toThrow(/not a readable MRD stream: .*truncated/)
  })

  it('refuses raw data that changes between the passes over it', async () => {
    let pass = 0
    const plan = await planIsmrmrdHdf5({ xml: XML, acquisitions: () => [acquisition(0, 2, pass++ === 0 ? 8 : 16, 0)] })
    await expect(collect(plan.bytes())).rejects.toThrow(Hdf5WriteError)
    await expect(collect(plan.bytes())).rejects.toThrow(/acquisition 0 differs from when the file was laid out/)
  })
})
