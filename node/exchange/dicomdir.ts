// The DICOMDIR of an exported file set (DICOM PS3.3 F, the Basic Directory IOD; PS3.10 for the
// media): PATIENT → STUDY → SERIES → IMAGE records whose links are byte offsets within the DICOMDIR
// file itself. dcmjs writes datasets but cannot lay out those offsets (it neither knows where an item
// will land nor lets one fix a value after encoding), so this module encodes the file itself in
// explicit VR little endian with defined lengths throughout: every length is known before the first
// byte, the offsets are computed from the sizes, and the records are encoded a second time with them.
import { randomUUID } from 'node:crypto'
import { parseDicom } from '../../protocol/dicom/index.ts'
import { EXPLICIT_VR_LITTLE_ENDIAN } from '../../protocol/dicom/structure.ts'

export const MEDIA_STORAGE_DIRECTORY = '1.2.840.10008.1.3.10'
const IMPLEMENTATION_CLASS_UID = '2.25.' + BigInt('0x' + 'b7c4f3a2e1d04c6f8a9e5d3c2b1a0f9e').toString(10)
const IMPLEMENTATION_VERSION_NAME = 'SCANHUB_EXPORT'

/** What the directory and the import need from one DICOM file. */
export interface DicomFacts {
  sopClassUid: string
  sopInstanceUid: string
  transferSyntaxUid: string
  studyInstanceUid: string
  seriesInstanceUid: string
  patientId: string
  patientName: string
  patientBirthDate: string
  patientSex: string
  studyDate: string
  studyTime: string
  studyId: string
  studyDescription: string
  accessionNumber: string
  modality: string
  seriesNumber: string
  seriesDescription: string
  instanceNumber: string
  specificCharacterSet: string
}

function text (value: unknown): string {
  const first = Array.isArray(value) ? value[0] : value
  if (first === null || first === undefined) return ''
  if (typeof first === 'object') {
    // dcmjs's person name: { Alphabetic: 'Last^First' }
    const alphabetic = (first as { Alphabetic?: unknown }).Alphabetic
    return typeof alphabetic === 'string' ? alphabetic : ''
  }
  return String(first).trim()
}

/** Reads the identifying attributes of a Part 10 file; throws DicomReadError for what is not one. */
export function dicomFacts (bytes: Uint8Array): DicomFacts {
  const { dataset: d, meta, transferSyntaxUid } = parseDicom(bytes)
  const charset = Array.isArray(d.SpecificCharacterSet) ? d.SpecificCharacterSet.map(String).join('\\') : text(d.SpecificCharacterSet)
  return {
    sopClassUid: text(meta.MediaStorageSOPClassUID) || text(d.SOPClassUID),
    sopInstanceUid: text(d.SOPInstanceUID) || text(meta.MediaStorageSOPInstanceUID),
    transferSyntaxUid,
    studyInstanceUid: text(d.StudyInstanceUID),
    seriesInstanceUid: text(d.SeriesInstanceUID),
    patientId: text(d.PatientID),
    patientName: text(d.PatientName),
    patientBirthDate: text(d.PatientBirthDate),
    patientSex: text(d.PatientSex),
    studyDate: text(d.StudyDate),
    studyTime: text(d.StudyTime),
    studyId: text(d.StudyID),
    studyDescription: text(d.StudyDescription),
    accessionNumber: text(d.AccessionNumber),
    modality: text(d.Modality),
    seriesNumber: text(d.SeriesNumber),
    seriesDescription: text(d.SeriesDescription),
    instanceNumber: text(d.InstanceNumber),
    specificCharacterSet: charset
  }
}

export interface DirectoryFile {
  /** path components below the DICOMDIR's folder, each at most 8 characters of A–Z, 0–9 and _ */
  components: string[]
  facts: DicomFacts
}

