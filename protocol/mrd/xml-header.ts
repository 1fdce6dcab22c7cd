// The ISMRMRD XML header (ismrmrd/ismrmrd schema/ismrmrd.xsd), as a typed subset: what acquisition,
// reconstruction and DICOM need. Element names are kept exactly as in the schema (snake_case and
// units included) so that a field can be looked up in the schema by its name. Parsing ignores
// elements outside the subset (keep the original text where it must survive, as the HDF5 import
// does); writing emits the subset in schema order.
import { IsmrmrdXmlError } from './errors.ts'
import { escapeXml, parseXml } from './xml.ts'
import type { XmlElement, XmlParseLimits } from './xml.ts'

export const ISMRMRD_NAMESPACE = 'http://www.ismrm.org/ISMRMRD'
/** Larmor frequency of 1H per tesla, in Hz (CODATA: 42.577 478 MHz/T). */
export const GYROMAGNETIC_RATIO_1H_HZ_PER_T = 42.577478e6

export interface Vector3 { x: number, y: number, z: number }

export interface SubjectInformation {
  patientName?: string
  patientWeight_kg?: number
  patientHeight_m?: number
  patientID?: string
  /** xs:date, YYYY-MM-DD */
  patientBirthdate?: string
  /** M, F or O */
  patientGender?: string
}

export interface StudyInformation {
  studyDate?: string
  studyTime?: string
  studyID?: string
  accessionNumber?: number
  referringPhysicianName?: string
  studyDescription?: string
  studyInstanceUID?: string
  bodyPartExamined?: string
}

export interface MeasurementInformation {
  measurementID?: string
  seriesDate?: string
  seriesTime?: string
  /** HFP, HFS, HFDR, HFDL, FFP, FFS, FFDR or FFDL. Required by the schema, missing in real files. */
  patientPosition?: string
  relativeTablePosition?: Vector3
  initialSeriesNumber?: number
  protocolName?: string
  sequenceName?: string
  seriesDescription?: string
  seriesInstanceUIDRoot?: string
  frameOfReferenceUID?: string
}

export interface CoilLabel { coilNumber: number, coilName: string }

export interface AcquisitionSystemInformation {
  systemVendor?: string
  systemModel?: string
  systemFieldStrength_T?: number
  /** Noise bandwidth of the receiver relative to the sampling bandwidth (noise prewhitening uses it). */
  relativeReceiverNoiseBandwidth?: number
  receiverChannels?: number
  coilLabel?: CoilLabel[]
  institutionName?: string
  stationName?: string
  deviceID?: string
  deviceSerialNumber?: string
}

export interface ExperimentalConditions {
  /** xs:long: whole hertz. */
  H1resonanceFrequency_Hz: number
}

export interface EncodingSpace {
  matrixSize: Vector3
  fieldOfView_mm: Vector3
}

export interface Limit { minimum: number, maximum: number, center: number }

export const ENCODING_LIMIT_NAMES = [
  'kspace_encoding_step_0', 'kspace_encoding_step_1', 'kspace_encoding_step_2', 'average', 'slice', 'contrast', 'phase',
  'repetition', 'set', 'segment', 'user_0', 'user_1', 'user_2', 'user_3', 'user_4', 'user_5', 'user_6', 'user_7'
] as const
export type EncodingLimitName = typeof ENCODING_LIMIT_NAMES[number]
/** Every limit is optional in the schema; a missing one means that counter stays 0. */
export type EncodingLimits = Partial<Record<EncodingLimitName, Limit>>

export const TRAJECTORY_TYPES = ['cartesian', 'epi', 'radial', 'goldenangle', 'spiral', 'other'] as const
// The `string & {}` keeps editor completion for the known values while accepting others (a warning).
export type TrajectoryType = typeof TRAJECTORY_TYPES[number] | (string & {})

export interface ParallelImaging {
  accelerationFactor: { kspace_encoding_step_1: number, kspace_encoding_step_2: number }
  /** embedded, interleaved, separate, external or other */
  calibrationMode?: string
  /** phase, repetition, contrast, average or other */
  interleavingDimension?: string
}

