// The messages of the serial protocol, one per frame type (grammar in PROTOCOL.md): a discriminated
// union, `encodeMessage` to the payload bytes and `decodeMessage` back, which throws
// SerialProtocolError for a payload that is not exactly its message.
import type { DeviceInfo } from '../driver.ts'
import type { PlannedReadout, SequenceTiming } from '../virtual/index.ts'
import { ByteReader, ByteWriter } from './bytes.ts'
import { DeviceState, DoneStatus, MAX_PAYLOAD, MessageType, StartFlag, messageTypeName } from './constants.ts'
import { SerialProtocolError } from './errors.ts'
import { encodeFrame } from './frame.ts'
import type { Frame } from './frame.ts'

export interface HelloMessage { type: typeof MessageType.HELLO }
export interface InfoMessage {
  type: typeof MessageType.INFO
  replyTo: number
  device: DeviceInfo
  state: DeviceState
  /** Capability bits */
  capabilities: number
}
export interface LoadSequenceMessage {
  type: typeof MessageType.LOAD_SEQUENCE
  /** bytes of the whole file */
  total: number
  /** where this chunk goes */
  offset: number
  /** CRC-32 of the whole file */
  crc: number
  chunk: Uint8Array
}
export interface LoadPlanMessage {
  type: typeof MessageType.LOAD_PLAN
  /** readouts of the whole plan */
  total: number
  /** index of the first readout of this chunk */
  first: number
  readouts: PlannedReadout[]
}
export interface StartMessage {
  type: typeof MessageType.START
  readouts: number
  coils: number
  oversampling: 1 | 2
  realTime: boolean
  timing: SequenceTiming
  fovM: [number, number, number]
  /** [nx, ny, nz]; nz = 1 for 2D */
  matrix: [number, number, number]
}
export interface StopMessage { type: typeof MessageType.STOP }
export interface ResendMessage { type: typeof MessageType.RESEND, first: number, count: number }
export interface AdcDataMessage {
  type: typeof MessageType.ADC_DATA
  index: number
  channels: number
  samples: number
  /** 2 × channels × samples floats, channel-major, re/im interleaved */
  data: Float32Array
}
export interface ProgressMessage { type: typeof MessageType.PROGRESS, acquired: number, total: number }
export interface DoneMessage { type: typeof MessageType.DONE, status: DoneStatus, acquired: number }
export interface ErrorMessage { type: typeof MessageType.ERROR, code: number, text: string }
export interface AckMessage { type: typeof MessageType.ACK, replyTo: number }
export interface NackMessage { type: typeof MessageType.NACK, replyTo: number, code: number, text: string }
export interface PingMessage { type: typeof MessageType.PING }
export interface PongMessage { type: typeof MessageType.PONG, replyTo: number, state: DeviceState, acquired: number, total: number }

export type Message =
  | HelloMessage | InfoMessage | LoadSequenceMessage | LoadPlanMessage | StartMessage | StopMessage | ResendMessage
  | AdcDataMessage | ProgressMessage | DoneMessage | ErrorMessage | AckMessage | NackMessage | PingMessage | PongMessage

/** ADC_DATA bytes before the samples. */
export const ADC_DATA_HEADER_SIZE = 10

/** Payload bytes of the ADC_DATA of a readout of `channels` × `samples`. */
export function adcDataSize (channels: number, samples: number): number {
  return ADC_DATA_HEADER_SIZE + 8 * channels * samples
}

/** Payload bytes of one readout in LOAD_PLAN. */
export function plannedReadoutSize (readout: PlannedReadout): number {
  return 4 + 1 + 4 * 8 + 4 + 8 * 4 + 3 * 8 * readout.kx.length
}

const TIMING_KINDS: SequenceTiming['kind'][] = ['GRE', 'SE', 'FID', 'OTHER']
const READOUT_NOISE = 1
const READOUT_REVERSE = 2
const READOUT_HAS_SLICE_OFFSET = 4
const READOUT_HAS_EXCITATION_TIME = 8
const READOUT_HAS_CENTRE = 16
const COUNTERS = ['line', 'partition', 'slice', 'average', 'contrast', 'repetition', 'set', 'segment'] as const