/** Why a set of files cannot have a valid DICOMDIR, or undefined when it can. */
export function dicomdirProblem (files: readonly DirectoryFile[]): string | undefined {
  if (files.length === 0) return 'there are no DICOM files'
  for (const { components, facts } of files) {
    if (components.length > 8 || components.some((c) => !/^[A-Z0-9_]{1,8}$/.test(c))) return `${components.join('/')} is not a DICOM media file name (up to 8 components of 1 to 8 characters A-Z, 0-9, _)`
    for (const [name, value] of [['PatientID', facts.patientId], ['StudyInstanceUID', facts.studyInstanceUid], ['SeriesInstanceUID', facts.seriesInstanceUid], ['SOPInstanceUID', facts.sopInstanceUid], ['SOPClassUID', facts.sopClassUid], ['Modality', facts.modality]] as const) {
      if (value === '') return `${components.join('/')} has no ${name}, which a directory record requires`
    }
  }
  return undefined
}

// ---- explicit VR little endian encoding ---------------------------------------------------------

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV'])

type Element = [tag: number, vr: string, value: Buffer]

function stringValue (vr: string, value: string): Buffer {
  const bytes = Buffer.from(value, vr === 'UI' ? 'latin1' : 'utf8')
  if (bytes.length % 2 === 0) return bytes
  return Buffer.concat([bytes, Buffer.from([vr === 'UI' ? 0 : 0x20])])
}

function str (tag: number, vr: string, value: string): Element {
  return [tag, vr, stringValue(vr, value)]
}

function ul (tag: number, value: number): Element {
  const b = Buffer.alloc(4)
  b.writeUInt32LE(value, 0)
  return [tag, 'UL', b]
}

function us (tag: number, value: number): Element {
  const b = Buffer.alloc(2)
  b.writeUInt16LE(value, 0)
  return [tag, 'US', b]
}

function encodeElements (elements: Element[]): Buffer {
  const parts: Buffer[] = []
  for (const [tag, vr, value] of [...elements].sort((a, b) => a[0] - b[0])) {
    const long = LONG_VRS.has(vr)
    const head = Buffer.alloc(long ? 12 : 8)
    head.writeUInt16LE(tag >>> 16, 0)
    head.writeUInt16LE(tag & 0xffff, 2)
    head.write(vr, 4, 'latin1')
    if (long) head.writeUInt32LE(value.length, 8)
    else head.writeUInt16LE(value.length, 6)
    parts.push(head, value)
  }
  return Buffer.concat(parts)
}

function item (content: Buffer): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt16LE(0xfffe, 0)
  head.writeUInt16LE(0xe000, 2)
  head.writeUInt32LE(content.length, 4)
  return Buffer.concat([head, content])
}

// ---- the directory --------------------------------------------------------------------------------

interface DirectoryRecord {
  type: 'PATIENT' | 'STUDY' | 'SERIES' | 'IMAGE'
  keys: Element[]
  children: DirectoryRecord[]
}

function charsetKey (facts: DicomFacts): Element[] {
  return facts.specificCharacterSet !== '' ? [str(0x00080005, 'CS', facts.specificCharacterSet)] : []
}

function recordTree (files: readonly DirectoryFile[]): DirectoryRecord[] {
  const patients = new Map<string, DirectoryRecord>()
  const studies = new Map<string, DirectoryRecord>()
  const series = new Map<string, DirectoryRecord>()
  for (const { components, facts } of files) {
    let patient = patients.get(facts.patientId)
    if (patient === undefined) {
      patient = { type: 'PATIENT', children: [], keys: [...charsetKey(facts), str(0x00100010, 'PN', facts.patientName), str(0x00100020, 'LO', facts.patientId)] }
      patients.set(facts.patientId, patient)
    }
    let study = studies.get(facts.studyInstanceUid)
    if (study === undefined) {
      study = {
        type: 'STUDY',
        children: [],
        keys: [...charsetKey(facts),
          str(0x00080020, 'DA', facts.studyDate), str(0x00080030, 'TM', facts.studyTime), str(0x00080050, 'SH', facts.accessionNumber),
          str(0x00081030, 'LO', facts.studyDescription), str(0x0020000d, 'UI', facts.studyInstanceUid), str(0x00200010, 'SH', facts.studyId)]
      }
      studies.set(facts.studyInstanceUid, study)
      patient.children.push(study)
    }
    let seriesRecord = series.get(facts.seriesInstanceUid)
    if (seriesRecord === undefined) {
      seriesRecord = {
        type: 'SERIES',
        children: [],
        keys: [...charsetKey(facts), str(0x00080060, 'CS', facts.modality), str(0x0020000e, 'UI', facts.seriesInstanceUid), str(0x00200011, 'IS', facts.seriesNumber)]
      }
      series.set(facts.seriesInstanceUid, seriesRecord)
      study.children.push(seriesRecord)
    }
    seriesRecord.children.push({
      type: 'IMAGE',
      children: [],
      keys: [...charsetKey(facts),
        str(0x00041500, 'CS', components.join('\\')), str(0x00041510, 'UI', facts.sopClassUid), str(0x00041511, 'UI', facts.sopInstanceUid),
        str(0x00041512, 'UI', facts.transferSyntaxUid), str(0x00200013, 'IS', facts.instanceNumber)]
    })
  }
  return [...patients.values()]
}

