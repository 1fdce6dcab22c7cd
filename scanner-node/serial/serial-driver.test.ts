// The serial driver against the emulator in the same process, over an in-memory link: the whole
// protocol (handshake, uploads, resends, stop) and the driver's contract, without ptys or processes.
// serial-pty.test.ts repeats the main cases over a real pty pair with the emulator as a process.
import { afterEach, describe, expect, it } from 'vitest'
import { ScannerBusyError, ScannerClosedError, ScanRequestError } from '../driver.ts'
import type { AdcReadout, ScannerDriver } from '../driver.ts'
import { Capability } from './constants.ts'
import { EMULATOR_DEVICE, SerialEmulator } from './emulator.ts'
import type { EmulatorInit } from './emulator.ts'
import { memoryLinkPair } from './link.ts'
import type { SerialLink } from './link.ts'
import { collect, energy, expectedAcquisitions, TEST_NOISE, TEST_SEED, testScan } from './scan-fixtures.ts'
import { SerialDriver } from './serial-driver.ts'
import type { SerialDriverInit } from './serial-driver.ts'

interface Bench {
  driver: SerialDriver
  emulator: SerialEmulator
  device: SerialLink
  log: string[]
}

const benches: Bench[] = []

afterEach(async () => {
  for (const bench of benches.splice(0)) {
    bench.emulator.stop()
    await bench.driver.close()
    await bench.device.close()
  }
})

function bench (emulator: Partial<EmulatorInit> = {}, driver: Partial<SerialDriverInit> = {}): Bench {
  const [host, device] = memoryLinkPair(['host', 'device'])
  const log: string[] = []
  const emu = new SerialEmulator({ link: device, seed: TEST_SEED, noiseSigma: TEST_NOISE, ...emulator })
  emu.start()
  const d = new SerialDriver({ connect: async () => host, name: 'emulator', minDataTimeoutMs: 1000, replyTimeoutMs: 200, log: (m) => log.push(m), ...driver })
  const b = { driver: d, emulator: emu, device, log }
  benches.push(b)
  return b
}

function expectExact (readouts: AdcReadout[], request = testScan()): void {
  const expected = expectedAcquisitions(request)
  expect(readouts.map((r) => r.index)).toEqual(expected.map((_, i) => i))
  readouts.forEach((r, i) => {
    expect(r.channels).toBe(request.coils)
    expect(r.numberOfSamples).toBe(expected[i].head.numberOfSamples)
    expect(r.samples).toEqual(expected[i].data)
  })
}

