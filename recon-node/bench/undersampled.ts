// Benchmarks (e) and (f): the reconstructions of data that is not fully sampled Cartesian, beside BART
// on the same data in the same run.
//   (e) non-Cartesian: the nufft stage (Pipe–Menon density weights, Kaiser–Bessel gridding, FFT,
//       deapodisation) and RSS on 402 radial spokes x 256 samples x 8 coils of an analytic phantom,
//       256² image; BART: the same weights applied with `bart fmac`, `bart nufft -a`, `bart rss`.
//   (f) parallel imaging: the grappa pipeline on `ismrmrd_generate_cartesian_shepp_logan -m 128 -c 8
//       -a 2 -w 24` (from the file's acquisitions: oversampling removal, prewhitening, accumulation,
//       GRAPPA, FFT, RSS); BART: `ecalib -m1` and `pics` on the k-space as accumulation leaves it.
// Each side is timed end to end (BART with its file I/O), median of three after one warm-up run.
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Acquisition } from '../../protocol/mrd/types.ts'
import { writeCfl } from '../fft/cfl.ts'
import type { FftRunner } from '../fft/pool.ts'
import { pipeMenonWeights } from '../gridding/density.ts'
import { footprints, planGrid } from '../gridding/grid.ts'
import { SampleSet } from '../gridding/samples.ts'
import { readIsmrmrdHdf5 } from '../import/index.ts'
import { reconHeaderOf } from '../jobs/recon-header.ts'
import type { Chain } from '../pipeline/chain.ts'
import { GRAPPA_CHAIN } from '../pipeline/pipelines.ts'
import { runPipeline } from '../pipeline/run.ts'
import { nonCartesianAcquisitions, radialReadouts, testCoils, testPhantom } from '../stages/nufft-test-phantom.ts'
import { nufft } from '../stages/nufft.ts'
import type { BufferMessage, ReconHeader } from '../stages/stage.ts'
import { makeHeader } from '../stages/test-acquisitions.ts'

export interface PairFigure {
  scanhubSeconds: number
  bartSeconds: number
  /** what was reconstructed, for the table */
  what: string
}

