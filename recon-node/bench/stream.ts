// Benchmark (b): raw data from the scanner over /scanhub/raw (the scanner reads the recording and
// sends it with backpressure; the receiver reads it paced, as a worker does) beside a bare libp2p
// stream on the same connection (bytes sent from memory, read with the stream's own iterator).
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import { encodeFrame, FrameDecoder } from '../../protocol/framing.ts'
import { JOB_PROTOCOL, RAW_PROTOCOL } from '../../protocol/ids.ts'
import { decodeJobMessage, encodeJobMessage, MAX_JOB_FRAME_LENGTH, type JobMessage } from '../../protocol/job.ts'
import { encodeAcquisitionMessage, encodeCloseMessage, encodeHeaderMessage } from '../../protocol/mrd/index.ts'
import { decodeRawResponseHeader, encodeRawRequest, MAX_RAW_RESPONSE_HEADER_LENGTH, RAW_STATUS_OK } from '../../protocol/raw.ts'
import type { LabHost } from '../../node/p2p/host.ts'
import { FrameWriter } from '../../protocol/framed-stream.ts'
import { readPaced } from '../jobs/paced-reader.ts'
import { syntheticScan } from './data.ts'
import type { BenchScanner } from './ports.ts'
import type { Connection, Stream } from '@libp2p/interface'

const BARE_PROTOCOL = '/scanhub-bench/bare/1.0.0'
const CHUNK = 256 * 1024
/** pairs of runs (raw, bare) that warm the code up (the raw path's first runs are far slower), then the pairs measured */
const WARM_UP_PAIRS = 2
const PAIRS = 5

export interface StreamFigures {
  bytes: number
  /** the pair of runs whose ratio is the median one */
  rawMBps: number
  bareMBps: number
}

/** Serves `n` bytes (asked as a varUint) from memory, honouring backpressure. */
async function serveBare (stream: Stream): Promise<void> {
  const decoder = new FrameDecoder(16)
  let n = 0
  for await (const chunk of stream) {
    const frames = decoder.push(chunk instanceof Uint8Array ? chunk : chunk.subarray(), 1)
    if (frames.length > 0) { n = decoding.readVarUint(decoding.createDecoder(frames[0])); break }
  }
  const block = new Uint8Array(CHUNK).fill(7)
  for (let sent = 0; sent < n; sent += CHUNK) {
    if (!stream.send(block.subarray(0, Math.min(CHUNK, n - sent)))) await stream.onDrain()
  }
  await stream.close()
}

async function bare (connection: Connection, bytes: number): Promise<number> {
  const stream = await connection.newStream(BARE_PROTOCOL)
  const started = performance.now()
  const request = encoding.createEncoder()
  encoding.writeVarUint(request, bytes)
  stream.send(encodeFrame(encoding.toUint8Array(request)))
  let got = 0
  for await (const chunk of stream) got += chunk.byteLength
  if (got !== bytes) throw new Error(`bare stream gave ${got} of ${bytes} bytes`)
  await stream.close().catch(() => {})
  return bytes / 1e6 / ((performance.now() - started) / 1000)
}

/** Takes the job's lease the way a worker does (hello, grant) without reconstructing anything. */
async function lease (connection: Connection): Promise<{ jobId: string, epoch: number, stream: Stream }> {
  const stream = await connection.newStream(JOB_PROTOCOL)
  const decoder = new FrameDecoder(MAX_JOB_FRAME_LENGTH)
  const grant = new Promise<JobMessage>((resolve) => {
    stream.addEventListener('message', (e) => {
      for (const f of decoder.push(e.data instanceof Uint8Array ? e.data : e.data.subarray())) {
        const m = decodeJobMessage(f)
        if (m.type === 'grant') resolve(m)
      }
    })
  })
  stream.send(encodeFrame(encodeJobMessage({ type: 'hello', name: 'bench', slots: 1 })))
  const m = await grant
  if (m.type !== 'grant') throw new Error('no grant')
  return { jobId: m.jobId, epoch: m.epoch, stream }
}

async function raw (connection: Connection, jobId: string, epoch: number, expected: number): Promise<number> {
  const stream = await connection.newStream(RAW_PROTOCOL)
  const started = performance.now()
  const reader = readPaced(stream)
  await new FrameWriter(stream).send(encodeRawRequest({ jobId, epoch, fromOffset: 0 }))
  const decoder = new FrameDecoder(MAX_RAW_RESPONSE_HEADER_LENGTH)
  let got = -1
  for await (const chunk of reader) {
    if (got < 0) {
      const frames = decoder.push(chunk, 1)
      if (frames.length === 0) continue
      const header = decodeRawResponseHeader(frames[0])
      if (header.status !== RAW_STATUS_OK) throw new Error(`raw stream refused: ${header.message}`)
      got = decoder.takePending().length
      continue
    }
    got += chunk.length
  }
  if (got !== expected) throw new Error(`raw stream gave ${got} of ${expected} bytes`)
  return expected / 1e6 / ((performance.now() - started) / 1000)
}

export async function streamThroughput (scanner: BenchScanner, client: LabHost, megabytes: number, log: (message: string) => void = () => {}): Promise<StreamFigures> {
  await scanner.libp2p.handle(BARE_PROTOCOL, (stream) => { void serveBare(stream).catch((err: Error) => { stream.abort(err) }) })
  const connection = await client.dial(scanner.libp2p.getMultiaddrs()[0])
  // a recording of the benchmark's readouts (8 coils x 512 samples: 32 KiB each), complete
  const scan = syntheticScan({ slices: 1 << 20, coils: 8, matrix: 256, oversampling: 2 })
  const { reconTaskId, recording } = await scanner.newScan()
  await recording.append(encodeHeaderMessage(scan.xml))
  for (let n = 0; recording.length < megabytes * 1e6;) {
    const batch: Uint8Array[] = []
    for (let j = 0; j < 32; j++, n++) batch.push(encodeAcquisitionMessage(scan.acquisition(n >> 8, n & 255)))
    await recording.append(Buffer.concat(batch))
  }
  await recording.finish(encodeCloseMessage())
  scanner.startReconstruction(reconTaskId)
  const { jobId, epoch, stream } = await lease(connection)
  const bytes = recording.length
  // Both ends share this process's one thread with its garbage collections, and this machine's speed
  // drifts from second to second: runs alternate raw, bare, raw, bare..., each ratio is taken between
  // the two runs of a pair, and the median pair is reported. The first pairs only warm the code and
  // the connection's windows: a scanner streams for minutes, its steady state is what counts.
  const pairs: Array<{ raw: number, bare: number }> = []
  for (let pair = 1 - WARM_UP_PAIRS; pair <= PAIRS; pair++) {
    const measured = { raw: await raw(connection, jobId, epoch, bytes), bare: await bare(connection, bytes) }
    log(`(b) ${pair <= 0 ? 'warm-up' : `pair ${pair}`}: raw ${measured.raw.toFixed(0)} MB/s, bare ${measured.bare.toFixed(0)} MB/s, ${(measured.raw / measured.bare).toFixed(2)}`)
    if (pair > 0) pairs.push(measured)
  }
  pairs.sort((a, b) => a.raw / a.bare - b.raw / b.bare)
  const median = pairs[Math.floor(pairs.length / 2)]
  stream.abort(new Error('benchmark done'))
  // the job only served this measurement: a worker of a later measurement must not be given it
  scanner.cancelReconstruction(reconTaskId)
  await scanner.libp2p.unhandle(BARE_PROTOCOL)
  return { bytes, rawMBps: median.raw, bareMBps: median.bare }
}
