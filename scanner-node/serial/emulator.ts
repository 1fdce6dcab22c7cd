// A spectrometer at the far end of a serial link, for tests and demos without hardware: it speaks the
// device side of PROTOCOL.md and answers a scan with the virtual scanner's physics (a Shepp-Logan
// phantom seen through birdcage coils, with noise), for the readouts the host describes in LOAD_PLAN,
// or, without a plan, for a plain Cartesian acquisition of START's matrix.
//
// Faults, to test what the host does with them: garbage between frames, a frame damaged or cut short,
// a device that hangs, or one that vanishes mid-scan.
import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import type { Acquisition } from '../../protocol/mrd/types.ts'
import type { DeviceInfo } from '../driver.ts'
import { cartesianReadouts, sheppLogan2d, sheppLogan3d, simulateReadouts, SeededRandom } from '../virtual/index.ts'
import type { Phantom, PlannedReadout } from '../virtual/index.ts'
import { Capability, DeviceState, DoneStatus, ErrorCode, HEADER_SIZE, MessageType, SYNC, TRAILER_SIZE, isMessageType, messageTypeName } from './constants.ts'
import { crc32 } from './crc.ts'
import { FrameDecoder } from './frame.ts'
import type { DecodeEvent, Frame } from './frame.ts'
import type { SerialLink } from './link.ts'
import { decodeMessage, messageFrame } from './messages.ts'
import type { Message, StartMessage } from './messages.ts'

export interface EmulatorFaults {
  /** after every N-th frame sent, a burst of 1..40 random bytes, half of them starting with the sync bytes */
  injectGarbageEvery?: number
  /** the ADC_DATA frame of readout K goes out cut in half */
  truncateFrameAt?: number
  /** after the cut: 'hang' (default), the device goes silent and deaf, as a crashed firmware; 'continue', it carries on */
  afterTruncate?: 'hang' | 'continue'
  /** after K readouts were sent, the device vanishes (onVanish) */
  exitAfterReadouts?: number
  /** one byte flipped in every N-th ADC_DATA frame's payload on its first transmission */
  corruptFrameEvery?: number
}

export interface EmulatorInit {
  link: SerialLink
  /** overrides of the identity INFO reports */
  device?: Partial<DeviceInfo>
  /** default: Shepp-Logan, 2D or 3D as the scan's matrix */
  phantom?: Phantom
  /** standard deviation of each sample's real and imaginary part (simulate.ts units); default 0.01 */
  noiseSigma?: number
  /** seed of the noise; default 1 */
  seed?: number
  /** INFO's capability bits; default PLAN | UNPACED */
  capabilities?: number
  faults?: EmulatorFaults
  /** a PROGRESS after every this many readouts; default 16 */
  progressEvery?: number
  /** readouts kept for RESEND; default 1024 */
  keepReadouts?: number
  /** how the device vanishes (exitAfterReadouts): the process entry exits; default: the link is closed */
  onVanish?: () => void
  log?: (message: string) => void
}

/** Larmor frequency of hydrogen per tesla, Hz/T. */
const GAMMA_HZ_PER_T = 42.577478518e6
const FIELD_T = 0.05
/** Largest sequence file accepted. */
const MAX_SEQUENCE_BYTES = 64 * 1024 * 1024
/** Largest plan accepted, readouts. */
const MAX_PLAN_READOUTS = 1 << 20

export const EMULATOR_DEVICE: Readonly<DeviceInfo> = Object.freeze({
  manufacturer: 'ScanHub',
  model: 'Serial spectrometer emulator',
  serialNumber: 'EMU-0001',
  firmware: 'scanhub-emulator 1.0',
  fieldStrengthT: FIELD_T,
  larmorFrequencyHz: Math.round(GAMMA_HZ_PER_T * FIELD_T),
  channels: 8
})

interface Upload { total: number, crc: number, bytes: Uint8Array, received: number }