export interface Encoding {
  encodedSpace: EncodingSpace
  reconSpace: EncodingSpace
  encodingLimits: EncodingLimits
  trajectory: TrajectoryType
  parallelImaging?: ParallelImaging
  echoTrainLength?: number
}

export interface SequenceParameters {
  TR?: number[]
  TE?: number[]
  TI?: number[]
  flipAngle_deg?: number[]
  sequence_type?: string
  echo_spacing?: number[]
}

export interface UserParameter<T> { name: string, value: T }

export interface UserParameters {
  /** xs:long values beyond ±2^53 lose precision. */
  userParameterLong?: UserParameter<number>[]
  userParameterDouble?: UserParameter<number>[]
  userParameterString?: UserParameter<string>[]
  /** Values kept as their base64 text. */
  userParameterBase64?: UserParameter<string>[]
}

export interface IsmrmrdHeader {
  version?: number
  subjectInformation?: SubjectInformation
  studyInformation?: StudyInformation
  measurementInformation?: MeasurementInformation
  acquisitionSystemInformation?: AcquisitionSystemInformation
  experimentalConditions: ExperimentalConditions
  encoding: Encoding[]
  sequenceParameters?: SequenceParameters
  userParameters?: UserParameters
}

/** Something implausible but not fatal, found in a header or a file; `path` names the field. */
export interface MrdWarning {
  path: string
  message: string
}

// ---------------------------------------------------------------------------------------------
// Parsing

const children = (el: XmlElement, name: string): XmlElement[] => el.children.filter((c) => c.localName === name)
const child = (el: XmlElement, name: string): XmlElement | undefined => el.children.find((c) => c.localName === name)

function required (el: XmlElement, name: string, path: string): XmlElement {
  const found = child(el, name)
  if (found === undefined) throw new IsmrmrdXmlError(`ISMRMRD header: ${path}/${name} is required but missing`)
  return found
}

function parseNumber (text: string, path: string): number {
  const t = text.trim()
  // xs:float and xs:double spell the specials INF, -INF and NaN.
  if (t === 'INF' || t === '+INF') return Infinity
  if (t === '-INF') return -Infinity
  if (t === 'NaN') return NaN
  const value = t === '' ? NaN : Number(t)
  if (Number.isNaN(value)) throw new IsmrmrdXmlError(`ISMRMRD header: ${path} = '${t.slice(0, 40)}' is not a number`)
  return value
}

function parseInteger (text: string, path: string): number {
  const value = parseNumber(text, path)
  if (!Number.isInteger(value)) throw new IsmrmrdXmlError(`ISMRMRD header: ${path} = '${text.trim().slice(0, 40)}' is not an integer`)
  return value
}

const optString = (el: XmlElement, name: string): string | undefined => {
  const c = child(el, name)
  return c === undefined ? undefined : c.text.trim()
}
const optNumber = (el: XmlElement, name: string, path: string): number | undefined => {
  const c = child(el, name)
  return c === undefined ? undefined : parseNumber(c.text, `${path}/${name}`)
}
const optInteger = (el: XmlElement, name: string, path: string): number | undefined => {
  const c = child(el, name)
  return c === undefined ? undefined : parseInteger(c.text, `${path}/${name}`)
}
const numberList = (el: XmlElement, name: string, path: string): number[] | undefined => {
  const list = children(el, name)
  return list.length === 0 ? undefined : list.map((c, i) => parseNumber(c.text, `${path}/${name}[${i}]`))
}

/** Copies the defined values only, so that a parsed header has no `key: undefined` entries. */
function defined<T extends object> (value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}

function parseVector3 (el: XmlElement, path: string, integer: boolean): Vector3 {
  const read = integer ? parseInteger : parseNumber
  return {
    x: read(required(el, 'x', path).text, `${path}/x`),
    y: read(required(el, 'y', path).text, `${path}/y`),
    z: read(required(el, 'z', path).text, `${path}/z`)
  }
}

