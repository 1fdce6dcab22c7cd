// The virtual scanner's radial raw data reconstructed by the nufft stage, beside the same phantom
// scanned line by line and reconstructed by the Cartesian chain: the trajectory convention (ISMRMRD's
// k·Δx per axis, kx along the readout), the image orientation, the slice grouping and the scale must
// agree between the scanner and the reconstruction. A non-square matrix (64 x 48, square pixels)
// catches swapped axes; two slices, their grouping; readout oversampling (2 samples per Nyquist step
// along each spoke) and noise readouts, what a real radial scan carries.
import { describe, expect, it } from 'vitest'
import type { Acquisition } from '../protocol/mrd/types.ts'
import { InThreadFft } from '../recon-node/fft/pool.ts'
import type { Chain } from '../recon-node/pipeline/chain.ts'
import type { ReconImage } from '../recon-node/pipeline/image.ts'
import { NUFFT_CHAIN } from '../recon-node/pipeline/pipelines.ts'
import { runPipeline } from '../recon-node/pipeline/run.ts'
import type { ReconHeader } from '../recon-node/stages/stage.ts'
import { cartesianReadouts } from '../scanner-node/virtual/cartesian-plan.ts'
import { sheppLogan2d } from '../scanner-node/virtual/phantom.ts'
import type { PlannedReadout } from '../scanner-node/virtual/readout-plan.ts'
import { encodingFor, simulateReadouts, type SimulateOptions } from '../scanner-node/virtual/simulate.ts'

const MATRIX: [number, number] = [64, 48]
const FOV: [number, number, number] = [0.24, 0.18, 0.005]
const SLICES = 2
const SPOKES = 160
const TIMING = { teS: 0.01, trS: 2, flipAngleDeg: 90, kind: 'GRE' as const }

const OPTIONS: SimulateOptions = {
  // off centre, so that a flipped image does not match
  phantom: sheppLogan2d({ contrast: 'table', radiusM: 0.075, centreM: [0.02, -0.012, 0] }),
  coils: 4,
  noiseSigma: 0,
  oversampling: 2,
  fovM: FOV,
  matrix: MATRIX,
  timing: TIMING,
  seed: 3,
  noiseReadouts: 2
}

function headerFor (plan: PlannedReadout[], trajectory: string): ReconHeader {
  const e = encodingFor(OPTIONS, plan)
  const m = ([x, y, z]: [number, number, number]): { x: number, y: number, z: number } => ({ x, y, z })
  return {
    encodedMatrix: m(e.encodedMatrix),
    reconMatrix: m(e.reconMatrix),
    fovMm: { encoded: m(e.encodedFovMm), recon: m(e.reconFovMm) },
    encodingLimits: { kspaceEncodingStep1: e.limits.kspaceEncodingStep1 },
    trajectory
  }
}

/** Full spokes through k = 0, to the edge of the matrix's k-space (1/(2Δx), Δx = 3.75 mm on both axes). */
function radialPlan (): PlannedReadout[] {
  const samples = MATRIX[0]
  const kmax = MATRIX[0] / (2 * FOV[0])
  const plan: PlannedReadout[] = []
  for (let slice = 0; slice < SLICES; slice++) {
    for (let j = 0; j < SPOKES; j++) {
      const angle = Math.PI * j / SPOKES
      const k = Float64Array.from({ length: samples }, (_, m) => 2 * kmax * (m - samples / 2) / samples)
      plan.push({
        kx: k.map((v) => v * Math.cos(angle)),
        ky: k.map((v) => v * Math.sin(angle)),
        kz: new Float64Array(samples),
        dwellS: 10e-6,
        timeFromExcitationS: TIMING.teS,
        centerSample: samples / 2,
        sliceOffsetM: (slice - 0.5) * FOV[2],
        counters: { line: j, partition: 0, slice, average: 0, contrast: 0, repetition: 0, set: 0, segment: 0 }
      })
    }
  }
  return plan
}

async function reconstruct (acquisitions: Acquisition[], header: ReconHeader, chain: Chain): Promise<ReconImage[]> {
  const images: ReconImage[] = []
  const warnings: string[] = []
  await runPipeline(acquisitions, header, chain, { onImage: (i) => { images.push(i) }, fft: new InThreadFft(), onWarning: (m) => warnings.push(m) })
  expect(warnings).toEqual([])
  return images
}

