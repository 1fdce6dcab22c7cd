// Reconstructed images to the DICOM files of one series. What a file says about the patient, the
// study, the series and the scanner comes from the lab (a job's description) when there is one, else
// from the ISMRMRD header (a file reconstructed on the command line), else from placeholders; every
// header value that no scanner could produce is reported and replaced, never written as it is.
// What a file says about the acquisition comes from the header and the image itself: the echo time of
// the image's contrast, its repetition as a temporal position, its slice's thickness and neighbours
// (slice-stack.ts), the acquisition matrix and sequence codes the encoding states. A value the header
// does not give is written empty or left out, as its DICOM type allows, and reported.
import { randomUUID } from 'node:crypto'
import { isValidUid } from '../../protocol/dicom/uid.ts'
import { AcquisitionFlag, hasFlag } from '../../protocol/mrd/flags.ts'
import type { Acquisition, AcquisitionHeader } from '../../protocol/mrd/types.ts'
import {
  GYROMAGNETIC_RATIO_1H_HZ_PER_T, MAX_PLAUSIBLE_FIELD_STRENGTH_T, PLAUSIBLE_LARMOR_HZ, type IsmrmrdHeader
} from '../../protocol/mrd/xml-header.ts'
import { acquisitionDateTime } from '../dicom/acquisition-time.ts'
import { encodingFactsOf, type EncodingFacts } from '../dicom/encoding-facts.ts'
import { writeMrImage, type MrImageInput, type PatientPosition, type PatientSex } from '../dicom/index.ts'
import { MAX_STORED_VALUE } from '../dicom/scale.ts'
import { sequenceCodesOf } from '../dicom/sequence-codes.ts'
import { SliceStack } from '../dicom/slice-stack.ts'
import type { ReconImage } from '../pipeline/image.ts'
import { InstanceLayout } from './recon-header.ts'

/** Everything of a series' files that is the same for all its images. */
export interface SeriesInfo {
  patient: MrImageInput['patient']
  study: MrImageInput['study']
  series: MrImageInput['series']
  equipment: MrImageInput['equipment']
  /** What is the same for every image; the echo time and number are the image's own (echoTimesMs). */
  sequence: Omit<MrImageInput['sequence'], 'acquisitionType' | 'echoTimeMs' | 'echoNumber'>
  /** TE of each contrast (echo) in the header's order, ms; undefined where the header's value is unusable. */
  echoTimesMs: Array<number | undefined>
  patientPosition: PatientPosition
}

/** What the lab knows better than the header (see protocol/job.ts JobDescription). */
export interface SeriesOverrides {
  patient?: Partial<SeriesInfo['patient']>
  study?: Partial<Omit<SeriesInfo['study'], 'dateTime'>> & { dateTime?: Date }
  series?: Partial<SeriesInfo['series']>
  equipment?: Partial<SeriesInfo['equipment']>
}

export interface DicomFile {
  name: string
  bytes: Uint8Array
  instanceNumber: number
}

const PATIENT_POSITIONS = new Set<string>(['HFS', 'HFP', 'HFDR', 'HFDL', 'FFS', 'FFP', 'FFDR', 'FFDL'])
/** Field strengths below this (tesla) exist on no imaging scanner; Earth's field is 50 µT. */
const MIN_PLAUSIBLE_FIELD_STRENGTH_T = 0.001
/** Used when neither the field strength nor the frequency can be read: DICOM needs a positive value. */
const PLACEHOLDER_FIELD_STRENGTH_T = 1
const SCALE_FACTORS = [1e-3, 1e-6, 1e-9, 1e3, 1e6] as const
const UNIT_PREFIX: Record<number, string> = { 1e-3: 'm', 1e-6: 'µ', 1e-9: 'n', 1e3: 'k', 1e6: 'M' }

const plausibleField = (t: number | undefined): t is number => t !== undefined && Number.isFinite(t) && t >= MIN_PLAUSIBLE_FIELD_STRENGTH_T && t <= MAX_PLAUSIBLE_FIELD_STRENGTH_T
const plausibleLarmor = (hz: number | undefined): hz is number => hz !== undefined && Number.isFinite(hz) && hz >= PLAUSIBLE_LARMOR_HZ[0] && hz <= PLAUSIBLE_LARMOR_HZ[1]

/**
 * Field strength and imaging frequency to write. A plausible field strength is taken as it is; else
 * the one the 1H frequency implies; else, when both are off by the same power of a thousand (a header
 * written in µT and µHz, as the OSI² ONE's), both are read in that unit, since they then agree.
 */