function parseEncodingSpace (el: XmlElement, path: string): EncodingSpace {
  return {
    matrixSize: parseVector3(required(el, 'matrixSize', path), `${path}/matrixSize`, true),
    fieldOfView_mm: parseVector3(required(el, 'fieldOfView_mm', path), `${path}/fieldOfView_mm`, false)
  }
}

function parseEncodingLimits (el: XmlElement | undefined, path: string): EncodingLimits {
  const limits: EncodingLimits = {}
  if (el === undefined) return limits
  for (const name of ENCODING_LIMIT_NAMES) {
    const limit = child(el, name)
    if (limit === undefined) continue
    const p = `${path}/${name}`
    // The schema gives each of them a default of 0.
    limits[name] = {
      minimum: optInteger(limit, 'minimum', p) ?? 0,
      maximum: optInteger(limit, 'maximum', p) ?? 0,
      center: optInteger(limit, 'center', p) ?? 0
    }
  }
  return limits
}

function parseEncoding (el: XmlElement, path: string): Encoding {
  const encoding: Encoding = {
    encodedSpace: parseEncodingSpace(required(el, 'encodedSpace', path), `${path}/encodedSpace`),
    reconSpace: parseEncodingSpace(required(el, 'reconSpace', path), `${path}/reconSpace`),
    encodingLimits: parseEncodingLimits(child(el, 'encodingLimits'), `${path}/encodingLimits`),
    trajectory: required(el, 'trajectory', path).text.trim()
  }
  const pi = child(el, 'parallelImaging')
  if (pi !== undefined) {
    const p = `${path}/parallelImaging`
    const af = required(pi, 'accelerationFactor', p)
    encoding.parallelImaging = defined({
      accelerationFactor: {
        kspace_encoding_step_1: parseInteger(required(af, 'kspace_encoding_step_1', `${p}/accelerationFactor`).text, `${p}/accelerationFactor/kspace_encoding_step_1`),
        kspace_encoding_step_2: parseInteger(required(af, 'kspace_encoding_step_2', `${p}/accelerationFactor`).text, `${p}/accelerationFactor/kspace_encoding_step_2`)
      },
      calibrationMode: optString(pi, 'calibrationMode'),
      interleavingDimension: optString(pi, 'interleavingDimension')
    })
  }
  const etl = optInteger(el, 'echoTrainLength', path)
  if (etl !== undefined) encoding.echoTrainLength = etl
  return encoding
}

function parseUserParameters<T> (el: XmlElement, name: string, path: string, read: (text: string, path: string) => T): UserParameter<T>[] | undefined {
  const list = children(el, name)
  if (list.length === 0) return undefined
  return list.map((p, i) => ({
    name: required(p, 'name', `${path}/${name}[${i}]`).text.trim(),
    value: read(required(p, 'value', `${path}/${name}[${i}]`).text, `${path}/${name}[${i}]/value`)
  }))
}

/**
 * Parses an ISMRMRD XML header. Throws IsmrmrdXmlError for text that is not XML, a root other than
 * ismrmrdHeader, a missing required element or a number that does not parse; implausible values
 * are left to validateIsmrmrdHeader.
 */
