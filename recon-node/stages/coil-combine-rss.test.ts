import { spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasTool } from '../../test/support/external-tools.ts'
import { readCfl, writeCfl } from '../fft/cfl.ts'
import { InThreadFft } from '../fft/pool.ts'
import { nrmse, randomComplex } from '../fft/test-support.ts'
import { coilCombineRss, rss, rssCoils } from './coil-combine-rss.ts'
import { COIL_FLAG, fromData } from './complex-array.ts'
import type { BufferMeta, Message } from './stage.ts'

describe('root sum of squares', () => {
  let dir = ''
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'scanhub-rss-')) })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it.skipIf(!hasTool('bart')).each([[[10, 9, 1, 4], 8], [[7, 5, 3, 2], 8], [[6, 5, 4, 3], 3], [[6, 5, 4, 3], 12]])('equals bart rss on %j, flags %i', async (dims, flags) => {
    const size = dims.reduce((a, b) => a * b, 1)
    const x = randomComplex(size, size + flags)
    const base = join(dir, `rss_${dims.join('x')}_${flags}`)
    await writeCfl(`${base}_in`, dims, x)
    const r = spawnSync('bart', ['rss', String(flags), `${base}_in`, `${base}_out`], { encoding: 'utf8' })
    expect(r.status, r.stderr).toBe(0)
    const ref = await readCfl(`${base}_out`)
    const expected = ref.data.filter((_, i) => i % 2 === 0)
    expect(ref.data.filter((_, i) => i % 2 === 1).every((v) => v === 0)).toBe(true)
    const out = new Float32Array(expected.length)
    rss(dims, flags, out, x)
    expect(nrmse(out, expected)).toBeLessThan(1e-6)
    if (flags === COIL_FLAG) expect(nrmse(rssCoils(fromData(dims as [number, number, number, number], x)), expected)).toBeLessThan(1e-6)
  })

  it('turns an image buffer into a magnitude image and passes other messages through', () => {
    const x = randomComplex(24, 3)
    const meta = { reconMatrix: [3, 4, 1] } as unknown as BufferMeta
    const ctx = { header: {} as never, fft: new InThreadFft(), state: undefined, warn: () => {} }
    const [out] = coilCombineRss.run({ kind: 'buffer', domain: 'image', array: fromData([3, 4, 1, 2], x), meta }, {}, ctx) as Message[]
    expect(out.kind).toBe('image')
    if (out.kind !== 'image') return
    expect(out.dims).toEqual([3, 4, 1])
    expect(out.pixels[5]).toBeCloseTo(Math.hypot(x[10], x[11], x[34], x[35]), 6)
    const k: Message = { kind: 'buffer', domain: 'kspace', array: fromData([3, 4, 1, 2], x), meta }
    expect((coilCombineRss.run(k, {}, ctx) as Message[])[0]).toBe(k)
  })
})
