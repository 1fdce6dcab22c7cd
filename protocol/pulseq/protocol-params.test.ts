import { describe, expect, it } from 'vitest'
import { BUILTIN_SEQUENCES } from './builtin.ts'
import { parseSeq } from './parse.ts'
import {
  builtinNameOf, checkProtocol, editableFields, imagingParamsOf, protocolDefaults, protocolFromSummary, protocolSequenceText, sequenceDurationS
} from './protocol-params.ts'
import { summarize } from './summary.ts'
import { writeSeq } from './write.ts'
import { validateTaskInput } from '../lab/validate.ts'

describe('protocolDefaults and checkProtocol at the defaults', () => {
  for (const name of Object.keys(BUILTIN_SEQUENCES)) {
    it(`${name}: its defaults are allowed, and the scan time is the duration of the file it writes`, () => {
      const defaults = protocolDefaults(name)
      expect(Object.keys(defaults).sort()).toEqual([...editableFields(name)].sort())
      const check = checkProtocol(name, {})
      expect(check.errors).toEqual({})
      expect(check.values).toEqual(defaults)
      const file = summarize(parseSeq(protocolSequenceText(name, {})))
      expect(check.scanTimeS).toBeCloseTo(file.durationS, 6)
      for (const [field, range] of Object.entries(check.limits)) {
        const value = defaults[field as keyof typeof defaults]
        const values = Array.isArray(value) ? value : [value as number]
        for (const v of values) {
          expect(v, field).toBeGreaterThanOrEqual(range.min)
          expect(v, field).toBeLessThanOrEqual(range.max)
        }
      }
    })
  }
})

