// Header values to DICOM: the field strength of headers written in the wrong unit, placeholders for
// what a header leaves out, and instance numbers that depend only on an image's counters.
import { describe, expect, it } from 'vitest'
import type { IsmrmrdHeader } from '../../protocol/mrd/xml-header.ts'
import { describeSeries, fieldOf } from './dicom-series.ts'
import { InstanceLayout, reconHeaderOf, unitKeyOf } from './recon-header.ts'

function header (patch: Partial<IsmrmrdHeader> = {}): IsmrmrdHeader {
  const space = { matrixSize: { x: 64, y: 64, z: 1 }, fieldOfView_mm: { x: 200, y: 200, z: 5 } }
  return {
    experimentalConditions: { H1resonanceFrequency_Hz: 63_860_000 },
    acquisitionSystemInformation: { systemFieldStrength_T: 1.5 },
    encoding: [{
      encodedSpace: { ...space, matrixSize: { x: 128, y: 64, z: 1 } },
      reconSpace: space,
      encodingLimits: { kspace_encoding_step_1: { minimum: 0, maximum: 63, center: 32 }, slice: { minimum: 0, maximum: 2, center: 0 }, repetition: { minimum: 0, maximum: 1, center: 0 } },
      trajectory: 'cartesian'
    }],
    ...patch
  }
}

describe('fieldOf', () => {
  const warnings: string[] = []
  const warn = (m: string): void => { warnings.push(m) }

  it('takes a plausible field strength, else the one the frequency implies, else both read in a common unit', () => {
    expect(fieldOf(header(), warn)).toEqual({ fieldStrengthT: 1.5, imagingFrequencyMHz: 63.86 })
    const fromFrequency = fieldOf(header({ acquisitionSystemInformation: { systemFieldStrength_T: 1500 } }), warn)
    expect(fromFrequency.fieldStrengthT).toBeCloseTo(1.4999, 3)
    // the OSI² ONE's header: µT and µHz
    const osi = fieldOf(header({ acquisitionSystemInformation: { systemFieldStrength_T: 48511.9775 }, experimentalConditions: { H1resonanceFrequency_Hz: 2065640000000 } }), warn)
    expect(osi.fieldStrengthT).toBeCloseTo(0.0485, 4)
    expect(osi.imagingFrequencyMHz).toBeCloseTo(2.06564, 5)
    const nothing = fieldOf(header({ acquisitionSystemInformation: {}, experimentalConditions: { H1resonanceFrequency_Hz: -1 } }), warn)
    expect(nothing.fieldStrengthT).toBe(1)
    expect(warnings).toHaveLength(3)
    expect(warnings[1]).toMatch(/agree when read in µT and µHz/)
    expect(warnings[2]).toMatch(/placeholder/)
  })
})

describe('describeSeries', () => {
  it('uses the lab\'s values over the header\'s, and placeholders where neither says anything', () => {
    const warnings: string[] = []
    const info = describeSeries(header({ subjectInformation: { patientName: 'Doe^John', patientGender: 'M', patientID: 'H123' } }), {
      series: { id: 'task@1', number: 3, name: 'Recon' }
    }, new Date('2026-01-01T00:00:00Z'), (m) => warnings.push(m))
    expect(info.patient).toMatchObject({ id: 'H123', lastName: 'Doe', firstName: 'John', sex: 'MALE' })
    expect(info.series).toMatchObject({ id: 'task@1', number: 3, name: 'Recon' })
    expect(info.sequence).toMatchObject({ repetitionTimeMs: 1, echoTimeMs: 0, scanningSequence: ['RM'] })
    expect(warnings.filter((w) => /TR|TE|flip/.test(w))).toHaveLength(3)
    const anonymous = describeSeries(header(), {}, new Date(0), () => {})
    expect(anonymous.patient).toMatchObject({ id: 'UNKNOWN', lastName: '', firstName: '' })
  })
})

describe('InstanceLayout', () => {
  it('numbers images by their counters: slices fastest within a repetition, partitions fastest within a slice', () => {
    const layout = new InstanceLayout(header())
    expect(layout.size).toBe(6)
    const at = (slice: number, repetition: number): number => layout.instanceNumber({ slice, repetition, contrast: 0, phase: 0, set: 0, partition: 0, depth: 1 })
    expect([at(0, 0), at(1, 0), at(2, 0), at(0, 1), at(2, 1)]).toEqual([1, 2, 3, 4, 6])
    // beyond the header's limits: still unique, after the regular range
    expect(at(5, 0)).toBeGreaterThan(6)
    expect(at(5, 0)).not.toBe(at(6, 0))
  })

  it('gives the pipeline its ReconHeader from the first encoding, and the accumulate stage\'s unit keys', () => {
    expect(reconHeaderOf(header(), 10)).toEqual({
      encodedMatrix: { x: 128, y: 64, z: 1 },
      reconMatrix: { x: 64, y: 64, z: 1 },
      fovMm: { encoded: { x: 200, y: 200, z: 5 }, recon: { x: 200, y: 200, z: 5 } },
      encodingLimits: { kspaceEncodingStep1: { minimum: 0, maximum: 63, center: 32 } },
      expectedAcquisitions: 10
    })
    expect(unitKeyOf({ slice: 3, contrast: 1, phase: 0, repetition: 2, set: 0 })).toBe('3.1.0.2.0')
  })
})
