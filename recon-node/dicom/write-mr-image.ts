// One reconstructed magnitude image to one DICOM MR Image Storage instance (PS3.3 A.4), Explicit VR
// Little Endian, UTF-8 text. Modules written: Patient, General Study, Patient Study, General Series,
// Frame of Reference, General Equipment, General Image, Image Plane, Image Pixel, MR Image, VOI LUT,
// SOP Common. Output depends only on the input (no clock, no random UIDs), so re-running a task
// rewrites the same bytes and the same UIDs.

import { data } from 'dcmjs'
import type { NaturalDataset } from 'dcmjs'
import { deterministicUid } from '../../protocol/dicom/uid.ts'
import { EXPLICIT_VR_LITTLE_ENDIAN } from '../../protocol/dicom/structure.ts'
import { DicomWriteError } from './errors.ts'
import { da, daFromIsoDate, ds, is, lo, personName, sh, timezoneOffset, tm } from './format.ts'
import { dot, imagePlane } from './geometry.ts'
import type { ImagePlane, SliceGeometry, Vec3 } from './geometry.ts'
import { BITS_STORED, scaleToStored } from './scale.ts'

const { DicomDict, DicomMetaDictionary } = data

export const MR_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.4'
export const IMPLEMENTATION_VERSION_NAME = 'SCANHUB_0_1'
/** Identifies files written by ScanHub (PS3.7 D.3.3.2). Derived from a fixed name so that it never changes; the version name tells releases apart. */
export const IMPLEMENTATION_CLASS_UID = deterministicUid('implementation', 'ScanHub')

/** Proton gyromagnetic ratio / 2π, MHz per tesla (CODATA 2018). */
const PROTON_MHZ_PER_T = 42.577478518

export type PatientSex = 'MALE' | 'FEMALE' | 'OTHER' | 'NOT_GIVEN'
/** PS3.3 C.7.3.1.1.2 */
export type PatientPosition = 'HFS' | 'HFP' | 'HFDR' | 'HFDL' | 'FFS' | 'FFP' | 'FFDR' | 'FFDL'
/** PS3.3 C.8.3.1.1.1 enumerated values */
export type ScanningSequence = 'SE' | 'IR' | 'GR' | 'EP' | 'RM'
export type SequenceVariant = 'SK' | 'MTC' | 'SS' | 'TRSS' | 'SP' | 'MP' | 'OSP' | 'NONE'
export type ScanOption = 'PER' | 'RG' | 'CG' | 'PPG' | 'FC' | 'PFF' | 'PFP' | 'SP' | 'FS'

const SCANNING_SEQUENCES = new Set<string>(['SE', 'IR', 'GR', 'EP', 'RM'])
const SEQUENCE_VARIANTS = new Set<string>(['SK', 'MTC', 'SS', 'TRSS', 'SP', 'MP', 'OSP', 'NONE'])
/** Type 3 text attributes written only when they have a value. */
const OPTIONAL_TEXT = ['StudyDescription', 'SeriesDescription', 'ProtocolName', 'StationName', 'ManufacturerModelName', 'SoftwareVersions', 'SequenceName']
const SEX_CODES: Record<PatientSex, string> = { MALE: 'M', FEMALE: 'F', OTHER: 'O', NOT_GIVEN: '' }