function u16Value (value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) throw new SerialProtocolError(`${what} ${value} is not a u16`)
  return value
}

function u32Value (value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new SerialProtocolError(`${what} ${value} is not a u32`)
  return value
}

function writeReadout (w: ByteWriter, r: PlannedReadout): void {
  const n = r.kx.length
  if (r.ky.length !== n || r.kz.length !== n) throw new SerialProtocolError(`readout k arrays have lengths ${n}, ${r.ky.length}, ${r.kz.length}`)
  w.u32(n)
  w.u8((r.isNoise === true ? READOUT_NOISE : 0) | (r.isReverse === true ? READOUT_REVERSE : 0) |
    (r.sliceOffsetM !== undefined ? READOUT_HAS_SLICE_OFFSET : 0) | (r.excitationTimeS !== undefined ? READOUT_HAS_EXCITATION_TIME : 0) |
    (r.centerSample !== undefined ? READOUT_HAS_CENTRE : 0))
  w.f64(r.dwellS)
  w.f64(r.timeFromExcitationS)
  w.f64(r.sliceOffsetM ?? 0)
  w.f64(r.excitationTimeS ?? 0)
  w.u32(u32Value(r.centerSample ?? 0, 'centre sample'))
  for (const c of COUNTERS) w.u32(u32Value(r.counters[c], c))
  w.f64s(r.kx)
  w.f64s(r.ky)
  w.f64s(r.kz)
}

function readReadout (r: ByteReader): PlannedReadout {
  const n = r.u32()
  if (3 * 8 * n > r.remaining) throw new SerialProtocolError(`LOAD_PLAN: readout of ${n} samples does not fit its payload`)
  const flags = r.u8()
  const dwellS = r.f64()
  const timeFromExcitationS = r.f64()
  const sliceOffsetM = r.f64()
  const excitationTimeS = r.f64()
  const centerSample = r.u32()
  const counters = { line: 0, partition: 0, slice: 0, average: 0, contrast: 0, repetition: 0, set: 0, segment: 0 }
  for (const c of COUNTERS) counters[c] = r.u32()
  const readout: PlannedReadout = { kx: r.f64s(n), ky: r.f64s(n), kz: r.f64s(n), dwellS, timeFromExcitationS, counters }
  if ((flags & READOUT_NOISE) !== 0) readout.isNoise = true
  if ((flags & READOUT_REVERSE) !== 0) readout.isReverse = true
  if ((flags & READOUT_HAS_SLICE_OFFSET) !== 0) readout.sliceOffsetM = sliceOffsetM
  if ((flags & READOUT_HAS_EXCITATION_TIME) !== 0) readout.excitationTimeS = excitationTimeS
  if ((flags & READOUT_HAS_CENTRE) !== 0) readout.centerSample = centerSample
  return readout
}

