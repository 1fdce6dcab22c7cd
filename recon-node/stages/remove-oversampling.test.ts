import { describe, expect, it } from 'vitest'
import { ifftc } from '../fft/fftn.ts'
import { InThreadFft } from '../fft/pool.ts'
import { nrmse, randomComplex } from '../fft/test-support.ts'
import { flagsOf, IS_NOISE_MEASUREMENT } from './flags.ts'
import { oversamplingRatio, removeOversampling, removeReadoutOversampling } from './remove-oversampling.ts'
import type { Message, ReconHeader, StageContext } from './stage.ts'
import { makeAcquisition, makeHeader } from './test-acquisitions.ts'

/** centre m samples of each channel of the centred inverse FFT */
function imageCentre (data: Float32Array, n: number, channels: number, m: number): Float32Array {
  const img = new Float32Array(data.length)
  ifftc([n, channels], 1, img, data)
  const out = new Float32Array(2 * m * channels)
  const start = Math.floor(n / 2) - Math.floor(m / 2)
  for (let c = 0; c < channels; c++) out.set(img.subarray(2 * (c * n + start), 2 * (c * n + start + m)), 2 * c * m)
  return out
}

function ctxFor (header: ReconHeader): StageContext<undefined> {
  return { header, fft: new InThreadFft(), state: undefined, warn: () => {} }
}

describe('readout oversampling removal', () => {
  it.each([[128, 2, 64], [100, 2, 50], [75, 1.5, 50], [256, 2, 128]])('keeps the centre of the image: %i samples, ratio %f', (n, ratio, m) => {
    const channels = 3
    const data = randomComplex(n * channels, n)
    const acq = makeAcquisition({ samples: n, channels, data })
    const out = removeReadoutOversampling(acq, ratio)
    expect(out.head.numberOfSamples).toBe(m)
    expect(out.data).toHaveLength(2 * m * channels)
    const img = new Float32Array(out.data.length)
    ifftc([m, channels], 1, img, out.data)
    // transparent in image space: same values, no rescaling
    expect(nrmse(img, imageCentre(data, n, channels, m))).toBeLessThan(1e-5)
    expect(acq.head.numberOfSamples).toBe(n) // input untouched
  })

  it.each([[128, 2], [100, 2], [75, 1.5]])('writes over the start of an owned readout the samples a copy would get: %i samples, ratio %f', (n, ratio) => {
    const channels = 4
    const data = randomComplex(n * channels, n + 1)
    const copied = removeReadoutOversampling(makeAcquisition({ samples: n, channels, data }), ratio)
    const owned = data.slice()
    const inPlace = removeReadoutOversampling(makeAcquisition({ samples: n, channels, data: owned }), ratio, true)
    expect(inPlace.data.buffer).toBe(owned.buffer)
    expect(inPlace.data.byteOffset).toBe(0)
    expect(Array.from(inPlace.data)).toEqual(Array.from(copied.data))
  })

  it('keeps a message owned through the stage, and leaves one that is not untouched', () => {
    const header = makeHeader([128, 32, 1], [64, 32, 1])
    const data = randomComplex(128 * 2, 3)
    const before = data.slice()
    const [shared] = removeOversampling.run({ kind: 'acquisition', acquisition: makeAcquisition({ samples: 128, channels: 2, data }) }, {}, ctxFor(header)) as Message[]
    expect(data).toEqual(before)
    const [owned] = removeOversampling.run({ kind: 'acquisition', acquisition: makeAcquisition({ samples: 128, channels: 2, data }), owned: true }, {}, ctxFor(header)) as Message[]
    if (shared.kind !== 'acquisition' || owned.kind !== 'acquisition') throw new Error('expected acquisitions')
    expect(owned.owned).toBe(true)
    expect(owned.acquisition.data.buffer).toBe(data.buffer)
    expect(Array.from(owned.acquisition.data)).toEqual(Array.from(shared.acquisition.data))
  })

  it('moves center_sample and the discards to the new sampling', () => {
    const acq = makeAcquisition({ samples: 128, channels: 1, centerSample: 40, discardPre: 4, discardPost: 8 })
    const out = removeReadoutOversampling(acq, 2)
    expect(out.head.centerSample).toBe(32 + (40 - 64) / 2)
    expect([out.head.discardPre, out.head.discardPost]).toEqual([2, 4])
  })

  it('applies when the encoded field of view (or matrix) is larger, and says so in the header', () => {
    const header = makeHeader([128, 64, 1], [64, 64, 1], { encoded: [600, 300, 6], recon: [300, 300, 6] })
    expect(oversamplingRatio(header)).toBe(2)
    expect(oversamplingRatio(makeHeader([256, 128, 1], [128, 128, 1]))).toBe(2)
    expect(oversamplingRatio(makeHeader([128, 128, 1], [128, 128, 1], { encoded: [300, 300, 6], recon: [300, 300, 6] }))).toBe(1)
    const adapted = removeOversampling.adaptHeader!(header, {})
    expect(adapted.encodedMatrix.x).toBe(64)
    expect(adapted.fovMm.encoded.x).toBe(300)
    expect(oversamplingRatio(adapted)).toBe(1)
    const m: Message = { kind: 'acquisition', acquisition: makeAcquisition({ samples: 128, channels: 2 }) }
    const [out] = removeOversampling.run(m, {}, ctxFor(header)) as Message[]
    expect(out.kind === 'acquisition' && out.acquisition.head.numberOfSamples).toBe(64)
  })

  it('passes through data without oversampling, noise readouts and other messages', () => {
    const same = makeHeader([64, 64, 1], [64, 64, 1], { encoded: [300, 300, 6], recon: [300, 300, 6] })
    const m: Message = { kind: 'acquisition', acquisition: makeAcquisition({ samples: 64, channels: 2 }) }
    expect((removeOversampling.run(m, {}, ctxFor(same)) as Message[])[0]).toBe(m)
    expect(removeOversampling.adaptHeader!(same, {})).toBe(same)
    const over = makeHeader([128, 64, 1], [64, 64, 1])
    const noise: Message = { kind: 'acquisition', acquisition: makeAcquisition({ samples: 128, channels: 2, flags: flagsOf(IS_NOISE_MEASUREMENT) }) }
    expect((removeOversampling.run(noise, {}, ctxFor(over)) as Message[])[0]).toBe(noise)
  })
})
