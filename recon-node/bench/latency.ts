// Benchmark (c): from a slice's last readout reaching the scanner's recording to that slice's DICOM
// stored on the reconstruction peer, through the whole path a lab runs: the recording, /scanhub/raw,
// the streaming chain, the DICOM writer and the blob store, between two libp2p hosts.
import { encodeAcquisitionMessage, encodeCloseMessage, encodeHeaderMessage } from '../../protocol/mrd/index.ts'
import type { LabHost } from '../../node/p2p/host.ts'
import type { StoredImage } from '../jobs/job-worker.ts'
import { startBenchWorker } from './bench-worker.ts'
import { syntheticScan, type ScanShape } from './data.ts'
import type { BenchScanner } from './ports.ts'

/** Time given to the worker to take in a slice's other readouts before its last one is sent. */
const SETTLE_MS = 1500

async function sleep (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}

async function within<T> (promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    return await Promise.race([promise, new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(message())) }, ms) })])
  } finally {
    clearTimeout(timer)
  }
}

/** Milliseconds per slice, from appending its last readout to its DICOM stored. */
export async function sliceLatency (scanner: BenchScanner, workerHost: LabHost, shape: ScanShape): Promise<number[]> {
  const waiting = new Map<string, (image: StoredImage) => void>()
  const worker = await startBenchWorker(workerHost, scanner.libp2p.peerId.toString(), (image) => { waiting.get(image.unitKey)?.(image) })
  try {
    await workerHost.dial(scanner.libp2p.getMultiaddrs()[0])
    const scan = syntheticScan(shape)
    const { reconTaskId, recording } = await scanner.newScan()
    await recording.append(encodeHeaderMessage(scan.xml))
    await recording.append(encodeAcquisitionMessage(scan.noise))
    scanner.startReconstruction(reconTaskId)
    const latencies: number[] = []
    for (let s = 0; s < shape.slices; s++) {
      for (let y = 0; y < shape.matrix - 1; y++) await recording.append(encodeAcquisitionMessage(scan.acquisition(s, y)))
      await sleep(SETTLE_MS)
      const stored = new Promise<StoredImage>((resolve) => { waiting.set(`${s}.0.0.0.0`, resolve) })
      const last = encodeAcquisitionMessage(scan.acquisition(s, shape.matrix - 1))
      const t0 = performance.now()
      await recording.append(last)
      await within(stored, 30_000, () => `slice ${s} was not stored within 30 s (task ${scanner.taskStatus(reconTaskId)} ${scanner.taskError(reconTaskId) ?? ''})`)
      latencies.push(performance.now() - t0)
    }
    await recording.finish(encodeCloseMessage())
    for (let i = 0; i < 200 && scanner.taskStatus(reconTaskId) !== 'FINISHED'; i++) await sleep(50)
    // a job left running would be given to the peer of the next measurement
    if (scanner.taskStatus(reconTaskId) !== 'FINISHED') scanner.cancelReconstruction(reconTaskId)
    return latencies
  } finally {
    await worker.stop()
  }
}
