import { describe, expect, it } from 'vitest'
import type { Encoding } from '../../protocol/mrd/xml-header.ts'
import { encodingFactsOf } from './encoding-facts.ts'

function encoding (patch: { trajectory?: string, encoded?: [number, number, number], fov?: [number, number, number], encodedFov?: [number, number, number], recon?: [number, number, number], step1?: [number, number, number], step2?: [number, number, number], etl?: number, segments?: number } = {}): Encoding {
  const v = ([x, y, z]: [number, number, number]): { x: number, y: number, z: number } => ({ x, y, z })
  const limit = ([minimum, maximum, center]: [number, number, number]): { minimum: number, maximum: number, center: number } => ({ minimum, maximum, center })
  const recon = patch.recon ?? [128, 96, 1]
  const fov = patch.fov ?? [256, 192, 5]
  return {
    encodedSpace: { matrixSize: v(patch.encoded ?? [256, 96, 1]), fieldOfView_mm: v(patch.encodedFov ?? [512, 192, 5]) },
    reconSpace: { matrixSize: v(recon), fieldOfView_mm: v(fov) },
    encodingLimits: {
      kspace_encoding_step_1: limit(patch.step1 ?? [0, 95, 48]),
      ...(patch.step2 !== undefined ? { kspace_encoding_step_2: limit(patch.step2) } : {}),
      ...(patch.segments !== undefined ? { segment: limit([0, patch.segments - 1, 0]) } : {})
    },
    trajectory: patch.trajectory ?? 'cartesian',
    ...(patch.etl !== undefined ? { echoTrainLength: patch.etl } : {})
  }
}

describe('encodingFactsOf', () => {
  it('gives the acquisition matrix without readout oversampling, steps, sampling and phase FOV', () => {
    expect(encodingFactsOf(encoding())).toEqual({
      threeD: false,
      phaseEncoded: true,
      acquisitionMatrix: { frequency: 128, phase: 96 },
      phaseEncodingSteps: 96,
      percentSampling: 100,
      percentPhaseFieldOfView: 75,
      phaseOversampled: false,
      partialFourierPhase: false
    })
  })

  it('tells partial Fourier (one side short) from a lower resolution (both sides)', () => {
    // 6/8 of 96 lines: 24 lines before the centre skipped
    const partial = encodingFactsOf(encoding({ step1: [24, 95, 48] }))
    expect(partial).toMatchObject({ partialFourierPhase: true, phaseEncodingSteps: 72, percentSampling: 75 })
    expect(encodingFactsOf(encoding({ step1: [12, 83, 48] })).partialFourierPhase).toBe(false)
    // 3-D: partial Fourier along the second phase encoding counts too
    const threeD = encodingFactsOf(encoding({ encoded: [256, 96, 32], recon: [128, 96, 32], encodedFov: [512, 192, 64], fov: [256, 192, 64], step2: [8, 31, 16] }))
    expect(threeD).toMatchObject({ threeD: true, partialFourierPhase: true })
  })

  it('sees phase oversampling, echo trains and segments', () => {
    const f = encodingFactsOf(encoding({ encoded: [256, 120, 1], encodedFov: [512, 240, 5], step1: [0, 119, 60], etl: 12, segments: 8 }))
    expect(f).toMatchObject({ phaseOversampled: true, acquisitionMatrix: { frequency: 128, phase: 96 }, phaseEncodingSteps: 120, echoTrainLength: 12, segments: 8 })
  })
  it('states no phase encoding for radial and spiral readouts, whose encoded y counts spokes', () => {
    const radial = encodingFactsOf(encoding({ trajectory: 'radial', step1: [20, 95, 48] }))
    expect(radial).toEqual({ threeD: false, phaseEncoded: false, phaseOversampled: false, partialFourierPhase: false })
    expect(encodingFactsOf(encoding({ trajectory: 'epi', etl: 96 }))).toMatchObject({ phaseEncoded: true, acquisitionMatrix: { frequency: 128, phase: 96 }, echoTrainLength: 96 })
  })
})