export function fieldOf (header: IsmrmrdHeader, warn: (message: string) => void): { fieldStrengthT: number, imagingFrequencyMHz: number } {
  const b0 = header.acquisitionSystemInformation?.systemFieldStrength_T
  const f0 = header.experimentalConditions.H1resonanceFrequency_Hz
  const agree = (t: number, hz: number): boolean => Math.abs(hz / GYROMAGNETIC_RATIO_1H_HZ_PER_T - t) / t < 0.1
  if (plausibleField(b0)) {
    return { fieldStrengthT: b0, imagingFrequencyMHz: plausibleLarmor(f0) ? f0 / 1e6 : b0 * GYROMAGNETIC_RATIO_1H_HZ_PER_T / 1e6 }
  }
  if (plausibleLarmor(f0)) {
    const t = f0 / GYROMAGNETIC_RATIO_1H_HZ_PER_T
    if (b0 !== undefined) warn(`field strength ${b0} T is implausible: writing ${round(t, 4)} T, from the 1H frequency ${f0} Hz`)
    return { fieldStrengthT: t, imagingFrequencyMHz: f0 / 1e6 }
  }
  if (b0 !== undefined && Number.isFinite(b0) && Number.isFinite(f0)) {
    for (const factor of SCALE_FACTORS) {
      const t = b0 * factor
      const hz = f0 * factor
      if (plausibleField(t) && plausibleLarmor(hz) && agree(t, hz)) {
        warn(`field strength ${b0} T and 1H frequency ${f0} Hz are both implausible but agree when read in ${UNIT_PREFIX[factor]}T and ${UNIT_PREFIX[factor]}Hz: writing ${round(t, 4)} T, ${round(hz / 1e6, 6)} MHz`)
        return { fieldStrengthT: t, imagingFrequencyMHz: hz / 1e6 }
      }
    }
  }
  warn(`neither the field strength (${b0 ?? 'absent'}) nor the 1H frequency (${f0} Hz) is plausible: writing a placeholder of ${PLACEHOLDER_FIELD_STRENGTH_T} T`)
  return { fieldStrengthT: PLACEHOLDER_FIELD_STRENGTH_T, imagingFrequencyMHz: PLACEHOLDER_FIELD_STRENGTH_T * GYROMAGNETIC_RATIO_1H_HZ_PER_T / 1e6 }
}

