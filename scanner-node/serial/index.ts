// A spectrometer on a serial line: the driver (a ScannerDriver), the protocol it speaks (PROTOCOL.md),
// and an emulator of the device for tests and demos.
export { serialDriver, SerialDriver } from './serial-driver.ts'
export type { SerialDriverInit } from './serial-driver.ts'
export { SerialDataLostError, SerialDeviceError, SerialDeviceGoneError, SerialProtocolError, SerialTimeoutError } from './errors.ts'
export { Capability, DeviceState, DoneStatus, ErrorCode, MAX_PAYLOAD, MessageType, PROTOCOL_VERSION } from './constants.ts'
export { FrameDecoder, encodeFrame } from './frame.ts'
export type { DecodeEvent, DecoderStats, Frame, FrameHeader } from './frame.ts'
export { decodeMessage, encodeMessage, messageFrame } from './messages.ts'
export type { Message } from './messages.ts'
export { memoryLinkPair, openSerialPort } from './link.ts'
export type { SerialLink, SerialLinkHandlers } from './link.ts'
export { EMULATOR_DEVICE, SerialEmulator } from './emulator.ts'
export type { EmulatorFaults, EmulatorInit } from './emulator.ts'