export interface MrImageInput {
  image: {
    /** Magnitude, row after row: width readout samples (columns) by height phase lines (rows). */
    magnitude: Float32Array
    width: number
    height: number
    /** Magnitude written as 4095; default the image's maximum. Pass the series' maximum to share one scale. */
    maxValue?: number
    /** VOI window in stored values; default the image's stored range. */
    window?: { center: number, width: number }
  }
  patient: {
    id: string
    firstName: string
    lastName: string
    /** 'YYYY-MM-DD' */
    birthDate?: string
    sex?: PatientSex
    heightCm?: number
    weightKg?: number
  }
  /** The exam. */
  study: {
    id: string
    /**
     * A StudyInstanceUID given from outside (the hospital's, from a worklist or the raw data's header), used
     * as it is; without it the UID derives from `id`.
     */
    uid?: string
    name?: string
    /** When the exam started; StudyDate/StudyTime in the peer's local time. */
    dateTime: Date
    /** StudyID (SH, 16 characters); default the exam id, shortened to fit. */
    studyId?: string
    /** The hospital's accession number of the ordered procedure (SH) */
    accessionNumber?: string
  }
  /** The acquisition or reconstruction task whose images make this series. */
  series: {
    id: string
    /** Job lease epoch (default 0): a re-run under a new lease makes a new series, the same epoch the same one. */
    epoch?: number
    /** Who ran the acquisition: OperatorsName, as a username or "Last^First" */
    operator?: string
    number: number
    name: string
    description?: string
    dateTime?: Date
    /** Side of a paired body part, when the task knows it. */
    laterality?: 'R' | 'L'
  }
  /** The scanner. */
  equipment: {
    manufacturer: string
    model?: string
    /** StationName (SH, 16 characters) */
    name?: string
    fieldStrengthT: number
    softwareVersion?: string
    serialNumber?: string
    institutionName?: string
  }
  geometry: SliceGeometry & {
    /** Encoded matrix [readout, phase, slice]: the default AcquisitionMatrix, and slice thickness for 3D (fov / matrix). */
    matrix: Vec3
    /** Default: fieldOfViewMm[2] / matrix[2] (for 2D, ISMRMRD's slice FOV is the slice thickness); null: unknown (written empty). */
    sliceThicknessMm?: number | null
    /** Centre-to-centre distance of neighbouring slices; default the slice thickness; null: unknown (left out). */
    spacingBetweenSlicesMm?: number | null
    /**
     * Frequency-encoding samples (without readout oversampling) and phase-encoding steps acquired;
     * default matrix[0], matrix[1]. null: no phase encoding in the plane (radial, spiral), and
     * AcquisitionMatrix and InPlanePhaseEncodingDirection are left out.
     */
    acquisitionMatrix?: { frequency: number, phase: number } | null
    /** Direction of phase encoding in the patient; default phaseDir (the image's column direction). */
    phaseEncodingDir?: Vec3
    /** Default HFS. */
    patientPosition?: PatientPosition
  }
  sequence: {
    /** Of this image's echo; absent: unknown (EchoTime written empty, as its type 2 allows). */
    echoTimeMs?: number
    /** Absent: unknown (written empty). */
    repetitionTimeMs?: number
    /** Absent: unknown (left out). */
    flipAngleDeg?: number
    /** Default: the proton frequency at equipment.fieldStrengthT. */
    imagingFrequencyMHz?: number
    echoTrainLength?: number
    scanningSequence: ScanningSequence[]
    sequenceVariant: SequenceVariant[]
    scanOptions?: ScanOption[]
    acquisitionType: '2D' | '3D'
    sequenceName?: string
    inversionTimeMs?: number
    numberOfAverages?: number
    pixelBandwidthHzPerPixel?: number
    /** EchoNumbers, 1-based: the image's contrast + 1. */
    echoNumber?: number
    receiveCoilName?: string
    /** NumberOfPhaseEncodingSteps: k-space lines along phase encoding collected. */
    phaseEncodingSteps?: number
    /** PercentSampling: lines acquired over lines of the acquisition matrix, percent. */
    percentSampling?: number
    /** PercentPhaseFieldOfView: phase over frequency field of view, percent. */
    percentPhaseFieldOfView?: number
  }
  instance: {
    /** InstanceNumber, 1-based, unique in the series: the SOPInstanceUID derives from it. */
    number: number
    acquisitionNumber?: number
    /** When this image's data were acquired; default the series (or study) time. */
    acquisitionDateTime?: Date
    /** TemporalPositionIdentifier, 1-based (the image's repetition + 1), with NumberOfTemporalPositions. */
    temporalPosition?: { index: number, count: number }
  }
}

function wholeAtLeastOne (value: number | undefined, name: string): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= 1)) throw new DicomWriteError(`${name} must be a whole number ≥ 1, got ${value}`)
}

