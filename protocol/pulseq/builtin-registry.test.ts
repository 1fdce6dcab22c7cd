import { describe, expect, it } from 'vitest'
import { BUILTIN_SEQUENCES } from './builtin.ts'
import { expectPhysical, imagingReadouts, roundTrip } from './builtin-test-support.ts'
import type { Sequence } from './types.ts'
import { writeSeq } from './write.ts'

type Build = (params: object) => Sequence

/** The first built-ins predate TE and TR in [DEFINITIONS]. */
const WITHOUT_TIMING_DEFINITIONS = new Set(['gre', 'gre-multislice', 'spin-echo'])

describe('BUILTIN_SEQUENCES', () => {
  it('keeps the names that are stable ids in every lab, and adds the new families', () => {
    expect(Object.keys(BUILTIN_SEQUENCES)).toEqual([
      'gre', 'gre-multislice', 'spin-echo', 'fid',
      'tse', 'epi', 'radial', 'radial-golden', 'ute', 'spiral', 'gre3d', 'gre-undersampled'
    ])
  })

  for (const [name, entry] of Object.entries(BUILTIN_SEQUENCES)) {
    if (name === 'fid') continue
    it(`${name}: builds with its defaults and with the matrix the command line passes, deterministic and within the limits`, () => {
      const build = entry.build as Build
      const text = writeSeq(build({}))
      // Every peer seeds the same bytes.
      expect(writeSeq(build({}))).toBe(text)
      for (const seq of [build({}), build({ matrix: [32, 32] })]) {
        const back = roundTrip(seq)
        expectPhysical(back)
        expect(imagingReadouts(back).length).toBeGreaterThan(0)
        expect(back.definitions.has('Name') && back.definitions.has('FOV') && back.definitions.has('SliceThickness')).toBe(true)
        if (WITHOUT_TIMING_DEFINITIONS.has(name)) continue
        expect(Number(back.definitions.get('TE'))).toBeGreaterThan(0)
        expect(Number(back.definitions.get('TR'))).toBeGreaterThan(Number(back.definitions.get('TE')))
      }
    })
  }
})