describe('checkProtocol for the 2D gradient echo', () => {
  it('builds the TR and matrix asked for: the scan time is TR × phase lines, and the file says TR, TE, flip angle, FOV and matrix', () => {
    const check = checkProtocol('gre', { trMs: 20, teMs: 5, matrix: [64, 96], flipAngleDeg: 30, fovMm: 200 })
    expect(check.errors).toEqual({})
    expect(check.scanTimeS).toBeCloseTo(96 * 0.020, 6)
    const summary = summarize(parseSeq(protocolSequenceText('gre', check.values)))
    expect(summary.durationS).toBeCloseTo(96 * 0.020, 6)
    expect(summary.trS).toBeCloseTo(0.020, 6)
    expect(summary.teS).toBeCloseTo(0.005, 4)
    expect(summary.flipAngleDeg).toBeCloseTo(30, 1)
    expect(summary.matrix?.slice(0, 2)).toEqual([64, 96])
    expect(summary.fovM?.[0]).toBeCloseTo(0.2, 6)
  })

  it('a longer TR or a larger matrix lengthens the scan; the defaults change nothing', () => {
    const base = checkProtocol('gre', {}).scanTimeS ?? 0
    expect(base).toBeGreaterThan(0)
    expect(checkProtocol('gre', protocolDefaults('gre')).scanTimeS).toBe(base)
    expect(checkProtocol('gre', { trMs: 50 }).scanTimeS).toBeCloseTo(64 * 0.05, 6)
    expect(checkProtocol('gre', { matrix: [64, 128] }).scanTimeS).toBeCloseTo(2 * base, 6)
  })

  it('says the shortest TE and TR beside their fields, and the shortest TR grows with the slices', () => {
    const single = checkProtocol('gre', { teMs: 0.5, trMs: 1 })
    expect(single.errors.teMs).toMatch(/^TE must be at least \d+\.\d+ ms/)
    expect(single.scanTimeS).toBeUndefined()
    const minTe = single.limits.teMs?.min ?? 0
    expect(minTe).toBeGreaterThan(1)

    const tooShortTr = checkProtocol('gre', { teMs: minTe, trMs: 1 })
    expect(tooShortTr.errors.teMs).toBeUndefined()
    expect(tooShortTr.errors.trMs).toBe(`TR must be at least ${tooShortTr.limits.trMs?.min} ms at this TE`)
    const minTr = tooShortTr.limits.trMs?.min ?? 0
    expect(checkProtocol('gre', { teMs: minTe, trMs: minTr }).errors).toEqual({})

    const five = checkProtocol('gre', { teMs: minTe, trMs: minTr, slices: 5 })
    expect(five.limits.trMs?.min).toBeCloseTo(5 * minTr, 1)
    expect(five.errors.trMs).toMatch(/for 5 slices/)
    // a longer TE needs a longer TR
    expect(checkProtocol('gre', { teMs: minTe + 10, trMs: 1 }).limits.trMs?.min).toBeCloseTo(minTr + 10, 1)
  })

  it('gives every field error at once, in words with units', () => {
    const check = checkProtocol('gre', { flipAngleDeg: 0, fovMm: 5, slices: 2.5, matrix: [63, 64] })
    expect(check.errors).toEqual({
      flipAngleDeg: 'Flip angle must be a number from 1 to 180 °',
      fovMm: 'FOV must be a number from 20 to 600 mm',
      slices: 'Slices must be a whole number from 1 to 64',
      matrix: 'the read matrix must be even, so that a sample lies on the k-space centre'
    })
    expect(check.scanTimeS).toBeUndefined()
  })

  it('limits the bandwidth by the readout gradient and the slice by the slice gradient', () => {
    const wide = checkProtocol('gre', { bandwidthHzPerPixel: 4000, matrix: [256, 256], fovMm: 100 })
    const widest = wide.limits.bandwidthHzPerPixel?.max ?? 0
    expect(widest).toBeLessThan(4000)
    expect(wide.errors.bandwidthHzPerPixel).toContain(`at most ${widest} Hz/pixel`)
    // the widest allowed is really playable (with a TE and TR long enough for it)
    expect(checkProtocol('gre', { bandwidthHzPerPixel: widest, matrix: [256, 256], fovMm: 100, teMs: 20, trMs: 40 }).errors).toEqual({})

    const thin = checkProtocol('gre', { sliceThicknessMm: 0.5 })
    const thinnest = thin.limits.sliceThicknessMm?.min ?? 0
    expect(thinnest).toBeGreaterThan(0.5)
    expect(thin.errors.sliceThicknessMm).toBe(`Slice thickness must be at least ${thinnest} mm (the slice gradient's limit)`)
    expect(checkProtocol('gre', { sliceThicknessMm: thinnest, teMs: 20, trMs: 40 }).errors).toEqual({})
  })

  it('a lower bandwidth lengthens the readout, and with it the shortest TE', () => {
    const fast = checkProtocol('gre', { bandwidthHzPerPixel: 500, teMs: 0.1 }).limits.teMs?.min ?? 0
    const slow = checkProtocol('gre', { bandwidthHzPerPixel: 100, teMs: 0.1 }).limits.teMs?.min ?? 0
    // half the readout before the echo: (1/100 − 1/500)/2 s = 4 ms
    expect(slow - fast).toBeCloseTo(4, 1)
  })
})

describe('the other built-ins', () => {
  it('the spin echo keeps its own TR, TE and flip angle, and a changed TR changes the scan time', () => {
    expect(protocolDefaults('spin-echo')).toMatchObject({ trMs: 500, flipAngleDeg: 90 })
    expect(checkProtocol('spin-echo', { trMs: 300, matrix: [64, 32] }).scanTimeS).toBeCloseTo(32 * 0.3, 6)
  })

  it('radial and spiral images are square', () => {
    expect(checkProtocol('radial', { matrix: [64, 32] }).errors.matrix).toBe('this sequence makes square images: give the same number twice (64 × 64)')
    expect(checkProtocol('radial', { matrix: [96, 96], teMs: 10, trMs: 20 }).errors).toEqual({})
  })

  it('the FID takes only TR and the flip angle; other fields are not passed to its builder', () => {
    expect(editableFields('fid')).toEqual(['trMs', 'flipAngleDeg'])
    expect(imagingParamsOf('fid', { trMs: 200, matrix: [32, 32], fovMm: 100 })).toEqual({ trS: 0.2 })
    expect(checkProtocol('fid', { trMs: 200 }).scanTimeS).toBeCloseTo(0.2, 6)
  })

  it('maps units: ms to s, mm to m, bandwidth per pixel to the readout duration', () => {
    expect(imagingParamsOf('gre', { trMs: 20, teMs: 5, fovMm: 200, sliceThicknessMm: 3, bandwidthHzPerPixel: 250, matrix: [128, 96], slices: 3, flipAngleDeg: 20 })).toEqual({
      trS: 0.02, teS: 0.005, fovM: 0.2, sliceThicknessM: 0.003, readoutDurationS: 0.004, matrix: [128, 96], slices: 3, flipAngleDeg: 20
    })
  })
})

