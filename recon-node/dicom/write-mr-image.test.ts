// writeMrImage checked against tools nobody on this team wrote: dciodvfy (dicom3tools) for the IOD,
// pydicom for the pixels, dcm2niix for the geometry of a multi-slice series, and our own reader.

import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { DEBIAN_PYTHON, hasPythonModules, hasTool } from '../../test/support/external-tools.ts'
import { readDicom } from '../../protocol/dicom/read.ts'
import { isValidUid } from '../../protocol/dicom/uid.ts'
import { DicomWriteError } from './errors.ts'
import { scaleToStored } from './scale.ts'
import { IMPLEMENTATION_CLASS_UID, mrImageUids, writeMrImage } from './write-mr-image.ts'
import type { MrImageInput } from './write-mr-image.ts'

const dir = mkdtempSync(join(tmpdir(), 'scanhub-dicom-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

type Vec3 = [number, number, number]

/** A smooth test image with a distinct value at every pixel, so a transposition cannot hide. */
function pattern (width: number, height: number): Float32Array {
  const out = new Float32Array(width * height)
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) out[j * width + i] = 10 + i * 1.5 + j * j * 0.25 + Math.sin(i * j)
  }
  return out
}

function input (overrides: {
  width?: number
  height?: number
  magnitude?: Float32Array
  position?: Vec3
  readDir?: Vec3
  phaseDir?: Vec3
  sliceDir?: Vec3
  fov?: Vec3
  patient?: Partial<MrImageInput['patient']>
  series?: Partial<MrImageInput['series']>
  instance?: Partial<MrImageInput['instance']>
  sequence?: Partial<MrImageInput['sequence']>
  maxValue?: number
} = {}): MrImageInput {
  const width = overrides.width ?? 64
  const height = overrides.height ?? 64
  return {
    image: { magnitude: overrides.magnitude ?? pattern(width, height), width, height, maxValue: overrides.maxValue },
    patient: { id: 'P-0001', firstName: 'Jane', lastName: 'Doe', birthDate: '1980-02-29', sex: 'FEMALE', heightCm: 172, weightKg: 65.5, ...overrides.patient },
    study: { id: '3f2a9c1e-7b4d-4e8a-9b1c-2d3e4f5a6b7c', name: 'Knee', dateTime: new Date(2024, 4, 17, 9, 30, 12, 345) },
    series: { id: 'b1946ac9-2492-4d2e-9c3f-8f0d2e5a7c11', epoch: 1, number: 3, name: 'GRE 2D', description: 'gradient echo, 2D', ...overrides.series },
    equipment: { manufacturer: 'Open Source Imaging', model: 'OSI² ONE', name: 'osi2one', fieldStrengthT: 0.0467, softwareVersion: 'ScanHub 0.1' },
    geometry: {
      position: overrides.position ?? [1, 2, 3],
      readDir: overrides.readDir ?? [1, 0, 0],
      phaseDir: overrides.phaseDir ?? [0, 1, 0],
      sliceDir: overrides.sliceDir ?? [0, 0, 1],
      fieldOfViewMm: overrides.fov ?? [width * 2, height * 2, 5],
      matrix: [width, height, 1]
    },
    sequence: { echoTimeMs: 5, repetitionTimeMs: 100, flipAngleDeg: 30, scanningSequence: ['GR'], sequenceVariant: ['SP'], scanOptions: [], acquisitionType: '2D', sequenceName: 'gre2d', echoTrainLength: 1, ...overrides.sequence },
    instance: { number: 1, ...overrides.instance }
  }
}

// A rotation of 30° about z then 20° about x: a double-oblique slice.
const c30 = Math.cos(Math.PI / 6)
const s30 = Math.sin(Math.PI / 6)
const c20 = Math.cos(Math.PI / 9)
const s20 = Math.sin(Math.PI / 9)
const OBLIQUE = {
  readDir: [c30, s30 * c20, s30 * s20] as Vec3,
  phaseDir: [-s30, c30 * c20, c30 * s20] as Vec3,
  sliceDir: [0, -s20, c20] as Vec3
}

