// A small HDF5 writer: groups, one-dimensional (or any-rank) contiguous datasets of integer, float,
// array, compound and variable-length types, and the global heap that holds variable-length values.
// It writes what an ISMRMRD file needs (node/exchange/ismrmrd-hdf5.ts) and nothing more: no
// attributes, no chunking or compression, no dense link storage, no editing of an existing file.
// h5wasm, the HDF5 library ScanHub reads with, cannot write variable-length sequences nor array
// members of a compound, which ISMRMRD's /dataset/data is made of; hence this writer.
//
// The file is laid out before its first byte is written, so that its size is known in advance and the
// bytes can be streamed (an export's ZIP entry has a fixed size and is read more than once):
//
//   superblock | object headers (root group, groups, datasets) | dataset elements | global heap
//
// Format choices, named after the sections of the HDF5 File Format Specification (version 3):
// - "Superblock", format version 2: no root symbol table entry, a checksum. Read by HDF5 1.8 and
//   later (Debian's libhdf5 1.10, h5py, h5wasm). Offsets and lengths are 8 bytes.
// - "Version 2 Data Object Header Prefix" (OHDR, with a checksum), one chunk per object, no times.
// - Groups as "new style" compact groups: a "Link Info Message" (no fractal heap, no B-tree), a
//   "Group Info Message" and one "Link Message" (hard link) per member. This avoids the version 1
//   B-trees, symbol table nodes and local heaps of the older symbol-table groups.
// - Datasets: "Dataspace Message" version 2, "Datatype Message" (version 3 for compound and array
//   types: names unpadded, member offsets in as few bytes as the size needs; version 1 otherwise),
//   "Fill Value Message" version 2 (no fill value defined), "Data Layout Message" version 3,
//   contiguous storage.
// - Variable-length values (sequences and strings): in "Global Heap" collections (version 1), each
//   element stored as its length (u32) and a global heap ID (collection address, object index u32),
//   as "Disk Format: Level 0" says for a variable-length datatype on disk. An empty value has the
//   null heap ID (address 0), as libhdf5 writes it. A collection is at least 4096 bytes: libhdf5
//   reads that much before it knows a collection's size.
// - Checksums (the superblock's and the object headers'): Bob Jenkins' lookup3 hash with initial
//   value 0, as libhdf5's H5_checksum_lookup3 computes them.
import { writeTypedArray } from '../../protocol/mrd/bytes.ts'

/** An HDF5 datatype, as far as this writer knows them. Little-endian throughout. */
export type Hdf5Type =
  | { kind: 'uint' | 'int', size: 1 | 2 | 4 | 8 }
  | { kind: 'float', size: 4 | 8 }
  | { kind: 'array', dims: number[], base: Hdf5Type }
  | { kind: 'compound', size: number, members: CompoundMember[] }
  | { kind: 'vlen', base: Hdf5Type }
  | { kind: 'vlen-string', charset: 'ascii' | 'utf-8' }

export interface CompoundMember { name: string, offset: number, type: Hdf5Type }

export class Hdf5WriteError extends Error {
  override name = 'Hdf5WriteError'
}

export const OFFSET_SIZE = 8
/** An undefined address: all bits set. */
const UNDEFINED_ADDRESS = 0xffffffffffffffffn
/** A variable-length element on disk: u32 length, then the global heap ID (address, u32 index). */
export const VLEN_DISK_SIZE = 4 + OFFSET_SIZE + 4
const SIGNATURE = Uint8Array.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a])

export const uint8: Hdf5Type = { kind: 'uint', size: 1 }
export const uint16: Hdf5Type = { kind: 'uint', size: 2 }
export const uint32: Hdf5Type = { kind: 'uint', size: 4 }
export const uint64: Hdf5Type = { kind: 'uint', size: 8 }
export const int32: Hdf5Type = { kind: 'int', size: 4 }
export const float32: Hdf5Type = { kind: 'float', size: 4 }

