// Import of ISMRMRD HDF5 files (`/dataset/xml`, `/dataset/data`) with h5wasm, which reads but cannot
// write their VLEN members. The header is read at once; acquisitions are read in hyperslabs of a
// bounded size as the caller iterates, so a file of several GB never sits in memory whole.
import { open, stat } from 'node:fs/promises'
import { setImmediate as nextTurn } from 'node:timers/promises'
import type * as H5 from 'h5wasm/node'
import type { Acquisition } from '../../protocol/mrd/types.ts'
import type { IsmrmrdHeader, MrdWarning } from '../../protocol/mrd/xml-header.ts'
import { parseIsmrmrdXml, validateIsmrmrdHeader } from '../../protocol/mrd/xml-header.ts'
import { IsmrmrdXmlError } from '../../protocol/mrd/errors.ts'
import { IsmrmrdImportError } from './errors.ts'
import { acquisitionFromSliceRow, compileAcquisitionLayout, decodeAcquisitionRow } from './h5wasm-acquisitions.ts'
import type { AcquisitionRowLayout } from './h5wasm-acquisitions.ts'

export interface ReadIsmrmrdHdf5Options {
  /** The group that holds `xml` and `data`. Default 'dataset', as libismrmrd writes it. */
  dataset?: string
  /** Called with each warning as it is found: the header's at once, the acquisitions' while iterating. */
  onWarning?: (warning: MrdWarning) => void
  /** About how many bytes of samples to read per hyperslab. Default 16 MiB. */
  sliceBytes?: number
  /**
   * 'raw' decodes rows from h5wasm's memory (exact, frees every buffer); 'slice' goes through
   * Dataset.slice() (leaks the VLEN buffers in h5wasm 0.10 and rounds channel masks above 2^53).
   * Default 'raw' when this h5wasm exposes the functions it needs, else 'slice'.
   */
  reader?: 'raw' | 'slice'
}

export interface IsmrmrdHdf5Import {
  path: string
  /** The XML header exactly as stored, for passing on untouched. */
  xml: string
  header: IsmrmrdHeader
  /** Number of acquisitions. */
  count: number
  /**
   * Everything implausible found so far: the header's from the start, the acquisitions' (such as
   * "no acquisition has any flag set") added as iteration finds them. At most one per field.
   */
  warnings: MrdWarning[]
  /** The acquisitions in file order, read a hyperslab at a time; may be iterated more than once. */
  acquisitions: AsyncIterable<Acquisition>
  /** Acquisitions [start, end) at once. */
  readAcquisitions: (start?: number, end?: number) => Promise<Acquisition[]>
}

const DEFAULT_DATASET = 'dataset'
const DEFAULT_SLICE_BYTES = 16 * 1024 * 1024
/** The 8-byte HDF5 signature; the superblock sits at 0 or, after a user block, at 512 × 2^n. */
const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]

/** Checks what h5wasm cannot: that the file exists and is HDF5 (h5wasm returns a negative id and prints errors). */
async function checkHdf5File (path: string): Promise<void> {
  let size: number
  try {
    const info = await stat(path)
    if (!info.isFile()) throw new IsmrmrdImportError(`${path} is not a file`)
    size = info.size
  } catch (err) {
    if (err instanceof IsmrmrdImportError) throw err
    throw new IsmrmrdImportError(`cannot read ${path}: ${(err as Error).message}`, { cause: err })
  }
  const handle = await open(path, 'r')
  try {
    const signature = Buffer.alloc(8)
    for (let at = 0; at + 8 <= size; at = at === 0 ? 512 : at * 2) {
      await handle.read(signature, 0, 8, at)
      if (HDF5_SIGNATURE.every((b, i) => signature[i] === b)) return
    }
  } finally {
    await handle.close()
  }
  throw new IsmrmrdImportError(`${path} is not an HDF5 file (no HDF5 signature)`)
}

function openFile (h5: typeof H5, path: string): H5.File {
  const file = new h5.File(path, 'r')
  if (file.file_id < 0n) throw new IsmrmrdImportError(`h5wasm could not open ${path} as HDF5`)
  return file
}

function getDataset (h5: typeof H5, file: H5.File, path: string, what: string): H5.Dataset {
  const entity = file.get(path)
  if (!(entity instanceof h5.Dataset)) {
    throw new IsmrmrdImportError(`not an ISMRMRD file: ${entity === null ? 'no' : 'no dataset at'} ${path} (${what})`)
  }
  return entity
}

