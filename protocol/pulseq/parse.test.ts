// eslint-disable-next-line no-restricted-imports -- tests read the shared fixtures from disk; the library does no I/O
import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { fixture, hasFixtures } from '../../test/support/external-tools.ts'
import { SeqParseError } from './errors.ts'
import { parseSeq } from './parse.ts'
import { summarize } from './summary.ts'
import type { Sequence } from './types.ts'

const FIXTURES = hasFixtures() ? readdirSync(fixture('pulseq')).filter((f) => f.endsWith('.seq')).sort() : []
const read = (name: string): string => readFileSync(fixture('pulseq', name), 'utf8')

/** The [BLOCKS] rows and the block raster, read with plain string handling, independently of parse.ts. */
function plainBlocks (text: string): { rows: string[][], raster: number | undefined, minor: number } {
  const rows: string[][] = []
  let inBlocks = false
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line.startsWith('[')) {
      inBlocks = line === '[BLOCKS]'
      continue
    }
    if (inBlocks && line !== '' && !line.startsWith('#')) rows.push(line.split(/\s+/))
  }
  const raster = /^BlockDurationRaster\s+(\S+)/m.exec(text)
  const minor = Number((/^minor\s+(\d+)/m.exec(text) as RegExpExecArray)[1])
  return { rows, raster: raster === null ? undefined : Number(raster[1]), minor }
}

describe.skipIf(!hasFixtures())('parseSeq on the real fixtures', () => {
  it('finds the fixtures', () => {
    expect(FIXTURES.length).toBeGreaterThanOrEqual(11)
  })

  for (const name of FIXTURES) {
    it(`${name}: parses, with the block count, duration and ADC count of its [BLOCKS] table`, () => {
      const text = read(name)
      const seq = parseSeq(text)
      const plain = plainBlocks(text)
      expect(seq.blocks.length).toBe(plain.rows.length)
      expect(seq.version.minor).toBe(plain.minor)
      const summary = summarize(seq)
      expect(summary.blocks).toBe(plain.rows.length)
      expect(summary.adcReadouts).toBe(plain.rows.filter((r) => Number(r[6]) !== 0).length)
      if (plain.minor >= 4) {
        const expected = plain.rows.reduce((s, r) => s + Number(r[1]), 0) * (plain.raster as number)
        expect(summary.durationS).toBeCloseTo(expected, 9)
      }
      const total = /^TotalDuration\s+(\S+)/m.exec(text)
      if (total !== null) expect(summary.durationS).toBeCloseTo(Number(total[1]), 6)
    })
  }

  describe('the same MPRAGE written as 1.2.0, 1.3.1, 1.4.2 and 1.5.0', () => {
    const seqs = new Map<string, Sequence>()
    const get = (v: string): Sequence => {
      let s = seqs.get(v)
      if (s === undefined) {
        s = parseSeq(read(`pypulseq_mprage_v${v}.seq`))
        seqs.set(v, s)
      }
      return s
    }

    for (const v of ['120', '131', '142']) {
      it(`v${v} has the block timeline of v150 within 1 µs and the same ADC samples`, () => {
        const ref = get('150')
        const seq = get(v)
        expect(seq.blocks.length).toBe(ref.blocks.length)
        let t = 0
        let tRef = 0
        for (let b = 0; b < ref.blocks.length; b++) {
          expect(Math.abs(seq.blocks.duration[b] - ref.blocks.duration[b])).toBeLessThan(1e-6)
          t += seq.blocks.duration[b]
          tRef += ref.blocks.duration[b]
          const a = seq.adc.get(seq.blocks.adc[b])
          const aRef = ref.adc.get(ref.blocks.adc[b])
          expect(a?.numSamples).toBe(aRef?.numSamples)
          expect(a?.dwell).toBe(aRef?.dwell)
        }
        expect(Math.abs(t - tRef)).toBeLessThan(1e-6)
        expect(summarize(seq).adcSamples).toBe(summarize(ref).adcSamples)
      })

      it(`v${v} places its RF centres where v150 says they are (within 1 µs)`, () => {
        const ref = get('150')
        const seq = get(v)
        for (let b = 0; b < ref.blocks.length; b++) {
          const r = ref.rf.get(ref.blocks.rf[b])
          if (r === undefined) continue
          const s = seq.rf.get(seq.blocks.rf[b]) as NonNullable<typeof r>
          expect(Math.abs((s.delay + s.center) - (r.delay + r.center))).toBeLessThan(1e-6)
        }
      })
    }

    it('reads the RF use from 1.5 and infers it before: the 180° inversion looks like refocusing', () => {
      expect(get('150').rf.get(1)).toMatchObject({ use: 'inversion', inferred: false })
      expect(get('150').rf.get(2)).toMatchObject({ use: 'excitation', inferred: false })
      expect(get('142').rf.get(1)).toMatchObject({ use: 'refocusing', inferred: true })
      expect(get('142').rf.get(2)).toMatchObject({ use: 'excitation', inferred: true })
    })

    it('infers first/last of 1.4 arbitrary gradients as 1.5 stores them', () => {
      for (const id of [6, 8]) {
        const g4 = get('142').gradients.get(id)
        const g5 = get('150').gradients.get(id)
        if (g4?.type !== 'arbitrary' || g5?.type !== 'arbitrary') throw new Error('expected arbitrary gradients')
        expect(Math.abs(g4.first - g5.first)).toBeLessThan(1e-6 * Math.abs(g5.amplitude))
        expect(Math.abs(g4.last - g5.last)).toBeLessThan(1e-6 * Math.abs(g5.amplitude))
      }
    })
  })

  it('recognises extensions by name and reads their rows', () => {
    const seq = parseSeq(read('pulseq_gre_v151.seq'))
    const table = [...seq.extensions.tables.values()].find((t) => t.name === 'LABELSET')
    expect(table?.kind).toBe('labelset')
    if (table?.kind !== 'labelset') return
    expect(table.events.get(5)).toEqual({ value: 5, label: 'LIN' })
    expect(seq.extensions.list.get(63)).toEqual({ type: 1, ref: 63, next: 0 })
    expect(seq.definitions.get('Name')).toBe('gre')
    expect(seq.signature).toEqual({ type: 'md5', hash: '30d78663e23869d85a1aef674c6568a1' })
  })

  it('reads time-shaped RF (1.4 block pulse as two points) with its centre in the middle', () => {
    const seq = parseSeq(read('tutorial_fid_trio_v140.seq'))
    const rf = seq.rf.get(1)
    expect(rf?.timeShapeId).toBe(3)
    expect(rf?.center).toBeCloseTo(250e-6, 12)
    expect(rf?.use).toBe('excitation')
  })
})

