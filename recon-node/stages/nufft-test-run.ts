// Test support: runs a chain that contains the nufft stage. Through runPipeline once the stage is
// registered in pipeline/chain.ts; until then the same chain, resolved with the stage added, driven
// one message at a time through each stage's run and end (runPipeline's order, without its overlap).
import type { Acquisition } from '../../protocol/mrd/types.ts'
import type { FftRunner } from '../fft/pool.ts'
import { resolveChain, STAGES, type Chain } from '../pipeline/chain.ts'
import { toReconImages, type ReconImage } from '../pipeline/image.ts'
import { runPipeline } from '../pipeline/run.ts'
import { nufft } from './nufft.ts'
import type { Message, ReconHeader, StageContext } from './stage.ts'

export interface ChainOutput {
  images: ReconImage[]
  /** What left the chain other than images (buffers of a chain without coil combination). */
  others: Message[]
  warnings: string[]
}

export async function runNufftChain (acquisitions: Acquisition[], header: ReconHeader, chain: Chain, fft: FftRunner): Promise<ChainOutput> {
  const out: ChainOutput = { images: [], others: [], warnings: [] }
  if (Object.hasOwn(STAGES, nufft.name)) {
    await runPipeline(acquisitions, header, chain, {
      fft, onImage: (i) => { out.images.push(i) }, onOther: (m) => { out.others.push(m) }, onWarning: (m) => { out.warnings.push(m) }
    })
    return out
  }
  const steps = resolveChain(chain, { ...STAGES, [nufft.name]: nufft })
  const contexts: StageContext[] = steps.map(({ stage, params }) => ({
    header, fft, state: stage.init?.(params, header), warn: (m: string) => { out.warnings.push(m) }
  }))
  try {
    const push = async (messages: Message[], from: number): Promise<void> => {
      for (const m of messages) {
        if (from === steps.length) {
          if (m.kind === 'image') out.images.push(...toReconImages(m))
          else out.others.push(m)
          continue
        }
        await push(await steps[from].stage.run(m, steps[from].params, contexts[from]), from + 1)
      }
    }
    for (const acquisition of acquisitions) await push([{ kind: 'acquisition', acquisition }], 0)
    for (let i = 0; i < steps.length; i++) {
      const end = steps[i].stage.end
      if (end !== undefined) await push(await end.call(steps[i].stage, steps[i].params, contexts[i]), i + 1)
    }
  } finally {
    for (const [i, { stage }] of steps.entries()) await stage.dispose?.(contexts[i].state)
  }
  return out
}
