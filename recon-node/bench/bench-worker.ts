// The reconstruction side of benchmarks (c) and (d): what the recon role runs on a libp2p host (a
// job worker asking one scanner for jobs, the FFT worker threads, a blob store in a temporary folder
// and the blob service the scanner fetches each slice's DICOM from), without the lab around it.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BlobService } from '../../node/blob/blob-service.ts'
import type { LabHost } from '../../node/p2p/host.ts'
import { BlobStore } from '../../node/storage/blob-store.ts'
import { createFftPool } from '../fft/pool.ts'
import { JobWorker, type StoredImage } from '../jobs/job-worker.ts'

export interface BenchWorker {
  stop: () => Promise<void>
}

/** Starts a worker on `host` that takes jobs from the scanner `scannerPeerId`; `onImageStored` sees each slice stored. */
export async function startBenchWorker (host: LabHost, scannerPeerId: string, onImageStored: (image: StoredImage) => void): Promise<BenchWorker> {
  const dir = await mkdtemp(join(tmpdir(), 'scanhub-bench-worker-'))
  const blobs = await BlobStore.open(join(dir, 'blobs'))
  const blobService = new BlobService({ libp2p: host, blobs })
  const fft = createFftPool()
  const worker = new JobWorker({ libp2p: host, blobs, scanners: () => [scannerPeerId] }, { fft, connectIntervalMs: 100, onImageStored })
  const stop = async (): Promise<void> => {
    await worker.stop()
    await blobService.stop()
    await fft.close()
    await rm(dir, { recursive: true, force: true })
  }
  try {
    await blobService.start()
    // the FFT threads are started, as a peer has them after its first job
    await fft.fftn([256, 256], 3, new Float32Array(2 * 256 * 256))
    await worker.start()
  } catch (err) {
    await stop()
    throw err
  }
  return { stop }
}
