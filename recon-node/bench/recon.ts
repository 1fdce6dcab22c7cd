// Benchmark (a): the reconstruction chain peers run (DEFAULT_CHAIN: oversampling removal, prewhitening,
// accumulation, FFT on the worker pool, crop, RSS, scaling) over a synthetic scan held in memory, timed
// from the first readout to the last image, in a process of its own (a fresh heap, nothing else
// running, V8 set as the recon role sets it: memory-mode.ts). Its peak memory is the reference of
// (d): the chain alone, without a peer around it.
import { createFftPool } from '../fft/pool.ts'
import { favourMemoryOverSpeed } from '../memory-mode.ts'
import { DEFAULT_CHAIN } from '../pipeline/chain.ts'
import { runPipeline } from '../pipeline/run.ts'
import { scanAcquisitions, syntheticScan, type ScanShape } from './data.ts'
import { peakRssMiB } from './peak-rss.ts'

export interface ReconFigures {
  seconds: number
  images: number
  /** the process's peak resident memory (peak-rss.ts) */
  peakRssMiB: number
}

export async function reconThroughput (shape: ScanShape): Promise<ReconFigures> {
  const scan = syntheticScan(shape)
  const fft = createFftPool()
  try {
    // start the workers and warm the code paths on a small scan, untimed
    const warm = syntheticScan({ slices: 2, coils: shape.coils, matrix: 64, oversampling: shape.oversampling })
    await runPipeline(scanAcquisitions(warm), warm.reconHeader, DEFAULT_CHAIN, { onImage: () => {}, fft, onWarning: () => {} })
    let images = 0
    const started = performance.now()
    await runPipeline(scanAcquisitions(scan), scan.reconHeader, DEFAULT_CHAIN, { onImage: () => { images++ }, fft, onWarning: () => {} })
    const seconds = (performance.now() - started) / 1000
    if (images !== shape.slices) throw new Error(`expected ${shape.slices} images, got ${images}`)
    return { seconds, images, peakRssMiB: peakRssMiB() }
  } finally {
    await fft.close()
  }
}

/** The child process's entry (bench.js --child recon SHAPE): runs the figures for the shape given as JSON and prints them as JSON. */
export async function runChild (shapeJson: string): Promise<void> {
  // as a reconstruction peer runs it (recon-node/role.ts)
  favourMemoryOverSpeed()
  const figures = await reconThroughput(JSON.parse(shapeJson) as ScanShape)
  process.stdout.write(`${JSON.stringify(figures)}\n`)
}
