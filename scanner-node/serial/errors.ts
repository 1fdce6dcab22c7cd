// Errors of the serial driver and its protocol. Each is a named class, so that callers (and tests) can
// tell a broken cable from a broken device by `.name`.

/**
 * Bytes or values that break the serial protocol: a payload that cannot be read, a frame of another
 * protocol version, a truncated frame that stops the scan from going on, a device answering what
 * was not asked.
 */
export class SerialProtocolError extends Error {
  override name = 'SerialProtocolError'
}

/** The device did not answer, or sent no readout, in time. */
export class SerialTimeoutError extends Error {
  override name = 'SerialTimeoutError'
}

/** The port could not be opened, or closed under us (cable pulled, USB adapter gone, far end of a pty pair gone). */
export class SerialDeviceGoneError extends Error {
  override name = 'SerialDeviceGoneError'
}

/** The device refused a command (NACK) or reported a fault (ERROR). */
export class SerialDeviceError extends Error {
  override name = 'SerialDeviceError'
  /** the protocol's ErrorCode */
  readonly code: number

  constructor (message: string, code: number) {
    super(message)
    this.code = code
  }
}

/** A readout was lost on the line and could not be fetched again (the device no longer kept it, or resends failed). */
export class SerialDataLostError extends Error {
  override name = 'SerialDataLostError'
}
