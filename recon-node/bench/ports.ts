// What the benchmark needs of a scanner peer. The benchmark's composition root (node/bin/bench.js)
// passes scanner-node's implementation (scanner-node/jobs/bench-scanner.ts): recon-node does not
// import scanner-node, the two meet on the wire.
import type { LabHost } from '../../node/p2p/host.ts'

export interface BenchRecording {
  append: (bytes: Uint8Array) => Promise<void>
  finish: (close: Uint8Array) => Promise<void>
  readonly length: number
}

export interface BenchScanner {
  libp2p: LabHost
  newScan: () => Promise<{ reconTaskId: string, recording: BenchRecording }>
  startReconstruction: (taskId: string) => void
  /** sets the reconstruction task CANCELLED: the scanner drops its job, which no later part of the benchmark may then be given */
  cancelReconstruction: (taskId: string) => void
  taskStatus: (taskId: string) => string | undefined
  taskError: (taskId: string) => string | undefined
  stop: () => Promise<void>
}

export type StartBenchScanner = (init: { swarmKeyHex: string, leaseMs?: number }) => Promise<BenchScanner>
