// Golden-data tests: the whole chain on data from Debian's `ismrmrd_generate_cartesian_shepp_logan`
// (Shepp-Logan phantom, birdcage coils, 2x readout oversampling, complex noise, optional noise
// readouts), against the image of `ismrmrd_recon_cartesian_2d` (centred unnormalised inverse FFT,
// crop of the readout oversampling, root sum of squares). Threshold: NRMSE < 1 % after a least-squares
// scale, pixel for pixel in the same orientation.
//
// ismrmrd_recon_cartesian_2d does not prewhiten. With noise readouts, the generator's single noise
// readout (one readout of samples per coil) gives a covariance estimate off by a few percent, and
// whitening with it changes the RSS image by about 2 %: that is what prewhitening does, so those
// cases are checked against the reference without the prewhitening stage, and the full chain against
// a numpy implementation of the same recon with Cholesky whitening (Debian's python3, numpy, h5py).
import { spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEBIAN_PYTHON, hasPythonModules, hasTool } from '../../test/support/external-tools.ts'
import { createFftPool } from '../fft/pool.ts'
import { leastSquaresScale, nrmse, scaledNrmse } from '../fft/test-support.ts'
import type { Chain } from './chain.ts'
import { BATCH_CHAIN, DEFAULT_CHAIN } from './chain.ts'
import { readH5Array, readIsmrmrdH5 } from './h5-test-data.ts'
import type { ReconImage } from './image.ts'
import { runPipeline } from './run.ts'

const tools = hasTool('ismrmrd_generate_cartesian_shepp_logan') && hasTool('ismrmrd_recon_cartesian_2d')

const NUMPY_RECON = `
import re, sys, h5py, numpy as np
f = h5py.File(sys.argv[1], 'r')
xml = f['dataset/xml'][0].decode()
ex = int(re.search(r'<encodedSpace>\\s*<matrixSize>\\s*<x>(\\d+)', xml).group(1))
ny = int(re.search(r'<encodedSpace>\\s*<matrixSize>\\s*<x>\\d+</x>\\s*<y>(\\d+)', xml).group(1))
rx = int(re.search(r'<reconSpace>\\s*<matrixSize>\\s*<x>(\\d+)', xml).group(1))
noise, buf = [], None
for a in f['dataset/data']:
    h = a['head']
    nc, ns = int(h['active_channels']), int(h['number_of_samples'])
    d = a['data'].view(np.float32)
    x = (d[0::2] + 1j * d[1::2]).astype(np.complex128).reshape(nc, ns)
    if int(h['flags']) & (1 << 18):
        noise.append(x)
        continue
    if buf is None:
        buf = np.zeros((nc, ny, ex), complex)
    buf[:, int(h['idx']['kspace_encode_step_1']), :] = x
if noise:
    n = np.concatenate(noise, axis=1)
    psi = n @ n.conj().T / n.shape[1]
    w = np.linalg.inv(np.linalg.cholesky(psi))
    buf = np.einsum('cd,dyx->cyx', w, buf)
im = np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(buf, axes=(1, 2))), axes=(1, 2)) * ex * ny
off = ex // 2 - rx // 2
rss = np.sqrt((abs(im[:, :, off:off + rx]) ** 2).sum(0))
rss.astype(np.float32).tofile(sys.argv[2])
`

let fileCounter = 0

