// `npm run bench`: the reconstruction's figures beside their references, on this machine.
//   (a) throughput of the chain on 64 slices x 8 coils x 256², 2x readout oversampling, beside BART
//       (`bart fft -i 3` then `bart rss 8` on the same k-space, timed end to end with its file I/O);
//   (b) raw data over /scanhub/raw beside a bare libp2p stream on the same connection;
//   (c) latency from a slice's last readout to its DICOM stored (8 coils, 256², through the job system);
//   (d) peak resident memory of a reconstruction peer (a process of its own) taking the scan of (a)
//       streamed from the scanner as it is recorded;
//   (e) non-Cartesian gridding (nufft) beside `bart nufft -a`, and (f) parallel imaging (grappa)
//       beside `bart ecalib` + `bart pics`, on the same data (undersampled.ts).
import { spawn, spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { generateSwarmKeyHex, swarmKeyFromHex } from '../../protocol/lab-key.ts'
import { createLabHost } from '../../node/p2p/host.ts'
import { writeScanCfl, syntheticScan, type ScanShape } from './data.ts'
import { sliceLatency } from './latency.ts'
import type { StartBenchScanner } from './ports.ts'
import type { ReconFigures } from './recon.ts'
import { reconPeerMemory } from './recon-peer.ts'
import { streamThroughput } from './stream.ts'
import { hasTools, nufftFigure, parallelImagingFigure, type PairFigure } from './undersampled.ts'
import { createFftPool } from '../fft/pool.ts'

export interface BenchOptions {
  /** the bench's own bin file, which runs the child processes of (a) and (d) (recon.ts, recon-peer.ts) */
  bin: string
  startScanner: StartBenchScanner
}

const FULL: ScanShape = { slices: 64, coils: 8, matrix: 256, oversampling: 2 }
const QUICK: ScanShape = { slices: 8, coils: 8, matrix: 256, oversampling: 2 }

function hasBart (): boolean {
  return spawnSync('sh', ['-c', 'command -v bart'], { stdio: 'ignore' }).status === 0
}

async function runBart (shape: ScanShape): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'scanhub-bench-bart-'))
  try {
    const scan = syntheticScan(shape)
    const bart = (args: string[]): void => {
      const r = spawnSync('bart', args, { cwd: dir, encoding: 'utf8' })
      if (r.status !== 0) throw new Error(`bart ${args.join(' ')}: ${r.stderr}`)
    }
    const started = performance.now()
    await writeScanCfl(scan, join(dir, 'k'))
    bart(['fft', '-i', '3', 'k', 'i'])
    bart(['rss', '8', 'i', 'r'])
    const images = await readFile(join(dir, 'r.cfl'))
    const seconds = (performance.now() - started) / 1000
    const expected = 8 * scan.reconHeader.encodedMatrix.x * shape.matrix * shape.slices
    if (images.length !== expected) throw new Error(`bart gave ${images.length} bytes, ${expected} expected`)
    return seconds
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function reconInChild (bin: string, shape: ScanShape): Promise<ReconFigures> {
  // with this process's Node options, which are a peer's (package.json's bench script)
  const child = spawn(process.execPath, [...process.execArgv, bin, '--child', 'recon', JSON.stringify(shape)], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  if (code !== 0) throw new Error(`the reconstruction benchmark process exited with ${code}`)
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as ReconFigures
}

const MiB = 2 ** 20

function row (cells: string[], widths: number[]): string {
  return cells.map((c, i) => c.padEnd(widths[i])).join('  ')
}

export async function main (argv: string[], options: BenchOptions): Promise<void> {
  const quick = argv.includes('--quick')
  // --only=bd measures (b) and (d); without it, all six
  const only = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length) ?? 'abcdef'
  const measures = (figure: string): boolean => only.includes(figure)
  const shape = quick ? QUICK : FULL
  const log = (m: string): void => { process.stderr.write(`bench: ${m}\n`) }
  const table: string[][] = []

  let chainPeakRssMiB: number | undefined
  if (measures('a')) {
    log(`(a) reconstruction of ${shape.slices} slices x ${shape.coils} coils x ${shape.matrix}², ${shape.oversampling}x oversampling, in a process of its own`)
    const recon = await reconInChild(options.bin, shape)
    chainPeakRssMiB = recon.peakRssMiB
    let bartSeconds: number | undefined
    if (hasBart()) {
      log('(a) BART fft -i 3 + rss 8 on the same k-space, with its file I/O')
      bartSeconds = await runBart(shape)
    } else {
      log('(a) bart is not installed: no reference')
    }
    const ratioA = bartSeconds !== undefined ? bartSeconds / recon.seconds : undefined
    table.push([
      '(a) recon throughput',
      `${recon.seconds.toFixed(2)} s (${(recon.images / recon.seconds).toFixed(1)} slices/s)`,
      bartSeconds !== undefined ? `BART ${bartSeconds.toFixed(2)} s` : 'BART: not installed',
      ratioA !== undefined ? `${ratioA.toFixed(2)}x BART` : '-',
      '>= 1x',
      ratioA === undefined ? '?' : ratioA >= 1 ? 'ok' : 'MISSED'
    ])
  }

  const pairRow = (name: string, figure: PairFigure): string[] => {
    const ratio = figure.bartSeconds / figure.scanhubSeconds
    return [name, `${figure.scanhubSeconds.toFixed(2)} s (${figure.what})`, `BART ${figure.bartSeconds.toFixed(2)} s`, `${ratio.toFixed(2)}x BART`, 'reported', '-']
  }
  if (measures('e') || measures('f')) {
    const fft = createFftPool()
    try {
      if (measures('e')) {
        if (hasTools('bart')) table.push(pairRow('(e) non-Cartesian (nufft)', await nufftFigure(fft, log)))
        else log('(e) bart is not installed: no reference, not measured')
      }
      if (measures('f')) {
        if (hasTools('bart', 'ismrmrd_generate_cartesian_shepp_logan')) table.push(pairRow('(f) parallel imaging (grappa)', await parallelImagingFigure(fft, log)))
        else log('(f) bart or ismrmrd_generate_cartesian_shepp_logan is not installed: not measured')
      }
    } finally {
      await fft.close()
    }
  }

  const needsScanner = measures('b') || measures('c') || measures('d')
  const swarmKeyHex = generateSwarmKeyHex()
  const scanner = needsScanner ? await options.startScanner({ swarmKeyHex }) : undefined
  try {
    if (scanner !== undefined && measures('b')) {
      const client = await createLabHost({ privateKey: await generateKeyPair('Ed25519'), swarmKey: swarmKeyFromHex(swarmKeyHex), mdns: false })
      try {
        const megabytes = quick ? 64 : 128
        log(`(b) ${megabytes} MB of raw data over /scanhub/raw and over a bare stream`)
        const stream = await streamThroughput(scanner, client, megabytes, log)
        const ratioB = stream.rawMBps / stream.bareMBps
        table.push([
          '(b) raw stream throughput',
          `${stream.rawMBps.toFixed(0)} MB/s`,
          `bare stream ${stream.bareMBps.toFixed(0)} MB/s`,
          `${ratioB.toFixed(2)}`,
          '>= 0.8',
          ratioB >= 0.8 ? 'ok' : 'MISSED'
        ])
      } finally {
        await client.stop()
      }
    }
    if (scanner !== undefined && measures('c')) {
      const workerHost = await createLabHost({ privateKey: await generateKeyPair('Ed25519'), swarmKey: swarmKeyFromHex(swarmKeyHex), mdns: false })
      try {
        const slices = quick ? 3 : 5
        log(`(c) latency from last readout to DICOM stored, ${slices} slices of 8 coils x 256² (2x oversampling)`)
        const latencies = await sliceLatency(scanner, workerHost, { slices, coils: 8, matrix: 256, oversampling: 2 })
        const sorted = [...latencies].sort((a, b) => a - b)
        const median = sorted[Math.floor(sorted.length / 2)]
        table.push([
          '(c) last readout -> DICOM stored',
          `median ${median.toFixed(0)} ms (max ${sorted.at(-1)?.toFixed(0)} ms)`,
          `slices: ${latencies.map((l) => l.toFixed(0)).join(', ')} ms`,
          `${median.toFixed(0)} ms`,
          '< 100 ms',
          median < 100 ? 'ok' : 'MISSED'
        ])
      } finally {
        await workerHost.stop()
      }
    }
    if (scanner !== undefined && measures('d')) {
      log(`(d) peak memory of a reconstruction peer taking the ${shape.slices}-slice scan of (a) over /scanhub/raw, in a process of its own`)
      const peer = await reconPeerMemory(options.bin, scanner, swarmKeyHex, shape)
      // 150 MB of the target in MiB: 150e6 bytes
      const limitMiB = (2 * peer.unitBytes + 150e6) / MiB
      const chain = chainPeakRssMiB !== undefined ? `; chain alone (a) ${chainPeakRssMiB.toFixed(0)} MiB` : ''
      table.push([
        '(d) peak RSS of a recon peer',
        `${peer.peakRssMiB.toFixed(0)} MiB`,
        `idle ${peer.baselineRssMiB.toFixed(0)} MiB${chain}; unit ${(peer.unitBytes / MiB).toFixed(1)} MiB`,
        `${peer.peakRssMiB.toFixed(0)} MiB`,
        `< ${limitMiB.toFixed(0)} MiB`,
        peer.peakRssMiB < limitMiB ? 'ok' : 'MISSED'
      ])
    }
  } finally {
    await scanner?.stop()
  }

  const header = ['figure', 'ScanHub', 'reference', 'value', 'target', '']
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)))
  process.stdout.write(`\n${row(header, widths)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${table.map((r) => row(r, widths)).join('\n')}\n`)
}