const CASES: Array<{ name: string, input: MrImageInput }> = [
  { name: 'axial-64x64', input: input() },
  { name: 'nonsquare-100x80', input: input({ width: 100, height: 80 }) },
  { name: 'oblique-128x96', input: input({ width: 128, height: 96, position: [-12.5, 40.25, 7], ...OBLIQUE }) },
  {
    name: 'unicode-names-3d',
    input: (() => {
      const base = input({ width: 48, height: 40, patient: { firstName: 'Zoë', lastName: 'Müller', sex: 'OTHER' }, series: { laterality: 'L', name: 'Ménisque 3D' }, sequence: { acquisitionType: '3D', scanningSequence: ['SE', 'IR'], sequenceVariant: ['SK', 'SP'], scanOptions: ['PFP'], inversionTimeMs: 150, echoTrainLength: 8 } })
      base.geometry.matrix = [48, 40, 16]
      base.geometry.fieldOfViewMm = [96, 80, 32]
      return base
    })()
  },
  {
    name: 'minimal',
    input: {
      image: { magnitude: pattern(16, 16), width: 16, height: 16 },
      patient: { id: 'P2', firstName: '', lastName: '' },
      study: { id: 'exam', dateTime: new Date(2024, 4, 17, 9, 30, 12, 345) },
      series: { id: 'task', number: 1, name: '' },
      equipment: { manufacturer: '', fieldStrengthT: 1.5 },
      geometry: { position: [0, 0, 0], readDir: [1, 0, 0], phaseDir: [0, 1, 0], sliceDir: [0, 0, 1], fieldOfViewMm: [160, 160, 3], matrix: [16, 16, 1] },
      sequence: { echoTimeMs: 2, repetitionTimeMs: 10, flipAngleDeg: 5, scanningSequence: ['GR'], sequenceVariant: ['NONE'], acquisitionType: '2D' },
      instance: { number: 1 }
    }
  },
  { name: 'sagittal-no-birthdate', input: input({ width: 32, height: 72, readDir: [0, 1, 0], phaseDir: [0, 0, -1], sliceDir: [-1, 0, 0], patient: { birthDate: undefined, sex: 'NOT_GIVEN', heightCm: undefined, weightKg: undefined } }) }
]

const files = CASES.map(({ name, input }) => {
  const path = join(dir, `${name}.dcm`)
  writeFileSync(path, writeMrImage(input))
  return { name, input, path }
})

/** The one warning dciodvfy keeps for an unknown Laterality (MR_small.dcm from pydicom gets it too). */
const LATERALITY_WARNING = /Warning - is only permitted to be empty when actually unknown.*attribute <Laterality>/

