// Learned post-processing: runs an ONNX model (onnxruntime-node, CPU) on every 2-D magnitude image,
// one partition at a time. The model takes float32 [1, 1, H, W] and gives the same shape (H = phase
// encodes, W = readout, rows of W pixels: our pixel order). Without a model path every message passes
// through. With `normalize`, each image is divided by its maximum before the model and multiplied back
// after, for models trained on images in [0, 1].
import type * as Ort from 'onnxruntime-node'
import { OnnxModelError } from './errors.ts'
import { defineStage, param, type Message } from './stage.ts'

export interface OnnxState {
  session: Promise<Ort.InferenceSession> | null
}

let runtime: Promise<typeof Ort> | undefined

/** onnxruntime-node, loaded on first use: its native library is large and most chains run no model. */
async function onnxRuntime (): Promise<typeof Ort> {
  runtime ??= import('onnxruntime-node')
  return await runtime
}

async function load (path: string): Promise<Ort.InferenceSession> {
  try {
    const ort = await onnxRuntime()
    const session = await ort.InferenceSession.create(path)
    if (session.inputNames.length !== 1 || session.outputNames.length < 1) {
      throw new OnnxModelError(`${path}: the model must have one input and one output, has ${session.inputNames.length} and ${session.outputNames.length}`)
    }
    return session
  } catch (error) {
    if (error instanceof OnnxModelError) throw error
    throw new OnnxModelError(`cannot load ONNX model ${path}: ${error instanceof Error ? error.message : String(error)}`)
  }
}

/** Runs the model on one image of width w and height h; returns the new pixels. */
export async function runModel (session: Ort.InferenceSession, pixels: Float32Array, w: number, h: number): Promise<Float32Array> {
  const { Tensor } = await onnxRuntime()
  const input = new Tensor('float32', pixels, [1, 1, h, w])
  const results = await session.run({ [session.inputNames[0]]: input })
  const output = results[session.outputNames[0]]
  const dims = output.dims
  if (output.type !== 'float32' || dims.length !== 4 || dims[0] !== 1 || dims[1] !== 1 || dims[2] !== h || dims[3] !== w) {
    throw new OnnxModelError(`the model must give float32 [1, 1, ${h}, ${w}], gave ${output.type} [${dims.join(', ')}]`)
  }
  return output.data as Float32Array
}

const params = {
  model: param.string('Path of the .onnx model; empty: the stage does nothing', ''),
  normalize: param.boolean('Divide each image by its maximum before the model and multiply back after', false)
}

export const onnx = defineStage<typeof params, OnnxState>({
  name: 'onnx',
  doc: 'Runs an ONNX model [1, 1, H, W] -> [1, 1, H, W] on every magnitude image',
  params,
  init: () => ({ session: null }),
  async run (input: Message, p, ctx): Promise<Message[]> {
    if (input.kind !== 'image' || p.model === '') return [input]
    ctx.state.session ??= load(p.model)
    const session = await ctx.state.session
    const [w, h, depth] = input.dims
    const out = new Float32Array(input.pixels.length)
    for (let z = 0; z < depth; z++) {
      const image = input.pixels.slice(z * w * h, (z + 1) * w * h)
      let max = 1
      if (p.normalize) {
        max = 0
        for (const v of image) if (v > max) max = v
        if (max > 0) for (let i = 0; i < image.length; i++) image[i] /= max
        else max = 1
      }
      const result = await runModel(session, image, w, h)
      for (let i = 0; i < result.length; i++) out[z * w * h + i] = result[i] * max
    }
    return [{ ...input, pixels: out }]
  },
  async dispose (state): Promise<void> {
    if (state.session === null) return
    const session = await state.session.catch(() => null)
    await session?.release()
  }
})