export function parseIsmrmrdXml (text: string, limits?: XmlParseLimits): IsmrmrdHeader {
  const root = parseXml(text, limits)
  if (root.localName !== 'ismrmrdHeader') {
    throw new IsmrmrdXmlError(`not an ISMRMRD header: the root element is <${root.name}>, not <ismrmrdHeader>`)
  }
  const ec = required(root, 'experimentalConditions', 'ismrmrdHeader')
  const encodings = children(root, 'encoding')
  if (encodings.length === 0) throw new IsmrmrdXmlError('ISMRMRD header: at least one ismrmrdHeader/encoding is required')
  const header: IsmrmrdHeader = {
    experimentalConditions: {
      H1resonanceFrequency_Hz: parseNumber(required(ec, 'H1resonanceFrequency_Hz', 'experimentalConditions').text, 'experimentalConditions/H1resonanceFrequency_Hz')
    },
    encoding: encodings.map((e, i) => parseEncoding(e, `encoding[${i}]`))
  }
  const version = optInteger(root, 'version', 'ismrmrdHeader')
  if (version !== undefined) header.version = version

  const si = child(root, 'subjectInformation')
  if (si !== undefined) {
    const p = 'subjectInformation'
    header.subjectInformation = defined({
      patientName: optString(si, 'patientName'),
      patientWeight_kg: optNumber(si, 'patientWeight_kg', p),
      patientHeight_m: optNumber(si, 'patientHeight_m', p),
      patientID: optString(si, 'patientID'),
      patientBirthdate: optString(si, 'patientBirthdate'),
      patientGender: optString(si, 'patientGender')
    })
  }
  const st = child(root, 'studyInformation')
  if (st !== undefined) {
    header.studyInformation = defined({
      studyDate: optString(st, 'studyDate'),
      studyTime: optString(st, 'studyTime'),
      studyID: optString(st, 'studyID'),
      accessionNumber: optInteger(st, 'accessionNumber', 'studyInformation'),
      referringPhysicianName: optString(st, 'referringPhysicianName'),
      studyDescription: optString(st, 'studyDescription'),
      studyInstanceUID: optString(st, 'studyInstanceUID'),
      bodyPartExamined: optString(st, 'bodyPartExamined')
    })
  }
  const mi = child(root, 'measurementInformation')
  if (mi !== undefined) {
    const p = 'measurementInformation'
    const rtp = child(mi, 'relativeTablePosition')
    header.measurementInformation = defined({
      measurementID: optString(mi, 'measurementID'),
      seriesDate: optString(mi, 'seriesDate'),
      seriesTime: optString(mi, 'seriesTime'),
      patientPosition: optString(mi, 'patientPosition'),
      relativeTablePosition: rtp === undefined ? undefined : parseVector3(rtp, `${p}/relativeTablePosition`, false),
      initialSeriesNumber: optInteger(mi, 'initialSeriesNumber', p),
      protocolName: optString(mi, 'protocolName'),
      sequenceName: optString(mi, 'sequenceName'),
      seriesDescription: optString(mi, 'seriesDescription'),
      seriesInstanceUIDRoot: optString(mi, 'seriesInstanceUIDRoot'),
      frameOfReferenceUID: optString(mi, 'frameOfReferenceUID')
    })
  }
  const asi = child(root, 'acquisitionSystemInformation')
  if (asi !== undefined) {
    const p = 'acquisitionSystemInformation'
    const labels = children(asi, 'coilLabel')
    header.acquisitionSystemInformation = defined({
      systemVendor: optString(asi, 'systemVendor'),
      systemModel: optString(asi, 'systemModel'),
      systemFieldStrength_T: optNumber(asi, 'systemFieldStrength_T', p),
      relativeReceiverNoiseBandwidth: optNumber(asi, 'relativeReceiverNoiseBandwidth', p),
      receiverChannels: optInteger(asi, 'receiverChannels', p),
      coilLabel: labels.length === 0
        ? undefined
        : labels.map((l, i) => ({
          coilNumber: parseInteger(required(l, 'coilNumber', `${p}/coilLabel[${i}]`).text, `${p}/coilLabel[${i}]/coilNumber`),
          coilName: required(l, 'coilName', `${p}/coilLabel[${i}]`).text.trim()
        })),
      institutionName: optString(asi, 'institutionName'),
      stationName: optString(asi, 'stationName'),
      deviceID: optString(asi, 'deviceID'),
      deviceSerialNumber: optString(asi, 'deviceSerialNumber')
    })
  }
  const sp = child(root, 'sequenceParameters')
  if (sp !== undefined) {
    const p = 'sequenceParameters'
    header.sequenceParameters = defined({
      TR: numberList(sp, 'TR', p),
      TE: numberList(sp, 'TE', p),
      TI: numberList(sp, 'TI', p),
      flipAngle_deg: numberList(sp, 'flipAngle_deg', p),
      sequence_type: optString(sp, 'sequence_type'),
      echo_spacing: numberList(sp, 'echo_spacing', p)
    })
  }
  const up = child(root, 'userParameters')
  if (up !== undefined) {
    const p = 'userParameters'
    header.userParameters = defined({
      userParameterLong: parseUserParameters(up, 'userParameterLong', p, parseInteger),
      userParameterDouble: parseUserParameters(up, 'userParameterDouble', p, parseNumber),
      userParameterString: parseUserParameters(up, 'userParameterString', p, (t) => t),
      userParameterBase64: parseUserParameters(up, 'userParameterBase64', p, (t) => t.trim())
    })
  }
  return header
}