interface Run {
  total: number
  acquired: number
  /** the frames of the readouts kept for RESEND, by readout index */
  kept: Map<number, Uint8Array>
  stop: boolean
}

export class SerialEmulator {
  private readonly link: SerialLink
  private readonly device: DeviceInfo
  private readonly capabilities: number
  private readonly faults: EmulatorFaults
  private readonly noiseSigma: number
  private readonly seed: number
  private readonly phantom: Phantom | undefined
  private readonly progressEvery: number
  private readonly keepReadouts: number
  private readonly onVanish: (() => void) | undefined
  private readonly log: (message: string) => void
  private readonly decoder = new FrameDecoder()
  private readonly random: SeededRandom
  private state: DeviceState = DeviceState.IDLE
  private upload: Upload | undefined
  private sequence: Uint8Array | undefined
  private plan: PlannedReadout[] = []
  private planTotal = 0
  private run: Run | undefined
  private sequenceNumber = 0
  private lastReply: { type: number, sequence: number, frame: Uint8Array } | undefined
  private framesSent = 0
  private adcFramesSent = 0
  private dead = false
  private started = false
  private quietTimer: ReturnType<typeof setTimeout> | undefined

  constructor (init: EmulatorInit) {
    this.link = init.link
    this.device = { ...EMULATOR_DEVICE, ...init.device }
    this.capabilities = init.capabilities ?? (Capability.PLAN | Capability.UNPACED)
    this.faults = init.faults ?? {}
    this.noiseSigma = init.noiseSigma ?? 0.01
    this.seed = init.seed ?? 1
    this.phantom = init.phantom
    this.progressEvery = init.progressEvery ?? 16
    this.keepReadouts = init.keepReadouts ?? 1024
    this.onVanish = init.onVanish
    this.log = init.log ?? (() => {})
    this.random = new SeededRandom(this.seed ^ 0x6a09e667)
  }

  /** Starts listening on the link. */
  start (): void {
    if (this.started) return
    this.started = true
    this.link.attach({
      data: (chunk) => this.receive(chunk),
      close: () => { this.stop() }
    })
  }

  /** Stops any scan and stops answering. */
  stop (): void {
    this.dead = true
    if (this.run !== undefined) this.run.stop = true
    if (this.quietTimer !== undefined) clearTimeout(this.quietTimer)
  }

  private receive (chunk: Uint8Array): void {
    if (this.dead) return
    this.handleEvents(this.decoder.push(chunk))
    if (this.quietTimer !== undefined) clearTimeout(this.quietTimer)
    this.quietTimer = this.decoder.buffered > 0
      ? setTimeout(() => {
        this.quietTimer = undefined
        if (!this.dead) this.handleEvents(this.decoder.flush())
      }, 100)
      : undefined
  }

  private handleEvents (events: DecodeEvent[]): void {
    for (const event of events) {
      // A bug here must not become an uncaught exception in the port's event handler; the host sees no answer and says so.
      try {
        this.handleEvent(event)
      } catch (error) {
        this.log(`cannot handle ${event.kind}: ${error instanceof Error ? error.message : String(error)}`)
      }
    }
  }

  private handleEvent (event: DecodeEvent): void {
    if (this.dead) return
    if (event.kind === 'frame') {
      this.handle(event.frame)
    } else if (event.kind === 'corrupt' || event.kind === 'truncated') {
      // The header survived, so the host can be told which frame to send again.
      this.send({ type: MessageType.NACK, replyTo: event.header.sequence, code: ErrorCode.BAD_FRAME, text: `${messageTypeName(event.header.type)} frame arrived ${event.kind}` })
    }
  }

  private nextSequence (): number {
    this.sequenceNumber = (this.sequenceNumber + 1) & 0xffff
    return this.sequenceNumber
  }

