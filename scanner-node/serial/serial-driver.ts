// A ScannerDriver for a spectrometer on a serial line, speaking the protocol of PROTOCOL.md: handshake,
// sequence (and, for emulators, plan) upload with acknowledgements and retries, then the readouts as
// they arrive, put back in order, with lost ones fetched again, and STOP whenever the scan must end early.
//
// Failures come out of the iterator (or the promise of `info`) as named errors and nowhere else: every
// event handler and timer here only records what happened for the iterator to act on.
import { checkScanRequest, samplesOfReadout, ScanRequestError, ScannerBusyError, ScannerClosedError } from '../driver.ts'
import type { AdcReadout, DeviceInfo, ScannerDriver, ScanRequest } from '../driver.ts'
import { Connection, RequestAbortedError } from './connection.ts'
import type { ConnectionEvent } from './connection.ts'
import type { DecoderStats } from './frame.ts'
import { Capability, DeviceState, DoneStatus, ErrorCode, HEADER_SIZE, MAX_PAYLOAD, MessageType, TRAILER_SIZE, messageTypeName } from './constants.ts'
import { crc32 } from './crc.ts'
import { SerialDataLostError, SerialDeviceError, SerialProtocolError, SerialTimeoutError } from './errors.ts'
import { openSerialPort } from './link.ts'
import type { SerialLink } from './link.ts'
import { adcDataSize, plannedReadoutSize } from './messages.ts'
import type { Message } from './messages.ts'
import type { PlannedReadout } from '../virtual/index.ts'

export interface SerialDriverInit {
  /** the port, e.g. '/dev/ttyUSB0'; needed unless `connect` is given */
  path?: string
  /** default 115200; timeouts allow for the time frames take on the wire at this rate */
  baudRate?: number
  /** opens the link instead of `serialport` (tests, or a device behind some other byte pipe) */
  connect?: () => Promise<SerialLink>
  /** default 'serial:<path>' */
  name?: string
  /** how long the device has to answer HELLO, ms; default 3000 */
  handshakeTimeoutMs?: number
  /** how long to wait for the answer to a command, beyond its time on the wire, ms; default 500 */
  replyTimeoutMs?: number
  /** retransmissions of an unanswered command or resend request; default 3 */
  retries?: number
  /**
   * no readout for this many TRs fails the run with SerialTimeoutError; default 20. A sequence that
   * pauses longer between readouts (many dummy scans, waiting for a trigger) needs more.
   */
  dataTimeoutTrs?: number
  /** … but never sooner than this, ms; default 2000 */
  minDataTimeoutMs?: number
  /** the line quiet this long in the middle of a frame means the frame was cut short, ms; default 100 */
  quietMs?: number
  /** bytes of sequence (or plan) per LOAD frame; default 16 KiB */
  chunkBytes?: number
  /** readouts kept while an earlier one is fetched again, before the run fails with SerialDataLostError; default 4096 */
  maxHeldReadouts?: number
  /** operational messages (lost frames, resends, stops); default: none */
  log?: (message: string) => void
}

const DEFAULTS = {
  baudRate: 115200,
  handshakeTimeoutMs: 3000,
  replyTimeoutMs: 500,
  retries: 3,
  dataTimeoutTrs: 20,
  minDataTimeoutMs: 2000,
  quietMs: 100,
  chunkBytes: 16 * 1024,
  maxHeldReadouts: 4096
}

/** HELLO is repeated this often during the handshake: the far end may still be opening its port. */
const HELLO_INTERVAL_MS = 250

/** Resend ranges remembered to match their NACKs. */
const MAX_REMEMBERED_RESENDS = 256

export function serialDriver (init: SerialDriverInit): ScannerDriver {
  return new SerialDriver(init)
}

interface Session {
  connection: Connection
  info: DeviceInfo
  capabilities: number
}

type RunEvent = ConnectionEvent | { kind: 'tick', at: number } | { kind: 'abort' }

/** Events in arrival order for the run's loop; consecutive ticks collapse into the latest one. */
class RunQueue {
  private items: RunEvent[] = []
  private head = 0
  private waiter: ((event: RunEvent) => void) | undefined