// ---------------------------------------------------------------------------------------------
// Writing

function formatFloat (value: number, path: string): string {
  if (typeof value !== 'number') throw new IsmrmrdXmlError(`cannot write ${path}: ${String(value)} is not a number`)
  if (Number.isNaN(value)) return 'NaN'
  if (value === Infinity) return 'INF'
  if (value === -Infinity) return '-INF'
  return String(value)
}

function formatInteger (value: number, path: string): string {
  if (!Number.isInteger(value)) throw new IsmrmrdXmlError(`cannot write ${path}: ${String(value)} is not an integer`)
  return String(value)
}

/** Builds indented XML; `element` skips undefined content so optional fields need no branches. */
class XmlWriter {
  private readonly lines: string[] = []
  private depth = 0

  open (name: string, attributes = ''): void {
    this.lines.push(`${'  '.repeat(this.depth)}<${name}${attributes}>`)
    this.depth++
  }

  close (name: string): void {
    this.depth--
    this.lines.push(`${'  '.repeat(this.depth)}</${name}>`)
  }

  element (name: string, text: string | undefined): void {
    if (text === undefined) return
    this.lines.push(`${'  '.repeat(this.depth)}<${name}>${escapeXml(text)}</${name}>`)
  }

  toString (): string {
    return this.lines.join('\n') + '\n'
  }
}

const optF = (value: number | undefined, path: string): string | undefined => value === undefined ? undefined : formatFloat(value, path)
const optI = (value: number | undefined, path: string): string | undefined => value === undefined ? undefined : formatInteger(value, path)

function writeVector3 (w: XmlWriter, name: string, v: Vector3, path: string, integer: boolean): void {
  const format = integer ? formatInteger : formatFloat
  w.open(name)
  w.element('x', format(v.x, `${path}/x`))
  w.element('y', format(v.y, `${path}/y`))
  w.element('z', format(v.z, `${path}/z`))
  w.close(name)
}

function writeEncodingSpace (w: XmlWriter, name: string, space: EncodingSpace, path: string): void {
  w.open(name)
  writeVector3(w, 'matrixSize', space.matrixSize, `${path}/matrixSize`, true)
  writeVector3(w, 'fieldOfView_mm', space.fieldOfView_mm, `${path}/fieldOfView_mm`, false)
  w.close(name)
}

/**
 * Writes a header as ISMRMRD XML, elements in schema order. Throws IsmrmrdXmlError for a value the
 * schema cannot hold (a fractional matrix size, say). H1resonanceFrequency_Hz is rounded to whole
 * hertz because the schema types it xs:long while it is often computed from a field strength.
 */
