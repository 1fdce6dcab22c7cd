import { describe, expect, it } from 'vitest'
import type { Acquisition } from '../../protocol/mrd/types.ts'
import { fftc, ifftc } from '../fft/fftn.ts'
import { InThreadFft } from '../fft/pool.ts'
import { gaussian, seededRandom } from '../fft/test-support.ts'
import { accumulate } from './accumulate.ts'
import { epiNyquistCorrection, estimateOddEvenPhase, NyquistNavigatorError, toHybrid } from './epi-nyquist-correction.ts'
import { ReconRefusedError } from './errors.ts'
import { fft } from './fft.ts'
import { coilCombineRss } from './coil-combine-rss.ts'
import { flagsOf, IS_PHASECORR_DATA, IS_REVERSE, LAST_IN_SLICE } from './flags.ts'
import { defaults, type Message, type ParamTable, type ParamValue, type ReconHeader, type Stage, type StageContext } from './stage.ts'
import { makeAcquisition, makeHeader } from './test-acquisitions.ts'

const NX = 64
const NY = 64
const COILS = 3
const HEADER: ReconHeader = makeHeader([NX, NY, 1])

/**
 * k-space of coil images of an object confined to the central half of the field of view along y (so
 * that its Nyquist ghost, shifted by half the FOV, lands where the object is not): [x, y, coil] lines.
 */
function objectKspace (): Float32Array {
  const dims = [NX, NY, 1, COILS]
  const img = new Float32Array(2 * NX * NY * COILS)
  for (let c = 0; c < COILS; c++) {
    for (let y = 0; y < NY; y++) {
      for (let x = 0; x < NX; x++) {
        const u = (x - NX / 2) / NX
        const v = (y - NY / 2) / NY
        let m = 0
        if ((u / 0.4) ** 2 + (v / 0.22) ** 2 < 1) m += 1
        if (((u - 0.1) / 0.1) ** 2 + ((v + 0.05) / 0.08) ** 2 < 1) m += 0.6
        const phase = 0.8 * u + 0.3 * v + c
        const s = 1 + 0.4 * Math.cos(2 * Math.PI * (u + c / COILS))
        img[2 * (x + NX * (y + NY * c))] = m * s * Math.cos(phase)
        img[2 * (x + NX * (y + NY * c)) + 1] = m * s * Math.sin(phase)
      }
    }
  }
  const k = new Float32Array(img.length)
  fftc(dims, 3, k, img)
  return k
}

/** One readout of line y (k-space order), with the odd/even phase error φ(x) = a + b(x − NX/2) in hybrid space when reversed. */
function readout (k: Float32Array, y: number, reverse: boolean, error: { a: number, b: number }, flags: bigint, step1: number): Acquisition {
  const line = new Float32Array(2 * NX * COILS)
  for (let c = 0; c < COILS; c++) line.set(k.subarray(2 * NX * (y + NY * c), 2 * NX * (y + NY * c + 1)), 2 * NX * c)
  if (reverse) {
    ifftc([NX, COILS], 1, line, line)
    for (let c = 0; c < COILS; c++) {
      for (let x = 0; x < NX; x++) {
        const phi = error.a + error.b * (x - NX / 2)
        const i = 2 * (NX * c + x)
        const re = line[i]
        const im = line[i + 1]
        line[i] = (re * Math.cos(phi) - im * Math.sin(phi)) / NX
        line[i + 1] = (re * Math.sin(phi) + im * Math.cos(phi)) / NX
      }
    }
    fftc([NX, COILS], 1, line, line)
  }
  const data = new Float32Array(line.length)
  for (let c = 0; c < COILS; c++) {
    for (let s = 0; s < NX; s++) {
      const from = 2 * (NX * c + (reverse ? NX - 1 - s : s))
      data[2 * (NX * c + s)] = line[from]
      data[2 * (NX * c + s) + 1] = line[from + 1]
    }
  }
  return makeAcquisition({ samples: NX, channels: COILS, data, flags: flags | (reverse ? flagsOf(IS_REVERSE) : 0n), step1 })
}

