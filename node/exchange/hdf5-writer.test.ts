// The HDF5 writer on its own: its checksum against lookup3's published values, and a file of nested
// groups and plain datasets read, and then extended, by libhdf5 through h5py.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEBIAN_PYTHON, hasPythonModules } from '../../test/support/external-tools.ts'
import { Hdf5FileLayout, Hdf5WriteError, arrayOf, encodeDatatype, float32, lookup3, packedCompound, uint16 } from './hdf5-writer.ts'

let dir: string
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'scanhub-hdf5-writer-')) })
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

async function collect (chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const chunk of chunks) parts.push(chunk)
  return Buffer.concat(parts)
}

describe('lookup3', () => {
  it('gives the values of Bob Jenkins\' lookup3.c self-test (hashlittle, initial value 0)', () => {
    expect(lookup3(new Uint8Array())).toBe(0xdeadbeef)
    expect(lookup3(new TextEncoder().encode('Four score and seven years ago'))).toBe(0x17770551)
  })
})

describe('Hdf5FileLayout', () => {
  it.skipIf(!hasPythonModules('h5py', 'numpy'))('writes nested groups and datasets that h5py reads, and that libhdf5 can add to', async () => {
    const matrix = Uint16Array.from([1, 2, 3, 4, 5, 6])
    const values = Float32Array.from([0.5, -1.25, 3e9])
    const layout = new Hdf5FileLayout([
      { path: 'a/b/matrix', type: uint16, shape: [2, 3] },
      { path: 'values', type: float32, shape: [3] },
      { path: 'a/empty', type: float32, shape: [0] }
    ], [])
    const bytes = await collect(layout.write((i) => [[new Uint8Array(matrix.buffer)], [new Uint8Array(values.buffer)], []][i], []))
    expect(bytes.length).toBe(layout.size)
    const path = join(dir, 'plain.h5')
    writeFileSync(path, bytes)
    const script = `
import sys, json, h5py
with h5py.File(sys.argv[1], 'r') as f:
    out = {'matrix': f['a/b/matrix'][()].tolist(), 'values': f['values'][()].tolist(), 'empty': list(f['a/empty'].shape)}
    seen = []
    f.visit(seen.append)
    out['names'] = sorted(seen)
with h5py.File(sys.argv[1], 'a') as f:
    f['a/b'].create_dataset('added', data=[7, 8])
with h5py.File(sys.argv[1], 'r') as f:
    out['added'] = f['a/b/added'][()].tolist()
    out['matrix_after'] = f['a/b/matrix'][()].tolist()
print(json.dumps(out))
`
    const r = spawnSync(DEBIAN_PYTHON, ['-c', script, path], { encoding: 'utf8' })
    expect(r.status, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual({
      names: ['a', 'a/b', 'a/b/matrix', 'a/empty', 'values'],
      matrix: [[1, 2, 3], [4, 5, 6]],
      values: [0.5, -1.25, 3e9],
      empty: [0],
      added: [7, 8],
      matrix_after: [[1, 2, 3], [4, 5, 6]]
    })
  })

  it('checks that the elements given are the elements planned', async () => {
    const layout = new Hdf5FileLayout([{ path: 'x', type: uint16, shape: [4] }], [])
    await expect(collect(layout.write(() => [new Uint8Array(6)], []))).rejects.toThrow(new Hdf5WriteError('x was planned with 8 bytes of elements, 6 came'))
    await expect(collect(layout.write(() => [new Uint8Array(10)], []))).rejects.toThrow(new Hdf5WriteError('x was planned with 8 bytes of elements, more came'))
    const heap = new Hdf5FileLayout([], [5])
    await expect(collect(heap.write(() => [], [new Uint8Array(4)]))).rejects.toThrow(new Hdf5WriteError('global heap object 0 has 4 bytes, 5 were planned'))
  })

  it('refuses what HDF5 cannot hold, in words', () => {
    expect(() => new Hdf5FileLayout([{ path: 'a', type: uint16, shape: [1] }, { path: 'a/b', type: uint16, shape: [1] }], [])).toThrow('a/b: a is a dataset, not a group')
    expect(() => new Hdf5FileLayout([{ path: 'a', type: uint16, shape: [1] }, { path: '/a', type: uint16, shape: [1] }], [])).toThrow('/a is given twice')
    expect(() => new Hdf5FileLayout([{ path: 'a', type: uint16, shape: [-1] }], [])).toThrow('a: dimensions must be whole numbers, not [-1]')
    expect(() => encodeDatatype({ kind: 'compound', size: 4, members: [{ name: 'x', offset: 2, type: float32 }] })).toThrow('compound member x (at 2, 4 bytes) lies outside the compound\'s 4 bytes')
    expect(() => encodeDatatype(packedCompound([['x', uint16], ['x', uint16]]))).toThrow('compound member x appears twice')
    expect(() => encodeDatatype(arrayOf(uint16, 0))).toThrow('an array type needs 1 to 255 positive dimensions, not [0]')
    expect(() => new Hdf5FileLayout([], [0])).toThrow('a global heap object must have a positive size, not 0')
  })
})
