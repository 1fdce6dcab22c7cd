// The MRD v1 streaming messages, byte for byte as Gadgetron and the ISMRMRD clients speak them
// (ismrmrd/ismrmrd doc/mrd_messages.md; ids as in Gadgetron's GadgetronMessageDefs.h). Every message
// is `u16 id (little-endian) • body`; the grammar is in PROTOCOL.md beside this file. This file holds
// the ids, the message union and the encoders; MrdStreamDecoder (stream-decoder.ts) reads them back.
import type { Acquisition } from './types.ts'
import type { MrdImage } from './image.ts'
import type { Waveform } from './waveform.ts'
import { MrdProtocolError } from './errors.ts'
import { checkUint, utf8Encode, viewOf, writeTypedArray } from './bytes.ts'
import { ACQUISITION_HEADER_SIZE, writeAcquisitionHeader } from './acquisition-header.ts'
import { IMAGE_HEADER_SIZE, writeImageHeader } from './image-header.ts'
import { imageArrayType, imageElementCount } from './image.ts'
import { WAVEFORM_HEADER_SIZE, writeWaveformHeader } from './waveform.ts'

/** Message ids (MRD_MESSAGE_* in mrd_messages.md, GADGET_MESSAGE_* in Gadgetron). */
export const MrdMessageId = {
  CONFIG_FILE: 1,
  CONFIG_TEXT: 2,
  HEADER: 3,
  CLOSE: 4,
  TEXT: 5,
  ACQUISITION: 1008,
  IMAGE: 1022,
  WAVEFORM: 1026
} as const

export type MrdMessageIdValue = typeof MrdMessageId[keyof typeof MrdMessageId]

/** Size of the NUL-padded file name of a CONFIG_FILE message. */
export const CONFIG_FILE_NAME_SIZE = 1024
export const MESSAGE_ID_SIZE = 2
export const LENGTH_PREFIX_SIZE = 4

/** The name of a Gadgetron configuration on the server (`default.xml`). */
export interface MrdConfigFileMessage { type: 'config-file', name: string }
/** A Gadgetron configuration sent as text. */
export interface MrdConfigTextMessage { type: 'config-text', text: string }
/** The ISMRMRD XML header; sent once, before the data. */
export interface MrdHeaderMessage { type: 'header', xml: string }
/** End of the data; each side sends one. */
export interface MrdCloseMessage { type: 'close' }
/** Free text, usually log lines from the reconstruction side. */
export interface MrdTextMessage { type: 'text', text: string }
export interface MrdAcquisitionMessage { type: 'acquisition', acquisition: Acquisition }
export interface MrdImageMessage { type: 'image', image: MrdImage }
export interface MrdWaveformMessage { type: 'waveform', waveform: Waveform }

export type MrdMessage =
  | MrdConfigFileMessage
  | MrdConfigTextMessage
  | MrdHeaderMessage
  | MrdCloseMessage
  | MrdTextMessage
  | MrdAcquisitionMessage
  | MrdImageMessage
  | MrdWaveformMessage

export type MrdMessageType = MrdMessage['type']

export const isConfigFileMessage = (m: MrdMessage): m is MrdConfigFileMessage => m.type === 'config-file'
export const isConfigTextMessage = (m: MrdMessage): m is MrdConfigTextMessage => m.type === 'config-text'
export const isHeaderMessage = (m: MrdMessage): m is MrdHeaderMessage => m.type === 'header'
export const isCloseMessage = (m: MrdMessage): m is MrdCloseMessage => m.type === 'close'
export const isTextMessage = (m: MrdMessage): m is MrdTextMessage => m.type === 'text'
export const isAcquisitionMessage = (m: MrdMessage): m is MrdAcquisitionMessage => m.type === 'acquisition'
export const isImageMessage = (m: MrdMessage): m is MrdImageMessage => m.type === 'image'
export const isWaveformMessage = (m: MrdMessage): m is MrdWaveformMessage => m.type === 'waveform'