export function arrayOf (base: Hdf5Type, ...dims: number[]): Hdf5Type {
  return { kind: 'array', dims, base }
}

/** A compound whose members follow each other without padding (a C struct under #pragma pack(1)). */
export function packedCompound (members: Array<[string, Hdf5Type]>): Hdf5Type {
  let offset = 0
  const placed = members.map(([name, type]) => {
    const member = { name, offset, type }
    offset += typeSize(type)
    return member
  })
  return { kind: 'compound', size: offset, members: placed }
}

/** Bytes of one element of `type` in the file. */
export function typeSize (type: Hdf5Type): number {
  switch (type.kind) {
    case 'uint': case 'int': case 'float': case 'compound': return type.size
    case 'array': return type.dims.reduce((n, d) => n * d, typeSize(type.base))
    case 'vlen': case 'vlen-string': return VLEN_DISK_SIZE
  }
}

// --- bytes ----------------------------------------------------------------------------------------

/** A growing little-endian byte buffer. */
class ByteWriter {
  private bytes = new Uint8Array(256)
  private view = new DataView(this.bytes.buffer)
  length = 0

  private reserve (n: number): number {
    const at = this.length
    if (at + n > this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.bytes.length * 2, at + n))
      grown.set(this.bytes.subarray(0, at))
      this.bytes = grown
      this.view = new DataView(grown.buffer)
    }
    this.length += n
    return at
  }

  // (reserve first: it may replace the buffer and its view)
  u8 (v: number): this { const at = this.reserve(1); this.view.setUint8(at, v); return this }
  u16 (v: number): this { const at = this.reserve(2); this.view.setUint16(at, v, true); return this }
  u32 (v: number): this { const at = this.reserve(4); this.view.setUint32(at, v, true); return this }
  u64 (v: bigint | number): this { const at = this.reserve(8); this.view.setBigUint64(at, BigInt(v), true); return this }
  /** An unsigned integer in `n` bytes (1 to 4). */
  uint (v: number, n: number): this {
    for (let i = 0; i < n; i++) this.u8(Math.floor(v / 2 ** (8 * i)) & 0xff)
    return this
  }

  raw (b: Uint8Array): this {
    const at = this.reserve(b.length)
    this.bytes.set(b, at)
    return this
  }

  zeros (n: number): this { this.reserve(n); return this }
  ascii (text: string): this { return this.raw(asciiBytes(text)) }
  done (): Uint8Array { return this.bytes.slice(0, this.length) }
}

function asciiBytes (text: string): Uint8Array {
  if (!/^[\x20-\x7e]+$/.test(text)) throw new Hdf5WriteError(`HDF5 names here must be printable ASCII, not ${JSON.stringify(text)}`)
  return new TextEncoder().encode(text)
}

const align8 = (n: number): number => Math.ceil(n / 8) * 8

function rotl (x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0
}