function positive (value: number | undefined, name: string): void {
  if (value !== undefined && !(Number.isFinite(value) && value > 0)) throw new DicomWriteError(`${name} must be a positive number, got ${value}`)
}

function validate (input: MrImageInput): void {
  const { image, sequence, series, instance } = input
  if (!Number.isInteger(image.width) || !Number.isInteger(image.height) || image.width < 1 || image.height < 1 || image.width > 0xffff || image.height > 0xffff) {
    throw new DicomWriteError(`image size must be whole numbers between 1 and 65535, got ${image.width}x${image.height}`)
  }
  if (image.magnitude.length !== image.width * image.height) {
    throw new DicomWriteError(`image has ${image.magnitude.length} values, ${image.width}x${image.height} = ${image.width * image.height} expected`)
  }
  if (sequence.scanningSequence.length === 0 || !sequence.scanningSequence.every((s) => SCANNING_SEQUENCES.has(s))) {
    throw new DicomWriteError(`ScanningSequence must be one or more of ${[...SCANNING_SEQUENCES].join(', ')}, got ${sequence.scanningSequence.join('\\')}`)
  }
  if (sequence.sequenceVariant.length === 0 || !sequence.sequenceVariant.every((s) => SEQUENCE_VARIANTS.has(s))) {
    throw new DicomWriteError(`SequenceVariant must be one or more of ${[...SEQUENCE_VARIANTS].join(', ')}, got ${sequence.sequenceVariant.join('\\')}`)
  }
  if (sequence.scanningSequence.includes('IR') && sequence.inversionTimeMs === undefined) {
    throw new DicomWriteError('an inversion recovery sequence (ScanningSequence IR) needs inversionTimeMs')
  }
  if (!Number.isInteger(series.number) || series.number < 0) throw new DicomWriteError(`series number must be a whole number ≥ 0, got ${series.number}`)
  if (!Number.isInteger(instance.number) || instance.number < 1) throw new DicomWriteError(`instance number must be a whole number ≥ 1, got ${instance.number}`)
  positive(input.equipment.fieldStrengthT, 'fieldStrengthT')
  positive(sequence.repetitionTimeMs, 'repetitionTimeMs')
  positive(sequence.echoTrainLength, 'echoTrainLength')
  positive(sequence.phaseEncodingSteps, 'phaseEncodingSteps')
  positive(sequence.percentSampling, 'percentSampling')
  positive(sequence.percentPhaseFieldOfView, 'percentPhaseFieldOfView')
  positive(sequence.imagingFrequencyMHz, 'imagingFrequencyMHz')
  positive(input.geometry.sliceThicknessMm ?? undefined, 'sliceThicknessMm')
  positive(input.geometry.spacingBetweenSlicesMm ?? undefined, 'spacingBetweenSlicesMm')
  positive(input.patient.heightCm, 'heightCm')
  positive(input.patient.weightKg, 'weightKg')
  if (sequence.echoTimeMs !== undefined && !(sequence.echoTimeMs >= 0 && Number.isFinite(sequence.echoTimeMs))) throw new DicomWriteError(`echoTimeMs must be ≥ 0, got ${sequence.echoTimeMs}`)
  if (sequence.flipAngleDeg !== undefined && !Number.isFinite(sequence.flipAngleDeg)) throw new DicomWriteError(`flipAngleDeg must be a number, got ${sequence.flipAngleDeg}`)
  wholeAtLeastOne(sequence.echoNumber, 'echoNumber')
  const temporal = instance.temporalPosition
  if (temporal !== undefined) {
    wholeAtLeastOne(temporal.index, 'temporal position')
    wholeAtLeastOne(temporal.count, 'number of temporal positions')
    if (temporal.index > temporal.count) throw new DicomWriteError(`temporal position ${temporal.index} is beyond the ${temporal.count} temporal positions`)
  }
  const acquired = input.geometry.acquisitionMatrix
  if (acquired !== undefined && acquired !== null) {
    // US values: 0 means "not this orientation" in AcquisitionMatrix, so a real count is 1..65535
    for (const [name, n] of [['frequency', acquired.frequency], ['phase', acquired.phase]] as const) {
      if (!Number.isInteger(n) || n < 1 || n > 0xffff) throw new DicomWriteError(`acquisition matrix ${name} must be a whole number between 1 and 65535, got ${n}`)
    }
  }
  for (const [name, date] of [['study dateTime', input.study.dateTime], ['series dateTime', series.dateTime], ['instance acquisitionDateTime', instance.acquisitionDateTime]] as const) {
    if (date !== undefined && Number.isNaN(date.getTime())) throw new DicomWriteError(`${name} is not a valid date`)
  }
  if (!input.geometry.matrix.every((n) => Number.isInteger(n) && n >= 1)) throw new DicomWriteError(`matrix must hold whole numbers ≥ 1, got [${input.geometry.matrix.join(', ')}]`)
}