export function writeIsmrmrdXml (header: IsmrmrdHeader): string {
  const w = new XmlWriter()
  w.open('ismrmrdHeader', ` xmlns="${ISMRMRD_NAMESPACE}"`)
  w.element('version', optI(header.version, 'version'))

  const si = header.subjectInformation
  if (si !== undefined) {
    const p = 'subjectInformation'
    w.open(p)
    w.element('patientName', si.patientName)
    w.element('patientWeight_kg', optF(si.patientWeight_kg, `${p}/patientWeight_kg`))
    w.element('patientHeight_m', optF(si.patientHeight_m, `${p}/patientHeight_m`))
    w.element('patientID', si.patientID)
    w.element('patientBirthdate', si.patientBirthdate)
    w.element('patientGender', si.patientGender)
    w.close(p)
  }
  const st = header.studyInformation
  if (st !== undefined) {
    w.open('studyInformation')
    w.element('studyDate', st.studyDate)
    w.element('studyTime', st.studyTime)
    w.element('studyID', st.studyID)
    w.element('accessionNumber', optI(st.accessionNumber, 'studyInformation/accessionNumber'))
    w.element('referringPhysicianName', st.referringPhysicianName)
    w.element('studyDescription', st.studyDescription)
    w.element('studyInstanceUID', st.studyInstanceUID)
    w.element('bodyPartExamined', st.bodyPartExamined)
    w.close('studyInformation')
  }
  const mi = header.measurementInformation
  if (mi !== undefined) {
    const p = 'measurementInformation'
    w.open(p)
    w.element('measurementID', mi.measurementID)
    w.element('seriesDate', mi.seriesDate)
    w.element('seriesTime', mi.seriesTime)
    w.element('patientPosition', mi.patientPosition)
    if (mi.relativeTablePosition !== undefined) writeVector3(w, 'relativeTablePosition', mi.relativeTablePosition, `${p}/relativeTablePosition`, false)
    w.element('initialSeriesNumber', optI(mi.initialSeriesNumber, `${p}/initialSeriesNumber`))
    w.element('protocolName', mi.protocolName)
    w.element('sequenceName', mi.sequenceName)
    w.element('seriesDescription', mi.seriesDescription)
    w.element('seriesInstanceUIDRoot', mi.seriesInstanceUIDRoot)
    w.element('frameOfReferenceUID', mi.frameOfReferenceUID)
    w.close(p)
  }
  const asi = header.acquisitionSystemInformation
  if (asi !== undefined) {
    const p = 'acquisitionSystemInformation'
    w.open(p)
    w.element('systemVendor', asi.systemVendor)
    w.element('systemModel', asi.systemModel)
    w.element('systemFieldStrength_T', optF(asi.systemFieldStrength_T, `${p}/systemFieldStrength_T`))
    w.element('relativeReceiverNoiseBandwidth', optF(asi.relativeReceiverNoiseBandwidth, `${p}/relativeReceiverNoiseBandwidth`))
    w.element('receiverChannels', optI(asi.receiverChannels, `${p}/receiverChannels`))
    for (const [i, label] of (asi.coilLabel ?? []).entries()) {
      w.open('coilLabel')
      w.element('coilNumber', formatInteger(label.coilNumber, `${p}/coilLabel[${i}]/coilNumber`))
      w.element('coilName', label.coilName)
      w.close('coilLabel')
    }
    w.element('institutionName', asi.institutionName)
    w.element('stationName', asi.stationName)
    w.element('deviceID', asi.deviceID)
    w.element('deviceSerialNumber', asi.deviceSerialNumber)
    w.close(p)
  }
  w.open('experimentalConditions')
  w.element('H1resonanceFrequency_Hz', formatInteger(Math.round(header.experimentalConditions.H1resonanceFrequency_Hz), 'experimentalConditions/H1resonanceFrequency_Hz'))
  w.close('experimentalConditions')

  if (header.encoding.length === 0) throw new IsmrmrdXmlError('cannot write an ISMRMRD header without an encoding')
  for (const [i, e] of header.encoding.entries()) {
    const p = `encoding[${i}]`
    w.open('encoding')
    writeEncodingSpace(w, 'encodedSpace', e.encodedSpace, `${p}/encodedSpace`)
    writeEncodingSpace(w, 'reconSpace', e.reconSpace, `${p}/reconSpace`)
    w.open('encodingLimits')
    for (const name of ENCODING_LIMIT_NAMES) {
      const limit = e.encodingLimits[name]
      if (limit === undefined) continue
      const lp = `${p}/encodingLimits/${name}`
      w.open(name)
      w.element('minimum', formatInteger(limit.minimum, `${lp}/minimum`))
      w.element('maximum', formatInteger(limit.maximum, `${lp}/maximum`))
      w.element('center', formatInteger(limit.center, `${lp}/center`))
      w.close(name)
    }
    w.close('encodingLimits')
    w.element('trajectory', e.trajectory)
    if (e.parallelImaging !== undefined) {
      const pp = `${p}/parallelImaging`
      w.open('parallelImaging')
      w.open('accelerationFactor')
      w.element('kspace_encoding_step_1', formatInteger(e.parallelImaging.accelerationFactor.kspace_encoding_step_1, `${pp}/accelerationFactor/kspace_encoding_step_1`))
      w.element('kspace_encoding_step_2', formatInteger(e.parallelImaging.accelerationFactor.kspace_encoding_step_2, `${pp}/accelerationFactor/kspace_encoding_step_2`))
      w.close('accelerationFactor')
      w.element('calibrationMode', e.parallelImaging.calibrationMode)
      w.element('interleavingDimension', e.parallelImaging.interleavingDimension)
      w.close('parallelImaging')
    }
    w.element('echoTrainLength', optI(e.echoTrainLength, `${p}/echoTrainLength`))
    w.close('encoding')
  }

  const sp = header.sequenceParameters
  if (sp !== undefined) {
    const p = 'sequenceParameters'
    w.open(p)
    for (const name of ['TR', 'TE', 'TI', 'flipAngle_deg'] as const) {
      for (const [i, v] of (sp[name] ?? []).entries()) w.element(name, formatFloat(v, `${p}/${name}[${i}]`))
    }
    w.element('sequence_type', sp.sequence_type)
    for (const [i, v] of (sp.echo_spacing ?? []).entries()) w.element('echo_spacing', formatFloat(v, `${p}/echo_spacing[${i}]`))
    w.close(p)
  }
  const up = header.userParameters
  if (up !== undefined) {
    const p = 'userParameters'
    w.open(p)
    const list = <T>(name: keyof UserParameters, values: UserParameter<T>[] | undefined, format: (v: T, path: string) => string): void => {
      for (const [i, param] of (values ?? []).entries()) {
        w.open(name)
        w.element('name', param.name)
        w.element('value', format(param.value, `${p}/${name}[${i}]/value`))
        w.close(name)
      }
    }
    list('userParameterLong', up.userParameterLong, formatInteger)
    list('userParameterDouble', up.userParameterDouble, formatFloat)
    list('userParameterString', up.userParameterString, (v: string) => v)
    list('userParameterBase64', up.userParameterBase64, (v: string) => v)
    w.close(p)
  }
  w.close('ismrmrdHeader')
  return '<?xml version="1.0" encoding="UTF-8"?>\n' + w.toString()
}