/** Bob Jenkins' lookup3 hashlittle(), the checksum of HDF5's version 2 metadata. */
export function lookup3 (key: Uint8Array, initval = 0): number {
  let length = key.length
  let a = (0xdeadbeef + length + initval) >>> 0
  let b = a
  let c = a
  let k = 0
  const word = (at: number): number => (key[at] | (key[at + 1] << 8) | (key[at + 2] << 16) | (key[at + 3] << 24)) >>> 0
  while (length > 12) {
    a = (a + word(k)) >>> 0
    b = (b + word(k + 4)) >>> 0
    c = (c + word(k + 8)) >>> 0
    // mix(a, b, c)
    a = (a - c) >>> 0; a = (a ^ rotl(c, 4)) >>> 0; c = (c + b) >>> 0
    b = (b - a) >>> 0; b = (b ^ rotl(a, 6)) >>> 0; a = (a + c) >>> 0
    c = (c - b) >>> 0; c = (c ^ rotl(b, 8)) >>> 0; b = (b + a) >>> 0
    a = (a - c) >>> 0; a = (a ^ rotl(c, 16)) >>> 0; c = (c + b) >>> 0
    b = (b - a) >>> 0; b = (b ^ rotl(a, 19)) >>> 0; a = (a + c) >>> 0
    c = (c - b) >>> 0; c = (c ^ rotl(b, 4)) >>> 0; b = (b + a) >>> 0
    length -= 12
    k += 12
  }
  if (length === 0) return c
  // the last 1 to 12 bytes, zero-padded, added to a, b and c as little-endian words
  const tail = new Uint8Array(12)
  tail.set(key.subarray(k, k + length))
  const tword = (at: number): number => (tail[at] | (tail[at + 1] << 8) | (tail[at + 2] << 16) | (tail[at + 3] << 24)) >>> 0
  a = (a + tword(0)) >>> 0
  b = (b + tword(4)) >>> 0
  c = (c + tword(8)) >>> 0
  // final(a, b, c)
  c = (c ^ b) >>> 0; c = (c - rotl(b, 14)) >>> 0
  a = (a ^ c) >>> 0; a = (a - rotl(c, 11)) >>> 0
  b = (b ^ a) >>> 0; b = (b - rotl(a, 25)) >>> 0
  c = (c ^ b) >>> 0; c = (c - rotl(b, 16)) >>> 0
  a = (a ^ c) >>> 0; a = (a - rotl(c, 4)) >>> 0
  b = (b ^ a) >>> 0; b = (b - rotl(a, 14)) >>> 0
  c = (c ^ b) >>> 0; c = (c - rotl(b, 24)) >>> 0
  return c
}

// --- datatype message -----------------------------------------------------------------------------

const CLASS_FIXED = 0
const CLASS_FLOAT = 1
const CLASS_COMPOUND = 6
const CLASS_VLEN = 9
const CLASS_ARRAY = 10

/** The "Datatype Message" body for `type`. */
export function encodeDatatype (type: Hdf5Type): Uint8Array {
  const w = new ByteWriter()
  writeDatatype(w, type)
  return w.done()
}

function datatypeHeader (w: ByteWriter, version: number, cls: number, bits: number, size: number): void {
  w.u8((version << 4) | cls).u8(bits & 0xff).u8((bits >> 8) & 0xff).u8((bits >> 16) & 0xff).u32(size)
}

function writeDatatype (w: ByteWriter, type: Hdf5Type): void {
  switch (type.kind) {
    case 'uint': case 'int':
      // bit 0 byte order (0: little-endian), bit 3 signed; properties: bit offset, bit precision
      datatypeHeader(w, 1, CLASS_FIXED, type.kind === 'int' ? 0x08 : 0, type.size)
      w.u16(0).u16(type.size * 8)
      return
    case 'float': {
      // bits 4-5 mantissa normalisation 2 (implied leading 1), bits 8-15 sign bit position
      const ieee = type.size === 4 ? { sign: 31, expAt: 23, expBits: 8, mantBits: 23, bias: 127 } : { sign: 63, expAt: 52, expBits: 11, mantBits: 52, bias: 1023 }
      datatypeHeader(w, 1, CLASS_FLOAT, 0x20 | (ieee.sign << 8), type.size)
      w.u16(0).u16(type.size * 8).u8(ieee.expAt).u8(ieee.expBits).u8(0).u8(ieee.mantBits).u32(ieee.bias)
      return
    }
    case 'array':
      if (type.dims.length === 0 || type.dims.length > 255 || type.dims.some((d) => !(Number.isInteger(d) && d > 0))) {
        throw new Hdf5WriteError(`an array type needs 1 to 255 positive dimensions, not ${JSON.stringify(type.dims)}`)
      }
      datatypeHeader(w, 3, CLASS_ARRAY, 0, typeSize(type))
      w.u8(type.dims.length)
      for (const d of type.dims) w.u32(d)
      writeDatatype(w, type.base)
      return
    case 'compound': {
      checkCompound(type)
      datatypeHeader(w, 3, CLASS_COMPOUND, type.members.length, type.size)
      // version 3: member offsets in the fewest bytes that hold the compound's size
      const offsetBytes = Math.floor(Math.log2(type.size) / 8) + 1
      for (const m of type.members) {
        w.ascii(m.name).u8(0).uint(m.offset, offsetBytes)
        writeDatatype(w, m.type)
      }
      return
    }
    case 'vlen':
      // bits 0-3: 0 sequence
      datatypeHeader(w, 1, CLASS_VLEN, 0, VLEN_DISK_SIZE)
      writeDatatype(w, type.base)
      return
    case 'vlen-string':
      // bits 0-3: 1 string; bits 4-7: padding 0 (null-terminated); bits 8-11: character set (0 ASCII,
      // 1 UTF-8); the base type is an unsigned byte, as libhdf5 encodes it
      datatypeHeader(w, 1, CLASS_VLEN, 1 | ((type.charset === 'utf-8' ? 1 : 0) << 8), VLEN_DISK_SIZE)
      writeDatatype(w, uint8)
  }
}

