// Benchmark (d): the peak memory of a reconstruction peer while it reconstructs the scan of (a). The
// peer runs in a process of its own (node/bin/bench.js --child recon-peer): a libp2p host with the lab
// key and what the recon role runs on it (bench-worker.ts), with V8 set as the role sets it
// (memory-mode.ts). The benchmark's scanner streams the whole scan to it over /scanhub/raw as fast as
// the recording is written; the process reports its peak resident memory (peak-rss.ts) once every
// slice's DICOM is stored.
import '../../node/runtime/promise-with-resolvers.ts'
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { encodeAcquisitionMessage, encodeCloseMessage, encodeHeaderMessage } from '../../protocol/mrd/index.ts'
import { swarmKeyFromHex } from '../../protocol/lab-key.ts'
import { createLabHost } from '../../node/p2p/host.ts'
import { favourMemoryOverSpeed } from '../memory-mode.ts'
import { startBenchWorker } from './bench-worker.ts'
import { syntheticScan, type ScanShape } from './data.ts'
import { peakRssMiB } from './peak-rss.ts'
import type { BenchScanner } from './ports.ts'

export interface ReconPeerFigures {
  images: number
  seconds: number
  /** resident memory of the peer with its host, worker and FFT threads running, before the scan */
  baselineRssMiB: number
  peakRssMiB: number
  unitBytes: number
}

interface PeerChildInit {
  swarmKeyHex: string
  /** the scanner's address and peer id */
  scanner: string
  scannerPeerId: string
  slices: number
}

const MiB = 1024 * 1024

/** The child process's entry (bench.js --child recon-peer INIT): a reconstruction peer that takes one job, then prints its figures as JSON. */
export async function runChild (initJson: string): Promise<void> {
  const init = JSON.parse(initJson) as PeerChildInit
  // as the recon role does when it starts (recon-node/role.ts)
  favourMemoryOverSpeed()
  const libp2p = await createLabHost({ privateKey: await generateKeyPair('Ed25519'), swarmKey: swarmKeyFromHex(init.swarmKeyHex), mdns: false })
  let images = 0
  let started = 0
  const allStored = Promise.withResolvers<void>()
  try {
    // with its FFT threads started, as a peer has them after its first job
    const worker = await startBenchWorker(libp2p, init.scannerPeerId, () => {
      if (images++ === 0) started = performance.now()
      if (images === init.slices) allStored.resolve()
    })
    try {
      await libp2p.dial(multiaddr(init.scanner))
      const baselineRssMiB = process.memoryUsage().rss / MiB
      process.stdout.write('ready\n')
      await allStored.promise
      const figures: Omit<ReconPeerFigures, 'unitBytes'> = {
        images,
        seconds: (performance.now() - started) / 1000,
        baselineRssMiB,
        peakRssMiB: peakRssMiB()
      }
      process.stdout.write(`${JSON.stringify(figures)}\n`)
    } finally {
      await worker.stop()
    }
  } finally {
    await libp2p.stop()
  }
}

/**
 * Runs the reconstruction peer in a child process (`bin` --child recon-peer) and streams a scan of `shape`
 * to it from `scanner`; resolves to the child's figures.
 */
export async function reconPeerMemory (bin: string, scanner: BenchScanner, swarmKeyHex: string, shape: ScanShape): Promise<ReconPeerFigures> {
  const address = scanner.libp2p.getMultiaddrs().find((a) => !a.toString().includes('/ws')) ?? scanner.libp2p.getMultiaddrs()[0]
  const init: PeerChildInit = { swarmKeyHex, scanner: address.toString(), scannerPeerId: scanner.libp2p.peerId.toString(), slices: shape.slices }
  // with this process's Node options, which are a peer's (package.json's bench script)
  const child: ChildProcess = spawn(process.execPath, [...process.execArgv, bin, '--child', 'recon-peer', JSON.stringify(init)], { stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  try {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]()
    const next = async (): Promise<string> => {
      const line = await Promise.race([lines.next(), exited.then(() => ({ done: true, value: undefined }))])
      if (line.done === true || line.value === undefined) throw new Error(`the reconstruction peer exited with ${child.exitCode}`)
      return line.value
    }
    if (await next() !== 'ready') throw new Error('the reconstruction peer did not start')
    const scan = syntheticScan(shape)
    const { reconTaskId, recording } = await scanner.newScan()
    await recording.append(encodeHeaderMessage(scan.xml))
    await recording.append(encodeAcquisitionMessage(scan.noise))
    scanner.startReconstruction(reconTaskId)
    for (let s = 0; s < shape.slices; s++) {
      for (let y = 0; y < shape.matrix; y++) await recording.append(encodeAcquisitionMessage(scan.acquisition(s, y)))
    }
    await recording.finish(encodeCloseMessage())
    const figures = JSON.parse(await next()) as Omit<ReconPeerFigures, 'unitBytes'>
    if (await exited !== 0) throw new Error(`the reconstruction peer exited with ${child.exitCode}`)
    return { ...figures, unitBytes: scan.unitBytes }
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
  }
}
