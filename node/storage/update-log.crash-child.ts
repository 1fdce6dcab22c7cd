// Spawned by update-log.test.ts and killed with SIGKILL: appends records in bursts and prints the index
// of each one once its append has resolved, i.e. once the log acknowledged it as on disk.
// Record i is u32le(i) followed by (i % 200) bytes of value (i & 0xff).
import { UpdateLog } from './update-log.ts'

const file = process.argv[2]
const { log, records } = await UpdateLog.open(file, { onWarning: (message) => process.stderr.write(`${message}\n`) })
let next = records.length

function record (index: number): Uint8Array {
  const bytes = new Uint8Array(4 + index % 200).fill(index & 0xff)
  new DataView(bytes.buffer).setUint32(0, index, true)
  return bytes
}

for (;;) {
  const burst: Array<Promise<void>> = []
  for (let k = 0; k < 25; k++) {
    const index = next++
    burst.push(log.append(record(index)).then(() => { process.stdout.write(`${index}\n`) }))
  }
  await Promise.all(burst)
}
