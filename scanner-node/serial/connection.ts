// The host's end of a serial link: numbers and sends messages, decodes what comes back, hands every
// event to its subscribers in arrival order, and matches replies to requests with timeouts and
// retransmission. When the line goes quiet in the middle of a frame, the frame is declared truncated
// (FrameDecoder.flush), so that a frame cut short cannot hold back the ones after it.
import { ErrorCode, HEADER_SIZE, MessageType, TRAILER_SIZE, messageTypeName } from './constants.ts'
import { SerialDeviceError, SerialDeviceGoneError, SerialProtocolError, SerialTimeoutError } from './errors.ts'
import { FrameDecoder } from './frame.ts'
import type { DecodeEvent } from './frame.ts'
import type { SerialLink } from './link.ts'
import { decodeMessage, messageFrame } from './messages.ts'
import type { Message } from './messages.ts'

export type ConnectionEvent =
  | { kind: 'message', message: Message, sequence: number, at: number }
  /** what the decoder could not use: garbage, a corrupt, truncated or foreign-version frame */
  | { kind: 'dropped', event: Exclude<DecodeEvent, { kind: 'frame' }>, at: number }
  /** a frame that passed its CRC but whose payload is not its message: the device is broken */
  | { kind: 'malformed', error: SerialProtocolError, at: number }
  /** the link closed under us */
  | { kind: 'gone', error: SerialDeviceGoneError, at: number }

export interface RequestOptions {
  /** time to wait for the reply to one transmission, ms */
  timeoutMs: number
  /** transmissions after the first one, with the same sequence number */
  retries: number
  signal?: AbortSignal
  /** the sequence number to send it with (from `nextSequence()`), when the caller must know it beforehand */
  sequence?: number
}

/** Rejection of a request whose signal was aborted. */
export class RequestAbortedError extends Error {
  override name = 'RequestAbortedError'
}

export interface ConnectionInit {
  link: SerialLink
  /** the line quiet this long with a frame half received: the frame was cut short, ms */
  quietMs: number
}

export class Connection {
  readonly link: SerialLink
  readonly decoder = new FrameDecoder()
  /** set once the link closed; every later request rejects with it */
  gone: SerialDeviceGoneError | undefined
  private readonly quietMs: number
  private readonly subscribers = new Set<(event: ConnectionEvent) => void>()
  private sequence = Math.floor(Math.random() * 0x10000)
  private quietTimer: ReturnType<typeof setTimeout> | undefined
  private closedByUs = false

  constructor (init: ConnectionInit) {
    this.link = init.link
    this.quietMs = init.quietMs
    init.link.attach({
      data: (chunk) => this.receive(chunk),
      close: (error) => this.lost(error)
    })
  }

  /** Calls `listener` with every event from now on, in arrival order; returns the unsubscribe function. */
  subscribe (listener: (event: ConnectionEvent) => void): () => void {
    this.subscribers.add(listener)
    return () => { this.subscribers.delete(listener) }
  }

  /** Sends a message with a fresh sequence number (or the one given, for a retransmission); returns the number. */
  send (message: Message, sequence = this.nextSequence()): number {
    if (this.gone === undefined) void this.link.write(messageFrame(message, sequence))
    return sequence
  }

  nextSequence (): number {
    this.sequence = (this.sequence + 1) & 0xffff
    return this.sequence
  }

