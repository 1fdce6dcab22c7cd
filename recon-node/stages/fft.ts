// Inverse FFT of k-space buffers to images (2-D over READ and PHS1, or 3-D with PHS2 when the buffer
// has partitions), centred and unnormalised like `bart fft -i` (see fft/fftn.ts), in place, on the
// worker pool. Every other message passes through. A buffer with lines missing between acquired ones
// is refused (sampling.ts): its transform would be an aliased image.
import { PHS1_FLAG, PHS2_FLAG, READ_FLAG } from './complex-array.ts'
import { refuseUndersampled } from './sampling.ts'
import { defineStage, type Message } from './stage.ts'

export const fft = defineStage({
  name: 'fft',
  doc: 'Centred inverse FFT of k-space buffers to image space (2-D, or 3-D for buffers with partitions)',
  params: {},
  concurrent: true,
  async run (input: Message, _p, ctx): Promise<Message[]> {
    if (input.kind !== 'buffer' || input.domain !== 'kspace') return [input]
    const { dims } = input.array
    refuseUndersampled(dims, input.meta.sampled, `slice ${input.meta.slice}, contrast ${input.meta.contrast}, repetition ${input.meta.repetition}`)
    const flags = READ_FLAG | PHS1_FLAG | (dims[2] > 1 ? PHS2_FLAG : 0)
    const data = await ctx.fft.fftn(dims, flags, input.array.data, { inverse: true, centred: true })
    return [{ kind: 'buffer', domain: 'image', array: { dims, data }, meta: input.meta }]
  }
})
