// Header values to DICOM: the field strength of headers written in the wrong unit, placeholders for
// what a header leaves out, instance numbers that depend only on an image's counters, and what each
// file says about its acquisition (slice geometry, echo, repetition, sequence codes), read back with
// pydicom and checked with dciodvfy and dcm2niix.
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { IsmrmrdHeader } from '../../protocol/mrd/xml-header.ts'
import { DEBIAN_PYTHON, hasPythonModules, hasTool } from '../../test/support/external-tools.ts'
import { readDicom } from '../../protocol/dicom/read.ts'
import type { Acquisition } from '../../protocol/mrd/types.ts'
import { InThreadFft } from '../fft/pool.ts'
import type { ReconImage } from '../pipeline/image.ts'
import { runPipeline } from '../pipeline/run.ts'
import { flagsOf, LAST_IN_SLICE } from '../stages/flags.ts'
import { makeAcquisition } from '../stages/test-acquisitions.ts'
import { DicomSeriesWriter, describeSeries, fieldOf, type DicomFile } from './dicom-series.ts'
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
    // unknown timing is not invented: TR and TE are written empty, the flip angle left out
    expect(info.sequence).toMatchObject({ scanningSequence: ['RM'], sequenceVariant: ['NONE'] })
    expect(info.sequence.repetitionTimeMs).toBeUndefined()
    expect(info.sequence.flipAngleDeg).toBeUndefined()
    expect(info.echoTimesMs).toEqual([])
    expect(warnings.filter((w) => /TR|TE|flip/.test(w))).toHaveLength(3)
    const anonymous = describeSeries(header(), {}, new Date(0), () => {})
    // nothing invented: an empty id and name, and fresh study and series identities
    expect(anonymous.patient).toMatchObject({ id: '', lastName: '', firstName: '' })
    expect(anonymous.equipment.manufacturer).toBe('')
    const again = describeSeries(header(), {}, new Date(0), () => {})
    expect(again.study.id).not.toBe(anonymous.study.id)
    expect(again.series.id).not.toBe(anonymous.series.id)
    // a study UID the raw data brings is used as it is
    const given = describeSeries(header({ studyInformation: { studyInstanceUID: '1.2.840.113619.2.55.3.1' } }), {}, new Date(0), () => {})
    expect(given.study.uid).toBe('1.2.840.113619.2.55.3.1')
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
      expectedAcquisitions: 10,
      trajectory: 'cartesian'
    })
    expect(unitKeyOf({ slice: 3, contrast: 1, phase: 0, repetition: 2, set: 0 })).toBe('3.1.0.2.0')
  })
})

// ---------------------------------------------------------------------------------------------
// DicomSeriesWriter: what the files say about the acquisition, read back with pydicom, checked by
// dciodvfy and converted by dcm2niix.

type Vec3 = [number, number, number]

interface ScanSpec {
  matrix: Vec3
  fov: Vec3
  slices?: number
  contrasts?: number
  repetitions?: number
  TE?: number[]
  TR?: number
  TI?: number
  flip?: number
  sequenceType?: string
  trajectory?: string
  echoTrainLength?: number
  /** readout oversampling: the encoded matrix and FOV along x are this many times the recon's */
  oversampling?: number
  step1?: { minimum: number, maximum: number, center: number }
  encodedFovY?: number
  seriesTime?: string
}

