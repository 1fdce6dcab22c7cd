// The serial driver over a real serial line (a socat pty pair) against the emulator as its own process,
// as the driver meets hardware: `serialport` on a tty, and a far end that can misbehave or vanish.
import { afterEach, describe, expect, it } from 'vitest'
import { hasTool } from '../../test/support/external-tools.ts'
import type { AdcReadout } from '../driver.ts'
import { openSerialPort } from './link.ts'
import type { SerialLink } from './link.ts'
import { openPtyPair, startEmulator } from './pty-pair.ts'
import type { PtyPair, TestProcess } from './pty-pair.ts'
import { collect, energy, expectedAcquisitions, TEST_NOISE, TEST_SEED, testScan } from './scan-fixtures.ts'
import { SerialDriver } from './serial-driver.ts'
import type { SerialDriverInit } from './serial-driver.ts'

const processes: TestProcess[] = []
const drivers: SerialDriver[] = []

afterEach(async () => {
  await Promise.all(drivers.splice(0).map((d) => d.close()))
  await Promise.all(processes.splice(0).map((p) => p.kill()))
})

interface Line {
  pair: PtyPair
  emulator: TestProcess
  driver: SerialDriver
  log: string[]
}

async function line (emulatorArgs: string[] = [], init: Partial<SerialDriverInit> = {}): Promise<Line> {
  const pair = await openPtyPair()
  processes.push(pair.socat)
  const emulator = await startEmulator(pair.device, ['--seed', String(TEST_SEED), '--noise', String(TEST_NOISE), '--verbose', ...emulatorArgs])
  processes.push(emulator)
  const log: string[] = []
  const driver = new SerialDriver({ path: pair.host, name: 'pty', minDataTimeoutMs: 1000, replyTimeoutMs: 300, log: (m) => log.push(m), ...init })
  drivers.push(driver)
  return { pair, emulator, driver, log }
}

function expectExact (readouts: AdcReadout[]): void {
  const request = testScan()
  const expected = expectedAcquisitions(request)
  expect(readouts.map((r) => r.index)).toEqual(expected.map((_, i) => i))
  readouts.forEach((r, i) => {
    expect(r.channels).toBe(request.coils)
    expect(r.numberOfSamples).toBe(expected[i].head.numberOfSamples)
    expect(r.samples).toEqual(expected[i].data)
  })
}

