// EPI through the real pipeline: ramp-sampled echo trains from the virtual scanner (analytic k-space of
// the Shepp-Logan phantom at every sample the trajectory visits), reconstructed with runPipeline and
// the EPI stages, against the same phantom scanned with a plain Cartesian plan.
import { describe, expect, it } from 'vitest'
import type { Acquisition } from '../protocol/mrd/types.ts'
import type { Chain } from '../recon-node/pipeline/chain.ts'
import type { ReconImage } from '../recon-node/pipeline/image.ts'
import { runPipeline } from '../recon-node/pipeline/run.ts'
import { InThreadFft } from '../recon-node/fft/pool.ts'
import { flagsOf, IS_PHASECORR_DATA, IS_REVERSE, isFlagSet } from '../recon-node/stages/flags.ts'
import type { ReconHeader } from '../recon-node/stages/stage.ts'
import { cartesianReadouts } from '../scanner-node/virtual/cartesian-plan.ts'
import { sheppLogan2d } from '../scanner-node/virtual/phantom.ts'
import type { PlannedReadout } from '../scanner-node/virtual/readout-plan.ts'
import { encodingFor, simulateReadouts, type SimulateOptions } from '../scanner-node/virtual/simulate.ts'

const MATRIX = 64
// twice the phantom's height along y: the head (±0.092 m) fills the central half, where its Nyquist
// ghost (shifted by half the field of view) is not
const FOV: [number, number, number] = [0.25, 0.4, 0.005]
const TIMING = { teS: 0.03, trS: 3, flipAngleDeg: 90, kind: 'GRE' as const }

const OPTIONS: SimulateOptions = {
  phantom: sheppLogan2d({ contrast: 'table' }),
  coils: 4,
  noiseSigma: 0,
  oversampling: 2,
  fovM: FOV,
  matrix: [MATRIX, MATRIX],
  timing: TIMING,
  seed: 7,
  noiseReadouts: 0
}

const EPI_CHAIN: Chain = [
  { stage: 'epi-ramp-regrid' },
  { stage: 'epi-nyquist-correction' },
  { stage: 'accumulate' },
  { stage: 'partial-fourier' },
  { stage: 'fft' },
  { stage: 'crop-to-recon-space' },
  { stage: 'coil-combine-rss' }
]

const CARTESIAN_CHAIN: Chain = [
  { stage: 'accumulate' },
  { stage: 'fft' },
  { stage: 'crop-to-recon-space' },
  { stage: 'coil-combine-rss' }
]

/** kx (1/m) of `count` samples at uniform times over a trapezoid with ramps of `ramp` of the readout each side. */
function trapezoidKx (count: number, ramp: number, kmax: number): Float64Array {
  const flat = 1 - 2 * ramp
  const area = ramp + flat
  const integral = (t: number): number => {
    if (t <= ramp) return t * t / (2 * ramp)
    if (t <= ramp + flat) return ramp / 2 + (t - ramp)
    return area - (1 - t) * (1 - t) / (2 * ramp)
  }
  return Float64Array.from({ length: count }, (_, s) => -kmax + 2 * kmax * integral((s + 0.5) / count) / area)
}

interface EpiPlan {
  /** lines acquired (default all): e.g. 0..39 for 5/8 partial Fourier */
  lines?: number
  navigators?: boolean
  /** where the − readouts really sample: kx + shift (1/m), as a gradient delay does */
  shiftKx?: number
}