function scanHeader (spec: ScanSpec): IsmrmrdHeader {
  const [nx, ny, nz] = spec.matrix
  const [fx, fy, fz] = spec.fov
  const os = spec.oversampling ?? 1
  const limit = (count: number): { minimum: number, maximum: number, center: number } => ({ minimum: 0, maximum: count - 1, center: 0 })
  return {
    experimentalConditions: { H1resonanceFrequency_Hz: 63_860_000 },
    acquisitionSystemInformation: { systemFieldStrength_T: 1.5, systemVendor: 'ScanHub' },
    measurementInformation: { measurementID: 'scan-1', protocolName: 'test', ...(spec.seriesTime !== undefined ? { seriesDate: '2026-03-04', seriesTime: spec.seriesTime } : {}) },
    encoding: [{
      encodedSpace: { matrixSize: { x: nx * os, y: ny, z: nz }, fieldOfView_mm: { x: fx * os, y: spec.encodedFovY ?? fy, z: fz } },
      reconSpace: { matrixSize: { x: nx, y: ny, z: nz }, fieldOfView_mm: { x: fx, y: fy, z: fz } },
      encodingLimits: {
        kspace_encoding_step_1: spec.step1 ?? { minimum: 0, maximum: ny - 1, center: Math.floor(ny / 2) },
        ...(nz > 1 ? { kspace_encoding_step_2: { minimum: 0, maximum: nz - 1, center: Math.floor(nz / 2) } } : {}),
        slice: limit(spec.slices ?? 1),
        contrast: limit(spec.contrasts ?? 1),
        repetition: limit(spec.repetitions ?? 1)
      },
      trajectory: spec.trajectory ?? 'cartesian',
      ...(spec.echoTrainLength !== undefined ? { echoTrainLength: spec.echoTrainLength } : {})
    }],
    sequenceParameters: {
      TR: [spec.TR ?? 100],
      TE: spec.TE ?? [5],
      flipAngle_deg: [spec.flip ?? 30],
      ...(spec.TI !== undefined ? { TI: [spec.TI] } : {}),
      ...(spec.sequenceType !== undefined ? { sequence_type: spec.sequenceType } : {})
    }
  }
}

// A double-oblique slice: 30° about z, then 20° about x.
const C30 = Math.cos(Math.PI / 6)
const S30 = Math.sin(Math.PI / 6)
const C20 = Math.cos(Math.PI / 9)
const S20 = Math.sin(Math.PI / 9)
const OBLIQUE = { readDir: [C30, S30 * C20, S30 * S20] as Vec3, phaseDir: [-S30, C30 * C20, C30 * S20] as Vec3, sliceDir: [0, -S20, C20] as Vec3 }
const CENTRE: Vec3 = [4, -7, 12]

interface ImageSpec {
  slice?: number
  contrast?: number
  repetition?: number
  partition?: number
  /** distance of the image's centre from CENTRE along the slice normal, mm */
  offsetMm?: number
  /** the image's own extent (what the chain computed); default the header's reconSpace */
  fieldOfViewMm?: Vec3
  stamp?: number
}

function reconImage (spec: ScanSpec, image: ImageSpec): ReconImage {
  const [nx, ny, nz] = spec.matrix
  const offset = image.offsetMm ?? 0
  const pixels = new Float32Array(nx * ny)
  for (let i = 0; i < pixels.length; i++) pixels[i] = 100 + (i % nx) + 3 * Math.floor(i / nx) + 50 * (image.slice ?? 0) + 20 * (image.contrast ?? 0) + 7 * (image.partition ?? 0)
  return {
    pixels,
    width: nx,
    height: ny,
    depth: nz,
    partition: image.partition ?? 0,
    slice: image.slice ?? 0,
    contrast: image.contrast ?? 0,
    phase: 0,
    repetition: image.repetition ?? 0,
    set: 0,
    position: CENTRE.map((c, a) => c + offset * OBLIQUE.sliceDir[a]) as Vec3,
    ...OBLIQUE,
    patientTablePosition: [0, 0, 0],
    fieldOfViewMm: image.fieldOfViewMm ?? [spec.fov[0], spec.fov[1], spec.fov[2] / nz],
    scale: 1,
    measurementUid: 1,
    acquisitionTimeStamp: image.stamp ?? 0
  }
}

const seriesDir = mkdtempSync(join(tmpdir(), 'scanhub-series-'))
afterAll(() => rmSync(seriesDir, { recursive: true, force: true }))
let scanCount = 0

interface Written { dir: string, paths: string[], warnings: string[] }