function checkCompound (type: Extract<Hdf5Type, { kind: 'compound' }>): void {
  if (type.members.length === 0 || type.members.length > 0xffff) throw new Hdf5WriteError(`a compound type needs 1 to 65535 members, not ${type.members.length}`)
  const names = new Set<string>()
  for (const m of type.members) {
    if (names.has(m.name)) throw new Hdf5WriteError(`compound member ${m.name} appears twice`)
    names.add(m.name)
    if (m.offset < 0 || m.offset + typeSize(m.type) > type.size) throw new Hdf5WriteError(`compound member ${m.name} (at ${m.offset}, ${typeSize(m.type)} bytes) lies outside the compound's ${type.size} bytes`)
  }
}

// --- global heap ------------------------------------------------------------------------------------

const COLLECTION_HEADER_SIZE = 16
const HEAP_OBJECT_HEADER_SIZE = 16
/** libhdf5 reads this much of a collection before it knows its size, so none is smaller. */
const MIN_COLLECTION_SIZE = 4096
/** Objects are packed into collections of about this size (a larger object gets one of its own). */
const TARGET_COLLECTION_SIZE = 1024 * 1024
/** Object indices are 16-bit, and 0 is the free space. */
const MAX_OBJECTS_PER_COLLECTION = 0xffff

/** Where a global heap object lives: its collection's address and its index there. */
export interface HeapId { collection: number, index: number }

interface Collection { address: number, size: number, first: number, count: number }

/**
 * The global heap collections that hold the variable-length values, given the byte size of every
 * object in the order they will be written. Objects must be non-empty: an empty value has no object.
 */
export class GlobalHeapLayout {
  readonly size: number
  private readonly collections: Collection[] = []
  private readonly ids: HeapId[] = []
  private readonly sizes: number[]

  constructor (readonly address: number, objectSizes: readonly number[]) {
    this.sizes = [...objectSizes]
    let at = address
    let object = 0
    while (object < this.sizes.length) {
      const collection: Collection = { address: at, size: COLLECTION_HEADER_SIZE, first: object, count: 0 }
      while (object < this.sizes.length && collection.count < MAX_OBJECTS_PER_COLLECTION) {
        const bytes = this.sizes[object]
        if (!(Number.isSafeInteger(bytes) && bytes > 0)) throw new Hdf5WriteError(`a global heap object must have a positive size, not ${bytes}`)
        const need = HEAP_OBJECT_HEADER_SIZE + align8(bytes)
        if (collection.count > 0 && collection.size + need > TARGET_COLLECTION_SIZE) break
        collection.count++
        collection.size += need
        this.ids.push({ collection: at, index: collection.count })
        object++
      }
      collection.size = Math.max(collection.size, MIN_COLLECTION_SIZE)
      this.collections.push(collection)
      at += collection.size
    }
    this.size = at - address
  }

  /** The heap ID of object `n` (counted from 0 in the order given). */
  id (n: number): HeapId {
    const id = this.ids[n]
    if (id === undefined) throw new RangeError(`no global heap object ${n}: the heap holds ${this.ids.length}`)
    return id
  }

