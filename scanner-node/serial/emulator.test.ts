// The device side of the protocol, frame by frame, as firmware must behave (PROTOCOL.md): a raw host
// sends frames to the emulator over an in-memory link and reads the answers.
import { afterEach, describe, expect, it } from 'vitest'
import { cartesianReadouts } from '../virtual/index.ts'
import { DeviceState, DoneStatus, ErrorCode, MessageType } from './constants.ts'
import { crc32 } from './crc.ts'
import { EMULATOR_DEVICE, SerialEmulator } from './emulator.ts'
import { FrameDecoder, encodeFrame } from './frame.ts'
import { memoryLinkPair } from './link.ts'
import type { SerialLink } from './link.ts'
import { decodeMessage, messageFrame } from './messages.ts'
import type { Message, StartMessage } from './messages.ts'

class RawHost {
  readonly received: Message[] = []
  private readonly link: SerialLink
  private readonly decoder = new FrameDecoder()

  constructor (link: SerialLink) {
    this.link = link
    link.attach({
      data: (chunk) => {
        for (const e of this.decoder.push(chunk)) if (e.kind === 'frame') this.received.push(decodeMessage(e.frame))
      },
      close: () => {}
    })
  }

  send (m: Message, sequence: number): void {
    void this.link.write(messageFrame(m, sequence))
  }

  sendRaw (bytes: Uint8Array): void {
    void this.link.write(bytes)
  }

  /** Waits for the first message received from now on that satisfies `test`. */
  async next<T extends Message> (test: (m: Message) => m is T, timeoutMs = 2000): Promise<T> {
    const from = this.received.length
    const end = performance.now() + timeoutMs
    for (;;) {
      const found = this.received.slice(from).find(test)
      if (found !== undefined) return found
      if (performance.now() > end) throw new Error(`no such message within ${timeoutMs} ms; got ${this.received.slice(from).map((m) => m.type).join(', ')}`)
      await new Promise((r) => setTimeout(r, 5))
    }
  }

  async reply (m: Message, sequence: number): Promise<Message> {
    const waiting = this.next((r): r is Message => 'replyTo' in r && r.replyTo === sequence)
    this.send(m, sequence)
    return await waiting
  }
}

const emulators: SerialEmulator[] = []
afterEach(() => { for (const e of emulators.splice(0)) e.stop() })

function device (): RawHost {
  const [host, dev] = memoryLinkPair()
  const emulator = new SerialEmulator({ link: dev })
  emulator.start()
  emulators.push(emulator)
  return new RawHost(host)
}

const sequence = new TextEncoder().encode('[VERSION]\nmajor 1\nminor 5\nrevision 1\n')
const start = (readouts: number): StartMessage => ({
  type: MessageType.START, readouts, coils: 2, oversampling: 1, realTime: false,
  timing: { teS: 0.005, trS: 0.01, flipAngleDeg: 20, kind: 'GRE' }, fovM: [0.2, 0.2, 0.2], matrix: [8, 8, 1]
})
const loadSequence = (): Message => ({ type: MessageType.LOAD_SEQUENCE, total: sequence.length, offset: 0, crc: crc32(sequence), chunk: sequence })

