// Reading DICOM Part 10 files into a naturalized dataset and decoded pixels, for the browser viewer
// and for Node alike. dcmjs parses; this module checks the bytes first (dcmjs does not notice a
// truncated file), undoes what dcmjs leaves raw (big-endian pixel bytes, bits above BitsStored) and
// turns every failure into a DicomReadError.

import { data, log } from 'dcmjs'
import type { DenaturalizedDataset, NaturalDataset } from 'dcmjs'
import { DicomReadError, DicomUnsupportedError } from './errors.ts'
import {
  checkPart10Structure,
  DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
  EXPLICIT_VR_BIG_ENDIAN,
  EXPLICIT_VR_LITTLE_ENDIAN,
  IMPLICIT_VR_LITTLE_ENDIAN
} from './structure.ts'

export type { NaturalDataset } from 'dcmjs'

const { DicomMessage, DicomMetaDictionary } = data

/** Transfer syntaxes whose pixel data this reader decodes (all native, uncompressed ones). */
export const SUPPORTED_TRANSFER_SYNTAXES: readonly string[] = [
  IMPLICIT_VR_LITTLE_ENDIAN,
  EXPLICIT_VR_LITTLE_ENDIAN,
  DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
  EXPLICIT_VR_BIG_ENDIAN
]

export type DicomPixels = Int16Array | Uint16Array | Float32Array

/** A parsed file, without any claim about pixel data (SR, presentation states, …). */
export interface ParsedDicom {
  /** The dataset, naturalized by dcmjs (keyword keys). Its PixelData is the file's raw bytes: use `pixels`. */
  dataset: NaturalDataset
  /** The file meta group (0002,xxxx), naturalized. */
  meta: NaturalDataset
  transferSyntaxUid: string
}

/** A parsed grayscale image with its pixels decoded to native byte order and sign. */
export interface DicomImage extends ParsedDicom {
  /** Stored values, frame after frame, each frame row after row (columns fastest). */
  pixels: DicomPixels
  rows: number
  columns: number
  frames: number
  bitsAllocated: number
  bitsStored: number
  pixelRepresentation: 0 | 1
  photometricInterpretation: 'MONOCHROME1' | 'MONOCHROME2'
  /** Modality LUT: real value = stored × slope + intercept (1 and 0 when the file has none). */
  rescaleSlope: number
  rescaleIntercept: number
  /** First VOI window of the file, in rescaled units, when it has one. */
  windowCenter?: number
  windowWidth?: number
  /** [row spacing, column spacing] in mm. */
  pixelSpacing?: [number, number]
  imagePositionPatient?: [number, number, number]
  /** Row direction cosines then column direction cosines. */
  imageOrientationPatient?: [number, number, number, number, number, number]
  sliceLocation?: number
  instanceNumber?: number
}

/** Tags whose VR is US or SS depending on PixelRepresentation; implicit VR files leave dcmjs guessing US. */
const US_OR_SS = [
  'SmallestImagePixelValue',
  'LargestImagePixelValue',
  'SmallestPixelValueInSeries',
  'LargestPixelValueInSeries',
  'PixelPaddingValue',
  'PixelPaddingRangeLimit'
]

function toArrayBuffer (bytes: ArrayBuffer | Uint8Array): ArrayBuffer {
  if (bytes instanceof ArrayBuffer) return bytes
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
}

/**
 * Naturalizing drops the VR of elements that are not in the dictionary (private tags): copy it into
 * `_vrMap` so that the tag browser can still show it.
 */
function keepUnknownVrs (raw: DenaturalizedDataset, natural: NaturalDataset): void {
  for (const [tag, element] of Object.entries(raw)) {
    const entry = DicomMetaDictionary.dictionary[DicomMetaDictionary.punctuateTag(tag) ?? '']
    if (entry === undefined) {
      natural._vrMap ??= {}
      natural._vrMap[tag] = element.vr
    }
    if (element.vr === 'SQ' && Array.isArray(element.Value)) {
      const name = entry?.name ?? tag
      const items = asArray(natural[name])
      element.Value.forEach((item, i) => {
        const naturalItem = items[i]
        if (naturalItem !== null && typeof naturalItem === 'object') keepUnknownVrs(item as DenaturalizedDataset, naturalItem as NaturalDataset)
      })
    }
  }
}

function asArray (value: unknown): unknown[] {
  if (value === null || value === undefined) return []
  return Array.isArray(value) ? value : [value]
}

/**
 * Parses a DICOM Part 10 file (preamble, 'DICM', meta group). Checks first that every element fits
 * in the bytes, so a truncated file fails here rather than decoding zeros.
 */