  /** The collections' bytes, with `objects` (one chunk per object, in order, of the sizes given) inside. */
  async * write (objects: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    const iterator = (Symbol.asyncIterator in objects ? objects[Symbol.asyncIterator]() : objects[Symbol.iterator]()) as AsyncIterator<Uint8Array> | Iterator<Uint8Array>
    const next = async (n: number): Promise<Uint8Array> => {
      const step = await iterator.next()
      if (step.done === true) throw new Hdf5WriteError(`the global heap was planned with ${this.sizes.length} objects, only ${n} came`)
      if (step.value.length !== this.sizes[n]) throw new Hdf5WriteError(`global heap object ${n} has ${step.value.length} bytes, ${this.sizes[n]} were planned`)
      return step.value
    }
    for (const collection of this.collections) {
      yield new ByteWriter().ascii('GCOL').u8(1).zeros(3).u64(collection.size).done()
      let used = COLLECTION_HEADER_SIZE
      for (let i = 0; i < collection.count; i++) {
        const n = collection.first + i
        const bytes = await next(n)
        // index, reference count (0: only datasets point here), reserved, size
        yield new ByteWriter().u16(i + 1).u16(0).zeros(4).u64(bytes.length).done()
        yield bytes
        const pad = align8(bytes.length) - bytes.length
        if (pad > 0) yield new Uint8Array(pad)
        used += HEAP_OBJECT_HEADER_SIZE + align8(bytes.length)
      }
      const free = collection.size - used
      // the rest is free space: object 0, whose size counts its own header; less than a header is just free
      if (free >= HEAP_OBJECT_HEADER_SIZE) yield new ByteWriter().u16(0).u16(0).zeros(4).u64(free).zeros(free - HEAP_OBJECT_HEADER_SIZE).done()
      else if (free > 0) yield new Uint8Array(free)
    }
    const extra = await iterator.next()
    if (extra.done !== true) throw new Hdf5WriteError(`the global heap was planned with ${this.sizes.length} objects, more came`)
  }
}

/** A variable-length element on disk: its length (in base elements) and where its bytes are. */
export function encodeVlenElement (target: DataView, offset: number, length: number, id: HeapId | undefined): void {
  target.setUint32(offset, length, true)
  target.setBigUint64(offset + 4, BigInt(id?.collection ?? 0), true)
  target.setUint32(offset + 4 + OFFSET_SIZE, id?.index ?? 0, true)
}

/** The bytes of a typed array, little-endian, for a heap object. */
export function littleEndianBytes (array: Float32Array): Uint8Array {
  const out = new Uint8Array(array.byteLength)
  writeTypedArray(out, 0, array)
  return out
}

// --- object headers and the file ----------------------------------------------------------------------

const MSG_NIL = 0x0000
const MSG_DATASPACE = 0x0001
const MSG_LINK_INFO = 0x0002
const MSG_DATATYPE = 0x0003
const MSG_FILL_VALUE = 0x0005
const MSG_LINK = 0x0006
const MSG_LAYOUT = 0x0008
const MSG_GROUP_INFO = 0x000a
/** Message flag: the message never changes (libhdf5 sets it on datatypes). */
const MSG_FLAG_CONSTANT = 0x01
/** Free room left in a group's header, so that a later writer (libhdf5 adding a group or dataset
 * beside ours, as ismrmrd tools do) can add a link without moving messages. */
const GROUP_HEADER_ROOM = 64

interface Message { type: number, body: Uint8Array, flags?: number }

