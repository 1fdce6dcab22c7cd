import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InThreadFft } from '../fft/pool.ts'
import { OnnxModelError } from './errors.ts'
import { onnx, type OnnxState } from './onnx.ts'
import { defaults, type BufferMeta, type ImageMessage, type Message, type StageContext } from './stage.ts'

// A minimal protobuf writer, enough for an ONNX ModelProto (onnx/onnx.proto field numbers).
const varint = (v: number): number[] => {
  const out: number[] = []
  while (v > 127) { out.push((v & 127) | 128); v = Math.floor(v / 128) }
  out.push(v)
  return out
}
const key = (field: number, wire: number): number[] => varint(field * 8 + wire)
const int = (field: number, v: number): number[] => [...key(field, 0), ...varint(v)]
const bytes = (field: number, b: number[] | Uint8Array): number[] => [...key(field, 2), ...varint(b.length), ...b]
const str = (field: number, s: string): number[] => bytes(field, [...new TextEncoder().encode(s)])

function valueInfo (name: string): number[] {
  const dim = (d: number | string): number[] => bytes(1, typeof d === 'number' ? int(1, d) : str(2, d))
  const shape = [...dim(1), ...dim(1), ...dim('H'), ...dim('W')]
  const tensorType = [...int(1, 1 /* FLOAT */), ...bytes(2, shape)]
  return [...str(1, name), ...bytes(2, bytes(1, tensorType))]
}

/** A model Y = Conv(X, K) with a 3x3 kernel K (row-major) and padding 1: [1, 1, H, W] -> [1, 1, H, W]. */
function convModel (kernel: number[]): Uint8Array {
  const raw = new Uint8Array(new Float32Array(kernel).buffer)
  const weight = [...int(1, 1), ...int(1, 1), ...int(1, 3), ...int(1, 3), ...int(2, 1), ...str(8, 'K'), ...bytes(9, raw)]
  const pads = [...str(1, 'pads'), ...int(20, 7 /* INTS */), ...int(8, 1), ...int(8, 1), ...int(8, 1), ...int(8, 1)]
  const node = [...str(1, 'X'), ...str(1, 'K'), ...str(2, 'Y'), ...str(3, 'conv'), ...str(4, 'Conv'), ...bytes(5, pads)]
  const graph = [...bytes(1, node), ...str(2, 'test'), ...bytes(5, weight), ...bytes(11, valueInfo('X')), ...bytes(12, valueInfo('Y'))]
  const opset = [...str(1, ''), ...int(2, 13)]
  return new Uint8Array([...int(1, 7 /* ir_version */), ...str(2, 'scanhub-test'), ...bytes(7, graph), ...bytes(8, opset)])
}

const meta = { scale: 1 } as unknown as BufferMeta

describe('onnx stage', () => {
  let dir = ''
  let shiftModel = ''
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scanhub-onnx-'))
    shiftModel = join(dir, 'shift.onnx')
    // out[y][x] = 2 * in[y - 1][x]: moves the image one row down (along the phase encoding) and doubles it
    await writeFile(shiftModel, convModel([0, 2, 0, 0, 0, 0, 0, 0, 0]))
  })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  async function apply (model: string, message: ImageMessage, normalize = false): Promise<ImageMessage> {
    const p = { ...defaults(onnx.params), model, normalize }
    const ctx: StageContext<OnnxState> = { header: {} as never, fft: new InThreadFft(), state: onnx.init!(p, {} as never), warn: () => {} }
    try {
      const [out] = await onnx.run(message, p, ctx)
      return out as ImageMessage
    } finally {
      await onnx.dispose!(ctx.state)
    }
  }

  it('changes the pixels as the model says, row = y, column = x, each partition alone', async () => {
    const [w, h, d] = [5, 4, 2]
    const pixels = Float32Array.from({ length: w * h * d }, (_, i) => i + 1)
    const out = await apply(shiftModel, { kind: 'image', dims: [w, h, d], pixels, meta })
    for (let z = 0; z < d; z++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const expected = y === 0 ? 0 : 2 * pixels[x + w * (y - 1) + w * h * z]
          expect(out.pixels[x + w * y + w * h * z]).toBe(expected)
        }
      }
    }
    expect(out.dims).toEqual([w, h, d])
  })

  it('normalizes around the model when asked (a linear model gives the same result)', async () => {
    const pixels = Float32Array.from({ length: 12 }, (_, i) => 10 * i)
    const plain = await apply(shiftModel, { kind: 'image', dims: [4, 3, 1], pixels: pixels.slice(), meta })
    const normalized = await apply(shiftModel, { kind: 'image', dims: [4, 3, 1], pixels: pixels.slice(), meta }, true)
    normalized.pixels.forEach((v, i) => expect(v).toBeCloseTo(plain.pixels[i], 3))
  })

  it('does nothing without a model, and fails clearly with a bad one', async () => {
    const m: ImageMessage = { kind: 'image', dims: [2, 2, 1], pixels: new Float32Array(4), meta }
    expect(await apply('', m)).toBe(m)
    const bad = join(dir, 'bad.onnx')
    await writeFile(bad, 'not a model')
    await expect(apply(bad, m)).rejects.toBeInstanceOf(OnnxModelError)
    const other: Message = { kind: 'acquisition', acquisition: {} as never }
    const p = { ...defaults(onnx.params), model: shiftModel }
    expect((await onnx.run(other, p, { header: {} as never, fft: new InThreadFft(), state: { session: null }, warn: () => {} }))[0]).toBe(other)
  })
})