export function parseDicom (bytes: ArrayBuffer | Uint8Array): ParsedDicom {
  const view = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes
  const { transferSyntaxUid } = checkPart10Structure(view)
  // dcmjs logs an error for every ambiguous-VR tag of an implicit VR file ('xs', 'ox'), which this
  // module resolves itself, and anything it cannot parse is thrown as a DicomReadError instead.
  const loggers = [log, log.getLogger('validation.dcmjs')]
  const levels = loggers.map((l) => l.getLevel())
  for (const l of loggers) l.setLevel('silent', false)
  try {
    const file = DicomMessage.readFile(toArrayBuffer(bytes))
    const dataset = DicomMetaDictionary.naturalizeDataset(file.dict)
    keepUnknownVrs(file.dict, dataset)
    const meta = DicomMetaDictionary.naturalizeDataset(file.meta)
    return { dataset, meta, transferSyntaxUid }
  } catch (err) {
    if (err instanceof DicomReadError) throw err
    throw new DicomReadError(`cannot parse DICOM file: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  } finally {
    loggers.forEach((l, i) => l.setLevel(levels[i], false))
  }
}

function num (value: unknown): number | undefined {
  const first = Array.isArray(value) ? value[0] : value
  if (first === null || first === undefined || first === '') return undefined
  const n = typeof first === 'number' ? first : Number(first)
  return Number.isFinite(n) ? n : undefined
}

function nums<N extends number> (value: unknown, count: N): number[] | undefined {
  const values = asArray(value).map((v) => (typeof v === 'number' ? v : Number(v)))
  return values.length === count && values.every(Number.isFinite) ? values : undefined
}

function requiredInt (dataset: NaturalDataset, keyword: string): number {
  const n = num(dataset[keyword])
  if (n === undefined || !Number.isInteger(n) || n <= 0) {
    throw new DicomReadError(`DICOM image has no valid ${keyword} (found ${JSON.stringify(dataset[keyword] ?? null)})`)
  }
  return n
}

/** Concatenates the buffers dcmjs returns for a binary element (one per frame or fragment). */
function concatBuffers (value: unknown): Uint8Array {
  const parts = asArray(value).map((part) => {
    if (part instanceof ArrayBuffer) return new Uint8Array(part)
    if (ArrayBuffer.isView(part)) return new Uint8Array(part.buffer, part.byteOffset, part.byteLength)
    throw new DicomReadError('DICOM pixel data is not binary (bulk data references are not supported)')
  })
  if (parts.length === 1) return parts[0]
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let offset = 0
  for (const p of parts) {
    out.set(p, offset)
    offset += p.length
  }
  return out
}

/** Copies into an aligned buffer, swapping the bytes of each word when the file is big endian. */
function nativeWords (bytes: Uint8Array, wordSize: 2 | 4, count: number, bigEndian: boolean): ArrayBuffer {
  const out = new Uint8Array(count * wordSize)
  out.set(bytes.subarray(0, out.length))
  if (bigEndian) {
    for (let i = 0; i < out.length; i += wordSize) out.subarray(i, i + wordSize).reverse()
  }
  return out.buffer
}

/**
 * Keeps the low BitsStored bits (PS3.5 8.1.1: the bits above the high bit are not pixel data) and
 * sign-extends them for signed images.
 */
function maskToBitsStored (pixels: Uint16Array | Int16Array, bitsStored: number, signed: boolean): void {
  if (bitsStored >= 16) return
  const mask = (1 << bitsStored) - 1
  const sign = 1 << (bitsStored - 1)
  for (let i = 0; i < pixels.length; i++) {
    const v = pixels[i] & mask
    pixels[i] = signed && (v & sign) !== 0 ? v - (mask + 1) : v
  }
}

function decodePixels (parsed: ParsedDicom, rows: number, columns: number, frames: number): Pick<DicomImage, 'pixels' | 'bitsAllocated' | 'bitsStored' | 'pixelRepresentation'> {
  const { dataset, transferSyntaxUid } = parsed
  const bigEndian = transferSyntaxUid === EXPLICIT_VR_BIG_ENDIAN
  const count = rows * columns * frames

  if (dataset.FloatPixelData !== undefined && dataset.FloatPixelData !== null) {
    const bytes = concatBuffers(dataset.FloatPixelData)
    if (bytes.length < count * 4) throw new DicomReadError(`DICOM float pixel data has ${bytes.length} bytes, ${count * 4} expected for ${frames} frame(s) of ${columns}x${rows}`)
    return { pixels: new Float32Array(nativeWords(bytes, 4, count, bigEndian)), bitsAllocated: 32, bitsStored: 32, pixelRepresentation: 0 }
  }

  if (dataset.PixelData === undefined || dataset.PixelData === null) throw new DicomReadError('DICOM file has no pixel data')
  const bitsAllocated = requiredInt(dataset, 'BitsAllocated')
  const bitsStored = num(dataset.BitsStored) ?? bitsAllocated
  const pixelRepresentation = num(dataset.PixelRepresentation) === 1 ? 1 : 0
  const bytes = concatBuffers(dataset.PixelData)
  const expected = count * (bitsAllocated / 8)
  if (bytes.length < expected) {
    throw new DicomReadError(`DICOM pixel data has ${bytes.length} bytes, ${expected} expected for ${frames} frame(s) of ${columns}x${rows} at ${bitsAllocated} bits`)
  }

  let pixels: Int16Array | Uint16Array
  if (bitsAllocated === 16) {
    const words = nativeWords(bytes, 2, count, bigEndian)
    pixels = pixelRepresentation === 1 ? new Int16Array(words) : new Uint16Array(words)
  } else if (bitsAllocated === 8) {
    // 8-bit pixels in OW are byte-swapped in pairs by a big-endian encoding (PS3.5 8.1.1).
    const ordered = bigEndian && dataset._vrMap?.PixelData === 'OW' ? new Uint8Array(nativeWords(bytes, 2, Math.ceil(count / 2), true)) : bytes
    pixels = pixelRepresentation === 1 ? Int16Array.from(new Int8Array(ordered.buffer, ordered.byteOffset, count)) : Uint16Array.from(ordered.subarray(0, count))
  } else {
    throw new DicomUnsupportedError(`DICOM images with BitsAllocated ${bitsAllocated} are not supported (8, 16 or float pixel data are)`)
  }
  maskToBitsStored(pixels, bitsStored, pixelRepresentation === 1)
  return { pixels, bitsAllocated, bitsStored, pixelRepresentation }
}

/** Re-reads US-or-SS values as signed when the image is signed and the file did not say (implicit VR). */
function fixAmbiguousSigned (dataset: NaturalDataset): void {
  if (num(dataset.PixelRepresentation) !== 1) return
  for (const keyword of US_OR_SS) {
    if (dataset._vrMap?.[keyword] !== 'US') continue
    const value = dataset[keyword]
    const signed = (v: unknown): unknown => (typeof v === 'number' && v > 0x7fff ? v - 0x10000 : v)
    dataset[keyword] = Array.isArray(value) ? value.map(signed) : signed(value)
    dataset._vrMap[keyword] = 'SS'
  }
}

/**
 * Reads a DICOM Part 10 grayscale image: explicit or implicit VR little endian, deflated, or explicit
 * VR big endian. Throws DicomReadError on anything else that is not such an image (not DICOM,
 * truncated, no pixel data) and DicomUnsupportedError on compressed or colour images.
 */
export function readDicom (bytes: ArrayBuffer | Uint8Array): DicomImage {
  const parsed = parseDicom(bytes)
  const { dataset, transferSyntaxUid } = parsed
  if (!SUPPORTED_TRANSFER_SYNTAXES.includes(transferSyntaxUid)) {
    throw new DicomUnsupportedError(`DICOM transfer syntax ${transferSyntaxUid} (compressed) is not supported; supported: ${SUPPORTED_TRANSFER_SYNTAXES.join(', ')}`)
  }
  fixAmbiguousSigned(dataset)

  const samplesPerPixel = num(dataset.SamplesPerPixel) ?? 1
  const photometric = String(asArray(dataset.PhotometricInterpretation)[0] ?? 'MONOCHROME2').trim()
  if (samplesPerPixel !== 1 || (photometric !== 'MONOCHROME1' && photometric !== 'MONOCHROME2')) {
    throw new DicomUnsupportedError(`only grayscale DICOM images are supported (found ${samplesPerPixel} samples per pixel, ${photometric})`)
  }
  const rows = requiredInt(dataset, 'Rows')
  const columns = requiredInt(dataset, 'Columns')
  const frames = num(dataset.NumberOfFrames) ?? 1
  if (!Number.isInteger(frames) || frames < 1) throw new DicomReadError(`DICOM NumberOfFrames is invalid: ${String(dataset.NumberOfFrames)}`)

  const image: DicomImage = {
    ...parsed,
    ...decodePixels(parsed, rows, columns, frames),
    rows,
    columns,
    frames,
    photometricInterpretation: photometric,
    rescaleSlope: num(dataset.RescaleSlope) ?? 1,
    rescaleIntercept: num(dataset.RescaleIntercept) ?? 0
  }
  const center = num(dataset.WindowCenter)
  const width = num(dataset.WindowWidth)
  if (center !== undefined && width !== undefined && width > 0) {
    image.windowCenter = center
    image.windowWidth = width
  }
  const spacing = nums(dataset.PixelSpacing, 2)
  if (spacing) image.pixelSpacing = [spacing[0], spacing[1]]
  const position = nums(dataset.ImagePositionPatient, 3)
  if (position) image.imagePositionPatient = [position[0], position[1], position[2]]
  const orientation = nums(dataset.ImageOrientationPatient, 6)
  if (orientation) image.imageOrientationPatient = [orientation[0], orientation[1], orientation[2], orientation[3], orientation[4], orientation[5]]
  const sliceLocation = num(dataset.SliceLocation)
  if (sliceLocation !== undefined) image.sliceLocation = sliceLocation
  const instanceNumber = num(dataset.InstanceNumber)
  if (instanceNumber !== undefined) image.instanceNumber = instanceNumber
  return image
}