/** A small valid 1.4.2 file with places to break. */
function synthetic (o: { rf?: string, blocks?: string, trap?: string, adc?: string, shapes?: string, extensions?: string, version?: string, defs?: string } = {}): string {
  return [
    '# test file',
    '[VERSION]',
    o.version ?? 'major 1\nminor 4\nrevision 2',
    '',
    '[DEFINITIONS]',
    o.defs ?? 'AdcRasterTime 1e-07\nBlockDurationRaster 1e-05\nGradientRasterTime 1e-05\nRadiofrequencyRasterTime 1e-06\nName test',
    '',
    '[BLOCKS]',
    o.blocks ?? '1 110 1 0 0 0 0 0\n2 50 0 1 0 0 1 1',
    '',
    '[RF]',
    o.rf ?? '1 250 1 2 0 0 0 0',
    '',
    '[TRAP]',
    o.trap ?? '1 1000 10 300 10 0',
    '',
    '[ADC]',
    o.adc ?? '1 32 10000 10 0 0',
    '',
    '[EXTENSIONS]',
    o.extensions ?? '1 1 1 0\nextension LABELSET 1\n1 3 LIN',
    '',
    '[SHAPES]',
    '',
    o.shapes ?? 'shape_id 1\nnum_samples 100\n1\n0\n0\n97\n\nshape_id 2\nnum_samples 100\n0\n0\n98',
    ''
  ].join('\n')
}

function lineOf (text: string, fragment: string): number {
  return text.split('\n').findIndex((l) => l.includes(fragment)) + 1
}

