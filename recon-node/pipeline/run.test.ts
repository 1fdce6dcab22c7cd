import { spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { DEBIAN_PYTHON, fixture, hasFixtures, hasPythonModules } from '../../test/support/external-tools.ts'
import type { Acquisition } from '../../protocol/mrd/types.ts'
import { createFftPool, InThreadFft } from '../fft/pool.ts'
import { nrmse, scaledNrmse } from '../fft/test-support.ts'
import { PipelineAbortedError } from '../stages/errors.ts'
import { flagsOf, IS_NOISE_MEASUREMENT, IS_REVERSE, LAST_IN_SLICE } from '../stages/flags.ts'
import type { Message, ReconHeader } from '../stages/stage.ts'
import { makeAcquisition } from '../stages/test-acquisitions.ts'
import { benchmarkRecon } from './bench.ts'
import { DEFAULT_CHAIN } from './chain.ts'
import { readIsmrmrdH5 } from './h5-test-data.ts'
import type { ReconImage } from './image.ts'
import { runPipeline, type ReconProgress } from './run.ts'

const pool = createFftPool({ size: 2 })
afterAll(async () => { await pool.close() })

// numpy's centred 3-D inverse FFT of the fixture, placed by the same counters
const NUMPY_3D = `
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], 'r')
k = np.zeros((10, 100, 100), complex)
for a in f['dataset/data']:
    h = a['head']
    d = a['data'].view(np.float32)
    k[int(h['idx']['kspace_encode_step_2']), int(h['idx']['kspace_encode_step_1']), :] = d[0::2] + 1j * d[1::2]
img = np.abs(np.fft.fftshift(np.fft.ifftn(np.fft.ifftshift(k))) * k.size)
img.astype(np.float32).tofile(sys.argv[2])
`

function header2d (x: number, y: number): ReconHeader {
  return {
    encodedMatrix: { x, y, z: 1 },
    reconMatrix: { x, y, z: 1 },
    fovMm: { encoded: { x: 200, y: 200, z: 4 }, recon: { x: 200, y: 200, z: 4 } }
  }
}

function slice2d (slice: number, lines: number, samples: number, last = true): Acquisition[] {
  return Array.from({ length: lines }, (_, y) => makeAcquisition({
    samples, channels: 2, step1: y, slice, position: [0, 0, 4 * slice],
    data: Float32Array.from({ length: 4 * samples }, (_, i) => Math.cos(i + y + slice)),
    flags: last && y === lines - 1 ? flagsOf(LAST_IN_SLICE) : 0n
  }))
}

describe('runPipeline', () => {
  it.skipIf(!hasFixtures())('reconstructs the real OSI2 ONE 3-D TSE (all flags 0) into 10 images of 100 x 100 at the end of the stream', async () => {
    const file = fixture('ismrmrd', 'osi2one_tse3d.h5')
    const { header, acquisitions } = await readIsmrmrdH5(file)
    expect(acquisitions).toHaveLength(1000)
    const images: ReconImage[] = []
    const warnings: string[] = []
    await runPipeline(acquisitions, header, DEFAULT_CHAIN, { onImage: (i) => { images.push(i) }, fft: pool, onWarning: (m) => warnings.push(m) })
    expect(warnings).toEqual([])
    expect(images.map((i) => [i.width, i.height, i.depth, i.partition])).toEqual(Array.from({ length: 10 }, (_, p) => [100, 100, 10, p]))
    expect(images[0].fieldOfViewMm).toEqual([150, 150, 15])
    // partitions step along sliceDir (0, 0, 1) by 15 mm, partition 5 at the volume's position
    expect(images.map((i) => i.position[2])).toEqual([-75, -60, -45, -30, -15, 0, 15, 30, 45, 60])
    const max = Math.max(...images.map((i) => Math.max(...i.pixels)))
    expect(max).toBeCloseTo(4095, 1)
    if (hasPythonModules('numpy', 'h5py')) {
      const dir = await mkdtemp(join(tmpdir(), 'scanhub-osi-'))
      try {
        const out = join(dir, 'ref.f32')
        const r = spawnSync(DEBIAN_PYTHON, ['-c', NUMPY_3D, file, out], { encoding: 'utf8' })
        expect(r.status, r.stderr).toBe(0)
        const reference = new Float32Array((await readFile(out)).buffer.slice(0))
        const ours = new Float32Array(100 * 100 * 10)
        images.forEach((i) => ours.set(i.pixels, i.partition * 10000))
        expect(scaledNrmse(ours, reference)).toBeLessThan(1e-5)
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    }
  })

  it('reports progress and delivers images in order, slice by slice', async () => {
    const acquisitions = [0, 1, 2].flatMap((s) => slice2d(s, 16, 32))
    const progress: ReconProgress[] = []
    const images: ReconImage[] = []
    const summary = await runPipeline(acquisitions, { ...header2d(32, 16), expectedAcquisitions: 48 }, DEFAULT_CHAIN, {
      onImage: async (i) => { await new Promise((resolve) => setTimeout(resolve, 5)); images.push(i) },
      onProgress: (p) => progress.push(p),
      fft: new InThreadFft()
    })
    expect(summary).toMatchObject({ acquisitions: 48, images: 3 })
    expect(images.map((i) => [i.slice, i.position[2], i.width, i.height])).toEqual([[0, 0, 32, 16], [1, 4, 32, 16], [2, 8, 32, 16]])
    expect(progress.at(-1)).toEqual({ acquisitions: 48, images: 3, fraction: 1 })
  })

  it('gives the same images when the source hands its readouts over (stages work on them in place)', async () => {
    // 2x oversampled readouts with noise: both per-readout stages have work to do
    const header: ReconHeader = { ...header2d(64, 16), reconMatrix: { x: 32, y: 16, z: 1 }, fovMm: { encoded: { x: 400, y: 200, z: 4 }, recon: { x: 200, y: 200, z: 4 } } }
    const noise = makeAcquisition({ samples: 64, channels: 2, flags: flagsOf(IS_NOISE_MEASUREMENT), data: Float32Array.from({ length: 256 }, (_, i) => Math.sin(7 * i) + 0.3 * Math.cos(3 * i)) })
    const scan = (): Acquisition[] => [noise, ...[0, 1].flatMap((s) => slice2d(s, 16, 64))]
    const reconstruct = async (acquisitions: Acquisition[], handsOverAcquisitions: boolean): Promise<ReconImage[]> => {
      const images: ReconImage[] = []
      await runPipeline(acquisitions, header, DEFAULT_CHAIN, { onImage: (i) => { images.push(i) }, fft: new InThreadFft(), handsOverAcquisitions, onWarning: () => {} })
      return images
    }
    const kept = scan()
    const before = kept.map((a) => a.data.slice())
    const copied = await reconstruct(kept, false)
    expect(kept.map((a) => a.data)).toEqual(before)
    const handedOver = await reconstruct(scan(), true)
    expect(handedOver.map((i) => Array.from(i.pixels))).toEqual(copied.map((i) => Array.from(i.pixels)))
    expect(copied).toHaveLength(2)
  })

  it('removes oversampling before prewhitening and gets the images of Gadgetron\'s order (prewhitening first)', async () => {
    const header: ReconHeader = { ...header2d(64, 16), reconMatrix: { x: 32, y: 16, z: 1 }, fovMm: { encoded: { x: 400, y: 200, z: 4 }, recon: { x: 200, y: 200, z: 4 } } }
    // correlated coils (the second channel carries part of the first) and a centre off the middle,
    // discarded samples, a reversed line: every way the two stages could fail to commute
    const noise = makeAcquisition({ samples: 64, channels: 2, sampleTimeUs: 2.5, flags: flagsOf(IS_NOISE_MEASUREMENT), data: Float32Array.from({ length: 256 }, (_, i) => Math.sin(7 * i) + (i >= 128 ? 0.6 * Math.sin(7 * (i - 128)) : 0) + 0.3 * Math.cos(3 * i)) })
    const lines = slice2d(0, 16, 64).map((a, y) => ({ ...a, head: { ...a.head, centerSample: 30, discardPre: 2, discardPost: 2, flags: a.head.flags | (y === 5 ? flagsOf(IS_REVERSE) : 0n) } }))
    expect(DEFAULT_CHAIN.slice(0, 2).map((s) => s.stage)).toEqual(['remove-oversampling', 'noise-prewhitening'])
    const gadgetronOrder = [DEFAULT_CHAIN[1], DEFAULT_CHAIN[0], ...DEFAULT_CHAIN.slice(2)]
    const reconstruct = async (chain: typeof DEFAULT_CHAIN): Promise<Float32Array> => {
      const images: ReconImage[] = []
      await runPipeline([noise, ...lines], header, chain, { onImage: (i) => { images.push(i) }, fft: new InThreadFft(), onWarning: () => {} })
      expect(images).toHaveLength(1)
      // the reconstruction's values, before the 12-bit scaling
      return images[0].pixels.map((v) => v / images[0].scale)
    }
    const ours = await reconstruct(DEFAULT_CHAIN)
    const theirs = await reconstruct(gadgetronOrder)
    expect(Math.max(...theirs)).toBeGreaterThan(0)
    expect(nrmse(ours, theirs)).toBeLessThan(1e-4)
    // and the whitening matters here: without it the images differ
    expect(nrmse(await reconstruct(DEFAULT_CHAIN.filter((s) => s.stage !== 'noise-prewhitening')), theirs)).toBeGreaterThan(1e-2)
  })

  it('hands messages other than images to onOther (a chain that stops before coil combination)', async () => {
    const other: Message[] = []
    await runPipeline(slice2d(0, 8, 8), header2d(8, 8), [{ stage: 'accumulate' }, { stage: 'fft' }], {
      onImage: () => { throw new Error('no images expected') },
      onOther: (m) => other.push(m),
      fft: new InThreadFft()
    })
    expect(other.map((m) => m.kind === 'buffer' && [m.domain, ...m.array.dims])).toEqual([['image', 8, 8, 1, 2]])
  })

  it('rejects with the first error of a stage, and of onImage', async () => {
    const bad = slice2d(0, 4, 8)
    bad[2] = { ...bad[2], data: new Float32Array(3) }
    await expect(runPipeline(bad, header2d(8, 4), DEFAULT_CHAIN, { onImage: () => {}, fft: new InThreadFft() })).rejects.toMatchObject({ name: 'AcquisitionShapeError' })
    await expect(runPipeline(slice2d(0, 4, 8), header2d(8, 4), DEFAULT_CHAIN, {
      onImage: () => { throw new Error('disk full') },
      fft: new InThreadFft()
    })).rejects.toThrow('disk full')
  })

  it('stops when aborted', async () => {
    const controller = new AbortController()
    async function * endless (): AsyncIterable<Acquisition> {
      for (let i = 0; ; i++) {
        if (i === 20) controller.abort()
        yield makeAcquisition({ samples: 8, channels: 1, step1: i % 8 })
        await new Promise((resolve) => setImmediate(resolve))
      }
    }
    await expect(runPipeline(endless(), header2d(8, 8), DEFAULT_CHAIN, { onImage: () => {}, signal: controller.signal, fft: new InThreadFft() }))
      .rejects.toBeInstanceOf(PipelineAbortedError)
  })

  it('benchmarks a small synthetic scan', async () => {
    const seconds = await benchmarkRecon({ slices: 4, coils: 4, matrix: 64, oversampling: 2, fft: pool })
    expect(seconds).toBeGreaterThan(0)
    expect(seconds).toBeLessThan(10)
  })
})