/** The payload of a message. Throws SerialProtocolError for a value its field cannot hold. */
export function encodeMessage (m: Message): Uint8Array {
  const w = new ByteWriter(m.type === MessageType.ADC_DATA ? adcDataSize(m.channels, m.samples) : 64)
  switch (m.type) {
    case MessageType.HELLO:
    case MessageType.STOP:
    case MessageType.PING:
      break
    case MessageType.INFO:
      w.u16(u16Value(m.replyTo, 'replyTo'))
      w.str(m.device.manufacturer)
      w.str(m.device.model)
      w.str(m.device.serialNumber)
      w.str(m.device.firmware)
      w.f64(m.device.fieldStrengthT)
      w.f64(m.device.larmorFrequencyHz)
      w.u16(u16Value(m.device.channels, 'channels'))
      w.u8(m.state)
      w.u32(u32Value(m.capabilities, 'capabilities'))
      break
    case MessageType.LOAD_SEQUENCE:
      w.u32(u32Value(m.total, 'sequence length'))
      w.u32(u32Value(m.offset, 'offset'))
      w.u32(u32Value(m.crc, 'CRC'))
      w.raw(m.chunk)
      break
    case MessageType.LOAD_PLAN:
      w.u32(u32Value(m.total, 'plan length'))
      w.u32(u32Value(m.first, 'first readout'))
      w.u32(u32Value(m.readouts.length, 'readouts'))
      for (const r of m.readouts) writeReadout(w, r)
      break
    case MessageType.START: {
      w.u32(u32Value(m.readouts, 'readouts'))
      w.u16(u16Value(m.coils, 'coils'))
      w.u8(m.oversampling)
      w.u8(m.realTime ? StartFlag.REAL_TIME : 0)
      w.f64(m.timing.trS)
      w.f64(m.timing.teS)
      w.f64(m.timing.flipAngleDeg)
      w.f64(m.timing.tiS ?? Number.NaN)
      const kind = TIMING_KINDS.indexOf(m.timing.kind)
      if (kind < 0) throw new SerialProtocolError(`sequence kind ${String(m.timing.kind)}`)
      w.u8(kind)
      for (const f of m.fovM) w.f64(f)
      for (const n of m.matrix) w.u16(u16Value(n, 'matrix size'))
      break
    }
    case MessageType.RESEND:
      w.u32(u32Value(m.first, 'first readout'))
      w.u32(u32Value(m.count, 'count'))
      break
    case MessageType.ADC_DATA:
      if (m.data.length !== 2 * m.channels * m.samples) throw new SerialProtocolError(`ADC_DATA of ${m.channels} × ${m.samples} needs ${2 * m.channels * m.samples} floats, not ${m.data.length}`)
      w.u32(u32Value(m.index, 'readout index'))
      w.u16(u16Value(m.channels, 'channels'))
      w.u32(u32Value(m.samples, 'samples'))
      w.f32s(m.data)
      break
    case MessageType.PROGRESS:
      w.u32(u32Value(m.acquired, 'acquired'))
      w.u32(u32Value(m.total, 'total'))
      break
    case MessageType.DONE:
      w.u8(m.status)
      w.u32(u32Value(m.acquired, 'acquired'))
      break
    case MessageType.ERROR:
      w.u16(u16Value(m.code, 'error code'))
      w.str(m.text)
      break
    case MessageType.ACK:
      w.u16(u16Value(m.replyTo, 'replyTo'))
      break
    case MessageType.NACK:
      w.u16(u16Value(m.replyTo, 'replyTo'))
      w.u16(u16Value(m.code, 'error code'))
      w.str(m.text)
      break
    case MessageType.PONG:
      w.u16(u16Value(m.replyTo, 'replyTo'))
      w.u8(m.state)
      w.u32(u32Value(m.acquired, 'acquired'))
      w.u32(u32Value(m.total, 'total'))
      break
    default:
      throw new SerialProtocolError(`cannot encode ${messageTypeName((m as { type: number }).type)}`)
  }
  const payload = w.bytes()
  if (payload.length > MAX_PAYLOAD) throw new SerialProtocolError(`${messageTypeName(m.type)} of ${payload.length} bytes exceeds the ${MAX_PAYLOAD}-byte payload limit`)
  return payload
}

/** The frame of a message, numbered. */
export function messageFrame (m: Message, sequence: number): Uint8Array {
  return encodeFrame(m.type, sequence, encodeMessage(m))
}

function oneOf<T extends number> (value: number, allowed: Record<string, T>, what: string): T {
  if (!Object.values(allowed).includes(value as T)) throw new SerialProtocolError(`${what} ${value} is not one of ${Object.values(allowed).join(', ')}`)
  return value as T
}

