// Turning rows of the ISMRMRD `/dataset/data` compound, as h5wasm 0.10 hands them over, into
// Acquisitions. The compound is `{ head: AcquisitionHeader (nested compound with array members and
// the nested compound idx), traj: VLEN float32, data: VLEN float32 }`.
//
// What h5wasm 0.10 does with it (found by reading files from ismrmrd_generate_cartesian_shepp_logan
// and the OSI2 ONE fixture):
// - Dataset.metadata describes the *memory* layout: the member offsets of the file type (head packed,
//   340 bytes, as ismrmrd.h), but every VLEN member shrunk to an 8-byte wasm32 hvl_t
//   `{ u32 length; u32 pointer }` (libismrmrd's file has traj at 344 and data at 360, 16 bytes each; in
//   memory they are 8 bytes at 344 and 352, row size 360; Python-written files are packed: 340/348/356).
// - Dataset.slice() returns one positional array per row: [head, traj, data]; head is itself a
//   positional array in member order, scalars as numbers except u64 (flags) as bigint, array members
//   as nested plain arrays of numbers — u64 arrays (channel_mask) converted with Number(), so bits
//   above 2^53 are lost — and idx as a nested positional array; traj and data as Float32Array.
// - slice() frees the VLEN buffers only when the dataset's own type is VLEN, not for VLEN members of
//   a compound: every slice of /dataset/data leaks its traj and data in the wasm heap (measured: 20
//   reads of an 8 MiB dataset grew the heap from 19 MB to 208 MB).
// So the importer reads rows itself (Module.get_dataset_data into a buffer it owns, decodes head
// fields by name at the offsets the metadata gives, copies the VLEN arrays out, then
// reclaim_vlen_memory_count and _free), which is exact and leak-free; acquisitionFromSliceRow()
// converts slice() rows for when those low-level functions are not there.
import type { CompoundMember, Metadata } from 'h5wasm/node'
import type { Acquisition, AcquisitionHeader, EncodingCounters } from '../../protocol/mrd/types.ts'
import type { MrdWarning } from '../../protocol/mrd/xml-header.ts'
import { emptyAcquisitionHeader } from '../../protocol/mrd/acquisition-header.ts'
import { IsmrmrdImportError } from './errors.ts'

// HDF5 type classes (H5T_class_t), as h5wasm's metadata numbers them.
const H5T_INTEGER = 0
const H5T_FLOAT = 1
const H5T_COMPOUND = 6
const H5T_VLEN = 9
const H5T_ARRAY = 10
/** sizeof(hvl_t) in wasm32: size_t length, void* pointer. */
const HVL_T_SIZE = 8

type HeadKey = Exclude<keyof AcquisitionHeader, 'idx'>
type IdxKey = keyof EncodingCounters

/** ISMRMRD member name → our field, value count, u64 (bigint) or not. */
const HEAD_FIELDS: [string, HeadKey, number, boolean][] = [
  ['version', 'version', 1, false],
  ['flags', 'flags', 1, true],
  ['measurement_uid', 'measurementUid', 1, false],
  ['scan_counter', 'scanCounter', 1, false],
  ['acquisition_time_stamp', 'acquisitionTimeStamp', 1, false],
  ['physiology_time_stamp', 'physiologyTimeStamp', 3, false],
  ['number_of_samples', 'numberOfSamples', 1, false],
  ['available_channels', 'availableChannels', 1, false],
  ['active_channels', 'activeChannels', 1, false],
  ['channel_mask', 'channelMask', 16, true],
  ['discard_pre', 'discardPre', 1, false],
  ['discard_post', 'discardPost', 1, false],
  ['center_sample', 'centerSample', 1, false],
  ['encoding_space_ref', 'encodingSpaceRef', 1, false],
  ['trajectory_dimensions', 'trajectoryDimensions', 1, false],
  ['sample_time_us', 'sampleTimeUs', 1, false],
  ['position', 'position', 3, false],
  ['read_dir', 'readDir', 3, false],
  ['phase_dir', 'phaseDir', 3, false],
  ['slice_dir', 'sliceDir', 3, false],
  ['patient_table_position', 'patientTablePosition', 3, false],
  ['user_int', 'userInt', 8, false],
  ['user_float', 'userFloat', 8, false]
]

const IDX_FIELDS: [string, IdxKey, number][] = [
  ['kspace_encode_step_1', 'kspaceEncodeStep1', 1],
  ['kspace_encode_step_2', 'kspaceEncodeStep2', 1],
  ['average', 'average', 1],
  ['slice', 'slice', 1],
  ['contrast', 'contrast', 1],
  ['phase', 'phase', 1],
  ['repetition', 'repetition', 1],
  ['set', 'set', 1],
  ['segment', 'segment', 1],
  ['user', 'user', 8]
]