  /** Writes a frame, then, when a fault asks for it, a burst of garbage. */
  private async write (frame: Uint8Array): Promise<void> {
    if (this.dead) return
    const writing = this.link.write(frame)
    this.framesSent++
    const every = this.faults.injectGarbageEvery
    if (every !== undefined && every > 0 && this.framesSent % every === 0) {
      const garbage = new Uint8Array(1 + (this.random.nextUint32() % 40))
      for (let i = 0; i < garbage.length; i++) garbage[i] = this.random.nextUint32() & 0xff
      if (garbage.length >= 2 && (this.random.nextUint32() & 1) === 1) {
        garbage[0] = SYNC[0]
        garbage[1] = SYNC[1]
      }
      await this.link.write(garbage)
    }
    await writing
  }

  private send (message: Message): Promise<void> {
    return this.write(messageFrame(message, this.nextSequence()))
  }

  /** Answers a command and remembers the answer, so that a retransmission of it gets the same one and is not done twice. */
  private reply (to: Frame, message: Message): void {
    const frame = messageFrame(message, this.nextSequence())
    this.lastReply = { type: to.type, sequence: to.sequence, frame }
    void this.write(frame)
  }

  private nack (to: Frame, code: number, text: string): void {
    this.reply(to, { type: MessageType.NACK, replyTo: to.sequence, code, text })
  }

  private handle (frame: Frame): void {
    if (!isMessageType(frame.type)) return this.nack(frame, ErrorCode.UNSUPPORTED, `${messageTypeName(frame.type)} is not a message of protocol version 1`)
    let m: Message
    try {
      m = decodeMessage(frame)
    } catch (error) {
      this.nack(frame, ErrorCode.BAD_FRAME, error instanceof Error ? error.message : String(error))
      return
    }
    const idempotent = m.type === MessageType.PING || m.type === MessageType.RESEND
    const last = this.lastReply
    if (!idempotent && last !== undefined && last.type === frame.type && last.sequence === frame.sequence) {
      void this.write(last.frame)
      return
    }
    const ack = (): void => this.reply(frame, { type: MessageType.ACK, replyTo: frame.sequence })
    switch (m.type) {
      case MessageType.HELLO:
        this.reply(frame, { type: MessageType.INFO, replyTo: frame.sequence, device: this.device, state: this.state, capabilities: this.capabilities })
        return
      case MessageType.LOAD_SEQUENCE: {
        if (this.state === DeviceState.RUNNING) return this.nack(frame, ErrorCode.BAD_STATE, 'a scan is running')
        if (m.total > MAX_SEQUENCE_BYTES) return this.nack(frame, ErrorCode.TOO_LARGE, `sequence of ${m.total} bytes; this device holds ${MAX_SEQUENCE_BYTES}`)
        if (m.offset === 0) this.upload = { total: m.total, crc: m.crc, bytes: new Uint8Array(m.total), received: 0 }
        const upload = this.upload
        if (upload === undefined || upload.total !== m.total || upload.crc !== m.crc) return this.nack(frame, ErrorCode.BAD_STATE, `chunk at ${m.offset} of a file whose upload did not start at 0`)
        if (m.offset > upload.received) return this.nack(frame, ErrorCode.BAD_STATE, `chunk at ${m.offset}; expected ${upload.received}`)
        upload.bytes.set(m.chunk, m.offset)
        upload.received = Math.max(upload.received, m.offset + m.chunk.length)
        if (upload.received === upload.total) {
          this.upload = undefined
          if (crc32(upload.bytes) !== upload.crc) return this.nack(frame, ErrorCode.SEQUENCE_CRC, 'the sequence does not match its CRC-32')
          this.sequence = upload.bytes
          this.plan = []
          this.planTotal = 0
          this.state = DeviceState.LOADED
          this.log(`sequence of ${upload.total} bytes loaded`)
        }
        return ack()
      }
      case MessageType.LOAD_PLAN: {
        if ((this.capabilities & Capability.PLAN) === 0) return this.nack(frame, ErrorCode.UNSUPPORTED, 'this device plays its sequence itself')
        if (this.state === DeviceState.RUNNING) return this.nack(frame, ErrorCode.BAD_STATE, 'a scan is running')
        if (m.total > MAX_PLAN_READOUTS) return this.nack(frame, ErrorCode.TOO_LARGE, `plan of ${m.total} readouts`)
        if (m.first === 0) {
          this.plan = []
          this.planTotal = m.total
        }
        if (m.total !== this.planTotal || m.first > this.plan.length) return this.nack(frame, ErrorCode.BAD_STATE, `readouts from ${m.first}; expected ${this.plan.length}`)
        this.plan.splice(m.first, m.readouts.length, ...m.readouts)
        return ack()
      }
      case MessageType.START:
        return this.startScan(frame, m)
      case MessageType.STOP: {
        // Acknowledged at once, in any state. The run ends here, DONE included, and its loop exits
        // without a word when it next wakes: nothing of it may follow the START of the next run.
        ack()
        const run = this.run
        if (run !== undefined && this.state === DeviceState.RUNNING) {
          run.stop = true
          this.state = DeviceState.STOPPED
          this.log(`stopped after ${run.acquired} readouts`)
          void this.send({ type: MessageType.DONE, status: DoneStatus.STOPPED, acquired: run.acquired })
        }
        return
      }
      case MessageType.RESEND: {
        const run = this.run
        for (let i = m.first; i < m.first + m.count; i++) {
          const kept = run?.kept.get(i)
          if (kept === undefined) {
            const why = run === undefined || i >= run.acquired ? `readout ${i} was not acquired` : `readout ${i} is no longer kept`
            return this.nack(frame, run === undefined || i >= run.acquired ? ErrorCode.BAD_STATE : ErrorCode.DATA_LOST, why)
          }
          void this.write(kept)
        }
        return
      }
      case MessageType.PING:
        void this.send({ type: MessageType.PONG, replyTo: frame.sequence, state: this.state, acquired: this.run?.acquired ?? 0, total: this.run?.total ?? 0 })
        return
      default:
        return this.nack(frame, ErrorCode.UNSUPPORTED, `${messageTypeName(m.type)} is not a command`)
    }
  }