describe('emulator (device side of the protocol)', () => {
  it('answers HELLO with INFO naming the request', async () => {
    const host = device()
    expect(await host.reply({ type: MessageType.HELLO }, 41)).toEqual({
      type: MessageType.INFO, replyTo: 41, device: EMULATOR_DEVICE, state: DeviceState.IDLE, capabilities: 3
    })
  })

  it('refuses START without a sequence, and an unknown message type', async () => {
    const host = device()
    expect(await host.reply(start(8), 1)).toMatchObject({ type: MessageType.NACK, code: ErrorCode.BAD_STATE })
    host.sendRaw(encodeFrame(0x7e, 2, new Uint8Array(0)))
    expect(await host.next((m): m is Message => m.type === MessageType.NACK)).toMatchObject({ replyTo: 2, code: ErrorCode.UNSUPPORTED })
  })

  it('answers a damaged command with NACK BAD_FRAME naming it, so that the host sends it again at once', async () => {
    const host = device()
    const frame = messageFrame(loadSequence(), 9)
    frame[20] ^= 0xff
    host.sendRaw(frame)
    expect(await host.next((m): m is Message => m.type === MessageType.NACK)).toMatchObject({ replyTo: 9, code: ErrorCode.BAD_FRAME })
  })

  it('checks the whole sequence against its CRC-32', async () => {
    const host = device()
    const bad: Message = { ...loadSequence(), crc: 1234 } as Message
    expect(await host.reply(bad, 1)).toMatchObject({ type: MessageType.NACK, code: ErrorCode.SEQUENCE_CRC })
  })

  it('plays a scan without a plan (Cartesian, START\'s matrix), resends readouts, reports its state', async () => {
    const host = device()
    expect(await host.reply(loadSequence(), 1)).toEqual({ type: MessageType.ACK, replyTo: 1 })
    expect(await host.reply(start(7), 2)).toMatchObject({ type: MessageType.NACK, code: ErrorCode.MISMATCH })
    const done = host.next((m): m is Message => m.type === MessageType.DONE)
    expect(await host.reply(start(8), 3)).toEqual({ type: MessageType.ACK, replyTo: 3 })
    expect(await done).toEqual({ type: MessageType.DONE, status: DoneStatus.COMPLETE, acquired: 8 })
    const adc = host.received.filter((m) => m.type === MessageType.ADC_DATA)
    expect(adc.map((m) => m.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    expect(adc[0]).toMatchObject({ channels: 2, samples: 8 })
    expect(await host.reply({ type: MessageType.PING }, 4)).toEqual({ type: MessageType.PONG, replyTo: 4, state: DeviceState.DONE, acquired: 8, total: 8 })
    const again = host.next((m): m is Message => m.type === MessageType.ADC_DATA && m.index === 5)
    host.send({ type: MessageType.RESEND, first: 5, count: 1 }, 5)
    expect(await again).toEqual(adc[5])
    expect(await host.reply({ type: MessageType.RESEND, first: 8, count: 1 }, 6)).toMatchObject({ type: MessageType.NACK, code: ErrorCode.BAD_STATE })
  })

  it('takes a plan in chunks and plays it', async () => {
    const host = device()
    await host.reply(loadSequence(), 1)
    const plan = [...cartesianReadouts({ matrix: [8, 6], fovM: 0.2, teS: 0.005 })]
    expect(await host.reply({ type: MessageType.LOAD_PLAN, total: 6, first: 0, readouts: plan.slice(0, 4) }, 2)).toMatchObject({ type: MessageType.ACK })
    expect(await host.reply({ type: MessageType.LOAD_PLAN, total: 6, first: 5, readouts: plan.slice(5) }, 3)).toMatchObject({ type: MessageType.NACK, code: ErrorCode.BAD_STATE })
    expect(await host.reply({ type: MessageType.LOAD_PLAN, total: 6, first: 4, readouts: plan.slice(4) }, 4)).toMatchObject({ type: MessageType.ACK })
    const done = host.next((m): m is Message => m.type === MessageType.DONE)
    expect(await host.reply({ ...start(6), matrix: [8, 6, 1] }, 5)).toMatchObject({ type: MessageType.ACK })
    expect(await done).toMatchObject({ status: DoneStatus.COMPLETE, acquired: 6 })
  })

  it('acknowledges STOP at once, ends the run with DONE(stopped), and nothing of that run follows', async () => {
    const host = device()
    await host.reply(loadSequence(), 1)
    await host.reply({ ...start(8), realTime: true, timing: { teS: 0.005, trS: 0.05, flipAngleDeg: 20, kind: 'GRE' } }, 2)
    await host.next((m): m is Message => m.type === MessageType.ADC_DATA)
    const done = host.next((m): m is Message => m.type === MessageType.DONE)
    const t0 = performance.now()
    expect(await host.reply({ type: MessageType.STOP }, 3)).toEqual({ type: MessageType.ACK, replyTo: 3 })
    expect(performance.now() - t0).toBeLessThan(50)
    expect(await done).toMatchObject({ status: DoneStatus.STOPPED })
    const count = host.received.length
    await new Promise((r) => setTimeout(r, 150))
    expect(host.received.length).toBe(count)
    // A retransmitted STOP gets the same ACK; STOP in any state is acknowledged.
    expect(await host.reply({ type: MessageType.STOP }, 3)).toEqual({ type: MessageType.ACK, replyTo: 3 })
    expect(await host.reply({ type: MessageType.STOP }, 4)).toEqual({ type: MessageType.ACK, replyTo: 4 })
  })
})