/**
 * InPlanePhaseEncodingDirection: COL when phase encoding runs down the image's columns (along the
 * column direction cosines), ROW when along its rows. Any other direction cannot be stated in the
 * classic MR Image module's terms, and is refused.
 */
function phaseEncodingDirection (plane: ImagePlane, direction: Vec3): 'ROW' | 'COL' {
  const iop = plane.imageOrientationPatient
  const length = Math.hypot(direction[0], direction[1], direction[2])
  const along = (v: Vec3): boolean => length > 0 && Math.abs(Math.abs(dot(v, direction)) / length - 1) < 1e-3
  if (along([iop[3], iop[4], iop[5]])) return 'COL'
  if (along([iop[0], iop[1], iop[2]])) return 'ROW'
  throw new DicomWriteError(`the phase-encoding direction [${direction.join(', ')}] lies along neither the image's rows nor its columns`)
}

/** SH StudyID from an exam id: the id itself when it fits, else its first 16 characters without dashes. */
function studyIdFrom (examId: string): string {
  return examId.length <= 16 ? sh(examId) : sh(examId.replace(/-/g, ''))
}

/** The UIDs an image gets; exported so that a result can be recorded before the file is written. */
export function mrImageUids (input: Pick<MrImageInput, 'study' | 'series' | 'instance'>): { study: string, series: string, frameOfReference: string, sopInstance: string } {
  const epoch = input.series.epoch ?? 0
  return {
    study: input.study.uid ?? deterministicUid('study', input.study.id),
    series: deterministicUid('series', input.series.id, epoch),
    frameOfReference: deterministicUid('frame-of-reference', input.study.id),
    sopInstance: deterministicUid('instance', input.series.id, epoch, input.instance.number)
  }
}

/**
 * Writes one MR Image Storage instance as a DICOM Part 10 file. Pixels are scaled to 0..4095 (12 bits
 * stored, unsigned, no rescale; see scale.ts). Throws DicomWriteError on invalid input.
 */