function tool (command: string, args: string[], cwd: string): void {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 600_000 })
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}): ${r.stderr}`)
}

export function hasTools (...commands: string[]): boolean {
  return commands.every((c) => spawnSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' }).status === 0)
}

/** Median of three timed runs after one that warms up (compilation, worker start, file cache). */
async function timed (run: () => Promise<void> | void): Promise<number> {
  await run()
  const times: number[] = []
  for (let i = 0; i < 3; i++) {
    const started = performance.now()
    await run()
    times.push((performance.now() - started) / 1000)
  }
  return times.sort((a, b) => a - b)[1]
}

const NUFFT_N = 256
const NUFFT_SAMPLES = 256
const NUFFT_SPOKES = 402
const NUFFT_COILS = 8

/** (e): nufft + RSS beside bart fmac + nufft -a + rss on the same radial data and density weights. */
export async function nufftFigure (fft: FftRunner, log: (m: string) => void): Promise<PairFigure> {
  const dir = await mkdtemp(join(tmpdir(), 'scanhub-bench-nufft-'))
  try {
    const acquisitions = nonCartesianAcquisitions(radialReadouts(NUFFT_SAMPLES, NUFFT_SPOKES), testPhantom(NUFFT_N), testCoils(NUFFT_COILS))
    const header = makeHeader([NUFFT_N, NUFFT_N, 1], [NUFFT_N, NUFFT_N, 1], { encoded: [220, 220, 5], recon: [220, 220, 5] })
    const chain: Chain = [{ stage: 'nufft' }, { stage: 'coil-combine-rss' }]
    // BART's inputs: trajectory in its units (ISMRMRD's times N), k-space [1, samples, spokes, coils]
    // and ScanHub's density weights, so that both grid the same weighted samples
    const traj = new Float32Array(2 * 3 * NUFFT_SAMPLES * NUFFT_SPOKES)
    const kspace = new Float32Array(2 * NUFFT_SAMPLES * NUFFT_SPOKES * NUFFT_COILS)
    acquisitions.forEach((acq, p) => {
      for (let s = 0; s < NUFFT_SAMPLES; s++) {
        traj[2 * 3 * (s + NUFFT_SAMPLES * p)] = NUFFT_N * acq.traj[2 * s]
        traj[2 * 3 * (s + NUFFT_SAMPLES * p) + 2] = NUFFT_N * acq.traj[2 * s + 1]
        for (let c = 0; c < NUFFT_COILS; c++) {
          kspace[2 * (s + NUFFT_SAMPLES * (p + NUFFT_SPOKES * c))] = acq.data[2 * (c * NUFFT_SAMPLES + s)]
          kspace[2 * (s + NUFFT_SAMPLES * (p + NUFFT_SPOKES * c)) + 1] = acq.data[2 * (c * NUFFT_SAMPLES + s) + 1]
        }
      }
    })
    const defaults = nufft.params
    const plan = planGrid(NUFFT_N, NUFFT_N, defaults.oversampling.default, defaults.kernelWidth.default)
    const set = new SampleSet(1)
    for (const acq of acquisitions) set.addReadout(acq.traj, 2, new Float32Array(2 * NUFFT_SAMPLES), NUFFT_SAMPLES, 0, NUFFT_SAMPLES, () => true)
    const weights = pipeMenonWeights(footprints(set.kx, set.ky, set.count, plan), plan, defaults.densityIterations.default)
    const dcf = new Float32Array(2 * weights.length)
    weights.forEach((w, i) => { dcf[2 * i] = w })
    await writeCfl(join(dir, 'traj'), [3, NUFFT_SAMPLES, NUFFT_SPOKES], traj)
    await writeCfl(join(dir, 'ksp'), [1, NUFFT_SAMPLES, NUFFT_SPOKES, NUFFT_COILS], kspace)
    await writeCfl(join(dir, 'dcf'), [1, NUFFT_SAMPLES, NUFFT_SPOKES], dcf)

    log(`(e) nufft: ${NUFFT_SPOKES} spokes x ${NUFFT_SAMPLES} samples x ${NUFFT_COILS} coils to ${NUFFT_N}², density weights included`)
    const scanhubSeconds = await timed(async () => {
      let images = 0
      await runPipeline(acquisitions, header, chain, { onImage: () => { images++ }, fft, onWarning: () => {} })
      if (images !== 1) throw new Error(`the nufft chain gave ${images} images`)
    })
    log('(e) bart fmac + nufft -a + rss on the same data and weights')
    const bartSeconds = await timed(() => {
      tool('bart', ['fmac', 'ksp', 'dcf', 'kw'], dir)
      tool('bart', ['nufft', '-a', '-d', `${NUFFT_N}:${NUFFT_N}:1`, 'traj', 'kw', 'img'], dir)
      tool('bart', ['rss', '8', 'img', 'rss'], dir)
    })
    return { scanhubSeconds, bartSeconds, what: `${NUFFT_SPOKES} spokes x ${NUFFT_COILS} coils -> ${NUFFT_N}²` }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** (f): the grappa pipeline from the file's acquisitions beside bart ecalib + pics on its k-space. */
export async function parallelImagingFigure (fft: FftRunner, log: (m: string) => void): Promise<PairFigure> {
  const dir = await mkdtemp(join(tmpdir(), 'scanhub-bench-grappa-'))
  try {
    tool('ismrmrd_generate_cartesian_shepp_logan', ['-m', '128', '-c', '8', '-a', '2', '-w', '24', '-o', 'r2.h5'], dir)
    const imported = await readIsmrmrdHdf5(join(dir, 'r2.h5'))
    const header: ReconHeader = reconHeaderOf(imported.header, imported.count)
    const acquisitions: Acquisition[] = []
    for await (const acq of imported.acquisitions) acquisitions.push(acq)
    // one repetition (one lattice offset), as BART is given
    const first = acquisitions.filter((a) => a.head.idx.repetition === 0)
    const buffers: BufferMessage[] = []
    await runPipeline(first, header, GRAPPA_CHAIN.slice(0, 3), { onImage: () => {}, onOther: (m) => { if (m.kind === 'buffer') buffers.push(m) }, fft, onWarning: () => {} })
    await writeCfl(join(dir, 'k'), buffers[0].array.dims, buffers[0].array.data)

    log('(f) grappa: 128² x 8 coils, R = 2 with 24 calibration lines, from the acquisitions to the image')
    const scanhubSeconds = await timed(async () => {
      let images = 0
      await runPipeline(first, header, GRAPPA_CHAIN, { onImage: () => { images++ }, fft, onWarning: () => {} })
      if (images !== 1) throw new Error(`the grappa chain gave ${images} images`)
    })
    log('(f) bart ecalib -m1 + pics on the k-space as accumulated')
    const bartSeconds = await timed(() => {
      tool('bart', ['ecalib', '-m1', 'k', 'sens'], dir)
      tool('bart', ['pics', '-d0', 'k', 'sens', 'pics'], dir)
    })
    return { scanhubSeconds, bartSeconds, what: '128² x 8 coils, R = 2, 24 calibration lines' }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