/** One echo train after one excitation: 3 navigators (+, −, +) at ky = 0, then the lines with alternating polarity, ramp-sampled. */
function epiReadouts (plan: EpiPlan): PlannedReadout[] {
  const kmax = 0.5 * MATRIX / FOV[0]
  const forward = trapezoidKx(90, 0.2, kmax)
  const readout = (line: number, ky: number, reverse: boolean, navigator: boolean): PlannedReadout => {
    const kx = reverse ? forward.map((k) => k + (plan.shiftKx ?? 0)).reverse() : forward.slice()
    return {
      kx,
      ky: new Float64Array(kx.length).fill(ky),
      kz: new Float64Array(kx.length),
      dwellS: 4e-6,
      timeFromExcitationS: TIMING.teS,
      excitationTimeS: 0,
      counters: { line, partition: 0, slice: 0, average: 0, contrast: 0, repetition: 0, set: 0, segment: 0 },
      isReverse: reverse,
      isNavigator: navigator
    }
  }
  const out: PlannedReadout[] = []
  if (plan.navigators ?? true) for (let i = 0; i < 3; i++) out.push(readout(MATRIX / 2, 0, i === 1, true))
  const lines = plan.lines ?? MATRIX
  for (let line = 0; line < lines; line++) out.push(readout(line, (line - MATRIX / 2) / FOV[1], line % 2 === 1, false))
  return out
}

function headerFor (options: SimulateOptions, plan: PlannedReadout[], trajectory: string): ReconHeader {
  const e = encodingFor(options, plan.filter((r) => r.isNavigator !== true))
  const m = ([x, y, z]: [number, number, number]): { x: number, y: number, z: number } => ({ x, y, z })
  return {
    encodedMatrix: m(e.encodedMatrix),
    reconMatrix: m(e.reconMatrix),
    fovMm: { encoded: m(e.encodedFovMm), recon: m(e.reconFovMm) },
    encodingLimits: { kspaceEncodingStep1: { ...e.limits.kspaceEncodingStep1, center: MATRIX / 2 } },
    trajectory
  }
}

/**
 * The EPI scan as the scanner would record it: navigators flagged IS_PHASECORR_DATA; with a shift,
 * the − readouts' stored trajectory is the nominal one (where the scanner believes it sampled) and
 * their samples carry an extra constant phase `phase` (rad).
 */
function epiScan (plan: EpiPlan, phase = 0): { header: ReconHeader, acquisitions: Acquisition[] } {
  const readouts = epiReadouts(plan)
  const options = { ...OPTIONS, storeTrajectory: true }
  const acquisitions = Array.from(simulateReadouts(readouts, options))
  const shift = (plan.shiftKx ?? 0) * FOV[0] / MATRIX // normalised units k·Δx
  acquisitions.forEach((acq, i) => {
    if (readouts[i].isNavigator === true) acq.head.flags |= flagsOf(IS_PHASECORR_DATA)
    if (!isFlagSet(acq.head, IS_REVERSE)) return
    const dims = acq.head.trajectoryDimensions
    for (let s = 0; s < acq.head.numberOfSamples; s++) acq.traj[dims * s] -= shift
    const [c, sn] = [Math.cos(phase), Math.sin(phase)]
    for (let i = 0; i < acq.data.length; i += 2) {
      const re = acq.data[i]
      const im = acq.data[i + 1]
      acq.data[i] = re * c - im * sn
      acq.data[i + 1] = re * sn + im * c
    }
  })
  return { header: headerFor(options, readouts, 'epi'), acquisitions }
}

async function reconstruct (acquisitions: Acquisition[], header: ReconHeader, chain: Chain, warnings: string[] = [], handsOverAcquisitions = false): Promise<ReconImage> {
  const images: ReconImage[] = []
  await runPipeline(acquisitions, header, chain, { onImage: (i) => { images.push(i) }, fft: new InThreadFft(), onWarning: (m) => warnings.push(m), handsOverAcquisitions })
  expect(images).toHaveLength(1)
  return images[0]
}

/** The phantom scanned line by line, every readout from −kx to +kx on the uniform grid. */
async function cartesianImage (): Promise<ReconImage> {
  const readouts = Array.from(cartesianReadouts({ matrix: [MATRIX, MATRIX], fovM: FOV, oversampling: 2, teS: TIMING.teS }))
  const acquisitions = Array.from(simulateReadouts(readouts, OPTIONS))
  return await reconstruct(acquisitions, headerFor(OPTIONS, readouts, 'cartesian'), CARTESIAN_CHAIN)
}

