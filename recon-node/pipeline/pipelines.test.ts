import { describe, expect, it } from 'vitest'
import { ReconRefusedError, UnknownStageError } from '../stages/errors.ts'
import type { ReconHeader } from '../stages/stage.ts'
import { resolveChain } from './chain.ts'
import { chainForHeader, chainForPipeline, PIPELINES } from './pipelines.ts'

const header = (extra: Partial<ReconHeader> = {}): ReconHeader => ({
  encodedMatrix: { x: 128, y: 64, z: 1 },
  reconMatrix: { x: 64, y: 64, z: 1 },
  fovMm: { encoded: { x: 512, y: 256, z: 5 }, recon: { x: 256, y: 256, z: 5 } },
  ...extra
})

const stages = (h: ReconHeader): string[] => chainForHeader(h).map((s) => s.stage)

describe('the default pipeline picks the chain from the header', () => {
  it('Cartesian, with GRAPPA when accelerated', () => {
    expect(stages(header())).toEqual(['remove-oversampling', 'noise-prewhitening', 'accumulate', 'partial-fourier', 'fft', 'crop-to-recon-space', 'coil-combine-rss', 'scale'])
    expect(stages(header({ trajectory: 'cartesian', acceleration: { step1: 2, step2: 1 } }))).toContain('grappa')
    expect(chainForHeader(header({ acceleration: { step1: 2, step2: 1 } })).find((s) => s.stage === 'accumulate')?.params).toEqual({ useCalibration: true })
  })

  it('EPI, and gridding for radial, golden-angle, spiral and other trajectories', () => {
    expect(stages(header({ trajectory: 'epi' })).slice(0, 2)).toEqual(['epi-ramp-regrid', 'epi-nyquist-correction'])
    for (const trajectory of ['radial', 'goldenangle', 'spiral', 'other']) expect(stages(header({ trajectory }))).toContain('nufft')
  })

  it('refuses what no chain reconstructs, naming it', () => {
    expect(() => chainForHeader(header({ trajectory: 'rosette' }))).toThrow(ReconRefusedError)
    expect(() => chainForHeader(header({ trajectory: 'rosette' }))).toThrow(/unknown trajectory "rosette"/)
    expect(() => chainForHeader(header({ trajectory: 'epi', acceleration: { step1: 2, step2: 1 } }))).toThrow(/parallel imaging of EPI/)
    expect(() => chainForHeader(header({ acceleration: { step1: 0, step2: 1 } }))).toThrow(/accelerationFactor/)
    const fid = header({ encodedMatrix: { x: 256, y: 1, z: 1 }, reconMatrix: { x: 256, y: 1, z: 1 } })
    expect(() => chainForHeader(fid)).toThrow(/256 x 1 samples per slice, no phase encoding: an FID/)
  })

  it('names every pipeline, each a chain of known stages', () => {
    for (const { name, description } of PIPELINES) {
      expect(description.length).toBeGreaterThan(20)
      expect(() => resolveChain(chainForPipeline(name, header()))).not.toThrow()
    }
    expect(() => chainForPipeline('fast', header())).toThrow(UnknownStageError)
  })
})
