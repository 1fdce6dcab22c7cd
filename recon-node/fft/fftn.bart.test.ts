// The centred FFTs against BART's own binary: `bart fft [-u] [-i] [-n] bitmask in out`.
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasTool } from '../../test/support/external-tools.ts'
import { readCfl, writeCfl } from './cfl.ts'
import { fftn, type FftOptions } from './fftn.ts'
import { nrmse, randomComplex } from './test-support.ts'

function bart (...args: string[]): void {
  const r = spawnSync('bart', args, { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`bart ${args.join(' ')}: ${r.stderr}`)
}

describe.skipIf(!hasTool('bart'))('fftn against bart fft', () => {
  let dir = ''
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'scanhub-fft-')) })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  const cases: Array<[string, number[], number, string[], FftOptions]> = [
    ['2-D odd x even, centred inverse', [67, 50], 3, ['-i'], { inverse: true, centred: true }],
    ['2-D even x odd, centred inverse', [64, 45], 3, ['-i'], { inverse: true, centred: true }],
    ['2-D odd x odd, centred forward', [33, 21], 3, [], { centred: true }],
    ['3-D with coils, centred inverse over 0..2', [10, 9, 5, 3], 7, ['-i'], { inverse: true, centred: true }],
    ['2-D unitary centred inverse', [30, 31], 3, ['-u', '-i'], { inverse: true, centred: true, unitary: true }],
    ['2-D uncentred inverse', [12, 7], 3, ['-n', '-i'], { inverse: true }]
  ]

  it.each(cases)('%s equals bart (scale 1, NRMSE < 1e-5)', async (label, dims, flags, bartOptions, options) => {
    const size = dims.reduce((a, b) => a * b, 1)
    const x = randomComplex(size, size)
    const base = join(dir, label.replace(/[^a-z0-9]+/gi, '_'))
    await writeCfl(`${base}_in`, dims, x)
    bart('fft', ...bartOptions, String(flags), `${base}_in`, `${base}_out`)
    const ref = await readCfl(`${base}_out`)
    expect(ref.dims.slice(0, dims.length)).toEqual(dims)
    const y = new Float32Array(2 * size)
    fftn(dims, flags, y, x, options)
    expect(nrmse(y, ref.data)).toBeLessThan(1e-5)
  })
})
