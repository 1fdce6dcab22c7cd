// A scanner peer reduced to what the reconstruction benchmark needs (`npm run bench`): a libp2p host
// with the lab key, an in-memory lab holding one device, raw recordings in a temporary folder, and the
// job manager that serves them over /scanhub/job and /scanhub/raw. The benchmark's composition root
// (node/bin/bench.js) hands it to recon-node/bench, which does not import scanner-node.
import { generateKeyPair } from '@libp2p/crypto/keys'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { swarmKeyFromHex } from '../../protocol/lab-key.ts'
import { Lab, MemoryDocSource, type Actor } from '../../protocol/lab/index.ts'
import { BlobService } from '../../node/blob/blob-service.ts'
import { createLabHost, type LabHost } from '../../node/p2p/host.ts'
import { BlobStore } from '../../node/storage/blob-store.ts'
import { RawRecordings } from '../raw/raw-recordings.ts'
import { JobManager } from './job-manager.ts'

export interface BenchScanner {
  libp2p: LabHost
  /** a new acquisition task with its recording open, and a reconstruction task of it (not started) */
  newScan: () => Promise<{ reconTaskId: string, recording: { append: (bytes: Uint8Array) => Promise<void>, finish: (close: Uint8Array) => Promise<void>, readonly length: number } }>
  /** sets the reconstruction task STARTED: it becomes a job */
  startReconstruction: (taskId: string) => void
  /** sets the reconstruction task CANCELLED: its job is dropped */
  cancelReconstruction: (taskId: string) => void
  taskStatus: (taskId: string) => string | undefined
  taskError: (taskId: string) => string | undefined
  stop: () => Promise<void>
}

export async function startBenchScanner (init: { swarmKeyHex: string, leaseMs?: number }): Promise<BenchScanner> {
  const dir = await mkdtemp(join(tmpdir(), 'scanhub-bench-scanner-'))
  const libp2p = await createLabHost({ privateKey: await generateKeyPair('Ed25519'), swarmKey: swarmKeyFromHex(init.swarmKeyHex), mdns: false })
  const blobs = await BlobStore.open(join(dir, 'blobs'))
  const blobService = new BlobService({ libp2p, blobs })
  await blobService.start()
  const lab = new Lab(new MemoryDocSource())
  const actor: Actor = { name: 'bench', peerId: libp2p.peerId.toString() }
  const recordings = new RawRecordings(dir)
  const manager = new JobManager({ libp2p, lab, blobs, blobService, recordings, actor }, { leaseMs: init.leaseMs ?? 60_000, autoStart: false })
  await manager.start()
  const device = lab.devices.create({ peerId: libp2p.peerId.toString(), name: 'bench', manufacturer: 'ScanHub', model: 'Benchmark', fieldStrengthT: 1.5, driver: 'virtual' }, actor)
  const patient = lab.patients.create({ firstName: 'Bench', lastName: 'Mark', birthDate: '2000-01-01', sex: 'OTHER' }, actor)
  const exam = lab.exams.create({ patientId: patient.id, name: 'Benchmark' }, actor)
  const workflow = lab.workflows.create({ examId: exam.id, name: 'Benchmark' }, actor)
  return {
    libp2p,
    newScan: async () => {
      const acquisition = lab.tasks.create({ workflowId: workflow.id, name: 'scan', type: 'ACQUISITION', parameters: { deviceId: device.id } }, actor)
      const recon = lab.tasks.create({ workflowId: workflow.id, name: 'recon', type: 'RECONSTRUCTION', parameters: { pipeline: 'default', inputTaskId: acquisition.id } }, actor)
      const recording = await recordings.start(acquisition.id)
      lab.tasks.setStatus(acquisition.id, 'INPROGRESS', actor)
      return { reconTaskId: recon.id, recording }
    },
    startReconstruction: (taskId) => { lab.tasks.setStatus(taskId, 'STARTED', actor) },
    cancelReconstruction: (taskId) => { lab.tasks.setStatus(taskId, 'CANCELLED', actor) },
    taskStatus: (taskId) => lab.tasks.get(taskId)?.status,
    taskError: (taskId) => lab.tasks.get(taskId)?.error,
    stop: async () => {
      await manager.stop()
      await blobService.stop()
      await libp2p.stop()
      await rm(dir, { recursive: true, force: true })
    }
  }
}