describe('serial driver against the in-process emulator', () => {
  it('reports the device identity', async () => {
    const { driver } = bench()
    expect(await driver.info()).toEqual(EMULATOR_DEVICE)
  })

  it('returns every readout in order, bit for bit the virtual scanner physics', async () => {
    const { driver } = bench()
    const request = testScan()
    const { readouts, error } = await collect(driver.run(request))
    expect(error).toBeUndefined()
    expect(readouts).toHaveLength(32)
    expect(readouts[0].numberOfSamples).toBe(64)
    expect(readouts[0].samples).toHaveLength(2 * 4 * 64)
    expectExact(readouts, request)
    // Signal, not noise: the centre line of k-space carries far more energy than the edge.
    expect(energy(readouts[16])).toBeGreaterThan(100 * energy(readouts[0]))
  })

  it('runs again on the same connection', async () => {
    const { driver } = bench()
    for (let i = 0; i < 2; i++) {
      const { readouts, error } = await collect(driver.run(testScan({ coils: 2 })))
      expect(error).toBeUndefined()
      expect(readouts).toHaveLength(32)
    }
  })

  it('plays a Cartesian scan of its own when the device takes no plan', async () => {
    const { driver } = bench({ capabilities: Capability.UNPACED })
    const request = testScan()
    const { readouts, error } = await collect(driver.run(request))
    expect(error).toBeUndefined()
    expectExact(readouts, request)
  })

  it('fetches corrupt readouts again and still returns the exact data', async () => {
    const b = bench({ faults: { corruptFrameEvery: 5 } })
    const request = testScan()
    const { readouts, error } = await collect(b.driver.run(request))
    expect(error).toBeUndefined()
    expectExact(readouts, request)
    expect(b.driver.lineStats?.corruptFrames).toBeGreaterThanOrEqual(6)
    expect(b.log.some((m) => m.includes('asking again'))).toBe(true)
  })

  it('fetches a frame cut short again when the device carries on', async () => {
    const b = bench({ faults: { truncateFrameAt: 10, afterTruncate: 'continue' } })
    const request = testScan()
    const { readouts, error } = await collect(b.driver.run(request))
    expect(error).toBeUndefined()
    expectExact(readouts, request)
    expect(b.driver.lineStats?.truncatedFrames).toBe(1)
  })

  it('fetches the last readout again when its frame is cut short (nothing follows but DONE)', async () => {
    const b = bench({ faults: { truncateFrameAt: 31, afterTruncate: 'continue' } })
    const { readouts, error } = await collect(b.driver.run(testScan()))
    expect(error).toBeUndefined()
    expect(readouts).toHaveLength(32)
  })

  it('fails with SerialProtocolError when a frame is cut short and the device goes silent', async () => {
    const { driver } = bench({ faults: { truncateFrameAt: 5 } })
    const { readouts, error, ms } = await collect(driver.run(testScan()))
    expect(readouts).toHaveLength(5)
    expect((error as Error).name).toBe('SerialProtocolError')
    expect((error as Error).message).toMatch(/ADC_DATA frame .* cut short/)
    expect(ms).toBeLessThan(5000)
  })

  it('fails with SerialDataLostError when the device no longer keeps a lost readout', async () => {
    const { driver } = bench({ faults: { corruptFrameEvery: 7 }, keepReadouts: 0 })
    const { readouts, error } = await collect(driver.run(testScan()))
    expect(readouts).toHaveLength(6)
    expect((error as Error).name).toBe('SerialDataLostError')
  })

  it('fails with SerialDeviceGoneError when the device vanishes mid-run', async () => {
    const { driver } = bench({ faults: { exitAfterReadouts: 12 } })
    const { readouts, error, ms } = await collect(driver.run(testScan()))
    expect(readouts).toHaveLength(12)
    expect((error as Error).name).toBe('SerialDeviceGoneError')
    expect(ms).toBeLessThan(3000)
  })

  it('stops the scan when the signal is aborted: acknowledged, and the iterator ends', async () => {
    const b = bench()
    const controller = new AbortController()
    const request = testScan({ realTime: true, trS: 0.02, signal: controller.signal })
    let abortedAt = 0
    const { readouts, error } = await collect(b.driver.run(request), (r) => {
      if (r.index === 4) {
        abortedAt = performance.now()
        controller.abort()
      }
    })
    const endedAfter = performance.now() - abortedAt
    expect(error).toBeUndefined()
    expect(readouts).toHaveLength(5)
    expect(endedAfter).toBeLessThan(200)
    expect(b.log).toContain('emulator: STOP')
  })

  it('stops the device when the loop is left early', async () => {
    const b = bench()
    const seen: number[] = []
    for await (const r of b.driver.run(testScan({ realTime: true, trS: 0.01 }))) {
      seen.push(r.index)
      if (r.index === 2) break
    }
    expect(seen).toEqual([0, 1, 2])
    expect(b.log).toContain('emulator: STOP')
    // The device is idle again: another scan runs.
    const { readouts, error } = await collect(b.driver.run(testScan({ coils: 1 })))
    expect(error).toBeUndefined()
    expect(readouts).toHaveLength(32)
  })

  it('ends at once, sending nothing, when the signal is aborted before the run', async () => {
    const b = bench()
    const controller = new AbortController()
    controller.abort()
    const { readouts, error } = await collect(b.driver.run(testScan({ signal: controller.signal })))
    expect(error).toBeUndefined()
    expect(readouts).toHaveLength(0)
    expect(b.driver.lineStats).toBeUndefined()
  })

  it('refuses a second run while one is going, without disturbing it', async () => {
    const { driver } = bench()
    const first = driver.run(testScan({ realTime: true, trS: 0.005 }))[Symbol.asyncIterator]()
    await first.next()
    const second = await collect(driver.run(testScan()))
    expect(second.error).toBeInstanceOf(ScannerBusyError)
    let count = 1
    while (!(await first.next()).done) count++
    expect(count).toBe(32)
  })

  it('refuses a scan with more coils than the device has channels', async () => {
    const { driver } = bench()
    const { error } = await collect(driver.run(testScan({ coils: 9 })))
    expect(error).toBeInstanceOf(ScanRequestError)
  })

  it('stops a run in progress on close, then refuses to be used', async () => {
    const b = bench()
    const iterator = b.driver.run(testScan({ realTime: true, trS: 0.01 }))[Symbol.asyncIterator]()
    await iterator.next()
    await b.driver.close()
    expect(b.log).toContain('emulator: STOP')
    // The consumer that comes back finds the run ended.
    expect((await iterator.next()).done).toBe(true)
    await expect(b.driver.info()).rejects.toBeInstanceOf(ScannerClosedError)
  })
})

describe('serial driver handshake', () => {
  it('times out clearly when nothing answers', async () => {
    const [host] = memoryLinkPair()
    const driver: ScannerDriver = new SerialDriver({ connect: async () => host, handshakeTimeoutMs: 600 })
    const t0 = performance.now()
    const error = await driver.info().catch((e: unknown) => e)
    expect((error as Error).name).toBe('SerialTimeoutError')
    expect((error as Error).message).toMatch(/no device answered HELLO/)
    expect(performance.now() - t0).toBeLessThan(2000)
    await driver.close()
  })

  it('says the port is gone when it cannot be opened', async () => {
    const driver = new SerialDriver({ path: '/dev/does-not-exist-scanhub' })
    const error = await driver.info().catch((e: unknown) => e)
    expect((error as Error).name).toBe('SerialDeviceGoneError')
    await driver.close()
  })
})
