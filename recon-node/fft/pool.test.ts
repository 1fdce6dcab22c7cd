import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { fftn } from './fftn.ts'
import { createFftPool, FftPoolClosedError, InThreadFft, splitPlan } from './pool.ts'
import { nrmse, randomComplex } from './test-support.ts'

function shared (x: Float32Array): Float32Array {
  const out = new Float32Array(new SharedArrayBuffer(x.byteLength))
  out.set(x)
  return out
}

describe('FFT worker pool', () => {
  const pool = createFftPool({ size: 2, minParallelElements: 64 })
  afterAll(async () => { await pool.close() })

  it('splits along the outermost batched axis, or in two phases when every axis is transformed', () => {
    expect(splitPlan([64, 64, 1, 8], 7, 2)).toEqual([{ flags: 3, splitAxis: 3, chunks: [[0, 4], [4, 8]] }])
    expect(splitPlan([100, 100, 10, 1], 7, 3)).toEqual([
      { flags: 3, splitAxis: 2, chunks: [[0, 3], [3, 6], [6, 10]] },
      { flags: 4, splitAxis: 1, chunks: [[0, 33], [33, 66], [66, 100]] }
    ])
    expect(splitPlan([5, 1, 1, 1], 1, 2)).toEqual([{ flags: 1, splitAxis: 0, chunks: [[0, 5]] }])
    expect(splitPlan([5, 1], 2, 2)).toEqual([])
  })

  const cases: Array<[string, number[], number]> = [
    ['2-D, 4 coils', [48, 40, 1, 4], 3],
    ['3-D, 1 coil (two phases)', [20, 18, 10, 1], 7],
    ['3-D, 3 coils', [16, 12, 6, 3], 7]
  ]
  it.each(cases)('gives the in-thread result on shared memory: %s', async (_label, dims, flags) => {
    const size = dims.reduce((a, b) => a * b, 1)
    const x = randomComplex(size, size)
    const expected = new Float32Array(x.length)
    fftn(dims, flags, expected, x, { inverse: true, centred: true })
    const data = shared(x)
    const out = await pool.fftn(dims, flags, data, { inverse: true, centred: true })
    expect(out).toBe(data)
    expect(nrmse(out, expected)).toBe(0)
  })

  it('transfers an ordinary buffer to a worker and back without copying', async () => {
    const dims = [30, 20, 1, 2]
    const x = randomComplex(1200, 5)
    const expected = new Float32Array(x.length)
    fftn(dims, 3, expected, x, { centred: true })
    const data = new Float32Array(x)
    const out = await pool.fftn(dims, 3, data, { centred: true })
    expect(data.length).toBe(0) // detached: the memory moved
    expect(nrmse(out, expected)).toBe(0)
  })

  it('copies a view into a larger buffer instead of moving memory it does not own', async () => {
    const big = randomComplex(1300, 9)
    const view = big.subarray(100, 100 + 2 * 600)
    const before = big.slice(0, 100)
    const expected = new Float32Array(view.length)
    fftn([30, 20], 3, expected, view, { inverse: true })
    const out = await pool.fftn([30, 20], 3, view, { inverse: true })
    expect(out).toBe(view)
    expect(nrmse(view, expected)).toBe(0)
    expect(big.subarray(0, 100)).toEqual(before)
  })

  it('runs many arrays at once on all workers', async () => {
    const dims = [32, 32, 1, 2]
    const inputs = Array.from({ length: 12 }, (_, i) => shared(randomComplex(2048, i + 100)))
    const expected = inputs.map((x) => { const y = new Float32Array(x.length); fftn(dims, 3, y, x, { inverse: true, centred: true }); return y })
    const outs = await Promise.all(inputs.map(async (x) => await pool.fftn(dims, 3, x, { inverse: true, centred: true })))
    outs.forEach((out, i) => expect(nrmse(out, expected[i])).toBe(0))
  })

  it('applies a channel matrix on shared memory (split by samples), by transfer, and in the calling thread alike', async () => {
    const channels = 3
    const samples = 500
    const w = Float64Array.from({ length: 2 * channels * channels }, (_, i) => (i % 7) / 7 - 0.3)
    for (let c = 0; c < channels; c++) for (let d = c + 1; d < channels; d++) w.fill(0, 2 * (c * channels + d), 2 * (c * channels + d) + 2)
    const x = randomComplex(samples * channels, 77)
    const expected = new Float32Array(x)
    await new InThreadFft().applyChannelMatrix(samples, channels, w, 2, expected)
    // against the definition
    for (const [c, s] of [[0, 0], [2, 499], [1, 250]]) {
      let re = 0
      let im = 0
      for (let d = 0; d <= c; d++) {
        const [wr, wi] = [w[2 * (c * channels + d)], w[2 * (c * channels + d) + 1]]
        const [xr, xi] = [x[2 * (d * samples + s)], x[2 * (d * samples + s) + 1]]
        re += 2 * (wr * xr - wi * xi)
        im += 2 * (wr * xi + wi * xr)
      }
      expect(expected[2 * (c * samples + s)]).toBeCloseTo(re, 5)
      expect(expected[2 * (c * samples + s) + 1]).toBeCloseTo(im, 5)
    }
    const onShared = shared(x)
    expect(await pool.applyChannelMatrix(samples, channels, w, 2, onShared)).toBe(onShared)
    expect(nrmse(onShared, expected)).toBe(0)
    const owned = new Float32Array(x)
    expect(nrmse(await pool.applyChannelMatrix(samples, channels, w, 2, owned), expected)).toBe(0)
  })

  it('runs in the calling thread for tiny arrays and with InThreadFft', async () => {
    const x = randomComplex(12, 1)
    const expected = new Float32Array(24)
    fftn([3, 4], 3, expected, x, {})
    const data = new Float32Array(x)
    expect(await pool.fftn([3, 4], 3, data)).toBe(data)
    expect(data).toEqual(expected)
    const again = new Float32Array(x)
    await new InThreadFft().fftn([3, 4], 3, again)
    expect(again).toEqual(expected)
  })

  it('starts its workers under `node --import tsx` too (not only under vitest)', () => {
    const poolPath = fileURLToPath(new URL('./pool.ts', import.meta.url))
    const script = `
      import { createFftPool } from ${JSON.stringify(poolPath)}
      const pool = createFftPool({ size: 2, minParallelElements: 1 })
      const d = new Float32Array(new SharedArrayBuffer(8 * 64 * 4))
      d[0] = 1
      await pool.fftn([8, 8, 1, 4], 3, d, { inverse: true, centred: true })
      console.log(JSON.stringify(Array.from(d.slice(0, 4))))`
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', cwd: fileURLToPath(new URL('../..', import.meta.url)) })
    expect(r.stderr).toBe('')
    // a delta at the k-space corner (k = -4, -4) of coil 0: the image is (-1)^(x+y), here x = 0, 1 of row 0
    expect(JSON.parse(r.stdout)).toEqual([1, 0, -1, 0])
    // and the process exits by itself: idle workers do not keep it alive
    expect(r.status).toBe(0)
  })

  it('refuses work once closed', async () => {
    const other = createFftPool({ size: 1, minParallelElements: 1 })
    await other.fftn([8, 8], 3, shared(randomComplex(64, 3)))
    await other.close()
    await expect(other.fftn([8, 8], 3, shared(randomComplex(64, 3)))).rejects.toBeInstanceOf(FftPoolClosedError)
  })
})