function run (command: string, args: string[], cwd: string): void {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${r.stderr}`)
}

describe.skipIf(!tools)('pipeline against ismrmrd_recon_cartesian_2d', () => {
  let dir = ''
  const pool = createFftPool({ size: 2 })
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'scanhub-recon-')) })
  afterAll(async () => {
    await pool.close()
    await rm(dir, { recursive: true, force: true })
  })

  async function phantom (matrix: number, coils: number, noiseCalibration: boolean, repetitions = 1): Promise<{ file: string, reference: Float32Array }> {
    const file = join(dir, `sl_${fileCounter++}.h5`)
    run('ismrmrd_generate_cartesian_shepp_logan', ['-m', String(matrix), '-c', String(coils), '-r', String(repetitions), ...(noiseCalibration ? ['-C'] : []), '-o', file], dir)
    run('ismrmrd_recon_cartesian_2d', [file], dir)
    const ref = await readH5Array(file, 'dataset/cpp/data')
    expect(ref.shape).toEqual([1, 1, 1, matrix, matrix])
    return { file, reference: ref.data }
  }

  async function reconstruct (file: string, chain: Chain = DEFAULT_CHAIN): Promise<ReconImage[]> {
    const { header, acquisitions } = await readIsmrmrdH5(file)
    const images: ReconImage[] = []
    await runPipeline(acquisitions, header, chain, { onImage: (image) => { images.push(image) }, fft: pool })
    return images
  }

  const withoutPrewhitening = DEFAULT_CHAIN.filter((s) => s.stage !== 'noise-prewhitening')
  const cases: Array<[number, number, boolean]> = [[64, 4, false], [128, 8, true], [96, 4, true], [64, 1, false]]
  it.each(cases)('matrix %i, %i coils, noise readouts %s: NRMSE < 1 percent', async (matrix, coils, noise) => {
    const { file, reference } = await phantom(matrix, coils, noise)
    const images = await reconstruct(file, noise ? withoutPrewhitening : DEFAULT_CHAIN)
    expect(images).toHaveLength(1)
    const image = images[0]
    expect([image.width, image.height, image.depth, image.slice, image.repetition]).toEqual([matrix, matrix, 1, 0, 0])
    expect(image.fieldOfViewMm).toEqual([300, 300, 6])
    const error = scaledNrmse(image.pixels, reference)
    expect(error).toBeLessThan(0.01)
    // scale gave the maximum 4095 and recorded the factor: dividing it out gives the reference's numbers
    expect(Math.max(...image.pixels)).toBeCloseTo(4095, 1)
    expect(nrmse(image.pixels.map((v) => v / image.scale), reference)).toBeLessThan(1e-4)
  })

  it.skipIf(!hasPythonModules('numpy', 'h5py')).each([[128, 8], [96, 4]])('prewhitens like numpy (Cholesky of the noise covariance): matrix %i, %i coils', async (matrix, coils) => {
    const { file, reference } = await phantom(matrix, coils, true)
    const images = await reconstruct(file)
    const out = `${file}.numpy.f32`
    run(DEBIAN_PYTHON, ['-c', NUMPY_RECON, file, out], dir)
    const whitened = new Float32Array((await readFile(out)).buffer.slice(0))
    expect(scaledNrmse(images[0].pixels, whitened)).toBeLessThan(1e-4)
    // and whitening really changed the image, by the few percent the noise estimate is off
    const change = scaledNrmse(whitened, reference)
    expect(change).toBeGreaterThan(1e-3)
    expect(change).toBeLessThan(0.05)
  })

  it('gives the same image with BATCH_CHAIN (crop after the FFT, whitening of whole images on the pool)', async () => {
    const { file } = await phantom(128, 8, true)
    const streamed = await reconstruct(file)
    const batch = await reconstruct(file, BATCH_CHAIN)
    expect(nrmse(batch[0].pixels, streamed[0].pixels)).toBeLessThan(1e-5)
  })

  it('gives the same image when oversampling is cropped after the FFT instead (no remove-oversampling)', async () => {
    const { file, reference } = await phantom(64, 4, false)
    const chain = DEFAULT_CHAIN.filter((s) => s.stage !== 'remove-oversampling' && s.stage !== 'noise-prewhitening' && s.stage !== 'scale')
    const images = await reconstruct(file, chain)
    expect(images[0].scale).toBe(1)
    expect(leastSquaresScale(images[0].pixels, reference)).toBeCloseTo(1, 4)
    expect(nrmse(images[0].pixels, reference)).toBeLessThan(1e-5)
  })

  it('streams one image per repetition, each as soon as its LAST_IN_SLICE arrives', async () => {
    const { file } = await phantom(64, 2, false, 3)
    const { header, acquisitions } = await readIsmrmrdH5(file)
    expect(acquisitions).toHaveLength(3 * 64)
    const seenAt: number[] = []
    let read = 0
    async function * slowly (): AsyncIterable<(typeof acquisitions)[number]> {
      for (const a of acquisitions) {
        read++
        yield a
        await new Promise((resolve) => setImmediate(resolve))
      }
    }
    const summary = await runPipeline(slowly(), header, DEFAULT_CHAIN, {
      onImage: (image) => { seenAt.push(read); expect(image.repetition).toBe(seenAt.length - 1) },
      fft: pool
    })
    expect(summary).toMatchObject({ acquisitions: 192, images: 3 })
    // each image arrived before the next repetition's data was read to its end
    expect(seenAt[0]).toBeLessThan(128)
    expect(seenAt[1]).toBeLessThan(192)
  })
})
