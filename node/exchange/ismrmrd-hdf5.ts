// ISMRMRD HDF5 files of the lab's raw data, as libismrmrd writes them and reads them (as do h5py and
// the lab's own importer):
//   /dataset/xml   one variable-length string: the ISMRMRD XML header
//   /dataset/data  one row per acquisition: { head: AcquisitionHeader, traj: vlen float32,
//                  data: vlen float32 (complex samples as re/im pairs) }
// The row type is libismrmrd's (dataset.c, get_hdf5type_acquisition): the header packed in 340 bytes
// at offset 0 with ismrmrd.h's member names, traj at 344 and data at 360, 376 bytes per row.
// Only acquisitions are written: waveforms, images and text of an MRD stream are left out (the
// plan's `leftOut` names them), as is everything else libismrmrd can put in a file.
import type { Acquisition } from '../../protocol/mrd/types.ts'
import { writeAcquisitionHeader } from '../../protocol/mrd/acquisition-header.ts'
import { MrdStreamDecoder } from '../../protocol/mrd/stream-decoder.ts'
import type { MrdMessage } from '../../protocol/mrd/stream.ts'
import { utf8Encode } from '../../protocol/mrd/bytes.ts'
import {
  Hdf5FileLayout, Hdf5WriteError, VLEN_DISK_SIZE, arrayOf, encodeVlenElement, float32, int32, littleEndianBytes, packedCompound, uint16,
  uint32, uint64, type Hdf5Type
} from './hdf5-writer.ts'

/** ISMRMRD_EncodingCounters, 34 bytes. */
export const ENCODING_COUNTERS_TYPE: Hdf5Type = packedCompound([
  ['kspace_encode_step_1', uint16],
  ['kspace_encode_step_2', uint16],
  ['average', uint16],
  ['slice', uint16],
  ['contrast', uint16],
  ['phase', uint16],
  ['repetition', uint16],
  ['set', uint16],
  ['segment', uint16],
  ['user', arrayOf(uint16, 8)]
])

/** ISMRMRD_AcquisitionHeader, 340 bytes: the same bytes as in an MRD stream. */
export const ACQUISITION_HEADER_TYPE: Hdf5Type = packedCompound([
  ['version', uint16],
  ['flags', uint64],
  ['measurement_uid', uint32],
  ['scan_counter', uint32],
  ['acquisition_time_stamp', uint32],
  ['physiology_time_stamp', arrayOf(uint32, 3)],
  ['number_of_samples', uint16],
  ['available_channels', uint16],
  ['active_channels', uint16],
  ['channel_mask', arrayOf(uint64, 16)],
  ['discard_pre', uint16],
  ['discard_post', uint16],
  ['center_sample', uint16],
  ['encoding_space_ref', uint16],
  ['trajectory_dimensions', uint16],
  ['sample_time_us', float32],
  ['position', arrayOf(float32, 3)],
  ['read_dir', arrayOf(float32, 3)],
  ['phase_dir', arrayOf(float32, 3)],
  ['slice_dir', arrayOf(float32, 3)],
  ['patient_table_position', arrayOf(float32, 3)],
  ['idx', ENCODING_COUNTERS_TYPE],
  ['user_int', arrayOf(int32, 8)],
  ['user_float', arrayOf(float32, 8)]
])

const TRAJ_OFFSET = 344
const DATA_OFFSET = 360
const ROW_SIZE = 376

/** A row of /dataset/data, laid out as libismrmrd lays it out. */
export const ACQUISITION_ROW_TYPE: Hdf5Type = {
  kind: 'compound',
  size: ROW_SIZE,
  members: [
    { name: 'head', offset: 0, type: ACQUISITION_HEADER_TYPE },
    { name: 'traj', offset: TRAJ_OFFSET, type: { kind: 'vlen', base: float32 } },
    { name: 'data', offset: DATA_OFFSET, type: { kind: 'vlen', base: float32 } }
  ]
}

export interface IsmrmrdHdf5Source {
  /** the ISMRMRD XML header */
  xml: string
  /** the acquisitions in order; called once per pass over them, it must give the same ones each time */
  acquisitions: () => AsyncIterable<Acquisition> | Iterable<Acquisition>
}

/** An ISMRMRD HDF5 file laid out and ready to be written. */
export interface PlannedIsmrmrdHdf5 {
  /** bytes of the file */
  size: number
  acquisitions: number
  /** what an MRD stream held that the file does not, in words ('2 waveforms'); empty when nothing */
  leftOut: string[]
  /** the file's bytes; may be called more than once, reads the acquisitions twice each time */
  bytes: () => AsyncGenerator<Uint8Array>
}

/** Rows per chunk of /dataset/data that `bytes()` yields (about 96 KiB). */
const ROWS_PER_CHUNK = 256