/** The message of a frame. Throws SerialProtocolError for an unknown type or a payload that is not exactly its message. */
export function decodeMessage (frame: Frame): Message {
  const name = messageTypeName(frame.type)
  const r = new ByteReader(frame.payload, name)
  let m: Message
  switch (frame.type) {
    case MessageType.HELLO:
    case MessageType.STOP:
    case MessageType.PING:
      m = { type: frame.type }
      break
    case MessageType.INFO: {
      const replyTo = r.u16()
      const device: DeviceInfo = {
        manufacturer: r.str(),
        model: r.str(),
        serialNumber: r.str(),
        firmware: r.str(),
        fieldStrengthT: r.f64(),
        larmorFrequencyHz: r.f64(),
        channels: r.u16()
      }
      m = { type: frame.type, replyTo, device, state: oneOf(r.u8(), DeviceState, 'device state'), capabilities: r.u32() }
      break
    }
    case MessageType.LOAD_SEQUENCE: {
      const total = r.u32()
      const offset = r.u32()
      const crc = r.u32()
      const chunk = r.raw(r.remaining)
      if (offset + chunk.length > total) throw new SerialProtocolError(`${name}: chunk of ${chunk.length} bytes at ${offset} runs past the file's ${total} bytes`)
      m = { type: frame.type, total, offset, crc, chunk }
      break
    }
    case MessageType.LOAD_PLAN: {
      const total = r.u32()
      const first = r.u32()
      const count = r.u32()
      if (count > r.remaining) throw new SerialProtocolError(`${name}: ${count} readouts cannot fit ${r.remaining} bytes`)
      const readouts: PlannedReadout[] = []
      for (let i = 0; i < count; i++) readouts.push(readReadout(r))
      if (first + count > total) throw new SerialProtocolError(`${name}: readouts ${first}..${first + count - 1} run past the plan's ${total}`)
      m = { type: frame.type, total, first, readouts }
      break
    }
    case MessageType.START: {
      const readouts = r.u32()
      const coils = r.u16()
      const oversampling = r.u8()
      if (oversampling !== 1 && oversampling !== 2) throw new SerialProtocolError(`${name}: oversampling ${oversampling}`)
      const flags = r.u8()
      const trS = r.f64()
      const teS = r.f64()
      const flipAngleDeg = r.f64()
      const tiS = r.f64()
      const kind = TIMING_KINDS[r.u8()]
      if (kind === undefined) throw new SerialProtocolError(`${name}: unknown sequence kind`)
      const timing: SequenceTiming = { trS, teS, flipAngleDeg, kind }
      if (!Number.isNaN(tiS)) timing.tiS = tiS
      const fovM: [number, number, number] = [r.f64(), r.f64(), r.f64()]
      const matrix: [number, number, number] = [r.u16(), r.u16(), r.u16()]
      m = { type: frame.type, readouts, coils, oversampling, realTime: (flags & StartFlag.REAL_TIME) !== 0, timing, fovM, matrix }
      break
    }
    case MessageType.RESEND:
      m = { type: frame.type, first: r.u32(), count: r.u32() }
      break
    case MessageType.ADC_DATA: {
      const index = r.u32()
      const channels = r.u16()
      const samples = r.u32()
      if (channels < 1 || samples < 1) throw new SerialProtocolError(`${name}: readout of ${channels} channels × ${samples} samples`)
      if (8 * channels * samples !== r.remaining) throw new SerialProtocolError(`${name}: ${channels} channels × ${samples} samples need ${8 * channels * samples} bytes, the payload has ${r.remaining}`)
      m = { type: frame.type, index, channels, samples, data: r.f32s(2 * channels * samples) }
      break
    }
    case MessageType.PROGRESS:
      m = { type: frame.type, acquired: r.u32(), total: r.u32() }
      break
    case MessageType.DONE:
      m = { type: frame.type, status: oneOf(r.u8(), DoneStatus, 'DONE status'), acquired: r.u32() }
      break
    case MessageType.ERROR:
      m = { type: frame.type, code: r.u16(), text: r.str() }
      break
    case MessageType.ACK:
      m = { type: frame.type, replyTo: r.u16() }
      break
    case MessageType.NACK:
      m = { type: frame.type, replyTo: r.u16(), code: r.u16(), text: r.str() }
      break
    case MessageType.PONG:
      m = { type: frame.type, replyTo: r.u16(), state: oneOf(r.u8(), DeviceState, 'device state'), acquired: r.u32(), total: r.u32() }
      break
    default:
      throw new SerialProtocolError(`unknown message ${name}`)
  }
  r.end()
  return m
}
