import { describe, expect, it } from 'vitest'
import { InThreadFft } from '../fft/pool.ts'
import { accumulate, centredLength, type AccumulateState } from './accumulate.ts'
import { index } from './complex-array.ts'
import { ChannelCountError } from './errors.ts'
import {
  flagsOf, IS_NAVIGATION_DATA, IS_NOISE_MEASUREMENT, IS_PARALLEL_CALIBRATION, IS_PHASECORR_DATA, IS_REVERSE,
  LAST_IN_MEASUREMENT, LAST_IN_REPETITION, LAST_IN_SLICE
} from './flags.ts'
import { defaults, type BufferMessage, type Message, type ReconHeader, type StageContext } from './stage.ts'
import { makeAcquisition, makeHeader, type AcquisitionInit } from './test-acquisitions.ts'

/** sample s of line y, partition z, channel c has the value (1000 y + 100 z + s + 10000 c, -1) */
function value (y: number, z: number, s: number, c: number): number {
  return 1000 * y + 100 * z + s + 10000 * c
}

function readout (init: Omit<AcquisitionInit, 'data'>): Message {
  const data = new Float32Array(2 * init.samples * init.channels)
  for (let c = 0; c < init.channels; c++) {
    for (let s = 0; s < init.samples; s++) {
      data[2 * (c * init.samples + s)] = value(init.step1 ?? 0, init.step2 ?? 0, s, c)
      data[2 * (c * init.samples + s) + 1] = -1
    }
  }
  return { kind: 'acquisition', acquisition: makeAcquisition({ ...init, data }) }
}

function setup (header: ReconHeader, params = defaults(accumulate.params)): {
  run: (m: Message) => BufferMessage[]
  end: () => BufferMessage[]
  warnings: string[]
} {
  const warnings: string[] = []
  const ctx: StageContext<AccumulateState> = { header, fft: new InThreadFft(), state: accumulate.init!(params, header), warn: (m) => warnings.push(m) }
  return {
    run: (m) => accumulate.run(m, params, ctx) as BufferMessage[],
    end: () => accumulate.end!(params, ctx) as BufferMessage[],
    warnings
  }
}

function at (b: BufferMessage, x: number, y: number, z = 0, c = 0): number {
  return b.array.data[2 * index(b.array.dims, x, y, z, c)]
}