function parseError (text: string): SeqParseError {
  try {
    parseSeq(text)
  } catch (e) {
    if (e instanceof SeqParseError) return e
    throw e
  }
  throw new Error('expected a SeqParseError')
}

describe('parseSeq on synthetic files', () => {
  it('reads a valid file', () => {
    const seq = parseSeq(synthetic())
    expect(seq.blocks.length).toBe(2)
    expect(seq.blocks.duration[0]).toBeCloseTo(1.1e-3, 12)
    expect(seq.rf.get(1)).toMatchObject({ amplitude: 250, delay: 0, use: 'excitation', inferred: true })
    expect(seq.rf.get(1)?.center).toBeCloseTo(50e-6, 15)
    expect(seq.gradients.get(1)).toEqual({ type: 'trap', amplitude: 1000, rise: 10e-6, flat: 300e-6, fall: 10e-6, delay: 0 })
    expect(seq.adc.get(1)).toMatchObject({ numSamples: 32, dwell: 10e-6, delay: 10e-6 })
    expect(seq.warnings).toEqual([])
  })

  it('names the line and the expected layout for a row with the wrong number of columns', () => {
    const text = synthetic({ rf: '1 250 1 2 0 0' })
    const e = parseError(text)
    expect(e.name).toBe('SeqParseError')
    expect(e.line).toBe(lineOf(text, '1 250 1 2 0 0'))
    expect(e.message).toBe(`line ${e.line}: [RF] row has 6 columns, expected 8 for version 1.4.2`)
  })

  it('names the block and the missing event for a dangling reference', () => {
    const blocks = Array.from({ length: 16 }, (_, i) => `${i + 1} 110 1 0 0 0 0 0`).join('\n') + '\n17 110 9 0 0 0 0 0'
    const text = synthetic({ blocks })
    const e = parseError(text)
    expect(e.message).toMatch(/block 17 refers to RF ID 9 that is not defined/)
    expect(e.line).toBe(lineOf(text, '17 110 9'))
  })

  it.each([
    ['a gradient', { blocks: '1 110 1 0 7 0 0 0' }, /block 1 refers to gradient ID 7 \(gy\)/],
    ['an ADC', { blocks: '1 110 1 0 0 0 4 0' }, /block 1 refers to ADC ID 4/],
    ['an extension', { blocks: '1 110 1 0 0 0 0 8' }, /extension list entry 8/],
    ['a shape', { rf: '1 250 1 3 0 0 0 0' }, /RF 1 refers to shape 3/],
    ['an extension type', { extensions: '1 2 1 0\nextension LABELSET 1\n1 3 LIN' }, /type 2, which no "extension NAME 2" table declares/],
    ['an extension object', { extensions: '1 1 5 0\nextension LABELSET 1\n1 3 LIN' }, /LABELSET event 5 that is not defined/]
  ])('refuses a dangling reference to %s', (_, parts, message) => {
    expect(() => parseSeq(synthetic(parts))).toThrow(message)
  })

  it('refuses an extension list that loops', () => {
    expect(() => parseSeq(synthetic({ extensions: '1 1 1 2\n2 1 1 1\nextension LABELSET 1\n1 3 LIN' }))).toThrow(/loops/)
  })

  it.each([
    ['a NaN', { trap: '1 NaN 10 300 10 0' }, /"NaN" is not a number/],
    ['an infinity', { trap: '1 1e999 10 300 10 0' }, /out of range/],
    ['a negative ID', { trap: '-1 1000 10 300 10 0' }, /gradient ID -1 is outside 1\.\.2147483647/],
    ['a zero ID', { rf: '0 250 1 2 0 0 0 0' }, /RF ID 0 is outside/],
    ['a fractional ID', { adc: '1.5 32 10000 10 0 0' }, /not an integer/],
    ['a negative time', { trap: '1 1000 -10 300 10 0' }, /rise time -10 is negative/],
    ['an absurd time', { trap: '1 1000 10 1e15 10 0' }, /beyond 86400 s/],
    ['an absurd ADC', { adc: '1 999999999999 10000 10 0 0' }, /ADC sample count 999999999999 is outside 1\.\.10000000/],
    ['a zero dwell', { adc: '1 32 0 10 0 0' }, /dwell must be positive/],
    ['a huge shape', { shapes: 'shape_id 1\nnum_samples 999999999999\n1\n0\n0\n97' }, /declares 999999999999 samples, more than the limit of 10000000/],
    ['a shape that overflows', { shapes: 'shape_id 1\nnum_samples 100\n0\n0\n999999999999\n\nshape_id 2\nnum_samples 100\n0\n0\n98' }, /shape 1: decompresses to more than the declared 100 samples/],
    ['a shape that is short', { shapes: 'shape_id 1\nnum_samples 100\n1\n0\n0\n96\n\nshape_id 2\nnum_samples 100\n0\n0\n98' }, /shape 1: decompresses to 99 samples, but 100 are declared/],
    ['shapes of different lengths', { shapes: 'shape_id 1\nnum_samples 100\n1\n0\n0\n97\n\nshape_id 2\nnum_samples 50\n0\n0\n48' }, /magnitude shape has 100 samples but phase shape 50/],
    ['a duplicate ID', { trap: '1 1000 10 300 10 0\n1 1000 10 300 10 0' }, /gradient ID 1 is defined twice/],
    ['decreasing block IDs', { blocks: '2 110 1 0 0 0 0 0\n1 50 0 1 0 0 1 1' }, /block ID 1 does not follow 2/],
    ['an event longer than its block', { blocks: '1 5 1 0 0 0 0 0' }, /block 1 lasts 50 µs but its events run until 100 µs/],
    ['an unknown section', { trap: '1 1000 10 300 10 0\n[BANANAS]' }, /unknown section \[BANANAS\]/],
    ['an unknown RF use', { version: 'major 1\nminor 5\nrevision 0', rf: '1 250 1 2 0 50 0 0 0 0 0 x' }, /RF use "x"/],
    ['version 1.1', { version: 'major 1\nminor 1\nrevision 0' }, /version 1\.1\.0 is not supported/],
    ['version 1.6', { version: 'major 1\nminor 6\nrevision 0' }, /version 1\.6\.0 is not supported/],
    ['version 2', { version: 'major 2\nminor 0\nrevision 0' }, /version 2\.0\.0 is not supported/],
    ['a second [VERSION]', { trap: '1 1000 10 300 10 0\n\n[VERSION]\nmajor 1\nminor 5\nrevision 0' }, /\[VERSION\] appears twice/],
    ['[DELAYS] in 1.4', { trap: '1 1000 10 300 10 0\n\n[DELAYS]\n1 100' }, /\[DELAYS\] does not exist in version 1\.4\.2/],
    ['a bad raster', { defs: 'AdcRasterTime 1e-07\nBlockDurationRaster 1e300\nGradientRasterTime 1e-05\nRadiofrequencyRasterTime 1e-06' }, /BlockDurationRaster "1e300" is not a time/],
    ['a non-unit rotation', { extensions: '1 1 1 0\nextension ROTATIONS 1\n1 2 0 0 0' }, /not a unit quaternion/]
  ])('refuses %s with a clear message', (_, parts, message) => {
    const e = parseError(synthetic(parts))
    expect(e.message).toMatch(message)
  })

  it('refuses sections before [VERSION], text outside sections, and files without blocks', () => {
    expect(() => parseSeq('[BLOCKS]\n1 1 0 0 0 0 0 0\n')).toThrow(/\[BLOCKS\] comes before \[VERSION\]/)
    expect(() => parseSeq('hello\n')).toThrow(/line 1: "hello" is outside of any section/)
    expect(() => parseSeq('')).toThrow(/no \[VERSION\]/)
    expect(() => parseSeq('[VERSION]\nmajor 1\nminor 4\nrevision 2\n')).toThrow(/no \[BLOCKS\]/)
  })

  it('refuses a very long line quickly', () => {
    const t0 = performance.now()
    expect(() => parseSeq(synthetic({ rf: '1 ' + '9'.repeat(2_000_000) }))).toThrow(/longer than 1048576 characters/)
    expect(performance.now() - t0).toBeLessThan(1000)
  })

  it('applies limits given by the caller', () => {
    expect(() => parseSeq(synthetic(), { maxBlocks: 1 })).toThrow(/more than 1 blocks/)
    expect(() => parseSeq(synthetic(), { maxShapeSamples: 50 })).toThrow(/limit of 50/)
    expect(() => parseSeq(synthetic(), { maxTotalShapeSamples: 150 })).toThrow(/more than 150 samples in all/)
  })

  it('keeps unknown extensions as raw rows, with a warning', () => {
    const seq = parseSeq(synthetic({ extensions: '1 1 1 0\n2 2 7 0\nextension LABELSET 1\n1 3 LIN\nextension FANCY 2\n7 1.5 abc 3' }))
    const fancy = seq.extensions.tables.get(2)
    expect(fancy).toEqual({ kind: 'unknown', name: 'FANCY', events: new Map([[7, '1.5 abc 3']]) })
    expect(seq.warnings.join('\n')).toMatch(/unknown extension FANCY/)
  })

  it('reads the other known extensions', () => {
    const seq = parseSeq(synthetic({
      extensions: [
        '1 1 1 0',
        'extension TRIGGERS 1', '1 2 1 0 2000',
        'extension LABELINC 2', '1 1 LIN',
        'extension DELAYS 3', '1 0 -7840 2 TE',
        'extension ROTATIONS 4', '1 0.99171 0 0 -0.128498',
        'extension RF_SHIMS 5', '1 2 1 0 1 1.5708'
      ].join('\n')
    }))
    const kinds = [...seq.extensions.tables.values()].map((t) => t.kind)
    expect(kinds).toEqual(['triggers', 'labelinc', 'softDelays', 'rotations', 'rfShims'])
    const t = seq.extensions.tables
    expect(t.get(1)?.events.get(1)).toEqual({ triggerType: 2, channel: 1, delay: 0, duration: 2e-3 })
    expect(t.get(3)?.events.get(1)).toEqual({ num: 0, offset: -7.84e-3, factor: 2, hint: 'TE' })
    expect(t.get(5)?.events.get(1)).toEqual({ magnitudes: [1, 1], phases: [0, 1.5708] })
  })

  it('reads 1.3 blocks with [DELAYS] and lets a block last as long as its longest event or delay', () => {
    const text = [
      '[VERSION]', 'major 1', 'minor 3', 'revision 1', '',
      '[BLOCKS]', '1 0 1 0 0 0 0 0', '2 1 0 0 0 0 0 0', '3 0 0 1 0 0 1 0', '',
      '[RF]', '1 250 1 2 100 0 0', '',
      '[TRAP]', '1 1000 10 300 10 0', '',
      '[ADC]', '1 32 10000 10 0 0', '',
      '[DELAYS]', '1 2500', '',
      '[SHAPES]', '', 'shape_id 1', 'num_samples 100', '1', '0', '0', '97', '', 'shape_id 2', 'num_samples 100', '0', '0', '98', ''
    ].join('\n')
    const seq = parseSeq(text)
    expect([...seq.blocks.duration].map((d) => Math.round(d * 1e6))).toEqual([200, 2500, 330])
    expect(seq.rasters.gradient).toBe(10e-6)
    expect(seq.warnings).toEqual([])
  })

  it('reads 1.2 blocks, which have no extension column', () => {
    const text = [
      '[VERSION]', 'major 1', 'minor 2', 'revision 1', '',
      '[BLOCKS]', '1 0 0 1 0 0 1', '',
      '[TRAP]', '1 1000 10 300 10 0', '',
      '[ADC]', '1 32 10000 10 0 0', ''
    ].join('\n')
    const seq = parseSeq(text)
    expect(seq.blocks.ext[0]).toBe(0)
    expect(seq.blocks.duration[0]).toBeCloseTo(330e-6, 12)
    expect(() => parseSeq(text.replace('1 0 0 1 0 0 1', '1 0 0 1 0 0 1 0'))).toThrow(/\[BLOCKS\] row has 8 columns, expected 7 for version 1\.2\.1/)
  })
})
