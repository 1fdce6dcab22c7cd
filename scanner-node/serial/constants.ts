// Numbers of the serial spectrometer protocol (PROTOCOL.md in this folder is the grammar).

/** Every frame starts with these two bytes. 0xA5 0x5A is 10100101 01011010: alternating bits, rare in idle lines and in ASCII. */
export const SYNC = [0xa5, 0x5a] as const

/** The frame format version this code speaks (the version byte of every frame). */
export const PROTOCOL_VERSION = 1

/** sync(2) • version(1) • type(1) • sequence(2) • length(4) • headerCrc(2) */
export const HEADER_SIZE = 12

/** CRC-32 after the payload. */
export const TRAILER_SIZE = 4

/** The largest payload of any frame, 1 MiB: one readout of 32 channels × 4095 samples fits. */
export const MAX_PAYLOAD = 1024 * 1024

/** Message types (the type byte). Host → device: HELLO, LOAD_*, START, STOP, RESEND, PING. Device → host: the rest. */
export const MessageType = {
  HELLO: 0x01,
  INFO: 0x02,
  LOAD_SEQUENCE: 0x10,
  LOAD_PLAN: 0x11,
  START: 0x12,
  STOP: 0x13,
  RESEND: 0x14,
  ADC_DATA: 0x20,
  PROGRESS: 0x21,
  DONE: 0x22,
  ERROR: 0x30,
  ACK: 0x31,
  NACK: 0x32,
  PING: 0x40,
  PONG: 0x41
} as const
export type MessageType = typeof MessageType[keyof typeof MessageType]

const TYPE_NAMES = new Map<number, string>(Object.entries(MessageType).map(([name, value]) => [value, name]))

/** 'ADC_DATA', or 'type 0x7f' for a type this code does not know. */
export function messageTypeName (type: number): string {
  return TYPE_NAMES.get(type) ?? `type 0x${type.toString(16).padStart(2, '0')}`
}

/** Whether a type byte names a message of this protocol version. */
export function isMessageType (type: number): type is MessageType {
  return TYPE_NAMES.has(type)
}

/** Codes of NACK and ERROR. */
export const ErrorCode = {
  /** the payload could not be read, or the frame failed its CRC (header intact): send it again */
  BAD_FRAME: 1,
  /** a message type the device does not handle */
  UNSUPPORTED: 2,
  /** not now: START without a sequence, LOAD during a run, … */
  BAD_STATE: 3,
  /** the sequence's CRC-32 over all its bytes did not match: upload it again */
  SEQUENCE_CRC: 4,
  /** a sequence, plan, channel count or readout the device cannot hold */
  TOO_LARGE: 5,
  /** RESEND of readouts the device no longer keeps */
  DATA_LOST: 6,
  /** START that disagrees with the device's reading of the sequence or the plan (readout count, channels) */
  MISMATCH: 7,
  /** the hardware failed (amplifier, interlock, receiver); the text says what */
  HARDWARE: 16
} as const
export type ErrorCode = typeof ErrorCode[keyof typeof ErrorCode]

/** A device's state, as INFO and PONG report it. */
export const DeviceState = {
  IDLE: 0,
  /** a sequence is loaded */
  LOADED: 1,
  RUNNING: 2,
  /** the last run acquired every readout */
  DONE: 3,
  /** the last run was stopped by STOP */
  STOPPED: 4,
  /** the last run failed (an ERROR said why) */
  FAILED: 5
} as const
export type DeviceState = typeof DeviceState[keyof typeof DeviceState]

/** Status byte of DONE. */
export const DoneStatus = { COMPLETE: 0, STOPPED: 1, FAILED: 2 } as const
export type DoneStatus = typeof DoneStatus[keyof typeof DoneStatus]

/** Bits of INFO's capability word. */
export const Capability = {
  /** takes LOAD_PLAN and makes its signal from the readouts it describes (an emulator or simulator) */
  PLAN: 1 << 0,
  /** can play faster than real time when START does not ask for real time */
  UNPACED: 1 << 1
} as const

/** Bit of START's flags. */
export const StartFlag = { REAL_TIME: 1 << 0 } as const

/** Longest string field (UTF-8 bytes) of any message. */
export const MAX_STRING_BYTES = 1024
