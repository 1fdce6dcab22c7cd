// The reconstruction pipelines a task can name, each a chain of stages (chain.ts), and the `default`
// pipeline, which reads the ISMRMRD header and picks the chain the data needs: Cartesian with or
// without parallel imaging, EPI, or gridding of non-Cartesian trajectories. What no chain here can
// reconstruct correctly is refused before a single readout is read, with a message naming what is missing;
// what only the data can show (lines missing without calibration, readouts without a trajectory) is
// refused by the stage that meets it.
import { ReconRefusedError, UnknownStageError } from '../stages/errors.ts'
import type { ReconHeader } from '../stages/stage.ts'
import { PIPELINES, type PipelineInfo } from '../../protocol/reconstruction-pipelines.ts'
import { BATCH_CHAIN, type Chain } from './chain.ts'

export { PIPELINES, type PipelineInfo }

/** Fully sampled Cartesian 2-D/3-D, with partial Fourier filled in by POCS where lines are missing on one side. */
export const CARTESIAN_CHAIN: Chain = Object.freeze([
  { stage: 'remove-oversampling' },
  { stage: 'noise-prewhitening' },
  { stage: 'accumulate' },
  { stage: 'partial-fourier' },
  { stage: 'fft' },
  { stage: 'crop-to-recon-space' },
  { stage: 'coil-combine-rss' },
  { stage: 'scale' }
])

/** Undersampled Cartesian data with calibration lines: GRAPPA fills the missing lines before the FFT. */
export const GRAPPA_CHAIN: Chain = Object.freeze([
  { stage: 'remove-oversampling' },
  { stage: 'noise-prewhitening' },
  { stage: 'accumulate', params: { useCalibration: true } },
  { stage: 'grappa' },
  { stage: 'partial-fourier' },
  { stage: 'fft' },
  { stage: 'crop-to-recon-space' },
  { stage: 'coil-combine-rss' },
  { stage: 'scale' }
])

/** EPI: ramp-sampled readouts regridded, Nyquist ghosts corrected from the navigators, partial Fourier. */
export const EPI_CHAIN: Chain = Object.freeze([
  { stage: 'epi-ramp-regrid' },
  { stage: 'epi-nyquist-correction' },
  { stage: 'remove-oversampling' },
  { stage: 'noise-prewhitening' },
  { stage: 'accumulate' },
  { stage: 'partial-fourier' },
  { stage: 'fft' },
  { stage: 'crop-to-recon-space' },
  { stage: 'coil-combine-rss' },
  { stage: 'scale' }
])

/** Radial, golden-angle radial, UTE and spiral: Kaiser–Bessel gridding of the stored trajectory. */
export const NUFFT_CHAIN: Chain = Object.freeze([
  { stage: 'noise-prewhitening' },
  { stage: 'nufft' },
  { stage: 'coil-combine-rss' },
  { stage: 'scale' }
])


/** Trajectory names of ISMRMRD's schema that gridding reconstructs from the stored trajectory. */
const GRIDDED = new Set(['radial', 'goldenangle', 'spiral', 'other'])

/** The chain `default` picks for data with this header; throws ReconRefusedError for what none can do. */
export function chainForHeader (header: ReconHeader): Chain {
  const trajectory = (header.trajectory ?? 'cartesian').toLowerCase()
  const r1 = header.acceleration?.step1 ?? 1
  const r2 = header.acceleration?.step2 ?? 1
  if (!(r1 >= 1) || !(r2 >= 1)) {
    throw new ReconRefusedError(`the header's parallelImaging accelerationFactor is ${r1} x ${r2}: it must be 1 or more along each phase-encoding direction`)
  }
  if (trajectory === 'cartesian' || trajectory === 'epi') {
    // One line per slice is a spectrum or a projection (an FID, a calibration), not an image.
    const lines = Math.max(header.encodedMatrix.y, header.reconMatrix.y)
    const partitions = Math.max(header.encodedMatrix.z, header.reconMatrix.z)
    if (lines <= 1 && partitions <= 1) {
      throw new ReconRefusedError(`the data has ${Math.max(header.encodedMatrix.x, header.reconMatrix.x)} x 1 samples per slice, no phase encoding: an FID, a spectrum or a projection, not an image; ScanHub reconstructs 2D and 3D images`)
    }
  }
  if (trajectory === 'cartesian') return r1 > 1 || r2 > 1 ? GRAPPA_CHAIN : CARTESIAN_CHAIN
  if (trajectory === 'epi') {
    if (r1 > 1 || r2 > 1) throw new ReconRefusedError(`EPI accelerated by ${r1} x ${r2}: parallel imaging of EPI is not supported; acquire it without acceleration or reconstruct it elsewhere`)
    return EPI_CHAIN
  }
  if (GRIDDED.has(trajectory)) {
    if (r2 > 1) throw new ReconRefusedError(`${trajectory} data accelerated along the second phase encoding (${r2}): not supported`)
    return NUFFT_CHAIN
  }
  throw new ReconRefusedError(`unknown trajectory "${header.trajectory ?? ''}" in the header: ScanHub reconstructs cartesian, epi, radial, goldenangle, spiral and other (with a stored trajectory)`)
}

/** The chain of a named pipeline for data with this header. */
export function chainForPipeline (name: string, header: ReconHeader): Chain {
  switch (name) {
    case '':
    case 'default':
      return chainForHeader(header)
    case 'cartesian':
      return CARTESIAN_CHAIN
    case 'grappa':
      return GRAPPA_CHAIN
    case 'epi':
      return EPI_CHAIN
    case 'nufft':
      return NUFFT_CHAIN
    case 'batch':
      return BATCH_CHAIN
    default:
      throw new UnknownStageError(`unknown reconstruction pipeline "${name}": one of ${PIPELINES.map((p) => p.name).join(', ')}, or a chain of stages`)
  }
}