function nrmse (a: Float32Array, b: Float32Array): number {
  let num = 0
  let den = 0
  for (let i = 0; i < b.length; i++) { num += (a[i] - b[i]) ** 2; den += b[i] ** 2 }
  return Math.sqrt(num / den)
}

describe('nufft on the virtual scanner\'s radial data', () => {
  it('gives the Cartesian chain\'s images of the same phantom (NRMSE ≤ 0.06, scale within 2 %): orientation, slices, position', async () => {
    const plan = radialPlan()
    const radial = await reconstruct(Array.from(simulateReadouts(plan, { ...OPTIONS, trajectory: 'radial' })), headerFor(plan, 'radial'), [{ stage: 'nufft' }, { stage: 'coil-combine-rss' }])
    const lines = Array.from(cartesianReadouts({ matrix: MATRIX, fovM: FOV, oversampling: 2, teS: TIMING.teS, slices: SLICES, sliceSpacingM: FOV[2] }))
    // the Cartesian scan keeps only the disc of k-space the spokes cover (|k·Δx| ≤ 0.5), so that both
    // images have the same resolution and ringing
    const scanned = Array.from(simulateReadouts(lines, { ...OPTIONS, storeTrajectory: true }))
    for (const acq of scanned) {
      const n = acq.head.numberOfSamples
      for (let m = 0; m < n && acq.head.trajectoryDimensions === 2; m++) {
        if (Math.hypot(acq.traj[2 * m], acq.traj[2 * m + 1]) <= 0.5) continue
        for (let c = 0; c < acq.head.activeChannels; c++) acq.data.fill(0, 2 * (c * n + m), 2 * (c * n + m) + 2)
      }
    }
    expect(scanned.filter((a) => a.head.trajectoryDimensions === 2).length).toBeGreaterThan(0)
    const cartesian = await reconstruct(scanned, headerFor(lines, 'cartesian'), [
      { stage: 'remove-oversampling' }, { stage: 'accumulate' }, { stage: 'fft' }, { stage: 'crop-to-recon-space' }, { stage: 'coil-combine-rss' }
    ])
    expect(radial).toHaveLength(SLICES)
    expect(cartesian).toHaveLength(SLICES)
    for (let s = 0; s < SLICES; s++) {
      const r = radial[s]
      const c = cartesian[s]
      expect([r.width, r.height, r.slice]).toEqual([c.width, c.height, c.slice])
      expect(r.position).toEqual(c.position)
      expect(r.fieldOfViewMm).toEqual(c.fieldOfViewMm)
      let ab = 0
      let bb = 0
      for (let i = 0; i < c.pixels.length; i++) { ab += r.pixels[i] * c.pixels[i]; bb += r.pixels[i] ** 2 }
      // what is left: T2* decay along spokes rather than lines, and the density weights' error
      expect(nrmse(r.pixels, c.pixels)).toBeLessThan(0.06)
      expect(ab / bb).toBeCloseTo(1, 1)
      expect(Math.abs(ab / bb - 1)).toBeLessThan(0.02)
    }
  })

  it('runs in the nufft pipeline (noise prewhitening, which keeps the trajectory, nufft, RSS, scale): the images of the noiseless scan within 3 % (the noise)', async () => {
    const plan = radialPlan()
    const clean = Array.from(simulateReadouts(plan, { ...OPTIONS, trajectory: 'radial' }))
    let peak = 0
    for (const acq of clean) for (const v of acq.data) peak = Math.max(peak, Math.abs(v))
    const noisy = Array.from(simulateReadouts(plan, { ...OPTIONS, trajectory: 'radial', noiseSigma: 2e-3 * peak, noiseReadouts: 64 }))
    const images = await reconstruct(noisy, headerFor(plan, 'radial'), NUFFT_CHAIN)
    const reference = await reconstruct(clean, headerFor(plan, 'radial'), [{ stage: 'nufft' }, { stage: 'coil-combine-rss' }, { stage: 'scale' }])
    expect(images).toHaveLength(SLICES)
    for (const [s, image] of images.entries()) {
      expect(Math.max(...image.pixels)).toBeCloseTo(4095, 0)
      expect(nrmse(image.pixels, reference[s].pixels)).toBeLessThan(0.03)
    }
  })
})