function round (x: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

/** A Date from ISMRMRD's xs:date and xs:time (local time, as DICOM dates are). */
function dateOf (date: string | undefined, time: string | undefined): Date | undefined {
  if (date === undefined || !/^\d{4}-\d{2}-\d{2}$/.test(date)) return undefined
  const t = time !== undefined && /^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(time) ? time : '00:00:00'
  const parsed = new Date(`${date}T${t}`)
  return Number.isNaN(parsed.getTime()) ? undefined : parsed
}

function sexOf (gender: string | undefined): PatientSex {
  switch (gender?.trim().toUpperCase()) {
    case 'M': return 'MALE'
    case 'F': return 'FEMALE'
    case 'O': return 'OTHER'
    default: return 'NOT_GIVEN'
  }
}

/** The first number of a header list when it is usable, else undefined and a warning saying what is written instead. */
function sequenceValue (values: number[] | undefined, name: string, instead: string, valid: (v: number) => boolean, warn: (m: string) => void): number | undefined {
  const v = values?.[0]
  if (v !== undefined && valid(v)) return v
  warn(v === undefined ? `${name} is not in the header: ${instead}` : `${name} = ${v} is impossible: ${instead}`)
  return undefined
}

/**
 * The series' fixed attributes from the header, with the lab's values over them. `fallbackDate` is
 * used when neither gives a date (the CLI passes the file's time, so output stays reproducible).
 */
export function describeSeries (header: IsmrmrdHeader, overrides: SeriesOverrides, fallbackDate: Date, warn: (message: string) => void): SeriesInfo {
  const subject = header.subjectInformation ?? {}
  const studyInfo = header.studyInformation ?? {}
  const measurement = header.measurementInformation ?? {}
  const system = header.acquisitionSystemInformation ?? {}
  const params = header.sequenceParameters ?? {}
  const { fieldStrengthT, imagingFrequencyMHz } = fieldOf(header, warn)

  const [lastName, ...given] = (subject.patientName ?? '').split(/\^|,\s*/)
  const birthDate = subject.patientBirthdate !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(subject.patientBirthdate) ? subject.patientBirthdate : undefined
  const patient: SeriesInfo['patient'] = {
    // unknown stays empty (PatientID is type 2): a made-up id would match other unknown patients in a PACS
    id: subject.patientID ?? '',
    // unknown stays empty (PN is type 2): a made-up name would read as a real one
    lastName: lastName ?? '',
    firstName: given.join(' '),
    ...(birthDate !== undefined ? { birthDate } : {}),
    sex: sexOf(subject.patientGender),
    ...(subject.patientHeight_m !== undefined && subject.patientHeight_m > 0 ? { heightCm: subject.patientHeight_m * 100 } : {}),
    ...(subject.patientWeight_kg !== undefined && subject.patientWeight_kg > 0 ? { weightKg: subject.patientWeight_kg } : {}),
    ...overrides.patient
  }
  const studyDate = overrides.study?.dateTime ?? dateOf(studyInfo.studyDate, studyInfo.studyTime) ?? dateOf(measurement.seriesDate, measurement.seriesTime) ?? fallbackDate
  // A study UID the raw data brings (a worklist's, the scanner's) is the study's identity as it is; one
  // that is not a valid UID is not written (a PACS would refuse or mangle it).
  const headerStudyUid = studyInfo.studyInstanceUID !== undefined && isValidUid(studyInfo.studyInstanceUID) ? studyInfo.studyInstanceUID : undefined
  if (studyInfo.studyInstanceUID !== undefined && headerStudyUid === undefined) warn(`studyInstanceUID '${studyInfo.studyInstanceUID}' is not a valid DICOM UID: a new one is made`)
  const study: SeriesInfo['study'] = {
    // Without an identity from the lab or the header, a fresh one: UIDs derived from a constant would
    // make unrelated reconstructions one study, one series, the same instances, in any PACS.
    id: overrides.study?.id ?? headerStudyUid ?? studyInfo.studyID ?? randomUUID(),
    ...(headerStudyUid !== undefined ? { uid: headerStudyUid } : {}),
    ...(studyInfo.studyDescription !== undefined ? { name: studyInfo.studyDescription } : {}),
    ...(studyInfo.studyID !== undefined ? { studyId: studyInfo.studyID } : {}),
    ...overrides.study,
    dateTime: studyDate
  }
  const seriesDate = dateOf(measurement.seriesDate, measurement.seriesTime)
  const series: SeriesInfo['series'] = {
    // every reconstruction is a series of its own (the lab names the run; a file's measurement id would
    // give two reconstructions of the same data one series)
    id: randomUUID(),
    number: measurement.initialSeriesNumber ?? 1,
    name: measurement.protocolName ?? measurement.sequenceName ?? 'reconstruction',
    ...(measurement.seriesDescription !== undefined ? { description: measurement.seriesDescription } : {}),
    ...(seriesDate !== undefined ? { dateTime: seriesDate } : {}),
    ...overrides.series
  }
  const equipment: SeriesInfo['equipment'] = {
    manufacturer: system.systemVendor ?? '',
    ...(system.systemModel !== undefined ? { model: system.systemModel } : {}),
    ...(system.stationName !== undefined ? { name: system.stationName } : {}),
    ...(system.institutionName !== undefined ? { institutionName: system.institutionName } : {}),
    ...(system.deviceSerialNumber !== undefined ? { serialNumber: system.deviceSerialNumber } : {}),
    softwareVersion: 'ScanHub 0.1',
    ...overrides.equipment,
    fieldStrengthT: overrides.equipment?.fieldStrengthT !== undefined && plausibleField(overrides.equipment.fieldStrengthT) ? overrides.equipment.fieldStrengthT : fieldStrengthT
  }
  const position = measurement.patientPosition?.toUpperCase()
  if (position !== undefined && !PATIENT_POSITIONS.has(position)) warn(`patientPosition '${measurement.patientPosition}' is not one of ${[...PATIENT_POSITIONS].join(', ')}: writing HFS`)
  const encoding = header.encoding[0]
  const facts = encodingFactsOf(encoding)
  // Unknown timing is written empty (TR, TE: type 2) or left out (flip angle: type 3), never as a guess
  const repetitionTimeMs = sequenceValue(params.TR, 'TR', 'RepetitionTime left empty', (v) => Number.isFinite(v) && v > 0, warn)
  const flipAngleDeg = sequenceValue(params.flipAngle_deg, 'flip angle', 'FlipAngle left out', Number.isFinite, warn)
  const echoTimesMs = echoTimesOf(params.TE, warn)
  const ti = params.TI?.[0]
  // TI = 0 is how headers of sequences without inversion often fill the field
  const inversionTimeMs = ti !== undefined && Number.isFinite(ti) && ti > 0 ? ti : undefined
  const codes = sequenceCodesOf({
    ...(params.sequence_type !== undefined ? { sequenceType: params.sequence_type } : {}),
    ...(encoding !== undefined ? { trajectory: encoding.trajectory } : {}),
    ...(inversionTimeMs !== undefined ? { inversionTimeMs } : {}),
    ...(facts.echoTrainLength !== undefined ? { echoTrainLength: facts.echoTrainLength } : {}),
    ...(facts.segments !== undefined ? { segments: facts.segments } : {}),
    phaseOversampled: facts.phaseOversampled,
    partialFourierPhase: facts.partialFourierPhase
  })
  const sequence: SeriesInfo['sequence'] = {
    ...(repetitionTimeMs !== undefined ? { repetitionTimeMs } : {}),
    ...(flipAngleDeg !== undefined ? { flipAngleDeg } : {}),
    ...(inversionTimeMs !== undefined ? { inversionTimeMs } : {}),
    imagingFrequencyMHz,
    echoTrainLength: facts.echoTrainLength ?? 1,
    ...codes,
    ...(facts.phaseEncodingSteps !== undefined ? { phaseEncodingSteps: facts.phaseEncodingSteps } : {}),
    ...(facts.percentSampling !== undefined ? { percentSampling: facts.percentSampling } : {}),
    ...(facts.percentPhaseFieldOfView !== undefined ? { percentPhaseFieldOfView: facts.percentPhaseFieldOfView } : {}),
    ...(measurement.sequenceName !== undefined ? { sequenceName: measurement.sequenceName } : {})
  }
  return { patient, study, series, equipment, sequence, echoTimesMs, patientPosition: (position !== undefined && PATIENT_POSITIONS.has(position) ? position : 'HFS') as PatientPosition }
}

/** TE of every contrast, in the header's order: ISMRMRD lists one per echo. */
function echoTimesOf (values: number[] | undefined, warn: (m: string) => void): Array<number | undefined> {
  if (values === undefined || values.length === 0) {
    warn('TE is not in the header: EchoTime left empty')
    return []
  }
  return values.map((v, i) => {
    if (Number.isFinite(v) && v >= 0) return v
    warn(`TE[${i}] = ${v} is impossible: EchoTime of echo ${i + 1} left empty`)
    return undefined
  })
}

type UsableGeometry = Pick<ReconImage, 'position' | 'readDir' | 'phaseDir' | 'sliceDir' | 'fieldOfViewMm'>

/**
 * Writes the images of one series, numbering them from the header's encoding limits. All images of a
 * reconstruction (echoes, repetitions, slices) are one series; each carries its own echo time and
 * number, temporal position and acquisition time.
 *
 * A 2-D image's SpacingBetweenSlices, and the thickness of a header that gives the whole stack as its
 * FOV z, need the positions of the other slices (slice-stack.ts). The writer learns them from the
 * images it writes and from the readouts handed to noteAcquisition: a caller that passes every readout
 * there before the pipeline sees it gives an interleaved multi-slice scan both values from its first
 * image on; images written before the neighbours of their slice are known (the first slices of a scan
 * acquired slice after slice) leave SpacingBetweenSlices out.
 */
export class DicomSeriesWriter {
  private readonly info: SeriesInfo
  private readonly layout: InstanceLayout
  private readonly matrix: [number, number, number]
  private readonly facts: EncodingFacts
  private readonly recon: { matrix: [number, number, number], fovMm: [number, number, number] }
  private readonly repetitions: number
  private readonly stack: SliceStack
  /** The series' start by the scanner's own clock (the header's series or study time), against which its time stamps are read. */
  private readonly clockStart: Date | undefined
  private readonly warn: (message: string) => void
  private readonly warned = new Set<string>()

  constructor (header: IsmrmrdHeader, info: SeriesInfo, warn: (message: string) => void = () => {}) {
    this.info = info
    this.warn = warn
    this.layout = new InstanceLayout(header)
    const encoding = header.encoding[0]
    const encoded = encoding?.encodedSpace.matrixSize ?? { x: 1, y: 1, z: 1 }
    const recon = encoding?.reconSpace ?? { matrixSize: encoded, fieldOfView_mm: { x: 0, y: 0, z: 0 } }
    this.matrix = [Math.max(1, recon.matrixSize.x), Math.max(1, encoded.y), Math.max(1, encoded.z)]
    this.recon = {
      matrix: [recon.matrixSize.x, recon.matrixSize.y, recon.matrixSize.z],
      fovMm: [recon.fieldOfView_mm.x, recon.fieldOfView_mm.y, recon.fieldOfView_mm.z]
    }
    this.facts = encodingFactsOf(encoding)
    const limits = encoding?.encodingLimits ?? {}
    this.repetitions = Math.max(1, (limits.repetition?.maximum ?? 0) + 1)
    this.stack = new SliceStack(Math.max(1, (limits.slice?.maximum ?? 0) + 1))
    const measurement = header.measurementInformation
    const study = header.studyInformation
    this.clockStart = dateOf(measurement?.seriesDate, measurement?.seriesTime) ?? dateOf(study?.studyDate, study?.studyTime)
  }

  /** Tells the writer where a readout's slice lies, so that its neighbours are known before its images. */
  noteAcquisition (head: Pick<AcquisitionHeader, 'flags' | 'idx' | 'position' | 'sliceDir'>): void {
    // a noise readout has no slice
    if (this.facts.threeD || hasFlag(head.flags, AcquisitionFlag.IS_NOISE_MEASUREMENT)) return
    this.stack.note(head.idx.slice, head.position, head.sliceDir)
  }

  /**
   * The acquisitions unchanged, each noted (noteAcquisition) on its way to the pipeline:
   * `runPipeline(writer.observe(acquisitions), ...)`.
   */
  async * observe (acquisitions: AsyncIterable<Acquisition> | Iterable<Acquisition>): AsyncGenerator<Acquisition> {
    for await (const acquisition of acquisitions) {
      this.noteAcquisition(acquisition.head)
      yield acquisition
    }
  }

  /** The DICOM file of one image. Throws DicomWriteError when the image's geometry is unusable. */
  write (image: ReconImage): DicomFile {
    const instanceNumber = this.layout.instanceNumber(image)
    let max = 0
    for (const v of image.pixels) if (v > max && Number.isFinite(v)) max = v
    const info = this.info
    const geometry = this.inReconSpace(image, this.usableGeometry(image))
    const threeD = this.facts.threeD
    const { thickness, spacing } = threeD ? { thickness: geometry.fieldOfViewMm[2], spacing: geometry.fieldOfViewMm[2] } : this.sliceSpacing(image, geometry)
    const echoTimeMs = this.echoTime(image.contrast)
    const acquired = acquisitionDateTime(image.acquisitionTimeStamp, this.clockStart ?? info.series.dateTime ?? info.study.dateTime)
    const bytes = writeMrImage({
      // the scale stage brought the volume's maximum to 4095: keep that, so that the partitions of a
      // 3-D volume share one scale, unless the chain left larger values
      image: { magnitude: image.pixels, width: image.width, height: image.height, maxValue: Math.max(MAX_STORED_VALUE, max) },
      patient: info.patient,
      study: info.study,
      series: info.series,
      equipment: info.equipment,
      geometry: {
        ...geometry,
        matrix: [this.matrix[0], this.matrix[1], threeD ? this.matrix[2] : 1],
        sliceThicknessMm: thickness ?? null,
        spacingBetweenSlicesMm: spacing ?? null,
        acquisitionMatrix: this.facts.phaseEncoded ? this.facts.acquisitionMatrix : null,
        patientPosition: info.patientPosition
      },
      sequence: {
        ...info.sequence,
        ...(echoTimeMs !== undefined ? { echoTimeMs } : {}),
        echoNumber: image.contrast + 1,
        acquisitionType: threeD ? '3D' : '2D'
      },
      instance: {
        number: instanceNumber,
        acquisitionNumber: image.repetition + 1,
        temporalPosition: { index: image.repetition + 1, count: Math.max(this.repetitions, image.repetition + 1) },
        ...(acquired !== undefined ? { acquisitionDateTime: acquired } : {})
      }
    })
    return { name: `IM${String(instanceNumber).padStart(5, '0')}.dcm`, bytes, instanceNumber }
  }

  /** TE of the image's contrast: ISMRMRD lists one TE per echo, and the contrast counter is the echo. */
  private echoTime (contrast: number): number | undefined {
    const list = this.info.echoTimesMs
    if (contrast < list.length) return list[contrast]
    if (list.length > 0) this.warnOnce(`te-${contrast}`, `the header lists ${list.length} TE value${list.length > 1 ? 's' : ''}, none for echo ${contrast + 1} (contrast ${contrast}): its EchoTime is left empty`)
    return undefined
  }

  /** Thickness and spacing of a 2-D image's slice, from the header's FOV z and the slices seen so far. */
  private sliceSpacing (image: ReconImage, geometry: UsableGeometry): { thickness: number | undefined, spacing: number | undefined } {
    this.stack.note(image.slice, geometry.position, geometry.sliceDir)
    const thickness = this.stack.thickness(geometry.fieldOfViewMm[2])
    if (thickness.mm === undefined) this.warnOnce('thickness', `SliceThickness left empty: ${thickness.reason}`)
    else if (thickness.mm !== geometry.fieldOfViewMm[2]) {
      this.warnOnce('slab', `the header's slice field of view (${geometry.fieldOfViewMm[2]} mm) spans ${this.stack.count} slices: writing a slice thickness of ${round(thickness.mm, 4)} mm`)
    }
    // a single slice has no neighbour to be apart from
    return { thickness: thickness.mm, spacing: this.stack.count > 1 ? this.stack.spacing() : undefined }
  }

  /**
   * In-plane extent and partition thickness from the header's reconSpace (FOV / matrix per axis) where
   * the image has the reconSpace matrix; an image of another size (a chain that does not crop) keeps
   * its own extent. A reconSpace that disagrees with the chain's extent is reported.
   */
  private inReconSpace (image: ReconImage, geometry: UsableGeometry): UsableGeometry {
    const sizes = [image.width, image.height, image.depth]
    const fov = geometry.fieldOfViewMm.map((own, axis) => {
      const n = this.recon.matrix[axis]
      const f = this.recon.fovMm[axis]
      if (axis === 2 && !this.facts.threeD) return own
      if (sizes[axis] !== n || !(Number.isFinite(f) && f > 0)) return own
      const fromHeader = axis === 2 ? f / n : f
      if (Math.abs(fromHeader - own) > 0.01 * fromHeader) {
        this.warnOnce(`fov-${axis}`, `the reconstruction's extent along ${['the readout', 'phase encoding', 'z'][axis]} (${round(own, 4)} mm) differs from the header's reconSpace (${round(fromHeader, 4)} mm): writing the header's`)
      }
      return fromHeader
    }) as ReconImage['fieldOfViewMm']
    return { ...geometry, fieldOfViewMm: fov }
  }

  /**
   * The image's geometry, or where it cannot place an image in the patient (directions that are not
   * orthonormal, as in files whose headers leave them zero; a field of view that is not positive) the
   * scanner's axes and a 1 mm grid, reported once per run.
   */
  private usableGeometry (image: ReconImage): UsableGeometry {
    const unit = (v: number[]): boolean => v.every(Number.isFinite) && Math.abs(Math.hypot(v[0], v[1], v[2]) - 1) < 1e-3
    const dot = (a: number[], b: number[]): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
    const { readDir: r, phaseDir: p, sliceDir: s } = image
    const orthonormal = unit(r) && unit(p) && unit(s) && Math.abs(dot(r, p)) < 1e-3 && Math.abs(dot(r, s)) < 1e-3 && Math.abs(dot(p, s)) < 1e-3
    const position = image.position.every(Number.isFinite) ? image.position : [0, 0, 0] as ReconImage['position']
    const fov = image.fieldOfViewMm.map((v, i) => Number.isFinite(v) && v > 0 ? v : [image.width, image.height, 1][i]) as ReconImage['fieldOfViewMm']
    if (!orthonormal) this.warnOnce('directions', `read/phase/slice directions [${r.join(', ')}], [${p.join(', ')}], [${s.join(', ')}] are not orthonormal: writing the scanner axes`)
    if (fov.some((v, i) => v !== image.fieldOfViewMm[i])) this.warnOnce('fov', `field of view [${image.fieldOfViewMm.join(', ')}] mm is not positive: writing 1 mm pixels`)
    if (position !== image.position) this.warnOnce('position', `position [${image.position.join(', ')}] is not finite: writing the origin`)
    return orthonormal
      ? { position, readDir: r, phaseDir: p, sliceDir: s, fieldOfViewMm: fov }
      : { position, readDir: [1, 0, 0], phaseDir: [0, 1, 0], sliceDir: [0, 0, 1], fieldOfViewMm: fov }
  }

  private warnOnce (key: string, message: string): void {
    if (this.warned.has(key)) return
    this.warned.add(key)
    this.warn(message)
  }
}