describe('writeMrImage', () => {
  it.skipIf(!hasTool('dciodvfy')).each(files)('$name passes dciodvfy without errors', ({ path, input }) => {
    const result = spawnSync('dciodvfy', [path], { encoding: 'utf8' })
    const lines = (result.stdout + result.stderr).split('\n').filter((l) => l.trim() !== '')
    expect(lines.filter((l) => l.includes('Error')), lines.join('\n')).toEqual([])
    expect(lines).toContain('MRImage')
    const warnings = lines.filter((l) => l.includes('Warning'))
    if (input.series.laterality !== undefined) {
      expect(warnings, warnings.join('\n')).toEqual([])
    } else {
      expect(warnings.filter((w) => !LATERALITY_WARNING.test(w)), warnings.join('\n')).toEqual([])
    }
  })

  it.skipIf(!hasPythonModules('pydicom', 'numpy'))('pydicom reads the files and its pixel_array is what we wrote', () => {
    const script = `
import json, sys, pydicom
out = []
for path in sys.argv[1:]:
    d = pydicom.dcmread(path)
    a = d.pixel_array
    out.append({
        'shape': list(a.shape), 'dtype': str(a.dtype), 'pixels': a.ravel().tolist(),
        'name': str(d.PatientName), 'sex': d.PatientSex, 'transferSyntax': str(d.file_meta.TransferSyntaxUID),
        'sopClass': str(d.SOPClassUID), 'iop': [float(v) for v in d.ImageOrientationPatient],
        'ipp': [float(v) for v in d.ImagePositionPatient], 'spacing': [float(v) for v in d.PixelSpacing],
        'size': float(d.PatientSize) if 'PatientSize' in d else None,
    })
print(json.dumps(out))
`
    const result = spawnSync(DEBIAN_PYTHON, ['-c', script, ...files.map((f) => f.path)], { encoding: 'utf8', maxBuffer: 64 << 20 })
    expect(result.status, result.stderr).toBe(0)
    const read = JSON.parse(result.stdout) as Array<{ shape: number[], dtype: string, pixels: number[], name: string, sex: string, transferSyntax: string, sopClass: string, size: number | null }>
    files.forEach(({ input }, k) => {
      const r = read[k]
      expect(r.shape).toEqual([input.image.height, input.image.width])
      expect(r.dtype).toBe('uint16')
      expect(r.pixels).toEqual(Array.from(scaleToStored(input.image.magnitude).pixels))
      expect(r.name).toBe(input.patient.lastName === '' ? '' : `${input.patient.lastName}^${input.patient.firstName}`)
      expect(r.transferSyntax).toBe('1.2.840.10008.1.2.1')
      expect(r.sopClass).toBe('1.2.840.10008.5.1.4.1.1.4')
      expect(r.size).toBe(input.patient.heightCm === undefined ? null : input.patient.heightCm / 100)
    })
    const byName = (name: string): typeof read[number] => read[files.findIndex((f) => f.name === name)]
    expect(byName('unicode-names-3d').name).toBe('Müller^Zoë')
    expect(byName('unicode-names-3d').sex).toBe('O')
    expect(byName('sagittal-no-birthdate').sex).toBe('')
  })

  it.skipIf(!hasTool('dcm2niix'))('dcm2niix turns parallel slices of one series into one volume with the right dimensions', () => {
    const seriesDir = join(dir, 'series')
    const outDir = join(dir, 'nifti')
    mkdirSync(seriesDir)
    mkdirSync(outDir)
    const [width, height, slices, gap] = [40, 30, 4, 6]
    const magnitudes = Array.from({ length: slices }, (_, s) => pattern(width, height).map((v) => v * (s + 1)))
    const seriesMax = Math.max(...magnitudes.map((m) => Math.max(...m)))
    for (let s = 0; s < slices; s++) {
      // Slices 6 mm apart along the oblique slice normal; 5 mm thick with a 1 mm gap.
      const offset = (s - (slices - 1) / 2) * gap
      const centre: Vec3 = [5 + offset * OBLIQUE.sliceDir[0], -3 + offset * OBLIQUE.sliceDir[1], 20 + offset * OBLIQUE.sliceDir[2]]
      const slice = input({ width, height, magnitude: magnitudes[s], maxValue: seriesMax, position: centre, ...OBLIQUE, instance: { number: s + 1 } })
      slice.geometry.spacingBetweenSlicesMm = gap
      // Written in reverse order, so dcm2niix has to sort by position.
      writeFileSync(join(seriesDir, `slice${slices - s}.dcm`), writeMrImage(slice))
    }
    const result = spawnSync('dcm2niix', ['-z', 'n', '-b', 'n', '-f', 'volume', '-o', outDir, seriesDir], { encoding: 'utf8' })
    expect(result.status, result.stdout + result.stderr).toBe(0)
    const niftis = readdirSync(outDir).filter((f) => f.endsWith('.nii'))
    expect(niftis, result.stdout).toEqual(['volume.nii'])
    const header = readFileSync(join(outDir, 'volume.nii'))
    const dim = Array.from({ length: 4 }, (_, i) => header.readInt16LE(40 + 2 * i))
    expect(dim).toEqual([3, width, height, slices])
    const pixdim = Array.from({ length: 3 }, (_, i) => header.readFloatLE(80 + 4 * i))
    pixdim.forEach((v, i) => expect(v).toBeCloseTo([2, 2, gap][i], 4))
    expect(result.stdout).not.toMatch(/slice.*(varies|uneven|irregular)/i)
  })

  it.each(files)('$name round-trips through readDicom', ({ input, path }) => {
    const image = readDicom(readFileSync(path))
    expect(image.rows).toBe(input.image.height)
    expect(image.columns).toBe(input.image.width)
    expect(image.pixels).toBeInstanceOf(Uint16Array)
    expect(Array.from(image.pixels)).toEqual(Array.from(scaleToStored(input.image.magnitude).pixels))
    expect(image).toMatchObject({ bitsAllocated: 16, bitsStored: 12, pixelRepresentation: 0, photometricInterpretation: 'MONOCHROME2', rescaleSlope: 1, rescaleIntercept: 0 })
    expect(image.windowWidth).toBeGreaterThanOrEqual(1)
    const d = image.dataset
    expect(d.SOPClassUID).toBe('1.2.840.10008.5.1.4.1.1.4')
    expect(d.Modality).toBe('MR')
    if (input.patient.lastName !== '') expect((d.PatientName as Array<{ Alphabetic: string }>)[0].Alphabetic).toBe(`${input.patient.lastName}^${input.patient.firstName}`)
    expect(d.StudyDate).toBe('20240517')
    expect(d.StudyTime).toBe('093012.345')
    expect(d.SpecificCharacterSet).toBe('ISO_IR 192')
    expect(image.meta.ImplementationVersionName).toBe('SCANHUB_0_1')
    expect(image.meta.ImplementationClassUID).toBe(IMPLEMENTATION_CLASS_UID)
    expect(image.meta.MediaStorageSOPInstanceUID).toBe(d.SOPInstanceUID)
    for (const key of ['StudyInstanceUID', 'SeriesInstanceUID', 'SOPInstanceUID', 'FrameOfReferenceUID']) expect(isValidUid(String(d[key])), key).toBe(true)
    const row = input.geometry.readDir
    const col = input.geometry.phaseDir
    image.imageOrientationPatient?.forEach((v, i) => expect(v).toBeCloseTo([...row, ...col][i], 9))
  })

  it('puts readout along the columns: a bright pixel at readout i, phase line j lands at column i, row j', () => {
    const [width, height, i, j] = [20, 12, 7, 3]
    const magnitude = new Float32Array(width * height)
    // ISMRMRD image data are x (readout) fastest: sample i of line j.
    magnitude[j * width + i] = 1
    const slice = input({ width, height, magnitude, position: [4, -8, 15], ...OBLIQUE, fov: [100, 48, 3] })
    const path = join(dir, 'bright.dcm')
    writeFileSync(path, writeMrImage(slice))

    const image = readDicom(readFileSync(path))
    const brightest = image.pixels.indexOf(4095)
    expect([brightest % image.columns, Math.floor(brightest / image.columns)]).toEqual([i, j])

    // Its patient position, by the DICOM equation (PS3.3 C.7.6.2.1.1), is where ISMRMRD puts
    // readout sample i of line j.
    const [dy, dx] = image.pixelSpacing ?? [0, 0]
    const iop = image.imageOrientationPatient ?? [0, 0, 0, 0, 0, 0]
    const ipp = image.imagePositionPatient ?? [0, 0, 0]
    const dicom = [0, 1, 2].map((k) => ipp[k] + iop[k] * dx * i + iop[k + 3] * dy * j)
    const g = slice.geometry
    const ismrmrd = [0, 1, 2].map((k) => g.position[k] + (i - Math.floor(width / 2)) * (100 / width) * g.readDir[k] + (j - Math.floor(height / 2)) * (48 / height) * g.phaseDir[k])
    dicom.forEach((v, k) => expect(v).toBeCloseTo(ismrmrd[k], 6))
    expect([dy, dx]).toEqual([4, 5])

    if (hasPythonModules('pydicom', 'numpy')) {
      const result = spawnSync(DEBIAN_PYTHON, ['-c', 'import sys, pydicom, numpy; a = pydicom.dcmread(sys.argv[1]).pixel_array; print(*numpy.unravel_index(a.argmax(), a.shape))', path], { encoding: 'utf8' })
      expect(result.stdout.trim()).toBe(`${j} ${i}`)
    }
  })

  it('derives the same UIDs from the same ids and writes the same bytes again', () => {
    const a = input()
    expect(writeMrImage(a)).toEqual(writeMrImage(input()))
    const uids = mrImageUids(a)
    const rerun = mrImageUids(input({ series: { epoch: 2 } }))
    const otherTask = mrImageUids(input({ series: { id: 'another-task' } }))
    const nextImage = mrImageUids(input({ instance: { number: 2 } }))
    expect(rerun.study).toBe(uids.study)
    expect(rerun.frameOfReference).toBe(uids.frameOfReference)
    expect(rerun.series).not.toBe(uids.series)
    expect(otherTask.series).not.toBe(uids.series)
    expect(otherTask.frameOfReference).toBe(uids.frameOfReference)
    expect(nextImage.series).toBe(uids.series)
    expect(nextImage.sopInstance).not.toBe(uids.sopInstance)
    expect(new Set(Object.values(uids)).size).toBe(4)
  })

  it('writes patient, equipment and sequence attributes as DICOM expects them', () => {
    const d = readDicom(writeMrImage(input({ width: 10, height: 8 }))).dataset
    expect(d).toMatchObject({
      PatientID: 'P-0001',
      PatientBirthDate: '19800229',
      PatientSex: 'F',
      PatientSize: 1.72,
      PatientWeight: 65.5,
      StudyID: '3f2a9c1e7b4d4e8a',
      StudyDescription: 'Knee',
      SeriesNumber: 3,
      SeriesDescription: 'gradient echo, 2D',
      ProtocolName: 'GRE 2D',
      Manufacturer: 'Open Source Imaging',
      ManufacturerModelName: 'OSI² ONE',
      StationName: 'osi2one',
      MagneticFieldStrength: 0.0467,
      EchoTime: 5,
      RepetitionTime: 100,
      FlipAngle: 30,
      EchoTrainLength: 1,
      ScanningSequence: 'GR',
      SequenceVariant: 'SP',
      MRAcquisitionType: '2D',
      SequenceName: 'gre2d',
      PatientPosition: 'HFS',
      ImageType: ['ORIGINAL', 'PRIMARY', 'OTHER'],
      BurnedInAnnotation: 'NO',
      InPlanePhaseEncodingDirection: 'COL',
      // frequency rows \ frequency columns \ phase rows \ phase columns: phase encoding down the columns
      AcquisitionMatrix: [10, 0, 0, 8],
      SliceThickness: 5,
      SpacingBetweenSlices: 5,
      SliceLocation: 3,
      InstanceNumber: 1
    })
    // 0.0467 T × 42.577478518 MHz/T
    expect(d.ImagingFrequency).toBeCloseTo(1.98837, 5)
  })

  it('writes unknown timing and thickness empty, as their type 2 allows, and dciodvfy accepts it', () => {
    const unknown = input({ width: 12, height: 10, sequence: { echoTimeMs: undefined, repetitionTimeMs: undefined, flipAngleDeg: undefined } })
    unknown.geometry.sliceThicknessMm = null
    unknown.geometry.spacingBetweenSlicesMm = null
    const bytes = writeMrImage(unknown)
    const d = readDicom(bytes).dataset
    // present and empty: dcmjs reads a zero-length value as null
    for (const keyword of ['EchoTime', 'RepetitionTime', 'SliceThickness']) expect(keyword in d && d[keyword] === null, keyword).toBe(true)
    expect('FlipAngle' in d || 'SpacingBetweenSlices' in d).toBe(false)
    if (hasTool('dciodvfy')) {
      const path = join(dir, 'unknown-timing.dcm')
      writeFileSync(path, bytes)
      const report = spawnSync('dciodvfy', [path], { encoding: 'utf8' })
      const lines = `${report.stdout}${report.stderr}`.split('\n')
      expect(lines).toContain('MRImage')
      expect(lines.filter((l) => l.includes('Error')), lines.join('\n')).toEqual([])
    }
  })

  it('states phase encoding along the rows when it runs along them, with the acquisition matrix to match', () => {
    const along = input({ width: 20, height: 16 })
    along.geometry.phaseEncodingDir = along.geometry.readDir
    along.geometry.acquisitionMatrix = { frequency: 16, phase: 20 }
    along.instance.temporalPosition = { index: 2, count: 3 }
    const d = readDicom(writeMrImage(along)).dataset
    expect(d).toMatchObject({ InPlanePhaseEncodingDirection: 'ROW', AcquisitionMatrix: [0, 16, 20, 0], TemporalPositionIdentifier: 2, NumberOfTemporalPositions: 3 })
    const oblique = input({ width: 20, height: 16 })
    oblique.geometry.phaseEncodingDir = [Math.SQRT1_2, Math.SQRT1_2, 0]
    expect(() => writeMrImage(oblique)).toThrow(/neither the image's rows nor its columns/)
  })

  it('refuses input that would make an invalid instance', () => {
    const bad = (change: (i: MrImageInput) => void): () => Uint8Array => () => {
      const i = input({ width: 4, height: 4 })
      change(i)
      return writeMrImage(i)
    }
    expect(bad((i) => { i.image.width = 5 })).toThrow(DicomWriteError)
    expect(bad((i) => { i.geometry.phaseDir = [1, 0, 0] })).toThrow(/not orthogonal/)
    expect(bad((i) => { i.sequence.scanningSequence = ['XX' as 'GR'] })).toThrow(/ScanningSequence/)
    expect(bad((i) => { i.sequence.scanningSequence = ['IR'] })).toThrow(/inversionTimeMs/)
    expect(bad((i) => { i.instance.number = 0 })).toThrow(/instance number/)
    expect(bad((i) => { i.equipment.fieldStrengthT = 0 })).toThrow(/fieldStrengthT/)
    expect(bad((i) => { i.study.dateTime = new Date('not a date') })).toThrow(/dateTime/)
    expect(bad((i) => { i.instance.temporalPosition = { index: 4, count: 3 } })).toThrow(/beyond the 3 temporal positions/)
    expect(bad((i) => { i.sequence.echoNumber = 0 })).toThrow(/echoNumber/)
    expect(bad((i) => { i.geometry.acquisitionMatrix = { frequency: 0, phase: 4 } })).toThrow(/acquisition matrix frequency/)
  })
})
