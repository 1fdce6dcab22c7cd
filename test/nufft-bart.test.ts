// The nufft stage beside BART's adjoint NUFFT (`bart nufft -a`) on the same radial raw data: 256
// samples x 201 spokes, 4 coils, of an analytic phantom, with the same Pipe–Menon density weights
// (ScanHub's, written to a .cfl and applied with `bart fmac`). BART's trajectory is in its units,
// ISMRMRD's times the matrix size. Images are compared per coil, complex, after the one least-squares
// complex factor between the two (BART scales its NUFFT differently), and as root sums of squares.
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Acquisition } from '../protocol/mrd/types.ts'
import { readCfl, writeCfl } from '../recon-node/fft/cfl.ts'
import { runPipeline } from '../recon-node/pipeline/run.ts'
import { createFftPool } from '../recon-node/fft/pool.ts'
import { pipeMenonWeights } from '../recon-node/gridding/density.ts'
import { footprints, planGrid } from '../recon-node/gridding/grid.ts'
import { SampleSet } from '../recon-node/gridding/samples.ts'
import { rssCoils } from '../recon-node/stages/coil-combine-rss.ts'
import { fromData, type ComplexArray } from '../recon-node/stages/complex-array.ts'
import { nonCartesianAcquisitions, radialReadouts, testCoils, testPhantom } from '../recon-node/stages/nufft-test-phantom.ts'
import { nufft } from '../recon-node/stages/nufft.ts'
import type { Message, ReconHeader } from '../recon-node/stages/stage.ts'
import { makeHeader } from '../recon-node/stages/test-acquisitions.ts'
import { hasTool } from './support/external-tools.ts'

const pool = createFftPool({ size: 2 })
afterAll(async () => { await pool.close() })

const N = 256
const SAMPLES = 256
const SPOKES = 201
const COILS = 4

/** ||a − s·b|| / ||a|| with s the complex least-squares factor. */
function complexNrmse (a: Float32Array, b: Float32Array): { nrmse: number, factor: [number, number] } {
  let br = 0
  let bi = 0
  let bb = 0
  let aa = 0
  for (let i = 0; i < a.length; i += 2) {
    // <b, a> = Σ conj(b)·a
    br += b[i] * a[i] + b[i + 1] * a[i + 1]
    bi += b[i] * a[i + 1] - b[i + 1] * a[i]
    bb += b[i] * b[i] + b[i + 1] * b[i + 1]
    aa += a[i] * a[i] + a[i + 1] * a[i + 1]
  }
  const sr = br / bb
  const si = bi / bb
  let err = 0
  for (let i = 0; i < a.length; i += 2) {
    const er = a[i] - (sr * b[i] - si * b[i + 1])
    const ei = a[i + 1] - (sr * b[i + 1] + si * b[i])
    err += er * er + ei * ei
  }
  return { nrmse: Math.sqrt(err / aa), factor: [sr, si] }
}

function realNrmseScaled (a: Float32Array, b: Float32Array): number {
  let ab = 0
  let bb = 0
  for (let i = 0; i < a.length; i++) { ab += a[i] * b[i]; bb += b[i] * b[i] }
  const s = ab / bb
  let err = 0
  let aa = 0
  for (let i = 0; i < a.length; i++) { err += (a[i] - s * b[i]) ** 2; aa += a[i] * a[i] }
  return Math.sqrt(err / aa)
}

