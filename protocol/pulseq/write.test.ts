// eslint-disable-next-line no-restricted-imports -- tests read the shared fixtures from disk; the library does no I/O
import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { fixture, hasFixtures } from '../../test/support/external-tools.ts'
import { fid, gre2d, multiSliceGre, spinEcho2d } from './builtin.ts'
import { SeqWriteError } from './errors.ts'
import { parseSeq } from './parse.ts'
import { verifySignature } from './signature.ts'
import type { Sequence } from './types.ts'
import { formatNumber, writeSeq } from './write.ts'

const FIXTURES = hasFixtures() ? readdirSync(fixture('pulseq')).filter((f) => f.endsWith('.seq')).sort() : []

function close (a: number, b: number, abs: number, what: string): void {
  if (!(Math.abs(a - b) <= abs + 1e-11 * Math.max(Math.abs(a), Math.abs(b)))) {
    throw new Error(`${what}: ${a} and ${b} differ by more than ${abs}`)
  }
}

/** Asserts that two sequences have the same blocks and events, within what writing to text can change. */
function expectSameEvents (a: Sequence, b: Sequence, durationTolerance = 1e-12): void {
  expect(b.blocks.length).toBe(a.blocks.length)
  for (const col of ['id', 'rf', 'gx', 'gy', 'gz', 'adc', 'ext'] as const) expect(b.blocks[col]).toEqual(a.blocks[col])
  for (let i = 0; i < a.blocks.length; i++) close(a.blocks.duration[i], b.blocks.duration[i], durationTolerance, `duration of block ${i}`)
  expect([...b.rf.keys()].sort()).toEqual([...a.rf.keys()].sort())
  for (const [id, ra] of a.rf) {
    const rb = b.rf.get(id) as typeof ra
    expect({ ...rb, amplitude: 0, center: 0, delay: 0, phaseOffset: 0, freqOffset: 0, inferred: false })
      .toEqual({ ...ra, amplitude: 0, center: 0, delay: 0, phaseOffset: 0, freqOffset: 0, inferred: false })
    close(ra.amplitude, rb.amplitude, 0, `RF ${id} amplitude`)
    close(ra.center, rb.center, 1e-12, `RF ${id} center`)
    close(ra.delay, rb.delay, 1e-12, `RF ${id} delay`)
    close(ra.phaseOffset, rb.phaseOffset, 1e-11, `RF ${id} phase`)
    close(ra.freqOffset, rb.freqOffset, 1e-9, `RF ${id} frequency`)
  }
  expect([...b.gradients.keys()].sort()).toEqual([...a.gradients.keys()].sort())
  for (const [id, ga] of a.gradients) {
    const gb = b.gradients.get(id) as typeof ga
    expect(gb.type).toBe(ga.type)
    for (const key of Object.keys(ga) as Array<keyof typeof ga>) {
      const va = ga[key]
      const vb = gb[key]
      if (typeof va === 'number') close(va, vb as number, 1e-12, `gradient ${id} ${key}`)
      else expect(vb).toBe(va)
    }
  }
  expect([...b.adc.keys()].sort()).toEqual([...a.adc.keys()].sort())
  for (const [id, aa] of a.adc) {
    const ab = b.adc.get(id) as typeof aa
    for (const key of Object.keys(aa) as Array<keyof typeof aa>) close(aa[key], ab[key], 1e-12, `ADC ${id} ${key}`)
  }
  expect([...b.shapes.keys()].sort()).toEqual([...a.shapes.keys()].sort())
  for (const [id, sa] of a.shapes) {
    const sb = b.shapes.get(id) as Float64Array
    expect(sb.length).toBe(sa.length)
    let scale = 1
    for (const v of sa) scale = Math.max(scale, Math.abs(v))
    for (let i = 0; i < sa.length; i++) close(sa[i], sb[i], 2e-7 * scale, `shape ${id} sample ${i}`)
  }
  expect(b.extensions).toEqual(a.extensions)
  for (const [key, value] of a.definitions) {
    if (key === 'TotalDuration') continue
    if (/RasterTime|Raster$/.test(key)) close(Number(value), Number(b.definitions.get(key)), 0, key)
    else expect(b.definitions.get(key)).toBe(value)
  }
  expect(b.rasters).toEqual(a.rasters)
}

describe('writeSeq', () => {
  const builtins: Array<[string, () => Sequence]> = [
    ['gre2d', () => gre2d()],
    ['multiSliceGre', () => multiSliceGre({ slices: 3, noiseScans: 2 })],
    ['spinEcho2d', () => spinEcho2d({ slices: 2 })],
    ['fid', () => fid({ repetitions: 3 })],
    ['gre2d with oversampling', () => gre2d({ matrix: [128, 96], readoutOversampling: 2, fovM: [0.3, 0.24] })]
  ]
  for (const [name, build] of builtins) {
    it(`${name}: write → parse gives the same events, a valid signature and the same text again`, () => {
      const seq = build()
      const text = writeSeq(seq)
      expect(text.startsWith('# Pulseq sequence file')).toBe(true)
      expect(text).toMatch(/^\[VERSION\]\nmajor 1\nminor 5\nrevision 0$/m)
      expect(verifySignature(text).valid).toBe(true)
      const back = parseSeq(text)
      expect(back.warnings).toEqual([])
      expectSameEvents(seq, back)
      expect(writeSeq(back)).toBe(text)
    })
  }

  it('compresses shapes', () => {
    const text = writeSeq(fid())
    // The 500 µs hard pulse: 500 ones compress to "1 0 0 497".
    expect(text).toMatch(/shape_id 1\nnum_samples 500\n1\n0\n0\n497\n/)
  })

  it('writes numbers without binary noise', () => {
    expect(formatNumber(1e-4 * 1e6)).toBe('100')
    expect(formatNumber(0.1 + 0.2)).toBe('0.3')
    expect(formatNumber(-0)).toBe('0')
    expect(formatNumber(1e-7)).toBe('1e-7')
    expect(() => formatNumber(Number.NaN)).toThrow(SeqWriteError)
  })

  it('refuses a sequence with a dangling reference', () => {
    const seq = fid()
    seq.shapes.delete(1)
    expect(() => writeSeq(seq)).toThrow(/RF 1 refers to shape 1 that is not defined/)
    const seq2 = fid()
    seq2.blocks.adc[1] = 9
    expect(() => writeSeq(seq2)).toThrow(SeqWriteError)
  })
})

describe.skipIf(!hasFixtures())('writeSeq on the fixtures', () => {
  for (const name of FIXTURES) {
    it(`${name}: parse → write → parse keeps the events`, () => {
      const seq = parseSeq(readFileSync(fixture('pulseq', name), 'utf8'))
      const text = writeSeq(seq)
      expect(verifySignature(text).valid).toBe(true)
      const back = parseSeq(text)
      // Files before 1.4 have computed durations, which the 1.5 file rounds up to the block raster.
      expectSameEvents(seq, back, seq.version.minor < 4 ? seq.rasters.blockDuration : 1e-12)
      expect(writeSeq(back)).toBe(text)
    })
  }
})