  private startScan (frame: Frame, m: StartMessage): void {
    if (this.state === DeviceState.RUNNING) return this.nack(frame, ErrorCode.BAD_STATE, 'a scan is running')
    if (this.sequence === undefined) return this.nack(frame, ErrorCode.BAD_STATE, 'no sequence loaded')
    if (m.coils < 1 || m.coils > this.device.channels) return this.nack(frame, ErrorCode.TOO_LARGE, `${m.coils} coils; this device records ${this.device.channels} channels`)
    let plan: PlannedReadout[]
    if (this.planTotal > 0 && this.plan.length === this.planTotal) {
      plan = this.plan
    } else {
      // Without a plan, the emulator stands for hardware that plays a Cartesian sequence of START's matrix.
      try {
        plan = [...cartesianReadouts({ matrix: m.matrix[2] > 1 ? m.matrix : [m.matrix[0], m.matrix[1]], fovM: m.fovM, teS: m.timing.teS })]
      } catch (error) {
        return this.nack(frame, ErrorCode.MISMATCH, error instanceof Error ? error.message : String(error))
      }
    }
    if (plan.length !== m.readouts) return this.nack(frame, ErrorCode.MISMATCH, `START announces ${m.readouts} readouts; the plan has ${plan.length}`)
    const is3d = m.matrix[2] > 1
    let acquisitions: Iterator<Acquisition>
    try {
      acquisitions = simulateReadouts(plan, {
        phantom: this.phantom ?? (is3d ? sheppLogan3d() : sheppLogan2d()),
        coils: m.coils,
        noiseSigma: this.noiseSigma,
        oversampling: m.oversampling,
        fovM: m.fovM,
        matrix: is3d ? m.matrix : [m.matrix[0], m.matrix[1]],
        timing: m.timing,
        seed: this.seed,
        noiseReadouts: 0
      })
    } catch (error) {
      return this.nack(frame, ErrorCode.MISMATCH, error instanceof Error ? error.message : String(error))
    }
    const run: Run = { total: plan.length, acquired: 0, kept: new Map(), stop: false }
    this.run = run
    this.state = DeviceState.RUNNING
    this.reply(frame, { type: MessageType.ACK, replyTo: frame.sequence })
    this.log(`scan of ${run.total} readouts, ${m.coils} coils${m.realTime ? `, TR ${m.timing.trS * 1000} ms` : ''}`)
    void this.play(run, acquisitions, m)
  }