function nrmse (a: Float32Array, b: Float32Array): number {
  let num = 0
  let den = 0
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2
    den += b[i] ** 2
  }
  return Math.sqrt(num / den)
}

/** Energy of the rows outside the central half (where only a ghost can be) over all energy. */
function ghostRatio (image: ReconImage): number {
  let ghost = 0
  let total = 0
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      const e = image.pixels[x + image.width * y] ** 2
      total += e
      if (Math.abs(y - image.height / 2) > image.height / 4 + 1) ghost += e
    }
  }
  return ghost / total
}

const without = (chain: Chain, stage: string): Chain => chain.filter((s) => s.stage !== stage)

describe('EPI through the pipeline', { timeout: 120_000 }, () => {
  const reference = cartesianImage()

  it('(a) ramp-sampled EPI regridded gives the image of the uniformly sampled Cartesian scan', async () => {
    const { header, acquisitions } = epiScan({})
    expect(acquisitions[5].head.trajectoryDimensions).toBe(2)
    expect(acquisitions[5].head.numberOfSamples).toBe(180)
    const image = await reconstruct(acquisitions, header, EPI_CHAIN)
    const cartesian = await reference
    expect([image.width, image.height]).toEqual([MATRIX, MATRIX])
    expect(nrmse(image.pixels, cartesian.pixels)).toBeLessThan(5e-3) // measured 1.8e-3
    // the two polarities agree: no ghost beyond the Cartesian scan's own ringing
    expect(ghostRatio(image)).toBeLessThan(ghostRatio(cartesian) + 1e-4)
  })

  it('(a) the same with readout oversampling removed and noise prewhitening before accumulation', async () => {
    const { header, acquisitions } = epiScan({})
    const chain: Chain = [
      ...EPI_CHAIN.slice(0, 2),
      { stage: 'remove-oversampling' },
      { stage: 'noise-prewhitening' },
      ...EPI_CHAIN.slice(2)
    ]
    const image = await reconstruct(acquisitions, header, chain)
    // the crop of IS_REVERSE readouts is centred where accumulate puts their k = 0 (else: 0.25)
    expect(nrmse(image.pixels, (await reference).pixels)).toBeLessThan(5e-3)
    // readouts handed over are cropped in place, to the same image
    const handedOver = await reconstruct(epiScan({}).acquisitions, header, chain, [], true)
    expect(nrmse(handedOver.pixels, image.pixels)).toBeLessThan(1e-6)
  })

  it('(b) an odd/even echo shift makes a Nyquist ghost that the navigators remove to under a tenth', async () => {
    // − readouts sample 0.4 grid steps (1/encoded FOV) later in kx, with 0.6 rad of extra phase
    const shiftKx = 0.4 / (2 * FOV[0])
    const scan = (): { header: ReconHeader, acquisitions: Acquisition[] } => epiScan({ shiftKx }, 0.6)
    const a = scan()
    const ghosted = await reconstruct(a.acquisitions, a.header, without(EPI_CHAIN, 'epi-nyquist-correction'))
    const b = scan()
    const corrected = await reconstruct(b.acquisitions, b.header, EPI_CHAIN)
    const cartesian = await reference
    // the Cartesian scan's own ringing outside the object's rows (1.6e-3) is no ghost
    const floor = ghostRatio(cartesian)
    const before = ghostRatio(ghosted) - floor
    const after = ghostRatio(corrected) - floor
    expect(before).toBeGreaterThan(0.05) // measured 0.095
    expect(after).toBeLessThan(before / 10)
    expect(after).toBeLessThan(before / 100) // measured 1e-5
    expect(nrmse(corrected.pixels, cartesian.pixels)).toBeLessThan(0.01) // measured 2.5e-3
  })

  it('readouts in alternating directions without navigators or trajectory: no ghost (scanner and reconstruction agree on center_sample of reversed readouts)', async () => {
    const readouts = Array.from(cartesianReadouts({ matrix: [MATRIX, MATRIX], fovM: FOV, oversampling: 2, teS: TIMING.teS, alternateReadDirection: true }))
    expect(readouts.some((r) => r.isReverse === true)).toBe(true)
    const acquisitions = Array.from(simulateReadouts(readouts, OPTIONS))
    const reference = (await cartesianImage()).pixels
    // a one-sample disagreement ghosts at NRMSE 0.25; what remains is the edge sample (+kmax instead of −kmax on
    // reversed lines, dropped by the crop's one-place move)
    for (const chain of [CARTESIAN_CHAIN, [{ stage: 'remove-oversampling' }, ...CARTESIAN_CHAIN]]) {
      const alternating = await reconstruct(acquisitions, headerFor(OPTIONS, readouts, 'cartesian'), chain)
      expect(nrmse(alternating.pixels, reference)).toBeLessThan(0.03)
    }
  })

  it('(b) without navigators the ghost stays, with one warning', async () => {
    const { header, acquisitions } = epiScan({ shiftKx: 0.4 / (2 * FOV[0]), navigators: false }, 0.6)
    const warnings: string[] = []
    const image = await reconstruct(acquisitions, header, EPI_CHAIN, warnings)
    expect(warnings.filter((w) => /Nyquist ghosts are not corrected/.test(w))).toHaveLength(1)
    expect(ghostRatio(image)).toBeGreaterThan(0.02)
  })

  it('(c) 5/8 partial Fourier EPI: POCS reconstructs well below the error of zero filling', async () => {
    const scan = (): { header: ReconHeader, acquisitions: Acquisition[] } => epiScan({ lines: 40 })
    const cartesian = await reference
    const a = scan()
    const zeroFilled = await reconstruct(a.acquisitions, a.header, EPI_CHAIN.map((s) => s.stage === 'partial-fourier' ? { stage: s.stage, params: { method: 'zerofill' } } : s))
    const b = scan()
    const pocs = await reconstruct(b.acquisitions, b.header, EPI_CHAIN)
    const zeroError = nrmse(zeroFilled.pixels, cartesian.pixels)
    const pocsError = nrmse(pocs.pixels, cartesian.pixels)
    expect(zeroError).toBeGreaterThan(0.15) // measured 0.25
    expect(pocsError).toBeLessThan(zeroError / 3) // measured 0.058
  })

  it('(d) refuses a partial Fourier centre too small for the phase, saying how many lines it needs and had', async () => {
    const { header, acquisitions } = epiScan({ lines: 35 })
    await expect(reconstruct(acquisitions, header, EPI_CHAIN)).rejects.toThrow(/PHS1 needs at least 6 lines .* there were 5/)
  })

  it('(d) refuses a trajectory too sparse for the encoded field of view', async () => {
    const { header, acquisitions } = epiScan({})
    // the header claims twice the readout field of view the samples can hold
    const wide = { ...header, encodedMatrix: { ...header.encodedMatrix, x: 256 }, fovMm: { ...header.fovMm, encoded: { ...header.fovMm.encoded, x: header.fovMm.encoded.x * 2 } } }
    await expect(reconstruct(acquisitions, wide, EPI_CHAIN)).rejects.toThrow(/grid steps apart.*needs at most 1/)
  })

  it('(d) refuses navigators read in one direction only', async () => {
    const { header, acquisitions } = epiScan({})
    // the second navigator loses its IS_REVERSE: the regridding lays it out as a + readout, with a warning
    acquisitions[1].head.flags &= ~flagsOf(IS_REVERSE)
    const warnings: string[] = []
    await expect(reconstruct(acquisitions, header, EPI_CHAIN, warnings)).rejects.toThrow(/navigators read in both directions/)
    expect(warnings.join('\n')).toMatch(/IS_REVERSE is not set/)
  })
})
