import { describe, expect, it } from 'vitest'
import { InvalidParamError, UnknownStageError } from '../stages/errors.ts'
import { DEFAULT_CHAIN, resolveChain, STAGES } from './chain.ts'

describe('chain', () => {
  it('knows every stage by its name and fills in default parameters', () => {
    expect(Object.keys(STAGES)).toEqual([
      'epi-ramp-regrid', 'epi-nyquist-correction', 'noise-prewhitening', 'remove-oversampling', 'accumulate', 'grappa',
      'partial-fourier', 'fft', 'nufft', 'crop-to-recon-space', 'coil-combine-rss', 'scale', 'onnx'
    ])
    const steps = resolveChain([...DEFAULT_CHAIN, { stage: 'scale', params: { mode: 'fixed', factor: 2 } }])
    expect(steps.map((s) => s.stage.name)).toEqual([...DEFAULT_CHAIN.map((s) => s.stage), 'scale'])
    expect(steps[6].params).toEqual({ mode: 'max', target: 4095, factor: 1 })
    expect(steps[7].params).toEqual({ mode: 'fixed', target: 4095, factor: 2 })
  })

  it('declares a doc and a default for every parameter', () => {
    for (const stage of Object.values(STAGES)) {
      expect(stage.doc.length).toBeGreaterThan(10)
      for (const spec of Object.values(stage.params)) {
        expect(spec.doc.length).toBeGreaterThan(10)
        expect(spec.default).not.toBeUndefined()
      }
    }
  })

  it('refuses unknown stages and parameters, and values of the wrong type or range', () => {
    expect(() => resolveChain([{ stage: 'sense' }])).toThrow(UnknownStageError)
    expect(() => resolveChain([{ stage: 'toString' }])).toThrow(UnknownStageError)
    const bad = (params: Record<string, never | string | number | boolean>): unknown => resolveChain([{ stage: 'scale', params }])
    expect(() => bad({ colour: 'red' })).toThrow(InvalidParamError)
    expect(() => bad({ mode: 'loud' })).toThrow(/one of max, first, fixed/)
    expect(() => bad({ target: -1 })).toThrow(InvalidParamError)
    expect(() => bad({ target: '4095' })).toThrow(InvalidParamError)
    expect(() => resolveChain([{ stage: 'accumulate', params: { useCalibration: 1 } }])).toThrow(InvalidParamError)
  })
})