type Scalar = number | bigint
type ScalarReader = (view: DataView, offset: number) => Scalar

/** A numeric member (scalar or ARRAY of scalars): where it is and how to read one element. */
interface NumericMember {
  offset: number
  count: number
  elementSize: number
  read: ScalarReader
}

interface VlenMember {
  offset: number
  /** Floats per VLEN element: 1 for float, 2 for a {real, imag} compound. */
  floatsPerElement: number
  elementSize: number
  floatSize: 4 | 8
}

/** Where everything is in one row of /dataset/data, compiled once per dataset. */
export interface AcquisitionRowLayout {
  rowSize: number
  head: { fields: [HeadKey, NumericMember, boolean][], idx: [IdxKey, NumericMember][] }
  traj: VlenMember | undefined
  data: VlenMember
  /** Member names in row order, for converting slice() rows. */
  memberNames: string[]
  headMemberNames: string[]
  idxMemberNames: string[]
}

function scalarReader (meta: Metadata, where: string): { read: ScalarReader, size: number } {
  const { type, size, signed } = meta
  if (type === H5T_INTEGER) {
    switch (size) {
      case 1: return { size, read: signed ? (v, o) => v.getInt8(o) : (v, o) => v.getUint8(o) }
      case 2: return { size, read: signed ? (v, o) => v.getInt16(o, true) : (v, o) => v.getUint16(o, true) }
      case 4: return { size, read: signed ? (v, o) => v.getInt32(o, true) : (v, o) => v.getUint32(o, true) }
      case 8: return { size, read: signed ? (v, o) => v.getBigInt64(o, true) : (v, o) => v.getBigUint64(o, true) }
    }
  }
  if (type === H5T_FLOAT) {
    if (size === 4) return { size, read: (v, o) => v.getFloat32(o, true) }
    if (size === 8) return { size, read: (v, o) => v.getFloat64(o, true) }
  }
  throw new IsmrmrdImportError(`${where} has HDF5 type class ${type} of ${size} bytes, not a number ISMRMRD uses`)
}

function numericMember (member: CompoundMember, base: number, expected: number, where: string): NumericMember {
  let meta: Metadata = member
  let count = 1
  if (member.type === H5T_ARRAY && member.array_type !== undefined) {
    meta = member.array_type
    count = (meta.shape ?? []).reduce((a, b) => a * b, 1)
  }
  if (count !== expected) throw new IsmrmrdImportError(`${where} has ${count} values, ISMRMRD defines ${expected}`)
  const { read, size } = scalarReader(meta, where)
  return { offset: base + member.offset, count, elementSize: size, read }
}

function vlenMember (member: CompoundMember, where: string): VlenMember {
  if (member.type !== H5T_VLEN || member.vlen_type === undefined) {
    throw new IsmrmrdImportError(`${where} is HDF5 type class ${member.type}, ISMRMRD stores it as a variable-length float array`)
  }
  if (member.size !== HVL_T_SIZE) throw new IsmrmrdImportError(`${where}: h5wasm hands VLEN members over as ${member.size}-byte descriptors, this reader knows ${HVL_T_SIZE}`)
  const base = member.vlen_type
  if (base.type === H5T_FLOAT && (base.size === 4 || base.size === 8)) {
    return { offset: member.offset, floatsPerElement: 1, elementSize: base.size, floatSize: base.size }
  }
  // Some writers store complex samples as VLEN of {real, imag}.
  const parts = base.compound_type?.members
  if (base.type === H5T_COMPOUND && parts?.length === 2 && parts.every((p) => p.type === H5T_FLOAT && p.size === parts[0].size && (p.size === 4 || p.size === 8))) {
    return { offset: member.offset, floatsPerElement: 2, elementSize: base.size, floatSize: parts[0].size as 4 | 8 }
  }
  throw new IsmrmrdImportError(`${where} is a variable-length array of HDF5 type class ${base.type}, not of float`)
}

/**
 * Compiles the row layout of an ISMRMRD `/dataset/data` from h5wasm's metadata. Throws
 * IsmrmrdImportError when the dataset is not that compound; head members that are missing are
 * reported as warnings and read as in an empty header.
 */
