// Test support: reads ISMRMRD HDF5 files (from Debian's ismrmrd tools, and the OSI2 ONE fixture) with
// h5wasm, just enough for the reconstruction tests: the acquisitions, the header fields the
// reconstruction uses (from the XML, by regular expressions) and image datasets. The product's
// importer is elsewhere; this one stays small on purpose and is used only by tests.
import h5wasm from 'h5wasm/node'
import type { Acquisition, AcquisitionHeader } from '../../protocol/mrd/types.ts'
import type { Limit, Matrix3, ReconHeader, Triple } from '../stages/stage.ts'

type Row = unknown[]

function matrix (xml: string, section: string, field: string): Matrix3 {
  const block = new RegExp(`<${section}>[\\s\\S]*?<${field}>([\\s\\S]*?)</${field}>`).exec(xml)?.[1] ?? ''
  const get = (axis: string): number => Number(new RegExp(`<${axis}>\\s*([-0-9.eE+]+)\\s*</${axis}>`).exec(block)?.[1] ?? 0)
  return { x: get('x'), y: get('y'), z: get('z') }
}

function limit (xml: string, name: string): Limit | undefined {
  const block = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml)?.[1]
  if (block === undefined) return undefined
  const get = (field: string): number => Number(new RegExp(`<${field}>\\s*(\\d+)\\s*</${field}>`).exec(block)?.[1] ?? 0)
  return { minimum: get('minimum'), maximum: get('maximum'), center: get('center') }
}

/** The ReconHeader of an ISMRMRD XML header (first encoding). */
export function reconHeaderFromXml (xml: string): ReconHeader {
  const encoding = /<encoding>([\s\S]*?)<\/encoding>/.exec(xml)?.[1] ?? ''
  const step1 = limit(encoding, 'kspace_encoding_step_1')
  const step2 = limit(encoding, 'kspace_encoding_step_2')
  return {
    encodedMatrix: matrix(encoding, 'encodedSpace', 'matrixSize'),
    reconMatrix: matrix(encoding, 'reconSpace', 'matrixSize'),
    fovMm: { encoded: matrix(encoding, 'encodedSpace', 'fieldOfView_mm'), recon: matrix(encoding, 'reconSpace', 'fieldOfView_mm') },
    encodingLimits: { ...(step1 !== undefined ? { kspaceEncodingStep1: step1 } : {}), ...(step2 !== undefined ? { kspaceEncodingStep2: step2 } : {}) }
  }
}

function named (names: string[], row: Row): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  names.forEach((n, i) => { out[n] = row[i] })
  return out
}

const num = (v: unknown): number => Number(v)
const nums = (v: unknown): number[] => Array.from(v as ArrayLike<unknown>, Number)
const triple = (v: unknown): Triple => nums(v) as Triple

function toHeader (h: Record<string, unknown>, idxNames: string[]): AcquisitionHeader {
  const idx = named(idxNames, h.idx as Row)
  return {
    version: num(h.version),
    flags: BigInt(h.flags as bigint | number),
    measurementUid: num(h.measurement_uid),
    scanCounter: num(h.scan_counter),
    acquisitionTimeStamp: num(h.acquisition_time_stamp),
    physiologyTimeStamp: nums(h.physiology_time_stamp),
    numberOfSamples: num(h.number_of_samples),
    availableChannels: num(h.available_channels),
    activeChannels: num(h.active_channels),
    channelMask: Array.from(h.channel_mask as ArrayLike<number | bigint>, (v) => BigInt(v)),
    discardPre: num(h.discard_pre),
    discardPost: num(h.discard_post),
    centerSample: num(h.center_sample),
    encodingSpaceRef: num(h.encoding_space_ref),
    trajectoryDimensions: num(h.trajectory_dimensions),
    sampleTimeUs: num(h.sample_time_us),
    position: triple(h.position),
    readDir: triple(h.read_dir),
    phaseDir: triple(h.phase_dir),
    sliceDir: triple(h.slice_dir),
    patientTablePosition: triple(h.patient_table_position),
    idx: {
      kspaceEncodeStep1: num(idx.kspace_encode_step_1),
      kspaceEncodeStep2: num(idx.kspace_encode_step_2),
      average: num(idx.average),
      slice: num(idx.slice),
      contrast: num(idx.contrast),
      phase: num(idx.phase),
      repetition: num(idx.repetition),
      set: num(idx.set),
      segment: num(idx.segment),
      user: nums(idx.user)
    },
    userInt: nums(h.user_int),
    userFloat: nums(h.user_float)
  }
}

interface H5Dataset {
  dtype: unknown
  shape: number[] | null
  value: unknown
}

export interface IsmrmrdH5 {
  xml: string
  header: ReconHeader
  acquisitions: Acquisition[]
}

/** Reads /<group>/xml and /<group>/data. */
export async function readIsmrmrdH5 (path: string, group = 'dataset'): Promise<IsmrmrdH5> {
  await h5wasm.ready
  const file = new h5wasm.File(path, 'r')
  try {
    const xmlValue = (file.get(`${group}/xml`) as unknown as H5Dataset).value
    const xml = String(Array.isArray(xmlValue) ? xmlValue[0] : xmlValue)
    const ds = file.get(`${group}/data`) as unknown as H5Dataset
    const dtype = ds.dtype as Array<[string, unknown]>
    const headType = dtype.find(([n]) => n === 'head')?.[1] as Array<[string, unknown]>
    const headNames = headType.map(([n]) => n)
    const idxNames = (headType.find(([n]) => n === 'idx')?.[1] as Array<[string, unknown]>).map(([n]) => n)
    const rowNames = dtype.map(([n]) => n)
    const acquisitions = (ds.value as Row[]).map((r) => {
      const row = named(rowNames, r)
      return {
        head: toHeader(named(headNames, row.head as Row), idxNames),
        traj: Float32Array.from(row.traj as ArrayLike<number>),
        data: Float32Array.from(row.data as ArrayLike<number>)
      }
    })
    return { xml, header: reconHeaderFromXml(xml), acquisitions }
  } finally {
    file.close()
  }
}

/** Reads a numeric dataset (e.g. the image written by ismrmrd_recon_cartesian_2d). */
export async function readH5Array (path: string, dataset: string): Promise<{ shape: number[], data: Float32Array }> {
  await h5wasm.ready
  const file = new h5wasm.File(path, 'r')
  try {
    const ds = file.get(dataset) as unknown as H5Dataset
    return { shape: ds.shape ?? [], data: Float32Array.from(ds.value as ArrayLike<number>) }
  } finally {
    file.close()
  }
}
