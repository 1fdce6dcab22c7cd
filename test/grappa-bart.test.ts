// GRAPPA against BART's ESPIRiT SENSE on undersampled data from Debian's
// `ismrmrd_generate_cartesian_shepp_logan -a R -w 24` (Shepp-Logan, 8 birdcage coils, 2x readout
// oversampling, noise 0.05; one repetition per lattice offset, each with every other (R = 2) or every
// third (R = 3) line plus 24 calibration lines at the centre, flagged IS_PARALLEL_CALIBRATION or
// IS_PARALLEL_CALIBRATION_AND_IMAGING). The generator seeds its noise the same way on every run, so
// the fully sampled file (same -m, -c) holds exactly the acquired lines of the undersampled ones: its
// image is the truth both reconstructions are measured against.
//
// ScanHub: [remove-oversampling, noise-prewhitening, accumulate {useCalibration}, grappa, fft,
// crop-to-recon-space, coil-combine-rss]. BART: `ecalib -m1` then `pics` on the same k-space as
// accumulation leaves it (oversampling removed, calibration lines in), written as .cfl. Both magnitude
// images are scaled to the truth by their least-squares factor; ScanHub's NRMSE must be at most 1.2 ×
// BART's. Both NRMSEs and both times are printed.
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Acquisition } from '../protocol/mrd/types.ts'
import { readCfl, writeCfl } from '../recon-node/fft/cfl.ts'
import { createFftPool } from '../recon-node/fft/pool.ts'
import { scaledNrmse } from '../recon-node/fft/test-support.ts'
import { readIsmrmrdHdf5 } from '../recon-node/import/index.ts'
import { reconHeaderOf } from '../recon-node/jobs/recon-header.ts'
import type { Chain } from '../recon-node/pipeline/chain.ts'
import type { ReconImage } from '../recon-node/pipeline/image.ts'
import { runPipeline } from '../recon-node/pipeline/run.ts'
import type { BufferMessage, ReconHeader } from '../recon-node/stages/stage.ts'
import { hasTool } from './support/external-tools.ts'

const tools = hasTool('ismrmrd_generate_cartesian_shepp_logan') && hasTool('bart')

const UP_TO_ACCUMULATION: Chain = [
  { stage: 'remove-oversampling' },
  { stage: 'noise-prewhitening' },
  { stage: 'accumulate', params: { useCalibration: true } }
]
const GRAPPA_RSS: Chain = [...UP_TO_ACCUMULATION, { stage: 'grappa' }, { stage: 'fft' }, { stage: 'crop-to-recon-space' }, { stage: 'coil-combine-rss' }]
const FULLY_SAMPLED_RSS: Chain = [...UP_TO_ACCUMULATION, { stage: 'fft' }, { stage: 'crop-to-recon-space' }, { stage: 'coil-combine-rss' }]