/** Lays out the ISMRMRD HDF5 file of `source`: one pass over its acquisitions to learn their sizes. */
export async function planIsmrmrdHdf5 (source: IsmrmrdHdf5Source): Promise<PlannedIsmrmrdHdf5> {
  const xml = utf8Encode(source.xml)
  // per acquisition, how many floats its trajectory and its data hold
  const trajLengths: number[] = []
  const dataLengths: number[] = []
  const heapObjects: number[] = []
  if (xml.length > 0) heapObjects.push(xml.length)
  for await (const a of source.acquisitions()) {
    trajLengths.push(a.traj.length)
    dataLengths.push(a.data.length)
    if (a.traj.length > 0) heapObjects.push(a.traj.byteLength)
    if (a.data.length > 0) heapObjects.push(a.data.byteLength)
  }
  const count = trajLengths.length
  const layout = new Hdf5FileLayout([
    // UTF-8 bytes labelled ASCII, as libismrmrd writes them: libismrmrd reads the header as an ASCII
    // string and libhdf5 has no conversion from a UTF-8-labelled one (the read fails)
    { path: 'dataset/xml', type: { kind: 'vlen-string', charset: 'ascii' }, shape: [1] },
    { path: 'dataset/data', type: ACQUISITION_ROW_TYPE, shape: [count] }
  ], heapObjects)

  const changed = (index: number): Hdf5WriteError => new Hdf5WriteError(`acquisition ${index} differs from when the file was laid out: the raw data changed while it was written`)
  const xmlElement = (): Uint8Array[] => {
    const element = new Uint8Array(VLEN_DISK_SIZE)
    encodeVlenElement(new DataView(element.buffer), 0, xml.length, xml.length > 0 ? layout.heap.id(0) : undefined)
    return [element]
  }
  const rows = async function * (): AsyncGenerator<Uint8Array> {
    let heapObject = xml.length > 0 ? 1 : 0
    let chunk = new Uint8Array(ROWS_PER_CHUNK * ROW_SIZE)
    let view = new DataView(chunk.buffer)
    let inChunk = 0
    let index = 0
    for await (const a of source.acquisitions()) {
      if (index >= count || a.traj.length !== trajLengths[index] || a.data.length !== dataLengths[index]) throw changed(index)
      const at = inChunk * ROW_SIZE
      writeAcquisitionHeader(view, at, a.head)
      encodeVlenElement(view, at + TRAJ_OFFSET, a.traj.length, a.traj.length > 0 ? layout.heap.id(heapObject++) : undefined)
      encodeVlenElement(view, at + DATA_OFFSET, a.data.length, a.data.length > 0 ? layout.heap.id(heapObject++) : undefined)
      index++
      if (++inChunk === ROWS_PER_CHUNK) {
        yield chunk
        chunk = new Uint8Array(ROWS_PER_CHUNK * ROW_SIZE)
        view = new DataView(chunk.buffer)
        inChunk = 0
      }
    }
    if (index !== count) throw changed(index)
    if (inChunk > 0) yield chunk.subarray(0, inChunk * ROW_SIZE)
  }
  const samples = async function * (): AsyncGenerator<Uint8Array> {
    if (xml.length > 0) yield xml
    for await (const a of source.acquisitions()) {
      if (a.traj.length > 0) yield littleEndianBytes(a.traj)
      if (a.data.length > 0) yield littleEndianBytes(a.data)
    }
  }
  return {
    size: layout.size,
    acquisitions: count,
    leftOut: [],
    bytes: () => layout.write((dataset) => dataset === 0 ? xmlElement() : rows(), samples())
  }
}

/** Why an MRD stream cannot become an ISMRMRD HDF5 file. */
export class IsmrmrdHdf5Error extends Error {
  override name = 'IsmrmrdHdf5Error'
}

/**
 * Lays out the ISMRMRD HDF5 file of an MRD v1 stream. `read` gives the stream's bytes and is called
 * once per pass (twice here, twice for each `bytes()`), so a stream of any size is never held whole.
 * Throws IsmrmrdHdf5Error when the stream is unreadable or has no XML header.
 */
export async function planIsmrmrdHdf5FromMrdStream (read: () => AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<PlannedIsmrmrdHdf5> {
  const messages = async function * (): AsyncGenerator<MrdMessage> {
    const decoder = new MrdStreamDecoder()
    for await (const chunk of read()) yield * decoder.push(chunk)
    decoder.finish()
  }
  let xml: string | undefined
  const others = new Map<string, number>()
  try {
    for await (const message of messages()) {
      if (message.type === 'header') xml ??= message.xml
      else if (message.type === 'image' || message.type === 'waveform' || message.type === 'text') others.set(message.type, (others.get(message.type) ?? 0) + 1)
    }
  } catch (err) {
    throw new IsmrmrdHdf5Error(`the raw data is not a readable MRD stream: ${(err as Error).message}`, { cause: err })
  }
  if (xml === undefined) throw new IsmrmrdHdf5Error('the raw data has no ISMRMRD XML header, which an ISMRMRD HDF5 file needs')
  const planned = await planIsmrmrdHdf5({
    xml,
    acquisitions: async function * () {
      for await (const message of messages()) if (message.type === 'acquisition') yield message.acquisition
    }
  })
  return { ...planned, leftOut: [...others].map(([type, n]) => `${n} ${type === 'text' ? 'text message' : type}${n === 1 ? '' : 's'}`) }
}