describe.skipIf(!hasTool('socat'))('serial driver over a pty pair, emulator as a process', () => {
  it('runs a whole scan: every readout, the right sizes, the phantom\'s signal', async () => {
    const { driver } = await line()
    expect((await driver.info()).model).toBe('Serial spectrometer emulator')
    const { readouts, error } = await collect(driver.run(testScan()))
    expect(error).toBeUndefined()
    expect(readouts).toHaveLength(32)
    for (const r of readouts) {
      expect(r.numberOfSamples).toBe(64)
      expect(r.samples).toHaveLength(2 * 4 * 64)
    }
    expect(energy(readouts[16])).toBeGreaterThan(100 * energy(readouts[0]))
    expectExact(readouts)
  }, 60_000)

  it('resynchronises after garbage between frames and completes with nothing lost', async () => {
    const { driver } = await line(['--inject-garbage-every', '2'])
    const { readouts, error } = await collect(driver.run(testScan()))
    expect(error).toBeUndefined()
    expectExact(readouts)
    const stats = driver.lineStats!
    expect(stats.garbageBytes).toBeGreaterThan(100)
    expect(stats.corruptFrames + stats.truncatedFrames).toBe(0)
  }, 60_000)

  it('fetches readouts whose frames arrived damaged again (RESEND) and completes exactly', async () => {
    const { driver, log } = await line(['--corrupt-frame-every', '4'])
    const { readouts, error } = await collect(driver.run(testScan()))
    expect(error).toBeUndefined()
    expectExact(readouts)
    expect(driver.lineStats!.corruptFrames).toBe(8)
    expect(log.filter((m) => m.includes('asking again')).length).toBeGreaterThanOrEqual(1)
  }, 60_000)

  it('fails clearly with SerialProtocolError when a frame is cut short and the device hangs', async () => {
    const { driver } = await line(['--truncate-frame-at', '8'])
    const { readouts, error, ms } = await collect(driver.run(testScan()))
    expect(readouts).toHaveLength(8)
    expect((error as Error).name).toBe('SerialProtocolError')
    expect((error as Error).message).toMatch(/ADC_DATA frame \(#\d+\) was cut short after \d+ of \d+ bytes/)
    expect(ms).toBeLessThan(8000)
  }, 60_000)

  it('fails with SerialTimeoutError within a bounded time when the emulator vanishes mid-run', async () => {
    const { driver, emulator } = await line(['--exit-after-readouts', '10'])
    const { readouts, error, ms } = await collect(driver.run(testScan()))
    expect(await emulator.exited).toBe(0)
    expect(readouts).toHaveLength(10)
    // socat keeps the host's pty open, so the line just goes silent.
    expect((error as Error).name).toBe('SerialTimeoutError')
    expect((error as Error).message).toMatch(/no readout from pty for \d+ ms \(10 of 32 readouts received\)/)
    expect(ms).toBeLessThan(8000)
  }, 60_000)

  it('fails with SerialDeviceGoneError when the line itself goes (socat killed mid-run)', async () => {
    const { driver, pair } = await line()
    const { readouts, error, ms } = await collect(driver.run(testScan({ realTime: true, trS: 0.03 })), (r) => {
      if (r.index === 3) void pair.socat.kill()
    })
    expect(readouts.length).toBeGreaterThanOrEqual(4)
    expect(readouts.length).toBeLessThan(32)
    expect((error as Error).name).toBe('SerialDeviceGoneError')
    expect(ms).toBeLessThan(8000)
  }, 60_000)

  it('stops mid-run on abort: STOP acknowledged within a TR, the iterator ends, the device stops', async () => {
    const { driver, emulator } = await line()
    const controller = new AbortController()
    let abortedAt = 0
    const { readouts, error } = await collect(driver.run(testScan({ realTime: true, trS: 0.05, signal: controller.signal })), (r) => {
      if (r.index === 5) {
        abortedAt = performance.now()
        controller.abort()
      }
    })
    const stoppedIn = performance.now() - abortedAt
    expect(error).toBeUndefined()
    expect(readouts.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5])
    expect(stoppedIn).toBeLessThan(50 + 100)
    await expect.poll(() => emulator.output(), { timeout: 2000 }).toMatch(/emulator: stopped after \d+ readouts/)
  }, 60_000)

  it('stops a scan that an earlier host left playing when it connects', async () => {
    const { pair, emulator } = await line()
    // The first host's port is closed under it without a STOP, as when its process dies.
    let firstLink: SerialLink | undefined
    const first = new SerialDriver({ path: pair.host, connect: async () => (firstLink = await openSerialPort(pair.host, 115200)) })
    drivers.push(first)
    const iterator = first.run(testScan({ realTime: true, trS: 0.05 }))[Symbol.asyncIterator]()
    await iterator.next()
    await firstLink!.close()
    const log: string[] = []
    const second = new SerialDriver({ path: pair.host, log: (m) => log.push(m) })
    drivers.push(second)
    await second.info()
    expect(log.some((m) => m.includes('was running a scan; stopping it'))).toBe(true)
    await expect.poll(() => emulator.output(), { timeout: 2000 }).toMatch(/emulator: stopped after \d+ readouts/)
    // The first host's iterator yields what had arrived, then says its line is gone.
    let outcome: unknown
    for (let i = 0; i < 40 && outcome === undefined; i++) {
      outcome = await iterator.next().then((r) => r.done === true ? 'done' : undefined, (e: unknown) => e)
    }
    expect((outcome as Error).name).toBe('SerialDeviceGoneError')
  }, 60_000)
})