function readXml (h5: typeof H5, file: H5.File, path: string): string {
  const value = getDataset(h5, file, path, 'the XML header').value
  const first = Array.isArray(value) ? value[0] : value
  // libismrmrd labels its XML string ASCII, and h5wasm decodes such a string one byte per character:
  // a header with non-ASCII text (a patient's name) is UTF-8 bytes underneath, decoded here as such.
  if (typeof first === 'string') return utf8BehindBytewiseString(first)
  if (first instanceof Uint8Array) return new TextDecoder().decode(first).replace(/\0+$/, '')
  throw new IsmrmrdImportError(`not an ISMRMRD file: ${path} holds no string`)
}

/** A string decoded one byte per character, read again as the UTF-8 it holds; left as it is when it holds no valid UTF-8. */
function utf8BehindBytewiseString (text: string): string {
  if (!/[^ -~\s]/.test(text) || /[^\s -\u00ff]/.test(text)) return text
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(text, 'latin1'))
  } catch {
    return text
  }
}

function hasRawAccess (h5: typeof H5): boolean {
  const m = h5.Module as unknown as Record<string, unknown> | undefined
  return m !== undefined && ['get_dataset_data', 'reclaim_vlen_memory_count', '_malloc', '_free'].every((f) => typeof m[f] === 'function')
}

/** Reads rows [start, end) through h5wasm's memory, freeing the VLEN buffers HDF5 allocated. */
function readRowsRaw (h5: typeof H5, file: H5.File, dataPath: string, layout: AcquisitionRowLayout, start: number, end: number): Acquisition[] {
  const M = h5.Module
  const rows = end - start
  const nbytes = rows * layout.rowSize
  const pointer = M._malloc(nbytes)
  if (pointer === 0) throw new IsmrmrdImportError(`cannot allocate ${nbytes} bytes in the wasm heap for ${rows} acquisitions`)
  const count = [BigInt(rows)]
  let filled = false
  try {
    const status = M.get_dataset_data(file.file_id, dataPath, count, [BigInt(start)], [1n], BigInt(pointer))
    if (status < 0) throw new IsmrmrdImportError(`HDF5 could not read acquisitions ${start} to ${end - 1} of ${dataPath}`)
    filled = true
    // The heap may have grown during the read: take its buffer now, not before.
    const heap = M.HEAPU8
    const view = new DataView(heap.buffer, heap.byteOffset + pointer, nbytes)
    const out: Acquisition[] = []
    for (let r = 0; r < rows; r++) out.push(decodeAcquisitionRow(layout, view, heap, r, start + r, dataPath))
    return out
  } finally {
    if (filled) M.reclaim_vlen_memory_count(file.file_id, dataPath, '', BigInt(pointer), count)
    M._free(pointer)
  }
}

function readRowsSlice (dataset: H5.Dataset, dataPath: string, layout: AcquisitionRowLayout, start: number, end: number): Acquisition[] {
  const rows = dataset.slice([[start, end]])
  if (!Array.isArray(rows)) throw new IsmrmrdImportError(`h5wasm returned no rows for ${dataPath}[${start}:${end}]`)
  return rows.map((row, r) => acquisitionFromSliceRow(layout, row, start + r, dataPath))
}

/**
 * Opens an ISMRMRD HDF5 file: reads and checks its XML header and the layout of its acquisitions.
 * Throws IsmrmrdImportError when the file is missing, not HDF5 or not ISMRMRD; implausible header
 * values (a field strength of 48511 T, say) become warnings.
 */