/** Writes the images with a DicomSeriesWriter (after handing it `noted` readouts), into a folder of their own. */
function writeScan (spec: ScanSpec, images: ImageSpec[], noted: ImageSpec[] = []): Written {
  const header = scanHeader(spec)
  const warnings: string[] = []
  const warn = (m: string): void => { warnings.push(m) }
  const writer = new DicomSeriesWriter(header, describeSeries(header, {}, new Date(2026, 2, 4, 9, 0, 0), warn), warn)
  for (const n of noted) {
    const image = reconImage(spec, n)
    writer.noteAcquisition({ flags: 0n, idx: { ...image, kspaceEncodeStep1: 0, kspaceEncodeStep2: 0, average: 0, segment: 0, user: [0, 0, 0, 0, 0, 0, 0, 0] }, position: image.position, sliceDir: image.sliceDir })
  }
  const dir = join(seriesDir, `scan${scanCount++}`)
  mkdirSync(dir)
  const paths = images.map((spec2) => {
    const file = writer.write(reconImage(spec, spec2))
    const path = join(dir, file.name)
    writeFileSync(path, file.bytes)
    return path
  })
  return { dir, paths, warnings }
}

const pydicom = hasPythonModules('pydicom')

type Tags = Record<string, string | number | Array<string | number> | null>

const KEYWORDS = [
  'SeriesInstanceUID', 'InstanceNumber', 'EchoTime', 'EchoNumbers', 'RepetitionTime', 'InversionTime', 'FlipAngle', 'EchoTrainLength',
  'TemporalPositionIdentifier', 'NumberOfTemporalPositions', 'AcquisitionNumber', 'AcquisitionTime', 'ContentTime', 'SliceThickness',
  'SpacingBetweenSlices', 'PixelSpacing', 'ImagePositionPatient', 'Rows', 'Columns', 'MRAcquisitionType', 'ScanningSequence',
  'SequenceVariant', 'ScanOptions', 'AcquisitionMatrix', 'InPlanePhaseEncodingDirection', 'NumberOfPhaseEncodingSteps',
  'PercentSampling', 'PercentPhaseFieldOfView'
]

/** The attributes of each file as pydicom reads them: numbers as numbers, multiple values as lists, empty as null. */
function readTags (paths: string[]): Tags[] {
  const script = `
import json, sys, pydicom
from pydicom.multival import MultiValue
def value(v):
    if v is None or v == '':
        return None
    if isinstance(v, (MultiValue, list)):
        return [value(e) for e in v]
    if isinstance(v, (int, float)):
        return float(v) if isinstance(v, float) or type(v).__name__ in ('DSfloat', 'DSdecimal') else int(v)
    return str(v)
out = []
for path in sys.argv[2:]:
    d = pydicom.dcmread(path)
    out.append({k: (value(d.get(k)) if k in d else 'ABSENT') for k in sys.argv[1].split(',')})
print(json.dumps(out))
`
  const result = spawnSync(DEBIAN_PYTHON, ['-c', script, KEYWORDS.join(','), ...paths], { encoding: 'utf8', maxBuffer: 64 << 20 })
  if (result.status !== 0) throw new Error(result.stderr)
  return JSON.parse(result.stdout) as Tags[]
}

function expectValid (paths: string[]): void {
  if (!hasTool('dciodvfy')) return
  for (const path of paths) {
    const report = spawnSync('dciodvfy', [path], { encoding: 'utf8' })
    const errors = `${report.stdout}${report.stderr}`.split('\n').filter((l) => /Error/.test(l))
    expect(errors, path).toEqual([])
  }
}

function closeTo (actual: unknown, expected: number[], digits = 4): void {
  expect(Array.isArray(actual)).toBe(true)
  const list = actual as number[]
  expect(list).toHaveLength(expected.length)
  list.forEach((v, i) => expect(v).toBeCloseTo(expected[i], digits))
}