export interface TextMessageOptions {
  /**
   * Append a NUL after the text (counted in the length), as the Python ISMRMRD clients do; readers
   * strip one either way. Default false, as Gadgetron's C++ client sends it.
   */
  nulTerminated?: boolean
}

function startMessage (id: number, bodySize: number): { bytes: Uint8Array, view: DataView } {
  const bytes = new Uint8Array(MESSAGE_ID_SIZE + bodySize)
  const view = viewOf(bytes)
  view.setUint16(0, id, true)
  return { bytes, view }
}

function encodeLengthPrefixed (id: number, text: string, options: TextMessageOptions = {}): Uint8Array {
  if (typeof text !== 'string') throw new MrdProtocolError(`cannot encode message ${id}: text must be a string`)
  const encoded = utf8Encode(text)
  const length = encoded.length + (options.nulTerminated === true ? 1 : 0)
  checkUint('text length', length, 32)
  const { bytes, view } = startMessage(id, LENGTH_PREFIX_SIZE + length)
  view.setUint32(MESSAGE_ID_SIZE, length, true)
  bytes.set(encoded, MESSAGE_ID_SIZE + LENGTH_PREFIX_SIZE)
  return bytes
}

/** CONFIG_FILE: `u16 1 • name, NUL-padded to 1024 bytes`. The name must fit in 1023 UTF-8 bytes. */
export function encodeConfigFileMessage (name: string): Uint8Array {
  const encoded = utf8Encode(name)
  if (encoded.length > CONFIG_FILE_NAME_SIZE - 1) {
    throw new MrdProtocolError(`cannot encode a config file name of ${encoded.length} bytes: at most ${CONFIG_FILE_NAME_SIZE - 1}`)
  }
  if (encoded.includes(0)) throw new MrdProtocolError('cannot encode a config file name that contains NUL')
  const { bytes } = startMessage(MrdMessageId.CONFIG_FILE, CONFIG_FILE_NAME_SIZE)
  bytes.set(encoded, MESSAGE_ID_SIZE)
  return bytes
}

/** CONFIG_TEXT: `u16 2 • u32 length • UTF-8`. */
export function encodeConfigTextMessage (text: string, options?: TextMessageOptions): Uint8Array {
  return encodeLengthPrefixed(MrdMessageId.CONFIG_TEXT, text, options)
}

/** HEADER: `u16 3 • u32 length • UTF-8 XML`. */
export function encodeHeaderMessage (xml: string, options?: TextMessageOptions): Uint8Array {
  return encodeLengthPrefixed(MrdMessageId.HEADER, xml, options)
}

/** TEXT: `u16 5 • u32 length • UTF-8`. */
export function encodeTextMessage (text: string, options?: TextMessageOptions): Uint8Array {
  return encodeLengthPrefixed(MrdMessageId.TEXT, text, options)
}

/** CLOSE: `u16 4`. */
export function encodeCloseMessage (): Uint8Array {
  return startMessage(MrdMessageId.CLOSE, 0).bytes
}

/** Bytes of the trajectory and of the data an acquisition header announces. */
export function acquisitionPayloadSizes (head: Acquisition['head']): { trajectoryBytes: number, dataBytes: number } {
  return {
    trajectoryBytes: 4 * head.trajectoryDimensions * head.numberOfSamples,
    dataBytes: 8 * head.activeChannels * head.numberOfSamples
  }
}

/**
 * ACQUISITION: `u16 1008 • header (340) • trajectory f32[trajectoryDimensions × numberOfSamples] •
 * data complex f32[activeChannels × numberOfSamples]`. The arrays must have exactly the lengths the
 * header announces.
 */