describe('accumulate', () => {
  it('places readouts by their counters and, with all flags 0, emits at the end of the stream', () => {
    const { run, end } = setup(makeHeader([8, 6, 1]))
    for (const y of [3, 0, 5, 1, 4, 2]) expect(run(readout({ samples: 8, channels: 2, step1: y }))).toEqual([])
    const [b] = end()
    expect(b.array.dims).toEqual([8, 6, 1, 2])
    expect(b.domain).toBe('kspace')
    expect(b.array.data.buffer).toBeInstanceOf(SharedArrayBuffer)
    for (let y = 0; y < 6; y++) for (let x = 0; x < 8; x++) expect(at(b, x, y, 0, 1)).toBe(value(y, 0, x, 1))
    expect(end()).toEqual([])
  })

  it('emits a slice on LAST_IN_SLICE, without waiting for the others', () => {
    const { run, end } = setup(makeHeader([4, 2, 1]))
    run(readout({ samples: 4, channels: 1, step1: 0, slice: 0 }))
    run(readout({ samples: 4, channels: 1, step1: 0, slice: 1 }))
    const out = run(readout({ samples: 4, channels: 1, step1: 1, slice: 0, flags: flagsOf(LAST_IN_SLICE) }))
    expect(out.map((b) => b.meta.slice)).toEqual([0])
    expect(end().map((b) => b.meta.slice)).toEqual([1])
  })

  it('emits every buffer of a repetition on LAST_IN_REPETITION and all on LAST_IN_MEASUREMENT', () => {
    const { run } = setup(makeHeader([4, 2, 1]))
    run(readout({ samples: 4, channels: 1, slice: 0, repetition: 0 }))
    run(readout({ samples: 4, channels: 1, slice: 1, repetition: 0 }))
    run(readout({ samples: 4, channels: 1, slice: 0, repetition: 1 }))
    expect(run(readout({ samples: 4, channels: 1, step1: 1, slice: 1, repetition: 0, flags: flagsOf(LAST_IN_REPETITION) })).map((b) => [b.meta.slice, b.meta.repetition])).toEqual([[0, 0], [1, 0]])
    run(readout({ samples: 4, channels: 1, slice: 2, repetition: 1 }))
    expect(run(readout({ samples: 4, channels: 1, slice: 3, repetition: 2, flags: flagsOf(LAST_IN_MEASUREMENT) })).map((b) => [b.meta.slice, b.meta.repetition])).toEqual([[0, 1], [2, 1], [3, 2]])
  })

  it('puts k = 0 at floor(N/2): an asymmetric echo lands offset by its center_sample', () => {
    const { run, end } = setup(makeHeader([8, 2, 1]))
    run(readout({ samples: 6, channels: 1, centerSample: 2 }))
    const [b] = end()
    expect(b.array.dims[0]).toBe(8)
    expect([at(b, 0, 0), at(b, 1, 0)]).toEqual([0, 0])
    for (let s = 0; s < 6; s++) expect(at(b, s + 2, 0)).toBe(value(0, 0, s, 0))
  })

  it('leaves lines missing on one side at zero (partial Fourier) and honours the limits centre', () => {
    const header: ReconHeader = { ...makeHeader([4, 8, 1]), encodingLimits: { kspaceEncodingStep1: { minimum: 0, maximum: 5, center: 4 } } }
    const { run, end } = setup(header)
    for (let y = 0; y < 6; y++) run(readout({ samples: 4, channels: 1, step1: y }))
    const [b] = end()
    expect(b.array.dims).toEqual([4, 8, 1, 1])
    for (let y = 0; y < 6; y++) expect(at(b, 1, y)).toBe(value(y, 0, 1, 0))
    expect([at(b, 1, 6), at(b, 1, 7)]).toEqual([0, 0])
  })

  it('zero-fills to the recon matrix, keeping k = 0 at the centre', () => {
    const header = makeHeader([8, 6, 1], [16, 12, 1], { encoded: [200, 150, 5], recon: [200, 150, 5] })
    const { run, end } = setup(header)
    for (let y = 0; y < 6; y++) run(readout({ samples: 8, channels: 1, step1: y }))
    const [b] = end()
    expect(b.array.dims).toEqual([16, 12, 1, 1])
    // x = s - 4 + 8, y = e1 - 3 + 6
    expect(at(b, 4 + 3, 3 + 2)).toBe(value(2, 0, 3, 0))
    expect(at(b, 3, 5)).toBe(0)
    expect(b.meta.fovMm).toEqual([200, 150, 5])
    expect(b.meta.reconMatrix).toEqual([16, 12, 1])
  })

  it('keeps the readout oversampling (and a phase oversampled field of view) for a crop after the FFT', () => {
    const header = makeHeader([128, 64, 1], [64, 48, 1], { encoded: [600, 400, 5], recon: [300, 300, 5] })
    const { run, end } = setup(header)
    run(readout({ samples: 128, channels: 1, step1: 32 }))
    const [b] = end()
    expect(b.array.dims).toEqual([128, 64, 1, 1])
    expect(b.meta.fovMm).toEqual([600, 400, 5])
  })

  it('reverses IS_REVERSE readouts', () => {
    const { run, end } = setup(makeHeader([6, 2, 1]))
    const m = readout({ samples: 6, channels: 2, step1: 1, flags: flagsOf(IS_REVERSE) })
    run(m)
    const [b] = end()
    for (let c = 0; c < 2; c++) for (let x = 0; x < 6; x++) expect(at(b, x, 1, 0, c)).toBe(value(1, 0, 5 - x, c))
  })

  it('ignores noise, navigator, phase-correction and calibration-only readouts, unless told to use calibration', () => {
    const header = makeHeader([4, 4, 1])
    for (const flag of [IS_NOISE_MEASUREMENT, IS_NAVIGATION_DATA, IS_PHASECORR_DATA, IS_PARALLEL_CALIBRATION]) {
      const { run, end } = setup(header)
      run(readout({ samples: 4, channels: 1, step1: 1, flags: flagsOf(flag) }))
      expect(end()).toEqual([])
    }
    const { run, end } = setup(header, { useCalibration: true })
    run(readout({ samples: 4, channels: 1, step1: 1, flags: flagsOf(IS_PARALLEL_CALIBRATION) }))
    expect(end()).toHaveLength(1)
  })

  it('averages lines acquired more than once', () => {
    const { run, end } = setup(makeHeader([4, 2, 1]))
    const a = readout({ samples: 4, channels: 1, step1: 1, average: 0 })
    const b = readout({ samples: 4, channels: 1, step1: 1, average: 1 })
    if (b.kind === 'acquisition') b.acquisition.data.fill(2)
    run(a)
    run(b)
    const [buf] = end()
    expect(at(buf, 3, 1)).toBe((value(1, 0, 3, 0) + 2) / 2)
  })

  it('builds 3-D buffers by kspace_encode_step_2, positioned by the limits centre', () => {
    const header: ReconHeader = {
      ...makeHeader([4, 4, 6], [4, 4, 6], { encoded: [100, 100, 60], recon: [100, 100, 60] }),
      encodingLimits: { kspaceEncodingStep1: { minimum: 0, maximum: 3, center: 2 }, kspaceEncodingStep2: { minimum: 0, maximum: 5, center: 3 } }
    }
    const { run, end } = setup(header)
    for (let z = 0; z < 6; z++) for (let y = 0; y < 4; y++) run(readout({ samples: 4, channels: 1, step1: y, step2: z, position: [y, z, 7] }))
    const [b] = end()
    expect(b.array.dims).toEqual([4, 4, 6, 1])
    expect(at(b, 2, 1, 4)).toBe(value(1, 4, 2, 0))
    // the header of the k-space centre line gives the position
    expect(b.meta.position).toEqual([2, 3, 7])
  })

  it('drops readouts outside the encoding with a warning, and refuses a change of channel count', () => {
    const { run, end, warnings } = setup(makeHeader([4, 2, 1]))
    run(readout({ samples: 4, channels: 1, step1: 7 }))
    expect(warnings[0]).toMatch(/outside/)
    expect(() => run(readout({ samples: 4, channels: 2, step1: 0 }))).toThrow(ChannelCountError)
    expect(end()[0].array.data.every((v) => v === 0)).toBe(true)
  })

  it('computes the smallest centred length', () => {
    expect(centredLength(100, 50)).toBe(100)
    expect(centredLength(101, 50)).toBe(101)
    expect(centredLength(6, 2)).toBe(7)
    expect(centredLength(6, 4)).toBe(8)
  })
})
