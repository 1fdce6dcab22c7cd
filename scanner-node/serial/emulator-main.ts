// The serial spectrometer emulator as a process, on one end of a serial port (for tests and demos, the
// far end of a pty pair: `socat -d -d pty,raw,echo=0 pty,raw,echo=0`):
//
//   node --import tsx scanner-node/serial/emulator-main.ts --port /dev/pts/N [options]
//
// It prints one line, `emulator ready on <port>`, once it listens, and runs until killed.
import { parseArgs } from 'node:util'
import { SerialEmulator } from './emulator.ts'
import type { EmulatorFaults } from './emulator.ts'
import { openSerialPort } from './link.ts'

const USAGE = `usage: emulator-main.ts --port PATH [--baud N] [--channels N] [--seed N] [--noise SIGMA] [--verbose]
  faults: [--inject-garbage-every N] [--corrupt-frame-every N] [--truncate-frame-at K [--after-truncate hang|continue]]
          [--exit-after-readouts K]`

function count (value: string | undefined, name: string, min = 0): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} ${value}: needs an integer ≥ ${min}`)
  return n
}

async function main (): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      baud: { type: 'string', default: '115200' },
      channels: { type: 'string' },
      seed: { type: 'string' },
      noise: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      'inject-garbage-every': { type: 'string' },
      'corrupt-frame-every': { type: 'string' },
      'truncate-frame-at': { type: 'string' },
      'after-truncate': { type: 'string' },
      'exit-after-readouts': { type: 'string' },
      help: { type: 'boolean', default: false }
    },
    strict: true
  })
  if (values.help || values.port === undefined) {
    console.error(USAGE)
    process.exit(values.help ? 0 : 2)
  }
  const after = values['after-truncate']
  if (after !== undefined && after !== 'hang' && after !== 'continue') throw new Error(`--after-truncate ${after}: hang or continue`)
  const faults: EmulatorFaults = {
    injectGarbageEvery: count(values['inject-garbage-every'], 'inject-garbage-every', 1),
    corruptFrameEvery: count(values['corrupt-frame-every'], 'corrupt-frame-every', 1),
    truncateFrameAt: count(values['truncate-frame-at'], 'truncate-frame-at'),
    afterTruncate: after,
    exitAfterReadouts: count(values['exit-after-readouts'], 'exit-after-readouts', 1)
  }
  const noise = values.noise === undefined ? undefined : Number(values.noise)
  if (noise !== undefined && !(noise >= 0)) throw new Error(`--noise ${values.noise}: needs a number ≥ 0`)
  const channels = count(values.channels, 'channels', 1)
  const link = await openSerialPort(values.port, count(values.baud, 'baud', 1) ?? 115200)
  const emulator = new SerialEmulator({
    link,
    faults,
    seed: count(values.seed, 'seed'),
    noiseSigma: noise,
    device: channels === undefined ? undefined : { channels },
    // Vanishing is abrupt, as a device losing power: no goodbye, no closing of the port.
    onVanish: () => process.exit(0),
    log: values.verbose ? (message) => console.error(`emulator: ${message}`) : undefined
  })
  emulator.start()
  const shutDown = (): void => {
    emulator.stop()
    void link.close().finally(() => process.exit(0))
  }
  process.on('SIGTERM', shutDown)
  process.on('SIGINT', shutDown)
  console.log(`emulator ready on ${values.port}`)
}

main().catch((error: unknown) => {
  console.error(`emulator: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
})