function run (command: string, args: string[], cwd: string): void {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 300_000 })
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`)
}

describe.skipIf(!tools)('GRAPPA on ismrmrd_generate_cartesian_shepp_logan -a R -w 24, against bart ecalib + pics', () => {
  let dir = ''
  const pool = createFftPool({ size: 2 })
  let truth: Float32Array
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scanhub-grappa-'))
    run('ismrmrd_generate_cartesian_shepp_logan', ['-m', '128', '-c', '8', '-o', 'full.h5'], dir)
    const images = await reconstruct(join(dir, 'full.h5'), FULLY_SAMPLED_RSS)
    expect(images).toHaveLength(1)
    truth = images[0].pixels
  })
  afterAll(async () => {
    await pool.close()
    await rm(dir, { recursive: true, force: true })
  })

  async function open (file: string): Promise<{ header: ReconHeader, acquisitions: AsyncIterable<Acquisition> }> {
    const imported = await readIsmrmrdHdf5(file)
    return { header: reconHeaderOf(imported.header, imported.count), acquisitions: imported.acquisitions }
  }

  /** k-space buffers as accumulation leaves them (oversampling removed, calibration lines kept). */
  async function kspaceBuffers (file: string): Promise<BufferMessage[]> {
    const { header, acquisitions } = await open(file)
    const buffers: BufferMessage[] = []
    await runPipeline(acquisitions, header, UP_TO_ACCUMULATION, { onImage: () => {}, onOther: (m) => { if (m.kind === 'buffer') buffers.push(m) }, fft: pool })
    return buffers
  }

  async function reconstruct (file: string, chain: Chain): Promise<ReconImage[]> {
    const { header, acquisitions } = await open(file)
    const images: ReconImage[] = []
    await runPipeline(acquisitions, header, chain, { onImage: (image) => { images.push(image) }, fft: pool, onWarning: () => {} })
    return images
  }

  it.each([
    // R, ScanHub's NRMSE at most (measured 0.117, 0.146 and 0.196, 0.218, 0.217: the noise of the
    // missing lines is not recoverable by any method; later repetitions have noise of their own, not
    // the fully sampled file's)
    [2, 0.16],
    [3, 0.24]
  ])('R = %i: every repetition within %f of the fully sampled image, and no worse than 1.2 × BART', async (r, bound) => {
    const file = join(dir, `r${r}.h5`)
    run('ismrmrd_generate_cartesian_shepp_logan', ['-m', '128', '-c', '8', '-a', String(r), '-w', '24', '-o', file], dir)

    const started = performance.now()
    const images = await reconstruct(file, GRAPPA_RSS)
    const scanhubSeconds = (performance.now() - started) / 1000
    // one repetition per lattice offset
    expect(images.map((i) => i.repetition)).toEqual(Array.from({ length: r }, (_, i) => i))
    const errors = images.map((image) => scaledNrmse(image.pixels, truth))
    for (const error of errors) expect(error).toBeLessThan(bound)

    const [buffer] = await kspaceBuffers(file)
    expect(buffer.array.dims).toEqual([128, 128, 1, 8])
    const base = join(dir, `r${r}`)
    await writeCfl(`${base}_k`, buffer.array.dims, buffer.array.data)
    const bartStarted = performance.now()
    run('bart', ['ecalib', '-m1', `${base}_k`, `${base}_sens`], dir)
    run('bart', ['pics', '-d0', `${base}_k`, `${base}_sens`, `${base}_pics`], dir)
    const bartSeconds = (performance.now() - bartStarted) / 1000
    const pics = await readCfl(`${base}_pics`)
    expect(pics.dims.slice(0, 4)).toEqual([128, 128, 1, 1])
    const magnitude = Float32Array.from({ length: 128 * 128 }, (_, i) => Math.hypot(pics.data[2 * i], pics.data[2 * i + 1]))
    const bartError = scaledNrmse(magnitude, truth)

    console.log(`R = ${r}: NRMSE against the fully sampled image: ScanHub GRAPPA ${errors.map((e) => e.toFixed(4)).join(', ')} (repetitions), ` +
      `BART ecalib + pics ${bartError.toFixed(4)} (repetition 0); time: ScanHub ${(scanhubSeconds / images.length).toFixed(2)} s per image ` +
      `(whole chain from the file), BART ${bartSeconds.toFixed(2)} s (ecalib + pics)`)
    expect(errors[0]).toBeLessThanOrEqual(1.2 * bartError)
  }, 600_000)

  it('refuses the same data without calibration lines (-a 2 without -w), naming what is missing', async () => {
    const file = join(dir, 'no-calibration.h5')
    run('ismrmrd_generate_cartesian_shepp_logan', ['-m', '128', '-c', '8', '-a', '2', '-o', file], dir)
    await expect(reconstruct(file, GRAPPA_RSS)).rejects.toThrow(/undersampled by 2 along PHS1 with no calibration lines: GRAPPA needs at least \d+ fully sampled lines at the centre of k-space \(found 0\)/)
  }, 120_000)
})