describe.skipIf(!pydicom)('DicomSeriesWriter', () => {
  it('multi-slice with a gap: SliceThickness is the header\'s FOV z, SpacingBetweenSlices the distance between slice positions', () => {
    // 5 slices of 5 mm, 7 mm apart (2 mm gaps), along an oblique normal
    const spec: ScanSpec = { matrix: [32, 32, 1], fov: [200, 200, 5], slices: 5 }
    const slices = [0, 1, 2, 3, 4].map((slice) => ({ slice, offsetMm: (slice - 2) * 7 }))
    // a caller that hands the writer the readouts first knows every slice before the first image
    const noted = writeScan(spec, slices, slices)
    const tags = readTags(noted.paths)
    for (const t of tags) {
      expect(t.SliceThickness).toBeCloseTo(5, 6)
      expect(t.SpacingBetweenSlices).toBeCloseTo(7, 4)
      expect(t.MRAcquisitionType).toBe('2D')
    }
    expectValid(noted.paths)
    // slice after slice, without the readouts: an image written before all its neighbours are known
    // leaves SpacingBetweenSlices out rather than guess; the last one has them all
    const streamed = readTags(writeScan(spec, slices).paths)
    expect(streamed.map((t) => t.SliceThickness)).toEqual([5, 5, 5, 5, 5])
    expect(streamed[0].SpacingBetweenSlices).toBe('ABSENT')
    expect(streamed[4].SpacingBetweenSlices).toBeCloseTo(7, 4)

    if (hasTool('dcm2niix')) {
      const out = join(noted.dir, 'nii')
      mkdirSync(out)
      const r = spawnSync('dcm2niix', ['-z', 'n', '-b', 'n', '-f', 'v', '-o', out, noted.dir], { encoding: 'utf8' })
      expect(r.status, r.stdout + r.stderr).toBe(0)
      const nii = readFileSync(join(out, 'v.nii'))
      expect(Array.from({ length: 4 }, (_, i) => nii.readInt16LE(40 + 2 * i))).toEqual([3, 32, 32, 5])
      expect(nii.readFloatLE(88)).toBeCloseTo(7, 3)
    }
  })

  it('a header whose FOV z is the whole stack (7 slices × 3 mm = 21 mm) gives 3 mm slices; one that fits no stack leaves the thickness empty', () => {
    const spec: ScanSpec = { matrix: [16, 16, 1], fov: [160, 160, 21], slices: 7, sequenceType: 'EPI', trajectory: 'epi', TE: [29] }
    const slices = Array.from({ length: 7 }, (_, slice) => ({ slice, offsetMm: (slice - 3) * 3 }))
    const slab = writeScan(spec, slices, slices)
    for (const t of readTags(slab.paths)) {
      expect(t.SliceThickness).toBeCloseTo(3, 6)
      expect(t.SpacingBetweenSlices).toBeCloseTo(3, 4)
    }
    expect(slab.warnings.some((w) => /spans 7 slices/.test(w))).toBe(true)
    expectValid(slab.paths)

    // 30 mm over 3 slices 5 mm apart: neither one slice (they would overlap) nor a third of it (10 mm > 5 mm)
    const odd: ScanSpec = { matrix: [16, 16, 1], fov: [160, 160, 30], slices: 3 }
    const three = [0, 1, 2].map((slice) => ({ slice, offsetMm: slice * 5 }))
    const unknown = writeScan(odd, three, three)
    for (const t of readTags(unknown.paths)) expect(t.SliceThickness).toBeNull()
    expect(unknown.warnings.some((w) => /SliceThickness left empty/.test(w))).toBe(true)
    expectValid(unknown.paths)
  })

  it('3D: SliceThickness and SpacingBetweenSlices are FOV z / matrix z', () => {
    const spec: ScanSpec = { matrix: [24, 20, 16], fov: [240, 200, 40], sequenceType: 'Flash' }
    const partitions = Array.from({ length: 16 }, (_, partition) => ({ partition, offsetMm: (partition - 8) * 2.5 }))
    const { paths } = writeScan(spec, partitions)
    const tags = readTags(paths)
    for (const t of tags) {
      expect(t.SliceThickness).toBeCloseTo(2.5, 6)
      expect(t.SpacingBetweenSlices).toBeCloseTo(2.5, 6)
      expect(t.MRAcquisitionType).toBe('3D')
      expect(t.ScanningSequence).toBe('GR')
      expect(t.SequenceVariant).toBe('SP')
    }
    expect(tags.map((t) => t.InstanceNumber)).toEqual(Array.from({ length: 16 }, (_, p) => p + 1))
    expectValid(paths)
  })

  it('non-square pixels: PixelSpacing is [phase FOV / rows, readout FOV / columns], from the header\'s reconSpace', () => {
    // 96 readout samples over 240 mm (2.5 mm), 48 phase lines over 180 mm (3.75 mm), acquired with 2x readout oversampling
    const spec: ScanSpec = { matrix: [96, 48, 1], fov: [240, 180, 4], oversampling: 2 }
    const { paths, warnings } = writeScan(spec, [{}])
    const [t] = readTags(paths)
    closeTo(t.PixelSpacing, [3.75, 2.5], 6)
    expect([t.Rows, t.Columns]).toEqual([48, 96])
    // the acquisition matrix has no readout oversampling; phase encoding runs down the columns
    expect(t.InPlanePhaseEncodingDirection).toBe('COL')
    expect(t.AcquisitionMatrix).toEqual([96, 0, 0, 48])
    expect(t.NumberOfPhaseEncodingSteps).toBe(48)
    expect(t.PercentSampling).toBeCloseTo(100, 6)
    expect(t.PercentPhaseFieldOfView).toBeCloseTo(75, 6)
    expect(warnings).toEqual([])
    expectValid(paths)
    if (hasTool('dcm2niix')) {
      // dcm2niix reads the acquisition matrix and phase-encoding axis as scanners' files state them
      const dir = join(paths[0], '..')
      const r = spawnSync('dcm2niix', ['-z', 'n', '-b', 'y', '-f', 'v', '-o', dir, dir], { encoding: 'utf8' })
      expect(r.status, r.stdout + r.stderr).toBe(0)
      const sidecar = JSON.parse(readFileSync(join(dir, 'v.json'), 'utf8')) as Record<string, unknown>
      expect(sidecar).toMatchObject({ AcquisitionMatrixPE: 48, PhaseEncodingAxis: 'j', InPlanePhaseEncodingDirectionDICOM: 'COL', PercentPhaseFOV: 75, SliceThickness: 4 })
    }

    // a chain that left the encoded extent on the image is overruled by reconSpace, and reported
    const off = writeScan(spec, [{ fieldOfViewMm: [480, 180, 4] }])
    closeTo(readTags(off.paths)[0].PixelSpacing, [3.75, 2.5], 6)
    expect(off.warnings.some((w) => /differs from the header's reconSpace/.test(w))).toBe(true)
  })

  it('an EPI whose first readouts are navigators: EchoTime is the header\'s TE[0], the sequence is EP with segmented k-space', () => {
    const spec: ScanSpec = { matrix: [64, 48, 1], fov: [220, 165, 3], sequenceType: 'EPI', trajectory: 'epi', TE: [29], TR: 3000, flip: 90, echoTrainLength: 48 }
    const header = scanHeader(spec)
    const writer = new DicomSeriesWriter(header, describeSeries(header, {}, new Date(2026, 2, 4), () => {}))
    // the navigator echoes (IS_NAVIGATION_DATA, bit 22) come first and lie in the same slice
    writer.noteAcquisition({ flags: 1n << 22n, idx: { kspaceEncodeStep1: 0, kspaceEncodeStep2: 0, average: 0, slice: 0, contrast: 0, phase: 0, repetition: 0, set: 0, segment: 0, user: [0, 0, 0, 0, 0, 0, 0, 0] }, position: CENTRE, sliceDir: OBLIQUE.sliceDir })
    const path = join(seriesDir, 'epi.dcm')
    writeFileSync(path, writer.write(reconImage(spec, {})).bytes)
    const [t] = readTags([path])
    expect(t).toMatchObject({ EchoTime: 29, EchoNumbers: 1, RepetitionTime: 3000, FlipAngle: 90, EchoTrainLength: 48, ScanningSequence: 'EP', SequenceVariant: 'SK', MRAcquisitionType: '2D', SliceThickness: 3 })
    expectValid([path])
  })

  it('multi-echo with repetitions: one series, each image with its echo\'s TE and number and its temporal position', () => {
    const spec: ScanSpec = { matrix: [24, 24, 1], fov: [192, 192, 4], slices: 3, contrasts: 3, repetitions: 2, TE: [5, 10.5, 16], sequenceType: 'GradientEcho' }
    const images: ImageSpec[] = []
    for (let repetition = 0; repetition < 2; repetition++) {
      for (let slice = 0; slice < 3; slice++) {
        for (let contrast = 0; contrast < 3; contrast++) images.push({ slice, contrast, repetition, offsetMm: (slice - 1) * 4 })
      }
    }
    const written = writeScan(spec, images, images)
    const tags = readTags(written.paths)
    expect(new Set(tags.map((t) => t.SeriesInstanceUID)).size).toBe(1)
    expect(new Set(tags.map((t) => t.InstanceNumber)).size).toBe(images.length)
    tags.forEach((t, k) => {
      const { contrast = 0, repetition = 0 } = images[k]
      expect(t.EchoNumbers).toBe(contrast + 1)
      expect(t.EchoTime).toBeCloseTo([5, 10.5, 16][contrast], 6)
      expect(t.TemporalPositionIdentifier).toBe(repetition + 1)
      expect(t.NumberOfTemporalPositions).toBe(2)
      expect(t.AcquisitionNumber).toBe(repetition + 1)
      expect(t.ScanningSequence).toBe('GR')
    })
    expectValid(written.paths)

    if (hasTool('dcm2niix')) {
      // dcm2niix splits the echoes into volumes of their own, each 3 slices by 2 repetitions
      const out = join(written.dir, 'nii')
      mkdirSync(out)
      const r = spawnSync('dcm2niix', ['-z', 'n', '-b', 'n', '-f', 'v', '-o', out, written.dir], { encoding: 'utf8' })
      expect(r.status, r.stdout + r.stderr).toBe(0)
      const niftis = readdirSync(out).filter((f) => f.endsWith('.nii')).sort()
      expect(niftis, r.stdout).toHaveLength(3)
      for (const name of niftis) {
        const nii = readFileSync(join(out, name))
        expect(Array.from({ length: 5 }, (_, i) => nii.readInt16LE(40 + 2 * i)), name).toEqual([4, 24, 24, 3, 2])
      }
    }
  })

  it('a radial scan has no phase encoding in the plane: no AcquisitionMatrix or phase-encoding direction', () => {
    const spec: ScanSpec = { matrix: [32, 32, 1], fov: [200, 200, 5], sequenceType: 'Radial', trajectory: 'radial' }
    const { paths } = writeScan(spec, [{}])
    const [t] = readTags(paths)
    expect(t).toMatchObject({ AcquisitionMatrix: 'ABSENT', InPlanePhaseEncodingDirection: 'ABSENT', NumberOfPhaseEncodingSteps: 'ABSENT', PercentSampling: 'ABSENT', ScanningSequence: 'GR' })
    closeTo(t.PixelSpacing, [6.25, 6.25], 6)
    expectValid(paths)
  })

  it('a header with fewer TEs than echoes leaves the EchoTime of the others empty and says so', () => {
    const spec: ScanSpec = { matrix: [16, 16, 1], fov: [160, 160, 5], contrasts: 2, TE: [4] }
    const { paths, warnings } = writeScan(spec, [{ contrast: 0 }, { contrast: 1 }])
    const tags = readTags(paths)
    expect(tags.map((t) => t.EchoTime)).toEqual([4, null])
    expect(tags.map((t) => t.EchoNumbers)).toEqual([1, 2])
    expect(warnings.some((w) => /none for echo 2/.test(w))).toBe(true)
    expectValid(paths)
  })

  it('AcquisitionTime from the acquisition time stamp when it is a clock time of the series, else the series time', () => {
    const spec: ScanSpec = { matrix: [16, 16, 1], fov: [160, 160, 5], repetitions: 2, seriesTime: '10:00:00' }
    // 10:05:00.5 and 10:05:02.5 after local midnight, in 2.5 ms ticks
    const tick = (s: number): number => Math.round(s * 1000 / 2.5)
    const { paths } = writeScan(spec, [{ repetition: 0, stamp: tick(36300.5) }, { repetition: 1, stamp: tick(36302.5) }])
    expect(readTags(paths).map((t) => [t.AcquisitionTime, t.ContentTime])).toEqual([['100500.500', '100500.500'], ['100502.500', '100502.500']])
    // read against the scanner's own series time, even when the lab dates the series otherwise
    const header = scanHeader(spec)
    const writer = new DicomSeriesWriter(header, describeSeries(header, { series: { dateTime: new Date(2026, 2, 5, 16, 0, 0) } }, new Date(2026, 2, 4), () => {}))
    const lab = readDicom(writer.write(reconImage(spec, { stamp: tick(36300.5) })).bytes).dataset
    expect([lab.AcquisitionDate, lab.AcquisitionTime, lab.SeriesTime]).toEqual(['20260304', '100500.500', '160000.000'])
    // a scanner that counts from its own start (the virtual scanner's 0): nothing says when that was
    const relative = writeScan(spec, [{ stamp: tick(3) }])
    expect(readTags(relative.paths)[0].AcquisitionTime).toBe('100000.000')
  })
})

describe('DicomSeriesWriter.observe', () => {
  it('an interleaved multi-slice scan run through observe gives every image its SpacingBetweenSlices; images alone give only the last', async () => {
    // 4 slices of 3 mm, 6 mm apart, acquired interleaved: line 0 of every slice, then line 1, ...
    const [n, slices] = [8, 4]
    const spec: ScanSpec = { matrix: [n, n, 1], fov: [160, 160, 3], slices, sequenceType: 'Flash' }
    const header = scanHeader(spec)
    const acquisitions = (): Acquisition[] => {
      const list: Acquisition[] = []
      for (let line = 0; line < n; line++) {
        for (let slice = 0; slice < slices; slice++) {
          list.push(makeAcquisition({
            samples: n, channels: 1, step1: line, slice, position: [0, 0, 6 * slice],
            data: Float32Array.from({ length: 2 * n }, (_, i) => Math.cos(i + line + slice)),
            flags: line === n - 1 ? flagsOf(LAST_IN_SLICE) : 0n
          }))
        }
      }
      return list
    }
    const chain = [{ stage: 'accumulate' }, { stage: 'fft' }, { stage: 'coil-combine-rss' }, { stage: 'scale' }]
    const spacings = async (observe: boolean): Promise<Array<number | undefined>> => {
      const writer = new DicomSeriesWriter(header, describeSeries(header, {}, new Date(2026, 2, 4), () => {}))
      const files: DicomFile[] = []
      const input = observe ? writer.observe(acquisitions()) : acquisitions()
      await runPipeline(input, reconHeaderOf(header), chain, { fft: new InThreadFft(), onImage: (image) => { files.push(writer.write(image)) }, onWarning: () => {} })
      expect(files).toHaveLength(slices)
      return files.map((f) => {
        const d = readDicom(f.bytes).dataset
        expect(d.SliceThickness).toBe(3)
        return d.SpacingBetweenSlices as number | undefined
      })
    }
    expect(await spacings(true)).toEqual([6, 6, 6, 6])
    expect(await spacings(false)).toEqual([undefined, undefined, undefined, 6])
  })
})