function bart (...args: string[]): number {
  const started = performance.now()
  const r = spawnSync('bart', args, { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`bart ${args.join(' ')} failed: ${r.stderr}`)
  return performance.now() - started
}

interface RadialCase {
  acquisitions: Acquisition[]
  header: ReconHeader
  /** BART's files: trajectory [3, samples, spokes], k-space [1, samples, spokes, coils] */
  traj: string
  kspace: string
}

async function writeRadialCase (dir: string, name: string, samples: number, spokes: number, coils: number): Promise<RadialCase> {
  const readouts = radialReadouts(samples, spokes)
  const acquisitions = nonCartesianAcquisitions(readouts, testPhantom(N), testCoils(coils))
  const traj = new Float32Array(2 * 3 * samples * spokes)
  const kspace = new Float32Array(2 * samples * spokes * coils)
  acquisitions.forEach((acq, p) => {
    for (let s = 0; s < samples; s++) {
      traj[2 * 3 * (s + samples * p)] = N * acq.traj[2 * s]
      traj[2 * 3 * (s + samples * p) + 2] = N * acq.traj[2 * s + 1]
      for (let c = 0; c < coils; c++) {
        const to = 2 * (s + samples * (p + spokes * c))
        kspace[to] = acq.data[2 * (c * samples + s)]
        kspace[to + 1] = acq.data[2 * (c * samples + s) + 1]
      }
    }
  })
  const base = join(dir, name)
  await writeCfl(`${base}_traj`, [3, samples, spokes], traj)
  await writeCfl(`${base}_ksp`, [1, samples, spokes, coils], kspace)
  return { acquisitions, header: makeHeader([N, N, 1], [N, N, 1], { encoded: [220, 220, 5], recon: [220, 220, 5] }), traj: `${base}_traj`, kspace: `${base}_ksp` }
}

/** ScanHub's Pipe–Menon weights for the case's samples, in readout order, with the stage's defaults. */
function pipeWeights (acquisitions: Acquisition[]): Float32Array {
  const defaults = nufft.params
  const plan = planGrid(N, N, defaults.oversampling.default, defaults.kernelWidth.default)
  const set = new SampleSet(1)
  for (const acq of acquisitions) {
    const n = acq.head.numberOfSamples
    set.addReadout(acq.traj, 2, new Float32Array(2 * n), n, 0, n, () => true)
  }
  return pipeMenonWeights(footprints(set.kx, set.ky, set.count, plan), plan, defaults.densityIterations.default)
}

async function scanhubImage (c: RadialCase, params: Record<string, number | string> = {}): Promise<{ image: ComplexArray, ms: number }> {
  const started = performance.now()
  const others: Message[] = []
  await runPipeline(c.acquisitions, c.header, [{ stage: 'nufft', params }], { onImage: () => {}, onOther: (m) => { others.push(m) }, fft: pool })
  const ms = performance.now() - started
  expect(others).toHaveLength(1)
  const buffer = others[0]
  if (buffer.kind !== 'buffer') throw new Error('expected an image buffer')
  expect(buffer.array.dims).toEqual([N, N, 1, c.acquisitions[0].head.activeChannels])
  return { image: buffer.array, ms }
}

describe.skipIf(!hasTool('bart'))('nufft beside bart nufft -a', () => {
  let dir = ''
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'scanhub-nufft-bart-')) })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it('matches BART on 256 x 201 radial spokes, 4 coils, with the same Pipe–Menon weights (NRMSE ≤ 0.05 per coil and RSS)', async () => {
    const c = await writeRadialCase(dir, 'radial', SAMPLES, SPOKES, COILS)
    const weights = pipeWeights(c.acquisitions)
    const w = new Float32Array(2 * weights.length)
    weights.forEach((v, i) => { w[2 * i] = v })
    await writeCfl(join(dir, 'dcf'), [1, SAMPLES, SPOKES], w)
    bart('fmac', c.kspace, join(dir, 'dcf'), join(dir, 'ksp_dcf'))
    bart('nufft', '-a', '-d', `${N}:${N}:1`, c.traj, join(dir, 'ksp_dcf'), join(dir, 'bart_img'))
    const ref = await readCfl(join(dir, 'bart_img'))
    expect(ref.dims.slice(0, 4)).toEqual([N, N, 1, COILS])

    const { image } = await scanhubImage(c)
    const perCoil = complexNrmse(ref.data, image.data)
    const rss = realNrmseScaled(rssCoils(fromData([N, N, 1, COILS], ref.data)), rssCoils(image))
    console.log(`nufft vs bart nufft -a (Pipe weights): complex NRMSE ${perCoil.nrmse.toExponential(2)}, RSS NRMSE ${rss.toExponential(2)}, BART / ScanHub = ${perCoil.factor[0].toExponential(3)} ${perCoil.factor[1] >= 0 ? '+' : '-'} ${Math.abs(perCoil.factor[1]).toExponential(1)}i`)
    expect(perCoil.nrmse).toBeLessThan(0.05)
    expect(rss).toBeLessThan(0.05)
    // the factor is real (no conjugation, shift or phase convention between the two) and 1/N: BART's
    // adjoint is ScanHub's (the Cartesian chain's scale) divided by sqrt(Nx·Ny)
    expect(Math.abs(perCoil.factor[1] / perCoil.factor[0])).toBeLessThan(1e-3)
    expect(perCoil.factor[0] * N).toBeCloseTo(1, 2)
  })

  it('grids as BART does when both take the same pre-weighted data (density none): NRMSE ≤ 0.002', async () => {
    const c = await writeRadialCase(dir, 'radial_pre', SAMPLES, SPOKES, COILS)
    const weights = pipeWeights(c.acquisitions)
    for (const acq of c.acquisitions) {
      const n = acq.head.numberOfSamples
      const p = acq.head.idx.kspaceEncodeStep1
      for (let ch = 0; ch < COILS; ch++) {
        for (let s = 0; s < n; s++) {
          acq.data[2 * (ch * n + s)] *= weights[p * n + s]
          acq.data[2 * (ch * n + s) + 1] *= weights[p * n + s]
        }
      }
    }
    const pre = new Float32Array(2 * SAMPLES * SPOKES * COILS)
    c.acquisitions.forEach((acq, p) => {
      for (let ch = 0; ch < COILS; ch++) {
        for (let s = 0; s < SAMPLES; s++) {
          pre[2 * (s + SAMPLES * (p + SPOKES * ch))] = acq.data[2 * (ch * SAMPLES + s)]
          pre[2 * (s + SAMPLES * (p + SPOKES * ch)) + 1] = acq.data[2 * (ch * SAMPLES + s) + 1]
        }
      }
    })
    await writeCfl(join(dir, 'ksp_pre'), [1, SAMPLES, SPOKES, COILS], pre)
    bart('nufft', '-a', '-d', `${N}:${N}:1`, c.traj, join(dir, 'ksp_pre'), join(dir, 'bart_pre'))
    const ref = await readCfl(join(dir, 'bart_pre'))
    const { image } = await scanhubImage(c, { density: 'none' })
    const perCoil = complexNrmse(ref.data, image.data)
    console.log(`nufft (density none) vs bart nufft -a on pre-weighted data: complex NRMSE ${perCoil.nrmse.toExponential(2)}`)
    expect(perCoil.nrmse).toBeLessThan(0.002)
  })

  it('times a 256 x 256, 402-spoke, 8-coil reconstruction beside bart nufft -a (reported, not asserted)', async () => {
    const c = await writeRadialCase(dir, 'timing', SAMPLES, 402, 8)
    await scanhubImage(c) // warm-up: JIT, FFT workers
    const runs = 3
    let withDensity = Infinity
    let gridding = Infinity
    let bartMs = Infinity
    for (let i = 0; i < runs; i++) {
      withDensity = Math.min(withDensity, (await scanhubImage(c)).ms)
      gridding = Math.min(gridding, (await scanhubImage(c, { density: 'none' })).ms)
      bartMs = Math.min(bartMs, bart('nufft', '-a', '-d', `${N}:${N}:1`, c.traj, c.kspace, join(dir, 'timing_img')))
    }
    console.log(`256 x 256, 402 spokes x 256 samples, 8 coils, best of ${runs}: ScanHub nufft ${withDensity.toFixed(0)} ms with Pipe–Menon density (10 iterations), ${gridding.toFixed(0)} ms without; bart nufft -a ${bartMs.toFixed(0)} ms (process, no density compensation)`)
    expect(withDensity).toBeGreaterThan(0)
  })
})
