// The byte pipe under the protocol: a serial port (`serialport`), or an in-memory pair for tests that
// run the emulator in the same process. The driver and the emulator see only this interface, so that
// neither knows which one it has.
import { setImmediate } from 'node:timers'
import type { SerialPort } from 'serialport'
import { SerialDeviceGoneError } from './errors.ts'

export interface SerialLinkHandlers {
  /** bytes as they arrive; the chunks are the link's, not frames */
  data: (chunk: Uint8Array) => void
  /** the link closed; `error` says why when it was not our own `close()` */
  close: (error?: Error) => void
}

export interface SerialLink {
  /** e.g. the port's path */
  readonly name: string
  /** Starts delivering data and close to these handlers (once; data received before is kept for them). */
  attach (handlers: SerialLinkHandlers): void
  /**
   * Queues bytes behind those written before; resolves once they were handed to the operating system.
   * Never rejects: a failed write closes the link, and `close` says why.
   */
  write (bytes: Uint8Array): Promise<void>
  /** Closes the link; resolves when it is closed. Idempotent. */
  close (): Promise<void>
}

/** Opens a serial port (8N1, no flow control). Throws SerialDeviceGoneError when it cannot be opened. */
export async function openSerialPort (path: string, baudRate: number): Promise<SerialLink> {
  // loaded here, not with the module: its native binding is only for peers that drive a serial device
  const { SerialPort } = await import('serialport')
  const port = new SerialPort({ path, baudRate, autoOpen: false })
  const link = new SerialPortLink(port)
  await new Promise<void>((resolve, reject) => {
    port.open((error) => {
      if (error === null) resolve()
      else reject(new SerialDeviceGoneError(`cannot open serial port ${path}: ${error.message}`, { cause: error }))
    })
  })
  return link
}

class SerialPortLink implements SerialLink {
  readonly name: string
  private readonly port: SerialPort
  private handlers: SerialLinkHandlers | undefined
  private readonly early: Uint8Array[] = []
  private closed = false
  private closing = false
  private closeError: Error | undefined

  constructor (port: SerialPort) {
    this.port = port
    this.name = port.path
    port.on('data', (chunk: Buffer) => {
      const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)
      if (this.handlers === undefined) this.early.push(bytes)
      else this.handlers.data(bytes)
    })
    port.on('close', (error?: Error | null) => this.ended(error ?? undefined))
    // Without a listener an 'error' event would crash the process; a port that is still open after
    // one carries on, and one that is not has closed.
    port.on('error', (error: Error) => {
      if (!port.isOpen) this.ended(error)
    })
  }

  attach (handlers: SerialLinkHandlers): void {
    if (this.handlers !== undefined) throw new Error(`serial link ${this.name} is attached already`)
    this.handlers = handlers
    for (const chunk of this.early.splice(0)) handlers.data(chunk)
    if (this.closed) handlers.close(this.closeError)
  }

  write (bytes: Uint8Array): Promise<void> {
    if (this.closed || this.closing) return Promise.resolve()
    return new Promise((resolve) => {
      this.port.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), (error) => {
        if (error !== null && error !== undefined && !this.closing) {
          this.ended(error)
          if (this.port.isOpen) this.port.close(() => {})
        }
        resolve()
      })
    })
  }

  close (): Promise<void> {
    if (this.closed) return Promise.resolve()
    this.closing = true
    return new Promise((resolve) => {
      if (!this.port.isOpen) {
        this.ended(undefined)
        resolve()
        return
      }
      this.port.close(() => {
        this.ended(undefined)
        resolve()
      })
    })
  }

  private ended (error: Error | undefined): void {
    if (this.closed) return
    this.closed = true
    this.closeError = this.closing ? undefined : (error ?? new Error(`serial port ${this.name} closed`))
    this.handlers?.close(this.closeError)
  }
}

/** Longest chunk an in-memory link delivers at once, as a Linux tty hands out at most 4095 bytes per read. */
const MEMORY_CHUNK = 4095

/** Two connected in-memory links: what one writes, the other receives, in chunks, on a later turn of the event loop. */
export function memoryLinkPair (names: [string, string] = ['memory:a', 'memory:b']): [SerialLink, SerialLink] {
  const a = new MemoryLink(names[0])
  const b = new MemoryLink(names[1])
  a.peer = b
  b.peer = a
  return [a, b]
}

class MemoryLink implements SerialLink {
  readonly name: string
  peer: MemoryLink | undefined
  private handlers: SerialLinkHandlers | undefined
  private readonly early: Uint8Array[] = []
  private closed = false
  private closeError: Error | undefined

  constructor (name: string) {
    this.name = name
  }

  attach (handlers: SerialLinkHandlers): void {
    if (this.handlers !== undefined) throw new Error(`link ${this.name} is attached already`)
    this.handlers = handlers
    for (const chunk of this.early.splice(0)) handlers.data(chunk)
    if (this.closed) handlers.close(this.closeError)
  }

  write (bytes: Uint8Array): Promise<void> {
    const peer = this.peer
    if (this.closed || peer === undefined) return Promise.resolve()
    const copy = bytes.slice()
    return new Promise((resolve) => {
      setImmediate(() => {
        for (let at = 0; at < copy.length; at += MEMORY_CHUNK) peer.receive(copy.subarray(at, at + MEMORY_CHUNK))
        resolve()
      })
    })
  }

  private receive (chunk: Uint8Array): void {
    if (this.closed) return
    if (this.handlers === undefined) this.early.push(chunk)
    else this.handlers.data(chunk)
  }

  close (): Promise<void> {
    this.end(undefined)
    this.peer?.end(new SerialDeviceGoneError(`${this.name} closed the link`))
    return Promise.resolve()
  }

  private end (error: Error | undefined): void {
    if (this.closed) return
    this.closed = true
    this.closeError = error
    this.handlers?.close(error)
  }
}