// ---------------------------------------------------------------------------------------------
// Plausibility

/** Field strengths above this (tesla) exist nowhere; the strongest human MRI magnets are 11.7 T. */
export const MAX_PLAUSIBLE_FIELD_STRENGTH_T = 20
/** 1H Larmor frequencies outside this (Hz): below about 2.3 mT or above 23 T. */
export const PLAUSIBLE_LARMOR_HZ: readonly [number, number] = [1e5, 1e9]
/**
 * Relative disagreement between field strength × γ and the Larmor frequency above which they are
 * reported. Generous because vendors write the nominal field (3 T) next to the true frequency
 * (123.2 MHz, that is 2.89 T).
 */
export const FIELD_FREQUENCY_TOLERANCE = 0.1

/** Suggests the unit a wrong magnitude was probably written in (1e6 too large: micro-units, ...). */
function unitHint (value: number, inRange: (v: number) => boolean, unit: string): string {
  for (const [factor, prefix] of [[1e3, 'm'], [1e6, 'µ'], [1e9, 'n'], [1e-3, 'k'], [1e-6, 'M']] as const) {
    if (inRange(value / factor)) return ` (perhaps written in ${prefix}${unit}: ${value / factor} ${unit})`
  }
  return ''
}

/**
 * Returns warnings for values no scanner produces: field strength, Larmor frequency and their
 * agreement, empty matrices or fields of view, limits out of order, unknown trajectory, missing
 * required-but-harmless elements. Never throws: real files have such bugs and stay readable.
 */
