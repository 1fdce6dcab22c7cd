// Test support: a small scan to play against the emulator, and the data the virtual scanner's physics
// gives for it, which is what the emulator must return bit for bit (same phantom, seed and noise).
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Acquisition } from '../../protocol/mrd/types.ts'
import type { AdcReadout, ScanRequest } from '../driver.ts'
import { cartesianReadouts, sheppLogan2d, simulateReadouts } from '../virtual/index.ts'
import type { SequenceTiming } from '../virtual/index.ts'

/** The seed and noise the tests give the emulator. */
export const TEST_SEED = 7
export const TEST_NOISE = 0.01

const FIXTURE = join(import.meta.dirname, '..', '..', '..', 'shared', 'fixtures', 'pulseq', 'pulseq_gre_v151.seq')

/** A real 64×64 GRE .seq file (67 KiB: several LOAD_SEQUENCE chunks) when the shared fixtures are there, else a stand-in. */
export function testSequence (): Uint8Array {
  if (existsSync(FIXTURE)) return new Uint8Array(readFileSync(FIXTURE))
  const text = '# Pulseq sequence file\n[VERSION]\nmajor 1\nminor 5\nrevision 1\n\n[DEFINITIONS]\nName test\n' + '# padding\n'.repeat(6000)
  return new TextEncoder().encode(text)
}

export interface TestScanOptions {
  matrix?: [number, number]
  coils?: number
  oversampling?: 1 | 2
  trS?: number
  realTime?: boolean
  signal?: AbortSignal
}

/** A Cartesian 2D scan of the Shepp-Logan phantom. */
export function testScan (options: TestScanOptions = {}): ScanRequest {
  const matrix = options.matrix ?? [32, 32]
  const fov = 0.24
  const timing: SequenceTiming = { teS: 0.01, trS: options.trS ?? 0.02, flipAngleDeg: 30, kind: 'GRE' }
  return {
    sequence: testSequence(),
    readouts: [...cartesianReadouts({ matrix, fovM: fov, teS: timing.teS })],
    timing,
    fovM: [fov, fov, fov],
    matrix,
    coils: options.coils ?? 4,
    oversampling: options.oversampling ?? 2,
    realTime: options.realTime ?? false,
    signal: options.signal ?? new AbortController().signal
  }
}

/** What the virtual scanner's physics gives for the scan, with the emulator's defaults and the test seed and noise. */
export function expectedAcquisitions (request: ScanRequest): Acquisition[] {
  return [...simulateReadouts(request.readouts, {
    phantom: sheppLogan2d(),
    coils: request.coils,
    noiseSigma: TEST_NOISE,
    oversampling: request.oversampling,
    fovM: request.fovM,
    matrix: request.matrix,
    timing: request.timing,
    seed: TEST_SEED,
    noiseReadouts: 0
  })]
}

/** Energy (sum of |s|²) of a readout's samples. */
export function energy (readout: AdcReadout): number {
  let sum = 0
  for (let i = 0; i < readout.samples.length; i++) sum += readout.samples[i] ** 2
  return sum
}

/** Every readout of a run, or the error that ended it, and when. */
export async function collect (run: AsyncIterable<AdcReadout>, onReadout?: (r: AdcReadout) => void): Promise<{ readouts: AdcReadout[], error: unknown, ms: number }> {
  const readouts: AdcReadout[] = []
  const t0 = performance.now()
  try {
    for await (const r of run) {
      readouts.push(r)
      onReadout?.(r)
    }
    return { readouts, error: undefined, ms: performance.now() - t0 }
  } catch (error) {
    return { readouts, error, ms: performance.now() - t0 }
  }
}