export function writeMrImage (input: MrImageInput): Uint8Array {
  validate(input)
  const { image, patient, study, series, equipment, geometry, sequence, instance } = input
  const uids = mrImageUids(input)
  const plane = imagePlane(geometry, image.width, image.height)
  const stored = scaleToStored(image.magnitude, image.maxValue)
  const sliceThickness = geometry.sliceThicknessMm === null ? undefined : geometry.sliceThicknessMm ?? geometry.fieldOfViewMm[2] / geometry.matrix[2]
  positive(sliceThickness, 'slice thickness (fieldOfViewMm[2] / matrix[2])')
  const spacing = geometry.spacingBetweenSlicesMm === null ? undefined : geometry.spacingBetweenSlicesMm ?? sliceThickness
  const acquired = geometry.acquisitionMatrix === null ? undefined : geometry.acquisitionMatrix ?? { frequency: geometry.matrix[0], phase: geometry.matrix[1] }
  const phaseEncoding = acquired === undefined ? undefined : phaseEncodingDirection(plane, geometry.phaseEncodingDir ?? geometry.phaseDir)
  const window = image.window ?? { center: (stored.min + stored.max) / 2, width: Math.max(1, stored.max - stored.min) }
  if (!(window.width >= 1)) throw new DicomWriteError(`window width must be ≥ 1, got ${window.width}`)
  const seriesTime = series.dateTime ?? study.dateTime
  const acquisitionTime = instance.acquisitionDateTime ?? seriesTime
  const imagingFrequency = sequence.imagingFrequencyMHz ?? equipment.fieldStrengthT * PROTON_MHZ_PER_T

  const dataset: NaturalDataset = {
    // SOP Common
    SpecificCharacterSet: 'ISO_IR 192',
    SOPClassUID: MR_IMAGE_STORAGE,
    SOPInstanceUID: uids.sopInstance,
    TimezoneOffsetFromUTC: timezoneOffset(study.dateTime),
    // Patient
    PatientName: personName(patient.lastName, patient.firstName),
    PatientID: lo(patient.id),
    PatientBirthDate: daFromIsoDate(patient.birthDate),
    PatientSex: SEX_CODES[patient.sex ?? 'NOT_GIVEN'],
    // General Study
    StudyInstanceUID: uids.study,
    StudyDate: da(study.dateTime),
    StudyTime: tm(study.dateTime),
    ReferringPhysicianName: '',
    StudyID: study.studyId !== undefined ? sh(study.studyId) : studyIdFrom(study.id),
    AccessionNumber: sh(study.accessionNumber),
    StudyDescription: lo(study.name),
    // General Series
    Modality: 'MR',
    SeriesInstanceUID: uids.series,
    SeriesNumber: is(series.number),
    SeriesDate: da(seriesTime),
    SeriesTime: tm(seriesTime),
    SeriesDescription: lo(series.description ?? series.name),
    ...(series.operator !== undefined && series.operator !== '' ? { OperatorsName: personName(series.operator, '') } : {}),
    ProtocolName: lo(series.name),
    PatientPosition: geometry.patientPosition ?? 'HFS',
    // Type 2C, required for paired body parts. dciodvfy cannot evaluate the condition and reports its
    // absence as an error, so it is always present: the side when known, else empty (unknown).
    Laterality: series.laterality ?? '',
    // Frame of Reference
    FrameOfReferenceUID: uids.frameOfReference,
    PositionReferenceIndicator: '',
    // General Equipment
    Manufacturer: lo(equipment.manufacturer),
    StationName: sh(equipment.name),
    ManufacturerModelName: lo(equipment.model),
    SoftwareVersions: lo(equipment.softwareVersion),
    // General Image
    InstanceNumber: is(instance.number),
    // Value 3 from the MR Image module's defined terms (C.8.3.1.1.1); vendor values such as Siemens'
    // 'M' (magnitude) are not among them and dciodvfy flags them.
    ImageType: ['ORIGINAL', 'PRIMARY', 'OTHER'],
    AcquisitionNumber: is(instance.acquisitionNumber ?? 1),
    AcquisitionDate: da(acquisitionTime),
    AcquisitionTime: tm(acquisitionTime),
    ContentDate: da(acquisitionTime),
    ContentTime: tm(acquisitionTime),
    BurnedInAnnotation: 'NO',
    // Image Plane
    PixelSpacing: plane.pixelSpacing.map(ds),
    ImageOrientationPatient: plane.imageOrientationPatient.map(ds),
    ImagePositionPatient: plane.imagePositionPatient.map(ds),
    // Type 2: empty when the header does not say how thick the slice is
    SliceThickness: sliceThickness !== undefined ? ds(sliceThickness) : '',
    SliceLocation: ds(plane.sliceLocation),
    // Image Pixel
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: image.height,
    Columns: image.width,
    BitsAllocated: 16,
    BitsStored: BITS_STORED,
    HighBit: BITS_STORED - 1,
    PixelRepresentation: 0,
    SmallestImagePixelValue: stored.min,
    LargestImagePixelValue: stored.max,
    PixelData: [stored.pixels.buffer],
    // MR Image
    ScanningSequence: sequence.scanningSequence,
    SequenceVariant: sequence.sequenceVariant,
    ScanOptions: sequence.scanOptions !== undefined && sequence.scanOptions.length > 0 ? sequence.scanOptions : '',
    MRAcquisitionType: sequence.acquisitionType,
    SequenceName: sh(sequence.sequenceName),
    RepetitionTime: sequence.repetitionTimeMs !== undefined ? ds(sequence.repetitionTimeMs) : '',
    EchoTime: sequence.echoTimeMs !== undefined ? ds(sequence.echoTimeMs) : '',
    EchoTrainLength: is(sequence.echoTrainLength ?? 1),
    NumberOfAverages: ds(sequence.numberOfAverages ?? 1),
    ImagingFrequency: ds(imagingFrequency),
    ImagedNucleus: '1H',
    EchoNumbers: is(sequence.echoNumber ?? 1),
    MagneticFieldStrength: ds(equipment.fieldStrengthT),
    // VOI LUT
    WindowCenter: ds(window.center),
    WindowWidth: ds(window.width),
    _vrMap: { PixelData: 'OW', SmallestImagePixelValue: 'US', LargestImagePixelValue: 'US' }
  }
  // Type 3 attributes say nothing when empty: leave them out rather than write empty values.
  for (const keyword of OPTIONAL_TEXT) if (dataset[keyword] === '') delete dataset[keyword]
  if (acquired !== undefined) {
    // frequency rows \ frequency columns \ phase rows \ phase columns (PS3.3 C.8.3.1): phase encoding along
    // the columns puts the frequency count first and the phase count last, along the rows in between
    dataset.AcquisitionMatrix = phaseEncoding === 'COL' ? [acquired.frequency, 0, 0, acquired.phase] : [0, acquired.frequency, acquired.phase, 0]
    dataset.InPlanePhaseEncodingDirection = phaseEncoding
  }
  if (spacing !== undefined) dataset.SpacingBetweenSlices = ds(spacing)
  if (sequence.flipAngleDeg !== undefined) dataset.FlipAngle = ds(sequence.flipAngleDeg)
  if (sequence.phaseEncodingSteps !== undefined) dataset.NumberOfPhaseEncodingSteps = is(sequence.phaseEncodingSteps)
  if (sequence.percentSampling !== undefined) dataset.PercentSampling = ds(sequence.percentSampling)
  if (sequence.percentPhaseFieldOfView !== undefined) dataset.PercentPhaseFieldOfView = ds(sequence.percentPhaseFieldOfView)
  if (instance.temporalPosition !== undefined) {
    dataset.TemporalPositionIdentifier = is(instance.temporalPosition.index)
    dataset.NumberOfTemporalPositions = is(instance.temporalPosition.count)
  }
  if (sequence.inversionTimeMs !== undefined) dataset.InversionTime = ds(sequence.inversionTimeMs)
  if (sequence.pixelBandwidthHzPerPixel !== undefined) dataset.PixelBandwidth = ds(sequence.pixelBandwidthHzPerPixel)
  if (sequence.receiveCoilName !== undefined) dataset.ReceiveCoilName = sh(sequence.receiveCoilName)
  if (equipment.serialNumber !== undefined) dataset.DeviceSerialNumber = lo(equipment.serialNumber)
  if (equipment.institutionName !== undefined) dataset.InstitutionName = lo(equipment.institutionName)
  if (patient.heightCm !== undefined) dataset.PatientSize = ds(patient.heightCm / 100)
  if (patient.weightKg !== undefined) dataset.PatientWeight = ds(patient.weightKg)

  const meta: NaturalDataset = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: MR_IMAGE_STORAGE,
    MediaStorageSOPInstanceUID: uids.sopInstance,
    TransferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: IMPLEMENTATION_VERSION_NAME
  }
  const file = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta))
  file.dict = DicomMetaDictionary.denaturalizeDataset(dataset)
  return new Uint8Array(file.write())
}