export function encodeAcquisitionMessage (acquisition: Acquisition): Uint8Array {
  const { head, traj, data } = acquisition
  const { trajectoryBytes, dataBytes } = acquisitionPayloadSizes(head)
  if (!(traj instanceof Float32Array) || traj.length * 4 !== trajectoryBytes) {
    throw new MrdProtocolError(`cannot encode acquisition ${head.scanCounter}: traj must be a Float32Array of trajectoryDimensions × numberOfSamples = ${trajectoryBytes / 4} values, got ${traj?.length}`)
  }
  if (!(data instanceof Float32Array) || data.length * 4 !== dataBytes) {
    throw new MrdProtocolError(`cannot encode acquisition ${head.scanCounter}: data must be a Float32Array of 2 × activeChannels × numberOfSamples = ${dataBytes / 4} values, got ${data?.length}`)
  }
  const { bytes, view } = startMessage(MrdMessageId.ACQUISITION, ACQUISITION_HEADER_SIZE + trajectoryBytes + dataBytes)
  writeAcquisitionHeader(view, MESSAGE_ID_SIZE, head)
  writeTypedArray(bytes, MESSAGE_ID_SIZE + ACQUISITION_HEADER_SIZE, traj)
  writeTypedArray(bytes, MESSAGE_ID_SIZE + ACQUISITION_HEADER_SIZE + trajectoryBytes, data)
  return bytes
}

/**
 * IMAGE: `u16 1022 • header (198) • u64 attribute length • attribute text • pixels`. The header's
 * attributeStringLen is written as the attribute text's byte length, whatever the caller set.
 */
export function encodeImageMessage (image: MrdImage): Uint8Array {
  const { head, data } = image
  const arrayType = imageArrayType(head.dataType)
  if (arrayType === undefined) throw new MrdProtocolError(`cannot encode an image of data type ${head.dataType}: ISMRMRD defines 1 to 8`)
  if (!(data instanceof arrayType)) throw new MrdProtocolError(`cannot encode an image of data type ${head.dataType}: pixels must be a ${arrayType.name}`)
  const elements = imageElementCount(head)
  if (data.length !== elements) throw new MrdProtocolError(`cannot encode an image: the header announces ${elements} values, the data has ${data.length}`)
  const attributes = utf8Encode(image.attributes ?? '')
  const attributesAt = MESSAGE_ID_SIZE + IMAGE_HEADER_SIZE + 8
  const { bytes, view } = startMessage(MrdMessageId.IMAGE, IMAGE_HEADER_SIZE + 8 + attributes.length + data.byteLength)
  writeImageHeader(view, MESSAGE_ID_SIZE, { ...head, attributeStringLen: attributes.length })
  view.setBigUint64(MESSAGE_ID_SIZE + IMAGE_HEADER_SIZE, BigInt(attributes.length), true)
  bytes.set(attributes, attributesAt)
  writeTypedArray(bytes, attributesAt + attributes.length, data)
  return bytes
}

/** WAVEFORM: `u16 1026 • header (40) • u32[channels × numberOfSamples]`. */
export function encodeWaveformMessage (waveform: Waveform): Uint8Array {
  const { head, data } = waveform
  const expected = head.channels * head.numberOfSamples
  if (!(data instanceof Uint32Array) || data.length !== expected) {
    throw new MrdProtocolError(`cannot encode a waveform: data must be a Uint32Array of channels × numberOfSamples = ${expected} values, got ${data?.length}`)
  }
  const { bytes, view } = startMessage(MrdMessageId.WAVEFORM, WAVEFORM_HEADER_SIZE + data.byteLength)
  writeWaveformHeader(view, MESSAGE_ID_SIZE, head)
  writeTypedArray(bytes, MESSAGE_ID_SIZE + WAVEFORM_HEADER_SIZE, data)
  return bytes
}

/** Encodes any message. */
export function encodeMrdMessage (message: MrdMessage, options?: TextMessageOptions): Uint8Array {
  switch (message.type) {
    case 'config-file': return encodeConfigFileMessage(message.name)
    case 'config-text': return encodeConfigTextMessage(message.text, options)
    case 'header': return encodeHeaderMessage(message.xml, options)
    case 'close': return encodeCloseMessage()
    case 'text': return encodeTextMessage(message.text, options)
    case 'acquisition': return encodeAcquisitionMessage(message.acquisition)
    case 'image': return encodeImageMessage(message.image)
    case 'waveform': return encodeWaveformMessage(message.waveform)
    default: throw new MrdProtocolError(`cannot encode a message of type ${(message as { type: unknown }).type}`)
  }
}