  push (event: RunEvent): void {
    if (this.waiter !== undefined) {
      const waiter = this.waiter
      this.waiter = undefined
      waiter(event)
      return
    }
    const last = this.items[this.items.length - 1]
    if (event.kind === 'tick' && this.items.length > this.head && last.kind === 'tick') {
      this.items[this.items.length - 1] = event
      return
    }
    this.items.push(event)
  }

  next (): Promise<RunEvent> {
    if (this.head < this.items.length) {
      const event = this.items[this.head++]
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head)
        this.head = 0
      }
      return Promise.resolve(event)
    }
    return new Promise((resolve) => { this.waiter = resolve })
  }
}

/** The largest of many numbers (Math.max(...values) overflows the stack for long scans). */
function longest (values: number[]): number {
  return values.reduce((a, b) => Math.max(a, b), 0)
}

const ackOf = (reply: Message, sequence: number): true | undefined => reply.type === MessageType.ACK && reply.replyTo === sequence ? true : undefined

export class SerialDriver implements ScannerDriver {
  readonly name: string
  private readonly path: string
  private readonly connectLink: () => Promise<SerialLink>
  private readonly baudRate: number
  private readonly handshakeTimeoutMs: number
  private readonly replyTimeoutMs: number
  private readonly retries: number
  private readonly dataTimeoutTrs: number
  private readonly minDataTimeoutMs: number
  private readonly quietMs: number
  private readonly chunkBytes: number
  private readonly maxHeldReadouts: number
  private readonly log: (message: string) => void
  private session: Session | undefined
  private connecting: Promise<Session> | undefined
  private running = false
  private closed = false
  private readonly closing = new AbortController()
  /** the STOP of the run in progress, for close() */
  private stopActiveRun: (() => Promise<void>) | undefined

  constructor (init: SerialDriverInit) {
    if (init.path === undefined && init.connect === undefined) throw new TypeError('a serial driver needs a path or a connect function')
    this.path = init.path ?? 'link'
    this.baudRate = init.baudRate ?? DEFAULTS.baudRate
    this.connectLink = init.connect ?? (() => openSerialPort(this.path, this.baudRate))
    this.name = init.name ?? `serial:${this.path}`
    this.handshakeTimeoutMs = init.handshakeTimeoutMs ?? DEFAULTS.handshakeTimeoutMs
    this.replyTimeoutMs = init.replyTimeoutMs ?? DEFAULTS.replyTimeoutMs
    this.retries = init.retries ?? DEFAULTS.retries
    this.dataTimeoutTrs = init.dataTimeoutTrs ?? DEFAULTS.dataTimeoutTrs
    this.minDataTimeoutMs = init.minDataTimeoutMs ?? DEFAULTS.minDataTimeoutMs
    this.quietMs = init.quietMs ?? DEFAULTS.quietMs
    this.chunkBytes = init.chunkBytes ?? DEFAULTS.chunkBytes
    this.maxHeldReadouts = init.maxHeldReadouts ?? DEFAULTS.maxHeldReadouts
    this.log = init.log ?? (() => {})
    if (!(this.chunkBytes >= 1 && this.chunkBytes <= MAX_PAYLOAD - 12)) throw new RangeError(`chunkBytes must lie in 1..${MAX_PAYLOAD - 12}`)
  }

  /** What the line's decoder counted since the port was opened (frames, garbage, corrupt and truncated frames); undefined before. */
  get lineStats (): Readonly<DecoderStats> | undefined {
    const stats = this.session?.connection.decoder.stats
    return stats === undefined ? undefined : { ...stats }
  }

  async info (options: { signal?: AbortSignal } = {}): Promise<DeviceInfo> {
    const session = await this.connect(options.signal)
    return { ...session.info }
  }

  run (request: ScanRequest): AsyncIterable<AdcReadout> {
    return this.scan(request)
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.closing.abort(new ScannerClosedError(`${this.name} was closed`))
    // The run's own abort listener has sent STOP already; wait for the device to confirm it, so that
    // closing the port does not leave a scan playing. A consumer that never pulls again does not hold this up.
    await this.stopActiveRun?.().catch(() => {})
    await this.connecting?.catch(() => {})
    await this.session?.connection.close()
    this.session = undefined
  }