/** The DICOMDIR file for `files` (see dicomdirProblem first: it does not invent missing attributes). */
export function writeDicomdir (files: readonly DirectoryFile[], fileSetId = 'SCANHUB'): Buffer {
  const roots = recordTree(files)
  // records in the order they are stored: each one before its children, siblings in order
  const order: DirectoryRecord[] = []
  const visit = (r: DirectoryRecord): void => { order.push(r); r.children.forEach(visit) }
  roots.forEach(visit)
  const next = new Map<DirectoryRecord, DirectoryRecord | undefined>()
  const link = (siblings: DirectoryRecord[]): void => siblings.forEach((r, i) => { next.set(r, siblings[i + 1]); link(r.children) })
  link(roots)

  const encodeRecord = (r: DirectoryRecord, offsets: Map<DirectoryRecord, number>): Buffer => item(encodeElements([
    ul(0x00041400, offsets.get(next.get(r)!) ?? 0),
    us(0x00041410, 0xffff),
    ul(0x00041420, r.children.length > 0 ? offsets.get(r.children[0]) ?? 0 : 0),
    str(0x00041430, 'CS', r.type),
    ...r.keys
  ]))

  const mediaInstanceUid = '2.25.' + BigInt('0x' + randomUUID().replace(/-/g, '')).toString(10)
  const metaElements = encodeElements([
    [0x00020001, 'OB', Buffer.from([0, 1])],
    str(0x00020002, 'UI', MEDIA_STORAGE_DIRECTORY),
    str(0x00020003, 'UI', mediaInstanceUid),
    str(0x00020010, 'UI', EXPLICIT_VR_LITTLE_ENDIAN),
    str(0x00020012, 'UI', IMPLEMENTATION_CLASS_UID),
    str(0x00020013, 'SH', IMPLEMENTATION_VERSION_NAME)
  ])
  const meta = Buffer.concat([encodeElements([ul(0x00020000, metaElements.length)]), metaElements])
  const preamble = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1')])

  // First pass with zero offsets: the sizes do not depend on the values (UL is always 4 bytes).
  const zero = new Map<DirectoryRecord, number>()
  const sizes = order.map((r) => encodeRecord(r, zero).length)
  const sequenceLength = sizes.reduce((a, b) => a + b, 0)
  // (0004,1220) sorts last and is encoded empty: its length field is the header's last 4 bytes
  const header = (first: number, last: number): Buffer => {
    const bytes = encodeElements([
      str(0x00041130, 'CS', fileSetId),
      ul(0x00041200, first),
      ul(0x00041202, last),
      us(0x00041212, 0),
      [0x00041220, 'SQ', Buffer.alloc(0)]
    ])
    bytes.writeUInt32LE(sequenceLength, bytes.length - 4)
    return bytes
  }
  const datasetHead = header(0, 0)
  const firstItemAt = preamble.length + meta.length + datasetHead.length
  const offsets = new Map<DirectoryRecord, number>()
  let at = firstItemAt
  order.forEach((r, i) => { offsets.set(r, at); at += sizes[i] })
  const finalHead = header(offsets.get(roots[0]) ?? 0, offsets.get(roots[roots.length - 1]) ?? 0)
  return Buffer.concat([preamble, meta, finalHead, ...order.map((r) => encodeRecord(r, offsets))])
}