/** An EPI train: 3 navigators (+, −, +) at ky = 0 unless left out, then every line with alternating polarity. */
function epiTrain (error: { a: number, b: number }, navigators = true): Acquisition[] {
  const k = objectKspace()
  const out: Acquisition[] = []
  if (navigators) for (let i = 0; i < 3; i++) out.push(readout(k, NY / 2, i === 1, error, flagsOf(IS_PHASECORR_DATA), NY / 2))
  for (let y = 0; y < NY; y++) out.push(readout(k, y, y % 2 === 1, error, y === NY - 1 ? flagsOf(LAST_IN_SLICE) : 0n, y))
  return out
}

/** Runs messages through stages in order (each stage's end at the end), as runPipeline does. */
async function runStages (steps: Array<[Stage<ParamTable, unknown>, Record<string, ParamValue>?]>, acquisitions: Acquisition[], warnings: string[] = []): Promise<Message[]> {
  let messages: Message[] = acquisitions.map((acquisition) => ({ kind: 'acquisition', acquisition }))
  for (const [stage, given] of steps) {
    const params = { ...defaults(stage.params), ...given }
    const ctx: StageContext = { header: HEADER, fft: new InThreadFft(), state: stage.init?.(params, HEADER), warn: (m) => warnings.push(m) }
    const next: Message[] = []
    for (const m of messages) next.push(...await stage.run(m, params, ctx))
    if (stage.end !== undefined) next.push(...await stage.end(params, ctx))
    messages = next
  }
  return messages
}

/** Energy outside the object's rows (|y − NY/2| > NY/4 + 2, where only a ghost can be) over all energy. */
async function ghostRatio (steps: Array<[Stage<ParamTable, unknown>, Record<string, ParamValue>?]>, acquisitions: Acquisition[]): Promise<number> {
  const out = await runStages([...steps, [accumulate], [fft], [coilCombineRss]], acquisitions)
  const images = out.filter((m) => m.kind === 'image')
  expect(images).toHaveLength(1)
  const image = images[0]
  let ghost = 0
  let total = 0
  for (let y = 0; y < NY; y++) {
    for (let x = 0; x < NX; x++) {
      const e = image.pixels[x + NX * y] ** 2
      total += e
      if (Math.abs(y - NY / 2) > NY / 4 + 2) ghost += e
    }
  }
  return ghost / total
}

const ERROR = { a: 0.7, b: 0.09 }