/** A "Version 2 Data Object Header" with `messages` in one chunk. */
function encodeObjectHeader (messages: Message[]): Uint8Array {
  const body = new ByteWriter()
  for (const m of messages) body.u8(m.type).u16(m.body.length).u8(m.flags ?? 0).raw(m.body)
  const chunk = body.done()
  // flags bits 0-1: the width of the chunk size field (1, 2, 4 or 8 bytes)
  const width = chunk.length < 0x100 ? 0 : chunk.length < 0x10000 ? 1 : 2
  const w = new ByteWriter().ascii('OHDR').u8(2).u8(width)
  if (width === 0) w.u8(chunk.length)
  else if (width === 1) w.u16(chunk.length)
  else w.u32(chunk.length)
  w.raw(chunk)
  return w.u32(lookup3(w.done())).done()
}

function groupHeader (links: Array<{ name: string, address: number }>): Uint8Array {
  // Link Info: version 0, no creation order, no fractal heap, no name index (compact storage)
  const linkInfo = new ByteWriter().u8(0).u8(0).u64(UNDEFINED_ADDRESS).u64(UNDEFINED_ADDRESS).done()
  // Group Info: version 0, default limits
  const groupInfo = new ByteWriter().u8(0).u8(0).done()
  const messages: Message[] = [{ type: MSG_LINK_INFO, body: linkInfo }, { type: MSG_GROUP_INFO, body: groupInfo }]
  for (const link of links) {
    const name = asciiBytes(link.name)
    if (name.length > 255) throw new Hdf5WriteError(`link name ${link.name} is longer than 255 bytes`)
    // Link: version 1, flags 0 (a hard link, one length byte, ASCII name), name length, name, address
    messages.push({ type: MSG_LINK, body: new ByteWriter().u8(1).u8(0).u8(name.length).raw(name).u64(link.address).done() })
  }
  messages.push({ type: MSG_NIL, body: new Uint8Array(GROUP_HEADER_ROOM) })
  return encodeObjectHeader(messages)
}

function datasetHeader (type: Hdf5Type, shape: number[], address: number | undefined, bytes: number): Uint8Array {
  // Dataspace: version 2, rank, no maximum dimensions (they equal the current ones), simple
  const space = new ByteWriter().u8(2).u8(shape.length).u8(0).u8(1)
  for (const d of shape) space.u64(d)
  // Fill Value: version 2, allocation late, write when set, no fill value defined
  const fill = Uint8Array.from([2, 2, 2, 0])
  // Data Layout: version 3, contiguous (1), address, size
  const layout = new ByteWriter().u8(3).u8(1).u64(address === undefined ? UNDEFINED_ADDRESS : BigInt(address)).u64(bytes).done()
  return encodeObjectHeader([
    { type: MSG_DATASPACE, body: space.done() },
    { type: MSG_DATATYPE, body: encodeDatatype(type), flags: MSG_FLAG_CONSTANT },
    { type: MSG_FILL_VALUE, body: fill },
    { type: MSG_LAYOUT, body: layout }
  ])
}

function encodeSuperblock (eof: number, root: number): Uint8Array {
  // version 2, 8-byte offsets and lengths, no consistency flags, base 0, no extension
  const w = new ByteWriter().raw(SIGNATURE).u8(2).u8(OFFSET_SIZE).u8(8).u8(0).u64(0).u64(UNDEFINED_ADDRESS).u64(eof).u64(root)
  return w.u32(lookup3(w.done())).done()
}

const SUPERBLOCK_SIZE = 48

export interface Hdf5DatasetSpec {
  /** '/'-separated, from the root: 'dataset/data'; the groups on the way are made */
  path: string
  type: Hdf5Type
  shape: number[]
}

interface GroupNode { kind: 'group', name: string, children: TreeNode[] }
interface DatasetNode { kind: 'dataset', name: string, index: number }
type TreeNode = GroupNode | DatasetNode

/**
 * An HDF5 file laid out in full before it is written: its size, where each dataset's elements go,
 * and the global heap IDs of the variable-length values (for encoding the elements that point there).
 */
export class Hdf5FileLayout {
  readonly size: number
  readonly heap: GlobalHeapLayout
  private readonly metadata: Uint8Array
  private readonly datasetBytes: number[]