export function compileAcquisitionLayout (metadata: Metadata, path: string): { layout: AcquisitionRowLayout, warnings: MrdWarning[] } {
  const warnings: MrdWarning[] = []
  const members = metadata.compound_type?.members
  if (metadata.type !== H5T_COMPOUND || members === undefined) {
    throw new IsmrmrdImportError(`${path} is not an ISMRMRD acquisition table: HDF5 type class ${metadata.type}, not a compound {head, traj, data}`)
  }
  const find = (list: CompoundMember[], name: string): CompoundMember | undefined => list.find((m) => m.name === name)
  const headMember = find(members, 'head')
  const dataMember = find(members, 'data')
  if (headMember === undefined || dataMember === undefined) {
    throw new IsmrmrdImportError(`${path} is not an ISMRMRD acquisition table: its compound has members ${members.map((m) => m.name).join(', ')}, not head, traj and data`)
  }
  const headMembers = headMember.compound_type?.members
  if (headMember.type !== H5T_COMPOUND || headMembers === undefined) throw new IsmrmrdImportError(`${path}: head is not a compound`)

  const fields: [HeadKey, NumericMember, boolean][] = []
  for (const [name, key, count, isBig] of HEAD_FIELDS) {
    const member = find(headMembers, name)
    if (member === undefined) {
      warnings.push({ path: `${path}/head/${name}`, message: `the acquisition header has no ${name}; read as in an empty header` })
      continue
    }
    fields.push([key, numericMember(member, headMember.offset, count, `${path}/head/${name}`), isBig])
  }
  const idx: [IdxKey, NumericMember][] = []
  const idxMember = find(headMembers, 'idx')
  const idxMembers = idxMember?.compound_type?.members ?? []
  if (idxMember === undefined || idxMember.type !== H5T_COMPOUND) {
    warnings.push({ path: `${path}/head/idx`, message: 'the acquisition header has no encoding counters (idx); read as 0' })
  } else {
    for (const [name, key, count] of IDX_FIELDS) {
      const member = find(idxMembers, name)
      if (member === undefined) {
        warnings.push({ path: `${path}/head/idx/${name}`, message: `the encoding counters have no ${name}; read as 0` })
        continue
      }
      idx.push([key, numericMember(member, headMember.offset + idxMember.offset, count, `${path}/head/idx/${name}`)])
    }
  }
  const trajMember = find(members, 'traj')
  return {
    layout: {
      rowSize: metadata.size,
      head: { fields, idx },
      traj: trajMember === undefined ? undefined : vlenMember(trajMember, `${path}/traj`),
      data: vlenMember(dataMember, `${path}/data`),
      memberNames: members.map((m) => m.name),
      headMemberNames: headMembers.map((m) => m.name),
      idxMemberNames: idxMembers.map((m) => m.name)
    },
    warnings
  }
}

function readNumeric (view: DataView, base: number, m: NumericMember, big: boolean): Scalar | Scalar[] {
  const values: Scalar[] = []
  for (let i = 0; i < m.count; i++) {
    const raw = m.read(view, base + m.offset + i * m.elementSize)
    values.push(big ? BigInt(raw) : Number(raw))
  }
  return m.count === 1 ? values[0] : values
}

/** Copies a VLEN array out of the wasm heap as float32 (its hvl_t at `at` in `view`). */
function copyVlen (view: DataView, heap: Uint8Array, at: number, vlen: VlenMember): Float32Array {
  const length = view.getUint32(at, true)
  const pointer = view.getUint32(at + 4, true)
  const floats = length * vlen.floatsPerElement
  if (length === 0) return new Float32Array(0)
  if (pointer + length * vlen.elementSize > heap.byteLength) throw new IsmrmrdImportError('a variable-length array points outside the wasm heap')
  if (vlen.floatSize === 4) {
    const out = new Float32Array(floats)
    new Uint8Array(out.buffer).set(heap.subarray(pointer, pointer + floats * 4))
    return out
  }
  const source = new DataView(heap.buffer, heap.byteOffset + pointer, floats * 8)
  return Float32Array.from({ length: floats }, (_, i) => source.getFloat64(i * 8, true))
}

function checkArrays (acquisition: Acquisition, index: number, path: string): Acquisition {
  const { head, traj, data } = acquisition
  const expectedData = 2 * head.activeChannels * head.numberOfSamples
  if (data.length !== expectedData) {
    throw new IsmrmrdImportError(`${path}[${index}]: data has ${data.length} floats, but the header announces ${head.activeChannels} channels × ${head.numberOfSamples} samples = ${expectedData}`)
  }
  const expectedTraj = head.trajectoryDimensions * head.numberOfSamples
  if (traj.length !== expectedTraj) {
    throw new IsmrmrdImportError(`${path}[${index}]: traj has ${traj.length} floats, but the header announces ${head.trajectoryDimensions} dimensions × ${head.numberOfSamples} samples = ${expectedTraj}`)
  }
  return acquisition
}