  /**
   * Sends a request and resolves with `match(reply)` for the first message that matches, retransmitting
   * it unchanged when no reply comes in time. A NACK naming the request rejects with SerialDeviceError,
   * except BAD_FRAME (the device received it damaged), which retransmits at once.
   */
  request<T> (message: Message, match: (reply: Message, sequence: number) => T | undefined, options: RequestOptions): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const name = messageTypeName(message.type)
      const sequence = options.sequence ?? this.nextSequence()
      let transmissions = 0
      let timer: ReturnType<typeof setTimeout> | undefined
      let unsubscribe = (): void => {}
      const finish = (): void => {
        unsubscribe()
        if (timer !== undefined) clearTimeout(timer)
        options.signal?.removeEventListener('abort', onAbort)
      }
      const transmit = (): void => {
        if (timer !== undefined) clearTimeout(timer)
        if (transmissions > options.retries) {
          finish()
          reject(new SerialTimeoutError(`no answer to ${name} from ${this.link.name} after ${transmissions} transmissions, ${options.timeoutMs} ms each${this.troubleNote()}`))
          return
        }
        transmissions++
        this.send(message, sequence)
        timer = setTimeout(transmit, options.timeoutMs)
      }
      const onAbort = (): void => {
        finish()
        reject(new RequestAbortedError(`${name} aborted`))
      }
      if (this.gone !== undefined) {
        reject(this.gone)
        return
      }
      if (options.signal?.aborted === true) {
        reject(new RequestAbortedError(`${name} aborted`))
        return
      }
      options.signal?.addEventListener('abort', onAbort, { once: true })
      unsubscribe = this.subscribe((event) => {
        if (event.kind === 'gone') {
          finish()
          reject(event.error)
          return
        }
        if (event.kind !== 'message') return
        const reply = event.message
        if (reply.type === MessageType.NACK && reply.replyTo === sequence) {
          if (reply.code === ErrorCode.BAD_FRAME) {
            transmit()
            return
          }
          finish()
          reject(new SerialDeviceError(`${this.link.name} refused ${name}: ${reply.text} (code ${reply.code})`, reply.code))
          return
        }
        const value = match(reply, sequence)
        if (value !== undefined) {
          finish()
          resolve(value)
        }
      })
      transmit()
    })
  }

  /** ' (the line carried …)' when the decoder dropped bytes, for error messages; '' otherwise. */
  troubleNote (): string {
    const s = this.decoder.stats
    const parts: string[] = []
    if (s.garbageBytes > 0) parts.push(`${s.garbageBytes} bytes of garbage`)
    if (s.corruptFrames > 0) parts.push(`${s.corruptFrames} corrupt frames`)
    if (s.truncatedFrames > 0) parts.push(`${s.truncatedFrames} truncated frames`)
    if (s.versionMismatches > 0) parts.push(`${s.versionMismatches} frames of another protocol version`)
    return parts.length === 0 ? '' : ` (the line carried ${parts.join(', ')})`
  }

  async close (): Promise<void> {
    this.closedByUs = true
    if (this.quietTimer !== undefined) clearTimeout(this.quietTimer)
    await this.link.close()
  }

  private receive (chunk: Uint8Array): void {
    this.dispatch(this.decoder.push(chunk))
    if (this.quietTimer !== undefined) clearTimeout(this.quietTimer)
    this.quietTimer = this.decoder.buffered > 0 ? setTimeout(() => this.quiet(), this.quietMs) : undefined
  }

  private quiet (): void {
    this.quietTimer = undefined
    this.dispatch(this.decoder.flush())
  }

  private dispatch (events: DecodeEvent[]): void {
    const at = performance.now()
    for (const event of events) {
      if (event.kind !== 'frame') {
        this.emit({ kind: 'dropped', event, at })
        continue
      }
      let message: Message
      try {
        message = decodeMessage(event.frame)
      } catch (error) {
        const e = error instanceof SerialProtocolError ? error : new SerialProtocolError(String(error))
        this.emit({ kind: 'malformed', error: e, at })
        continue
      }
      this.emit({ kind: 'message', message, sequence: event.frame.sequence, at })
    }
  }

  private emit (event: ConnectionEvent): void {
    for (const listener of [...this.subscribers]) {
      try {
        listener(event)
      } catch {
        // A subscriber's bug must not stop the others from hearing of the event, nor escape into the port's event handler.
      }
    }
  }

  private lost (error: Error | undefined): void {
    if (this.gone !== undefined) return
    if (this.quietTimer !== undefined) clearTimeout(this.quietTimer)
    const partial = this.decoder.partial
    const cut = partial !== undefined ? `, in the middle of a ${messageTypeName(partial.type)} frame (${partial.received} of ${HEADER_SIZE + partial.length + TRAILER_SIZE} bytes)` : ''
    this.gone = new SerialDeviceGoneError(
      this.closedByUs ? `${this.link.name} was closed` : `${this.link.name} went away${cut}${error !== undefined ? `: ${error.message}` : ''}`,
      error !== undefined ? { cause: error } : undefined
    )
    this.emit({ kind: 'gone', error: this.gone, at: performance.now() })
  }
}