  private async play (run: Run, acquisitions: Iterator<Acquisition>, m: StartMessage): Promise<void> {
    const t0 = performance.now()
    const trMs = m.timing.trS * 1000
    // After every wait: a STOP may have ended this run (and sent its DONE) meanwhile.
    const over = (): boolean => run.stop || this.dead
    try {
      for (;;) {
        // Each readout is ready at the end of its TR.
        if (m.realTime) await sleep(t0 + (run.acquired + 1) * trMs - performance.now())
        if (over()) return
        const next = acquisitions.next()
        if (next.done === true) break
        const index = run.acquired
        const { data, head } = next.value
        const frame = messageFrame({ type: MessageType.ADC_DATA, index, channels: head.activeChannels, samples: head.numberOfSamples, data }, this.nextSequence())
        run.kept.set(index, frame)
        if (run.kept.size > this.keepReadouts) run.kept.delete(index - this.keepReadouts)
        await this.sendReadout(frame, index)
        if (this.dead) return
        run.acquired++
        if (this.faults.exitAfterReadouts === run.acquired) {
          this.vanish()
          return
        }
        if (over()) return
        if (run.acquired % this.progressEvery === 0) await this.send({ type: MessageType.PROGRESS, acquired: run.acquired, total: run.total })
        // Lets a STOP in between readouts when nothing else waits.
        if (!m.realTime) await yieldToEventLoop()
        if (over()) return
      }
      this.state = DeviceState.DONE
      await this.send({ type: MessageType.PROGRESS, acquired: run.acquired, total: run.total })
      await this.send({ type: MessageType.DONE, status: DoneStatus.COMPLETE, acquired: run.acquired })
      this.log(`scan done: ${run.acquired} readouts`)
    } catch (error) {
      if (over()) return
      this.state = DeviceState.FAILED
      const text = error instanceof Error ? error.message : String(error)
      this.log(`scan failed: ${text}`)
      await this.send({ type: MessageType.ERROR, code: ErrorCode.HARDWARE, text })
      await this.send({ type: MessageType.DONE, status: DoneStatus.FAILED, acquired: run.acquired })
    }
  }

  /** The first transmission of a readout, with the faults that apply to it. */
  private async sendReadout (frame: Uint8Array, index: number): Promise<void> {
    this.adcFramesSent++
    if (this.faults.truncateFrameAt === index) {
      this.log(`readout ${index}: frame cut after ${frame.length >> 1} of ${frame.length} bytes`)
      await this.write(frame.subarray(0, frame.length >> 1))
      if ((this.faults.afterTruncate ?? 'hang') === 'hang') {
        this.log('hanging')
        this.stop()
      }
      return
    }
    const every = this.faults.corruptFrameEvery
    if (every !== undefined && every > 0 && this.adcFramesSent % every === 0) {
      const damaged = frame.slice()
      const payloadBytes = frame.length - HEADER_SIZE - TRAILER_SIZE
      damaged[HEADER_SIZE + (this.random.nextUint32() % payloadBytes)] ^= 0x10
      this.log(`readout ${index}: one byte flipped`)
      await this.write(damaged)
      return
    }
    await this.write(frame)
  }

  private vanish (): void {
    this.log('vanishing')
    this.stop()
    if (this.onVanish !== undefined) this.onVanish()
    else void this.link.close()
  }
}

function sleep (ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve()
}