describe('epi-nyquist-correction', () => {
  it('estimates the constant and linear phase between the polarities from the navigators', () => {
    const train = epiTrain(ERROR)
    const hybrid = train.slice(0, 3).map((a, i) => toHybrid(a.data, NX, COILS, i === 1))
    const phase = estimateOddEvenPhase([hybrid[0], hybrid[2]], [hybrid[1]], NX, COILS)
    expect(phase.constant).toBeCloseTo(ERROR.a, 4)
    expect(phase.slope).toBeCloseTo(ERROR.b, 5)
  })

  it('finds a phase that wraps across the readout (slope 0.3 rad per pixel)', () => {
    const train = epiTrain({ a: -2.5, b: 0.3 })
    const hybrid = train.slice(0, 3).map((a, i) => toHybrid(a.data, NX, COILS, i === 1))
    const phase = estimateOddEvenPhase([hybrid[0], hybrid[2]], [hybrid[1]], NX, COILS)
    expect(phase.constant).toBeCloseTo(-2.5, 4)
    expect(phase.slope).toBeCloseTo(0.3, 5)
  })

  it('estimates the phase from noisy navigators to within 0.02 rad and 0.003 rad per pixel', () => {
    const train = epiTrain(ERROR)
    const random = gaussian(seededRandom(3))
    let peak = 0
    for (const a of train.slice(0, 3)) for (const v of a.data) peak = Math.max(peak, Math.abs(v))
    // noise of 2 % of the k-space peak on every sample of the navigators
    for (const a of train.slice(0, 3)) for (let i = 0; i < a.data.length; i++) a.data[i] += 0.02 * peak * random()
    const hybrid = train.slice(0, 3).map((a, i) => toHybrid(a.data, NX, COILS, i === 1))
    const phase = estimateOddEvenPhase([hybrid[0], hybrid[2]], [hybrid[1]], NX, COILS)
    // measured 0.007 and 0.0013
    expect(Math.abs(phase.constant - ERROR.a)).toBeLessThan(0.02)
    expect(Math.abs(phase.slope - ERROR.b)).toBeLessThan(0.003)
  })

  it.each(['both', 'reversed'])('removes the Nyquist ghost to under a tenth (apply: %s)', async (apply) => {
    const clean = await ghostRatio([], epiTrain({ a: 0, b: 0 }))
    const ghosted = await ghostRatio([], epiTrain(ERROR))
    const corrected = await ghostRatio([[epiNyquistCorrection, { apply }]], epiTrain(ERROR))
    expect(ghosted).toBeGreaterThan(0.05)
    expect(corrected).toBeLessThan(ghosted / 10)
    expect(corrected).toBeLessThan(clean + 1e-4)
  })

  it('passes the navigators on and does not modify acquisitions it does not own', async () => {
    const train = epiTrain(ERROR)
    const copies = train.map((a) => a.data.slice())
    const out = await runStages([[epiNyquistCorrection]], train)
    expect(out).toHaveLength(train.length)
    for (let i = 0; i < 3; i++) expect(out[i]).toEqual({ kind: 'acquisition', acquisition: train[i] })
    train.forEach((a, i) => { expect(a.data).toEqual(copies[i]) })
  })

  it('writes over owned readouts', async () => {
    const train = epiTrain(ERROR)
    const params = defaults(epiNyquistCorrection.params)
    const ctx = { header: HEADER, fft: new InThreadFft(), state: epiNyquistCorrection.init!(params, HEADER), warn: () => {} }
    for (const acquisition of train.slice(0, 3)) epiNyquistCorrection.run({ kind: 'acquisition', acquisition }, params, ctx)
    const line = train[4] // reversed
    const [out] = epiNyquistCorrection.run({ kind: 'acquisition', acquisition: line, owned: true }, params, ctx) as Message[]
    expect(out.kind === 'acquisition' && out.acquisition.data).toBe(line.data)
  })

  it('passes an EPI without navigators through, warning once that ghosts are not corrected', async () => {
    const warnings: string[] = []
    const train = epiTrain(ERROR, false)
    const out = await runStages([[epiNyquistCorrection]], train, warnings)
    expect(out.map((m) => m.kind === 'acquisition' && m.acquisition)).toEqual(train)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/without navigators .*Nyquist ghosts are not corrected/)
  })

  it('refuses navigators of one polarity only', async () => {
    const train = epiTrain(ERROR)
    train[1].head.flags &= ~flagsOf(IS_REVERSE)
    await expect(runStages([[epiNyquistCorrection]], train)).rejects.toThrow(NyquistNavigatorError)
    await expect(runStages([[epiNyquistCorrection]], train)).rejects.toThrow(ReconRefusedError)
    await expect(runStages([[epiNyquistCorrection]], train)).rejects.toThrow(/all of \+ polarity.*both directions/)
  })

  it('refuses imaging readouts that do not match their navigators', async () => {
    const train = epiTrain(ERROR)
    train[5] = makeAcquisition({ samples: NX / 2, channels: COILS, flags: flagsOf(IS_REVERSE), step1: 2 })
    await expect(runStages([[epiNyquistCorrection]], train)).rejects.toThrow(/32 samples, its navigators 3 x 64/)
  })

  it('uses each train\'s own navigators (a new train starts with new navigators)', async () => {
    // two repetitions of the same slice in one stream, with different errors: each is corrected by its own
    const first = epiTrain(ERROR)
    const second = epiTrain({ a: -1.1, b: -0.05 })
    for (const a of second) a.head.idx.repetition = 1
    const out = await runStages([[epiNyquistCorrection], [accumulate], [fft], [coilCombineRss]], [...first, ...second])
    const images = out.filter((m) => m.kind === 'image')
    expect(images).toHaveLength(2)
    const clean = await runStages([[accumulate], [fft], [coilCombineRss]], epiTrain({ a: 0, b: 0 }))
    const reference = clean.find((m) => m.kind === 'image')
    if (reference?.kind !== 'image') throw new Error('no image')
    for (const image of images) {
      if (image.kind !== 'image') continue
      let num = 0
      let den = 0
      for (let i = 0; i < image.pixels.length; i++) {
        num += (image.pixels[i] - reference.pixels[i]) ** 2
        den += reference.pixels[i] ** 2
      }
      expect(Math.sqrt(num / den)).toBeLessThan(1e-3)
    }
  })
})