export function validateIsmrmrdHeader (header: IsmrmrdHeader): MrdWarning[] {
  const warnings: MrdWarning[] = []
  const warn = (path: string, message: string): void => { warnings.push({ path, message }) }

  const b0 = header.acquisitionSystemInformation?.systemFieldStrength_T
  const b0Plausible = (v: number): boolean => Number.isFinite(v) && v > 0 && v <= MAX_PLAUSIBLE_FIELD_STRENGTH_T
  if (b0 !== undefined && !b0Plausible(b0)) {
    warn('acquisitionSystemInformation/systemFieldStrength_T', `field strength ${b0} T is implausible (expected 0 < B0 ≤ ${MAX_PLAUSIBLE_FIELD_STRENGTH_T} T)${unitHint(b0, b0Plausible, 'T')}`)
  }
  const f0 = header.experimentalConditions.H1resonanceFrequency_Hz
  const f0Plausible = (v: number): boolean => Number.isFinite(v) && v >= PLAUSIBLE_LARMOR_HZ[0] && v <= PLAUSIBLE_LARMOR_HZ[1]
  if (!f0Plausible(f0)) {
    warn('experimentalConditions/H1resonanceFrequency_Hz', `1H resonance frequency ${f0} Hz is implausible (expected ${PLAUSIBLE_LARMOR_HZ[0]} to ${PLAUSIBLE_LARMOR_HZ[1]} Hz)${unitHint(f0, f0Plausible, 'Hz')}`)
  }
  if (b0 !== undefined && b0Plausible(b0) && f0Plausible(f0)) {
    const expected = b0 * GYROMAGNETIC_RATIO_1H_HZ_PER_T
    if (Math.abs(f0 - expected) / expected > FIELD_FREQUENCY_TOLERANCE) {
      warn('experimentalConditions/H1resonanceFrequency_Hz', `1H resonance frequency ${f0} Hz disagrees with the field strength: ${b0} T × 42.577 MHz/T = ${Math.round(expected)} Hz`)
    }
  }
  const channels = header.acquisitionSystemInformation?.receiverChannels
  if (channels !== undefined && channels < 1) warn('acquisitionSystemInformation/receiverChannels', `receiverChannels = ${channels}: at least one is needed`)

  const mi = header.measurementInformation
  if (mi !== undefined && mi.patientPosition === undefined) {
    warn('measurementInformation/patientPosition', 'patientPosition is required by the schema but missing')
  }

  for (const [i, e] of header.encoding.entries()) {
    for (const spaceName of ['encodedSpace', 'reconSpace'] as const) {
      const space = e[spaceName]
      const p = `encoding[${i}]/${spaceName}`
      for (const axis of ['x', 'y', 'z'] as const) {
        const n = space.matrixSize[axis]
        if (!(n >= 1 && n <= 65535)) warn(`${p}/matrixSize/${axis}`, `matrix size ${n} is not between 1 and 65535`)
        const fov = space.fieldOfView_mm[axis]
        if (!(Number.isFinite(fov) && fov > 0)) warn(`${p}/fieldOfView_mm/${axis}`, `field of view ${fov} mm is not a positive number`)
      }
    }
    for (const name of ENCODING_LIMIT_NAMES) {
      const limit = e.encodingLimits[name]
      if (limit === undefined) continue
      const p = `encoding[${i}]/encodingLimits/${name}`
      if (limit.minimum > limit.maximum) warn(p, `minimum ${limit.minimum} > maximum ${limit.maximum}`)
      else if (limit.center < limit.minimum || limit.center > limit.maximum) warn(p, `center ${limit.center} lies outside ${limit.minimum}..${limit.maximum}`)
    }
    if (!(TRAJECTORY_TYPES as readonly string[]).includes(e.trajectory)) {
      warn(`encoding[${i}]/trajectory`, `trajectory '${e.trajectory}' is not one of ${TRAJECTORY_TYPES.join(', ')}`)
    }
  }
  const sp = header.sequenceParameters
  if (sp !== undefined) {
    for (const name of ['TR', 'TE', 'TI'] as const) {
      for (const [i, v] of (sp[name] ?? []).entries()) {
        if (!(Number.isFinite(v) && v >= 0)) warn(`sequenceParameters/${name}[${i}]`, `${name} = ${v} ms is not a non-negative number`)
      }
    }
  }
  return warnings
}