  constructor (readonly datasets: readonly Hdf5DatasetSpec[], heapObjectSizes: readonly number[]) {
    const root: GroupNode = { kind: 'group', name: '', children: [] }
    datasets.forEach((spec, index) => {
      const parts = spec.path.split('/').filter((p) => p !== '')
      if (parts.length === 0) throw new Hdf5WriteError(`a dataset needs a name, not ${JSON.stringify(spec.path)}`)
      if (spec.shape.some((d) => !(Number.isSafeInteger(d) && d >= 0))) throw new Hdf5WriteError(`${spec.path}: dimensions must be whole numbers, not ${JSON.stringify(spec.shape)}`)
      let group = root
      for (const part of parts.slice(0, -1)) {
        let next = group.children.find((c) => c.name === part)
        if (next === undefined) group.children.push(next = { kind: 'group', name: part, children: [] })
        if (next.kind !== 'group') throw new Hdf5WriteError(`${spec.path}: ${part} is a dataset, not a group`)
        group = next
      }
      const name = parts[parts.length - 1]
      if (group.children.some((c) => c.name === name)) throw new Hdf5WriteError(`${spec.path} is given twice`)
      group.children.push({ kind: 'dataset', name, index })
    })
    this.datasetBytes = datasets.map((d) => d.shape.reduce((n, x) => n * x, 1) * typeSize(d.type))

    // Object headers have the same size whatever the addresses in them: lay them out with
    // placeholders, then encode them again with the real addresses.
    const nodes: TreeNode[] = []
    const visit = (node: TreeNode): void => {
      nodes.push(node)
      if (node.kind === 'group') node.children.forEach(visit)
    }
    visit(root)
    const encode = (addressOf: (n: TreeNode) => number, dataAddress: (i: number) => number | undefined): Uint8Array[] => nodes.map((node) => node.kind === 'group'
      ? groupHeader(node.children.map((c) => ({ name: c.name, address: addressOf(c) })))
      : datasetHeader(datasets[node.index].type, datasets[node.index].shape, dataAddress(node.index), this.datasetBytes[node.index]))
    const sizes = encode(() => 0, () => 0).map((h) => h.length)
    const headerAddress = new Map<TreeNode, number>()
    let at = SUPERBLOCK_SIZE
    nodes.forEach((node, i) => { headerAddress.set(node, at); at += sizes[i] })
    at = align8(at)
    const dataAddress: Array<number | undefined> = []
    for (const bytes of this.datasetBytes) {
      // an empty dataset has no storage: libhdf5 writes the undefined address
      dataAddress.push(bytes === 0 ? undefined : at)
      at = align8(at + bytes)
    }
    this.heap = new GlobalHeapLayout(at, heapObjectSizes)
    this.size = at + this.heap.size
    const headers = encode((n) => headerAddress.get(n) ?? 0, (i) => dataAddress[i])
    const metadata = new ByteWriter().raw(encodeSuperblock(this.size, SUPERBLOCK_SIZE))
    for (const h of headers) metadata.raw(h)
    metadata.zeros(align8(metadata.length) - metadata.length)
    this.metadata = metadata.done()
  }

  /**
   * The file's bytes: the metadata, then the elements of each dataset as `elements(i)` gives them (any
   * chunking, exactly the planned number of bytes), then the global heap with `heapObjects` inside.
   */
  async * write (elements: (dataset: number) => AsyncIterable<Uint8Array> | Iterable<Uint8Array>, heapObjects: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    yield this.metadata
    for (const [i, expected] of this.datasetBytes.entries()) {
      let seen = 0
      for await (const chunk of elements(i)) {
        seen += chunk.length
        if (seen > expected) break
        yield chunk
      }
      if (seen !== expected) throw new Hdf5WriteError(`${this.datasets[i].path} was planned with ${expected} bytes of elements, ${seen > expected ? 'more' : seen} came`)
      const pad = align8(expected) - expected
      if (pad > 0) yield new Uint8Array(pad)
    }
    yield * this.heap.write(heapObjects)
  }
}