export async function readIsmrmrdHdf5 (path: string, options: ReadIsmrmrdHdf5Options = {}): Promise<IsmrmrdHdf5Import> {
  const group = (options.dataset ?? DEFAULT_DATASET).replace(/^\/+|\/+$/g, '')
  const sliceBytes = options.sliceBytes ?? DEFAULT_SLICE_BYTES
  await checkHdf5File(path)
  // loaded here, not with the module: only imports of HDF5 files need its wasm heap
  const h5 = await import('h5wasm/node')
  await h5.ready
  const reader = options.reader ?? (hasRawAccess(h5) ? 'raw' : 'slice')
  if (reader === 'raw' && !hasRawAccess(h5)) throw new IsmrmrdImportError('this h5wasm does not expose the functions the raw reader needs')
  const xmlPath = `/${group}/xml`
  const dataPath = `/${group}/data`

  const warnings: MrdWarning[] = []
  const seen = new Set<string>()
  // One warning per field: acquisition warnings name the first acquisition found, not every one.
  const warn = (warning: MrdWarning): void => {
    if (seen.has(warning.path)) return
    seen.add(warning.path)
    warnings.push(warning)
    options.onWarning?.(warning)
  }

  let xml: string
  let header: IsmrmrdHeader
  let layout: AcquisitionRowLayout
  let count: number
  const file = openFile(h5, path)
  try {
    xml = readXml(h5, file, xmlPath)
    try {
      header = parseIsmrmrdXml(xml)
    } catch (err) {
      if (err instanceof IsmrmrdXmlError) throw new IsmrmrdImportError(`${path}: unreadable ISMRMRD header: ${err.message}`, { cause: err })
      throw err
    }
    const dataset = getDataset(h5, file, dataPath, 'the acquisitions')
    const { shape } = dataset.metadata
    if (shape === null || shape.length !== 1) throw new IsmrmrdImportError(`not an ISMRMRD file: ${dataPath} has shape ${JSON.stringify(shape)}, not one dimension`)
    count = Number(shape[0])
    const compiled = compileAcquisitionLayout(dataset.metadata, dataPath)
    layout = compiled.layout
    for (const w of validateIsmrmrdHeader(header)) warn(w)
    for (const w of compiled.warnings) warn(w)
  } finally {
    file.close()
  }

  const checkRange = (start: number, end: number): void => {
    if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= count)) {
      throw new RangeError(`acquisition range [${start}, ${end}) is outside [0, ${count})`)
    }
  }
  const readRange = (f: H5.File, start: number, end: number): Acquisition[] => {
    if (start === end) return []
    return reader === 'raw' ? readRowsRaw(h5, f, dataPath, layout, start, end) : readRowsSlice(getDataset(h5, f, dataPath, 'the acquisitions'), dataPath, layout, start, end)
  }

  /** Per-acquisition checks; once per file thanks to `warn`'s de-duplication. */
  const inspect = (acquisition: Acquisition, index: number): void => {
    const h = acquisition.head
    if (h.version !== 1) warn({ path: `${dataPath}/head/version`, message: `acquisition ${index} (and perhaps others) has header version ${h.version}, ISMRMRD defines 1` })
    if (h.activeChannels > h.availableChannels) {
      warn({ path: `${dataPath}/head/available_channels`, message: `acquisition ${index} (and perhaps others) has ${h.activeChannels} active channels but ${h.availableChannels} available` })
    }
    const receivers = header.acquisitionSystemInformation?.receiverChannels
    if (receivers !== undefined && h.activeChannels > receivers) {
      warn({ path: `${dataPath}/head/active_channels`, message: `acquisition ${index} (and perhaps others) has ${h.activeChannels} active channels, the header declares ${receivers} receiver channels` })
    }
    if (h.encodingSpaceRef >= header.encoding.length) {
      warn({ path: `${dataPath}/head/encoding_space_ref`, message: `acquisition ${index} (and perhaps others) refers to encoding ${h.encodingSpaceRef}, the header has ${header.encoding.length}` })
    }
  }

  const acquisitions: AsyncIterable<Acquisition> = {
    async * [Symbol.asyncIterator] () {
      const f = openFile(h5, path)
      let anyFlag = false
      try {
        let start = 0
        let rowsPerSlice = 1
        while (start < count) {
          const end = Math.min(count, start + rowsPerSlice)
          const batch = readRange(f, start, end)
          let bytes = 0
          for (const [i, acquisition] of batch.entries()) {
            inspect(acquisition, start + i)
            if (acquisition.head.flags !== 0n) anyFlag = true
            bytes += acquisition.data.byteLength + acquisition.traj.byteLength
          }
          // Size the next hyperslab from what this one held.
          rowsPerSlice = Math.max(1, Math.floor(sliceBytes / Math.max(1, bytes / batch.length)))
          start = end
          for (const acquisition of batch) yield acquisition
          await nextTurn()
        }
        if (count > 0 && !anyFlag) {
          warn({ path: `${dataPath}/head/flags`, message: `none of the ${count} acquisitions has a flag set: no noise, calibration or end-of-slice markers; group by the encoding counters instead` })
        }
      } finally {
        f.close()
      }
    }
  }

  const readAcquisitions = async (start = 0, end = count): Promise<Acquisition[]> => {
    checkRange(start, end)
    const f = openFile(h5, path)
    try {
      const batch = readRange(f, start, end)
      batch.forEach((a, i) => inspect(a, start + i))
      return batch
    } finally {
      f.close()
    }
  }

  return { path, xml, header, count, warnings, acquisitions, readAcquisitions }
}