describe('names, errors and read-only values', () => {
  it('knows a library sequence as a built-in only by its built-in id and flag', () => {
    expect(builtinNameOf({ id: 'builtin-gre', builtin: true })).toBe('gre')
    expect(builtinNameOf({ id: 'builtin-gre' })).toBeUndefined()
    expect(builtinNameOf({ id: 'builtin-nothing', builtin: true })).toBeUndefined()
    expect(builtinNameOf({ id: 'uploaded-1', builtin: true })).toBeUndefined()
  })

  it('refuses to write a protocol that cannot be played, listing every reason', () => {
    expect(() => protocolSequenceText('gre', { trMs: 1, flipAngleDeg: 0 })).toThrow(/^the protocol of gre cannot be played: Flip angle must be a number from 1 to 180 °$/)
    expect(() => protocolSequenceText('gre', { trMs: 1 })).toThrow(/TR must be at least/)
    expect(() => checkProtocol('mprage', {})).toThrow(/"mprage" is not a built-in sequence: choose one of gre, /)
  })

  it('reads what an uploaded sequence\'s summary says, TI included', () => {
    const seq = BUILTIN_SEQUENCES['gre-multislice'].build({ trS: 0.1, matrix: [32, 48] })
    const values = protocolFromSummary(summarize(parseSeq(writeSeq(seq))))
    expect(values).toMatchObject({ trMs: 100, matrix: [32, 48], slices: 5, sliceThicknessMm: 5, fovMm: 256, flipAngleDeg: 15 })
    expect(protocolFromSummary({ tiS: 0.9, trS: 2.3, matrix: [1, 'x'] })).toEqual({ tiMs: 900, trMs: 2300 })
    expect(sequenceDurationS(seq)).toBeCloseTo(summarize(seq).durationS, 9)
  })
})

describe('a protocol stored in an acquisition task', () => {
  const task = (protocol: unknown): unknown => ({ workflowId: 'w1', type: 'ACQUISITION', name: 'T1', parameters: { sequenceId: 'builtin-gre', protocol } })

  it('keeps the values given, and refuses values no built-in takes or fields it does not know', () => {
    const stored = validateTaskInput(task({ trMs: 20, matrix: [64, 96] }))
    expect(stored.ok && stored.value.parameters).toMatchObject({ sequenceId: 'builtin-gre', protocol: { trMs: 20, matrix: [64, 96] } })
    expect(validateTaskInput(task({ trMs: 0 }))).toEqual({ ok: false, error: 'parameters.protocol.trMs must be a number between 0.1 and 10000' })
    expect(validateTaskInput(task({ matrix: [64, 64.5] }))).toEqual({ ok: false, error: 'parameters.protocol.matrix must be 2 whole numbers from 8 to 512' })
    expect(validateTaskInput(task({ slices: 2.5 }))).toEqual({ ok: false, error: 'parameters.protocol.slices must be a whole number from 1 to 64' })
    expect(validateTaskInput(task({ tiMs: 900 }))).toEqual({ ok: false, error: "unknown field 'parameters.protocol.tiMs'" })
  })
})