  /** Time `bytes` take on the wire at the configured rate (8N1: 10 bits a byte), ms. */
  private wireMs (bytes: number): number {
    return (bytes * 10 * 1000) / this.baudRate
  }

  private replyTimeout (requestBytes: number): number {
    return this.replyTimeoutMs + this.wireMs(requestBytes + HEADER_SIZE + TRAILER_SIZE + 64)
  }

  private async connect (signal?: AbortSignal): Promise<Session> {
    if (this.closed) throw new ScannerClosedError(`${this.name} was closed`)
    if (this.session !== undefined && this.session.connection.gone === undefined) return this.session
    if (this.connecting === undefined) {
      const attempt = this.handshake()
      this.connecting = attempt
      attempt.then(() => {}, () => {}).finally(() => { if (this.connecting === attempt) this.connecting = undefined })
    }
    const attempt = this.connecting
    if (signal === undefined) return await attempt
    signal.throwIfAborted()
    // The handshake is shared by every caller; one caller's abort only stops its own wait.
    return await new Promise<Session>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason)
      signal.addEventListener('abort', onAbort, { once: true })
      attempt.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
    })
  }

  private async handshake (): Promise<Session> {
    const previous = this.session
    this.session = undefined
    await previous?.connection.close()
    const link = await this.connectLink()
    const connection = new Connection({ link, quietMs: this.quietMs })
    try {
      const retries = Math.max(0, Math.ceil(this.handshakeTimeoutMs / HELLO_INTERVAL_MS) - 1)
      const info = await connection.request({ type: MessageType.HELLO },
        (reply, sequence) => reply.type === MessageType.INFO && reply.replyTo === sequence ? reply : undefined,
        { timeoutMs: HELLO_INTERVAL_MS, retries, signal: this.closing.signal })
      this.log(`${this.name}: ${info.device.manufacturer} ${info.device.model} (firmware ${info.device.firmware || 'unknown'}), ${info.device.channels} channels`)
      if (info.state === DeviceState.RUNNING) {
        // A scan nobody listens to (its host crashed) must not go on playing.
        this.log(`${this.name}: the device was running a scan; stopping it`)
        await connection.request({ type: MessageType.STOP }, ackOf, { timeoutMs: this.replyTimeoutMs, retries: this.retries, signal: this.closing.signal })
      }
      const session = { connection, info: info.device, capabilities: info.capabilities }
      this.session = session
      return session
    } catch (error) {
      await connection.close()
      if (this.closed) throw new ScannerClosedError(`${this.name} was closed`)
      if (error instanceof SerialTimeoutError) {
        const versions = connection.decoder.stats.versionMismatches
        if (versions > 0) throw new SerialProtocolError(`the device on ${link.name} speaks another version of the protocol (${versions} frames); this driver speaks version 1`)
        throw new SerialTimeoutError(`no device answered HELLO on ${link.name} within ${this.handshakeTimeoutMs} ms${connection.troubleNote()}`)
      }
      throw error
    }
  }

  private async * scan (request: ScanRequest): AsyncGenerator<AdcReadout> {
    if (this.closed) throw new ScannerClosedError(`${this.name} was closed`)
    if (this.running) throw new ScannerBusyError(`${this.name} is already running a scan`)
    this.running = true
    try {
      yield * this.play(request)
    } finally {
      this.running = false
      this.stopActiveRun = undefined
    }
  }

  private async * play (request: ScanRequest): AsyncGenerator<AdcReadout> {
    checkScanRequest(request)
    const signal = AbortSignal.any([request.signal, this.closing.signal])
    if (signal.aborted) return
    let session: Session
    try {
      session = await this.connect(signal)
    } catch (error) {
      if (signal.aborted && !this.closed) return
      throw error
    }
    const { connection, info, capabilities } = session
    const total = request.readouts.length
    const sizes = request.readouts.map((r) => samplesOfReadout(r, request.oversampling, request.matrix[0]))
    this.checkFits(request, info, capabilities, sizes)

    try {
      await this.upload(connection, request, capabilities, signal)
    } catch (error) {
      // Nothing plays before START: an abort during the upload just ends the run.
      if (error instanceof RequestAbortedError) return
      throw error
    }

    const trMs = request.timing.trS * 1000
    const largestFrame = adcDataSize(request.coils, longest(sizes)) + HEADER_SIZE + TRAILER_SIZE
    const dataTimeoutMs = Math.max(this.dataTimeoutTrs * trMs, this.minDataTimeoutMs, 3 * this.wireMs(largestFrame))
    const resendTimeoutMs = this.replyTimeoutMs + trMs + 2 * this.wireMs(largestFrame)
    const probeMs = Math.max(4 * trMs, this.replyTimeoutMs / 2, 2 * this.wireMs(largestFrame))
    const stopTimeoutMs = this.replyTimeoutMs + trMs

    const queue = new RunQueue()
    let startSequence = -1
    let started = false
    const unsubscribe = connection.subscribe((event) => {
      // Frames before the ACK of our START belong to an earlier run (the line is in order).
      if (!started && event.kind === 'message' && event.message.type === MessageType.ACK && event.message.replyTo === startSequence) started = true
      if (started || event.kind !== 'message') queue.push(event)
    })
    let stopping: Promise<void> | undefined
    const stop = (retries = this.retries): Promise<void> => {
      if (stopping === undefined) {
        this.log(`${this.name}: STOP`)
        stopping = connection.request({ type: MessageType.STOP }, ackOf, { timeoutMs: stopTimeoutMs, retries })
          .then(() => {}, (error: unknown) => {
            throw error instanceof SerialTimeoutError ? new SerialTimeoutError(`${this.name} did not acknowledge STOP: the scan may still be playing (${error.message})`) : error
          })
        stopping.catch(() => {}) // awaited where it matters; this keeps an unawaited one from being an unhandled rejection
      }
      return stopping
    }
    this.stopActiveRun = stop
    // The stop goes out at once, not when the consumer next pulls: halting the hardware cannot wait for it.
    const onAbort = (): void => {
      void stop()
      queue.push({ kind: 'abort' })
    }
    signal.addEventListener('abort', onAbort, { once: true })
    const ticker = setInterval(() => queue.push({ kind: 'tick', at: performance.now() }), Math.min(100, Math.max(10, trMs / 2)))

    let finished = false
    let failed = false
    try {
      startSequence = connection.nextSequence()
      const start: Message = {
        type: MessageType.START,
        readouts: total,
        coils: request.coils,
        oversampling: request.oversampling,
        realTime: request.realTime ?? false,
        timing: request.timing,
        fovM: request.fovM,
        matrix: [request.matrix[0], request.matrix[1], request.matrix[2] ?? 1]
      }
      await connection.request(start, ackOf, { timeoutMs: this.replyTimeout(64), retries: this.retries, sequence: startSequence })

      let next = 0
      const held = new Map<number, AdcReadout>()
      let known = 0
      const asked = new Map<number, { at: number, tries: number }>()
      const resends = new Map<number, [number, number]>()
      let lastDataAt = performance.now()
      let lastHeardAt = lastDataAt
      let lastPingAt = -Infinity
      let trouble: string | undefined
      let deviceDone = false

      const ask = (first: number, count: number, tries: number, at: number): void => {
        const sequence = connection.send({ type: MessageType.RESEND, first, count })
        resends.set(sequence, [first, count])
        if (resends.size > MAX_REMEMBERED_RESENDS) resends.delete(resends.keys().next().value as number)
        for (let i = first; i < first + count; i++) asked.set(i, { at, tries })
        this.log(`${this.name}: readouts ${first}..${first + count - 1} lost on the line, asking again (try ${tries})`)
      }
      /** Asks for every readout the device has acquired that neither arrived nor was asked for. */
      const askMissing = (at: number): void => {
        let i = next
        while (i < known) {
          if (held.has(i) || asked.has(i)) {
            i++
            continue
          }
          let j = i
          while (j < known && !held.has(j) && !asked.has(j)) j++
          ask(i, j - i, 1, at)
          i = j
        }
      }
      const ping = (at: number): void => {
        lastPingAt = at
        connection.send({ type: MessageType.PING })
      }

      for (;;) {
        if (signal.aborted) {
          finished = true
          await stop()
          return
        }
        if (next === total && deviceDone) {
          finished = true
          return
        }
        const event = await queue.next()
        if (event.kind === 'abort') continue
        if (event.kind === 'gone') throw event.error
        if (event.kind === 'malformed') throw new SerialProtocolError(`${this.name} sent a frame that passed its CRC but cannot be read: ${event.error.message}`)
        if (event.kind === 'tick') {
          const now = event.at
          if (now - lastDataAt > dataTimeoutMs) {
            const got = `${next} of ${total} readouts received`
            if (trouble !== undefined) throw new SerialProtocolError(`${trouble}, and no readout came in the ${Math.round(now - lastDataAt)} ms since: the scan cannot go on (${got})`)
            throw new SerialTimeoutError(`no readout from ${this.name} for ${Math.round(now - lastDataAt)} ms (${got}${next === total ? ', no DONE' : ''})${connection.troubleNote()}`)
          }
          for (const [index, { at, tries }] of asked) {
            if (now - at < resendTimeoutMs) continue
            if (tries > this.retries) throw new SerialDataLostError(`readout ${index} was lost on the line and ${tries} requests to send it again went unanswered`)
            let end = index + 1
            while (asked.has(end) && now - asked.get(end)!.at >= resendTimeoutMs) end++
            ask(index, end - index, tries + 1, now)
          }
          if (now - lastHeardAt > probeMs && now - lastPingAt > probeMs) ping(now)
          continue
        }
        if (event.kind === 'dropped') {
          const dropped = event.event
          if (dropped.kind === 'version') throw new SerialProtocolError(`${this.name} sent a frame of protocol version ${dropped.version}; this driver speaks version 1`)
          if (dropped.kind === 'garbage') continue
          const h = dropped.header
          trouble = dropped.kind === 'truncated'
            ? `a ${messageTypeName(h.type)} frame (#${h.sequence}) was cut short after ${dropped.received} of ${HEADER_SIZE + h.length + TRAILER_SIZE} bytes`
            : `a ${messageTypeName(h.type)} frame (#${h.sequence}) arrived corrupt`
          this.log(`${this.name}: ${trouble}`)
          // The device's answer tells how far it got, and so which readouts to ask for again.
          if (event.at - lastPingAt > this.replyTimeoutMs / 4) ping(event.at)
          continue
        }
        const m = event.message
        lastHeardAt = event.at
        switch (m.type) {
          case MessageType.ADC_DATA: {
            if (m.index >= total) throw new SerialProtocolError(`${this.name} sent readout ${m.index} of a scan of ${total}`)
            if (m.channels !== request.coils || m.samples !== sizes[m.index]) {
              throw new SerialProtocolError(`${this.name} sent readout ${m.index} as ${m.channels} channels × ${m.samples} samples; the scan asked for ${request.coils} × ${sizes[m.index]}`)
            }
            lastDataAt = event.at
            trouble = undefined
            if (m.index < next || held.has(m.index)) break
            held.set(m.index, { index: m.index, channels: m.channels, numberOfSamples: m.samples, samples: m.data })
            asked.delete(m.index)
            known = Math.max(known, m.index + 1)
            if (held.size > this.maxHeldReadouts) throw new SerialDataLostError(`readout ${next} is still missing after ${held.size} later ones arrived`)
            for (let r = held.get(next); r !== undefined; r = held.get(next)) {
              held.delete(next)
              next++
              yield r
              if (signal.aborted) break
            }
            askMissing(event.at)
            break
          }
          case MessageType.PROGRESS:
            known = Math.max(known, Math.min(m.acquired, total))
            askMissing(event.at)
            break
          case MessageType.PONG:
            if (m.state === DeviceState.FAILED) throw new SerialDeviceError(`${this.name} reports that the scan failed after ${m.acquired} readouts`, ErrorCode.HARDWARE)
            if (m.state === DeviceState.IDLE || m.state === DeviceState.LOADED) throw new SerialDeviceError(`${this.name} no longer knows of the scan (was it reset?)`, ErrorCode.BAD_STATE)
            if (m.state === DeviceState.STOPPED && stopping === undefined) throw new SerialDeviceError(`${this.name} stopped the scan on its own after ${m.acquired} readouts`, ErrorCode.HARDWARE)
            if (m.state === DeviceState.DONE) deviceDone = true
            known = Math.max(known, Math.min(m.acquired, total))
            askMissing(event.at)
            break
          case MessageType.DONE:
            if (m.status === DoneStatus.FAILED) throw new SerialDeviceError(`${this.name} failed the scan after ${m.acquired} readouts`, ErrorCode.HARDWARE)
            if (m.status === DoneStatus.STOPPED) {
              if (stopping !== undefined) break
              throw new SerialDeviceError(`${this.name} stopped the scan on its own after ${m.acquired} readouts`, ErrorCode.HARDWARE)
            }
            if (m.acquired !== total) throw new SerialProtocolError(`${this.name} finished the scan after ${m.acquired} readouts; it has ${total}`)
            deviceDone = true
            known = total
            askMissing(event.at)
            break
          case MessageType.ERROR:
            throw new SerialDeviceError(`${this.name} reported an error: ${m.text} (code ${m.code})`, m.code)
          case MessageType.NACK: {
            const range = resends.get(m.replyTo)
            if (range === undefined) break
            if (m.code === ErrorCode.DATA_LOST) throw new SerialDataLostError(`readouts ${range[0]}..${range[0] + range[1] - 1} were lost on the line and ${this.name} no longer has them: ${m.text}`)
            if (m.code !== ErrorCode.BAD_FRAME) throw new SerialDeviceError(`${this.name} refused to send readouts ${range[0]}..${range[0] + range[1] - 1} again: ${m.text} (code ${m.code})`, m.code)
            for (let i = range[0]; i < range[0] + range[1]; i++) asked.delete(i)
            askMissing(event.at)
            break
          }
          default:
            // ACKs of retransmitted commands, replies to requests handled elsewhere.
            break
        }
      }
    } catch (error) {
      failed = true
      throw error
    } finally {
      clearInterval(ticker)
      signal.removeEventListener('abort', onAbort)
      unsubscribe()
      if (!finished && connection.gone === undefined) {
        // Left early, or failed: the device may still be playing.
        if (failed) await stop(1).catch(() => {})
        else await stop()
      }
    }
  }

  private checkFits (request: ScanRequest, info: DeviceInfo, capabilities: number, sizes: number[]): void {
    if (request.coils > info.channels) throw new ScanRequestError(`${request.coils} coils asked for; ${this.name} records ${info.channels} channels`)
    const samples = longest(sizes)
    if (adcDataSize(request.coils, samples) > MAX_PAYLOAD) {
      throw new ScanRequestError(`a readout of ${request.coils} channels × ${samples} samples does not fit one frame (${MAX_PAYLOAD} bytes)`)
    }
    if ((capabilities & Capability.PLAN) !== 0) {
      const i = request.readouts.findIndex((r) => plannedReadoutSize(r) + 12 > MAX_PAYLOAD)
      if (i >= 0) throw new ScanRequestError(`readout ${i} of ${request.readouts[i].kx.length} samples is too long to describe in one frame`)
    }
  }

  private async upload (connection: Connection, request: ScanRequest, capabilities: number, signal: AbortSignal): Promise<void> {
    const file = request.sequence
    const crc = crc32(file)
    for (let offset = 0; offset < file.length; offset += this.chunkBytes) {
      const chunk = file.subarray(offset, offset + this.chunkBytes)
      await connection.request({ type: MessageType.LOAD_SEQUENCE, total: file.length, offset, crc, chunk }, ackOf,
        { timeoutMs: this.replyTimeout(chunk.length), retries: this.retries, signal })
    }
    if ((capabilities & Capability.PLAN) === 0) return
    const readouts = request.readouts
    let first = 0
    while (first < readouts.length) {
      const chunk: PlannedReadout[] = []
      let bytes = 12
      while (first + chunk.length < readouts.length) {
        const size = plannedReadoutSize(readouts[first + chunk.length])
        if (chunk.length > 0 && bytes + size > this.chunkBytes) break
        chunk.push(readouts[first + chunk.length])
        bytes += size
      }
      await connection.request({ type: MessageType.LOAD_PLAN, total: readouts.length, first, readouts: chunk }, ackOf,
        { timeoutMs: this.replyTimeout(bytes), retries: this.retries, signal })
      first += chunk.length
    }
  }
}