/**
 * Decodes row `row` of a buffer of rows that h5wasm's Module.get_dataset_data filled. `view` covers
 * the rows; `heap` is the wasm heap the VLEN pointers point into. `index` and `path` name the row in
 * errors.
 */
export function decodeAcquisitionRow (layout: AcquisitionRowLayout, view: DataView, heap: Uint8Array, row: number, index: number, path: string): Acquisition {
  const base = row * layout.rowSize
  const head = emptyAcquisitionHeader()
  const target = head as unknown as Record<string, unknown>
  for (const [key, member, big] of layout.head.fields) target[key] = readNumeric(view, base, member, big)
  const idx = head.idx as unknown as Record<string, unknown>
  for (const [key, member] of layout.head.idx) idx[key] = readNumeric(view, base, member, false)
  const traj = layout.traj === undefined ? new Float32Array(0) : copyVlen(view, heap, base + layout.traj.offset, layout.traj)
  const data = copyVlen(view, heap, base + layout.data.offset, layout.data)
  return checkArrays({ head, traj, data }, index, path)
}

// --- slice() rows ------------------------------------------------------------------------------

/** A member value of a slice() row: positional array, or an object keyed by name in other versions. */
function memberOf (value: unknown, names: string[], name: string): unknown {
  if (Array.isArray(value)) {
    const at = names.indexOf(name)
    return at < 0 ? undefined : value[at]
  }
  if (value !== null && typeof value === 'object') return (value as Record<string, unknown>)[name]
  return undefined
}

function toScalars (value: unknown, count: number, big: boolean, where: string): Scalar | Scalar[] {
  const flat: unknown[] = []
  const walk = (v: unknown): void => {
    if (Array.isArray(v) || ArrayBuffer.isView(v)) for (const x of Array.from(v as ArrayLike<unknown>)) walk(x)
    else flat.push(v)
  }
  walk(value)
  if (flat.length !== count) throw new IsmrmrdImportError(`${where} has ${flat.length} values, ISMRMRD defines ${count}`)
  const values = flat.map((v) => {
    if (typeof v === 'bigint') return big ? v : Number(v)
    if (typeof v === 'number') return big ? BigInt(Math.round(v)) : v
    throw new IsmrmrdImportError(`${where} holds a ${typeof v}, not a number`)
  })
  return count === 1 ? values[0] : values
}

function toFloat32 (value: unknown, where: string): Float32Array {
  if (value === undefined || value === null) return new Float32Array(0)
  if (value instanceof Float32Array) return value
  if (ArrayBuffer.isView(value) || Array.isArray(value)) {
    const flat: number[] = []
    const walk = (v: unknown): void => {
      if (Array.isArray(v) || ArrayBuffer.isView(v)) for (const x of Array.from(v as ArrayLike<unknown>)) walk(x)
      else flat.push(Number(v))
    }
    walk(value)
    return Float32Array.from(flat)
  }
  throw new IsmrmrdImportError(`${where} is a ${typeof value}, not an array of floats`)
}

/**
 * Converts a row as h5wasm's Dataset.slice() returns it. Exact except for u64 array members
 * (channel_mask), which slice() has already passed through Number().
 */
export function acquisitionFromSliceRow (layout: AcquisitionRowLayout, row: unknown, index: number, path: string): Acquisition {
  const headValue = memberOf(row, layout.memberNames, 'head')
  if (headValue === undefined) throw new IsmrmrdImportError(`${path}[${index}] has no head`)
  const head = emptyAcquisitionHeader()
  const target = head as unknown as Record<string, unknown>
  for (const [name, key, count, big] of HEAD_FIELDS) {
    const value = memberOf(headValue, layout.headMemberNames, name)
    if (value !== undefined) target[key] = toScalars(value, count, big, `${path}[${index}]/head/${name}`)
  }
  const idxValue = memberOf(headValue, layout.headMemberNames, 'idx')
  const idx = head.idx as unknown as Record<string, unknown>
  for (const [name, key, count] of IDX_FIELDS) {
    const value = idxValue === undefined ? undefined : memberOf(idxValue, layout.idxMemberNames, name)
    if (value !== undefined) idx[key] = toScalars(value, count, false, `${path}[${index}]/head/idx/${name}`)
  }
  const traj = toFloat32(memberOf(row, layout.memberNames, 'traj'), `${path}[${index}]/traj`)
  const data = toFloat32(memberOf(row, layout.memberNames, 'data'), `${path}[${index}]/data`)
  return checkArrays({ head, traj, data }, index, path)
}
