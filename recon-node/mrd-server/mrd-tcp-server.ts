// The ISMRMRD streaming protocol over TCP, as Gadgetron serves it (its clients, `gadgetron_ismrmrd_client`
// and the Python and MATLAB ones, speak to this unchanged): a client sends a configuration (message 1,
// a file name, or 2, text) naming the reconstruction, the XML header (3), acquisitions (1008) and close
// (4); this peer reconstructs as the data arrives and answers on the same connection with one image
// message (1022) per image, then close. What it cannot do (an unknown configuration, data the chain
// refuses, a malformed stream) is answered with a text message (5) that says why, then close.
//
// Bounds: every length the stream announces is checked by MrdStreamDecoder; the socket is read only as
// fast as the pipeline takes readouts (a few buffers per connection); a connection that sends nothing
// for `idleTimeoutMs` is closed; at most `maxConnections` are served at once, the others are told so.
import { createServer, type Server, type Socket } from 'node:net'
import { ImageDataType } from '../../protocol/mrd/image-header.ts'
import type { MrdImage } from '../../protocol/mrd/image.ts'
import { MrdStreamDecoder, type MrdStreamLimits } from '../../protocol/mrd/stream-decoder.ts'
import { encodeCloseMessage, encodeImageMessage, encodeTextMessage, type MrdMessage } from '../../protocol/mrd/stream.ts'
import type { Acquisition } from '../../protocol/mrd/types.ts'
import { parseIsmrmrdXml } from '../../protocol/mrd/xml-header.ts'
import { PIPELINES } from '../../protocol/reconstruction-pipelines.ts'
import type { FftRunner } from '../fft/pool.ts'
import { reconHeaderOf } from '../jobs/recon-header.ts'
import type { ReconImage } from '../pipeline/image.ts'
import { chainForPipeline } from '../pipeline/pipelines.ts'
import { runPipeline } from '../pipeline/run.ts'

export interface MrdTcpServerInit {
  host?: string
  /** default 9002, Gadgetron's */
  port?: number
  fft: FftRunner
  /** connections served at once; default 4 */
  maxConnections?: number
  /** a connection silent this long is closed; default 60 s */
  idleTimeoutMs?: number
  limits?: MrdStreamLimits
  log?: (message: string) => void
}

/** Thrown for what a client asked that this server does not do; its message goes back to the client. */
export class MrdClientError extends Error {
  override name = 'MrdClientError'
}

/** Gadgetron's configuration names of a plain reconstruction, taken as the `default` pipeline. */
const DEFAULT_CONFIGS = new Set(['default', 'default.xml', 'default_optimized.xml', 'default_measurement_dependencies.xml'])

/** The pipeline a client's configuration names: ours by name (with or without .xml), or Gadgetron's default. */
export function pipelineOfConfig (config: string | undefined): string {
  if (config === undefined) return 'default'
  const name = config.trim().replace(/\.xml$/i, '')
  if (DEFAULT_CONFIGS.has(config.trim()) || DEFAULT_CONFIGS.has(name)) return 'default'
  if (PIPELINES.some((p) => p.name === name)) return name
  throw new MrdClientError(`configuration "${config}" is not one this peer runs: send one of ${PIPELINES.map((p) => p.name).join(', ')} (or default.xml)`)
}

/** An image of the pipeline as an MRD float image with its geometry and counters. */
function toMrdImage (image: ReconImage, index: number): MrdImage {
  return {
    head: {
      version: 1,
      dataType: ImageDataType.FLOAT,
      flags: 0n,
      measurementUid: image.measurementUid,
      matrixSize: [image.width, image.height, 1],
      fieldOfView: [...image.fieldOfViewMm],
      channels: 1,
      position: [...image.position],
      readDir: [...image.readDir],
      phaseDir: [...image.phaseDir],
      sliceDir: [...image.sliceDir],
      patientTablePosition: [...image.patientTablePosition],
      average: 0,
      slice: image.slice,
      contrast: image.contrast,
      phase: image.phase,
      repetition: image.repetition,
      set: image.set,
      acquisitionTimeStamp: image.acquisitionTimeStamp,
      physiologyTimeStamp: [0, 0, 0],
      imageType: 1, // magnitude
      imageIndex: index,
      imageSeriesIndex: 0,
      userInt: [image.partition, 0, 0, 0, 0, 0, 0, 0],
      userFloat: [0, 0, 0, 0, 0, 0, 0, 0],
      attributeStringLen: 0
    },
    attributes: '',
    data: image.pixels
  }
}

/**
 * The socket's bytes, read one chunk at a time as they are asked for (the socket stays paused between),
 * without destroying the socket when the reader stops early: an error is still to be sent back on it.
 */
async function * chunksOf (socket: Socket): AsyncGenerator<Uint8Array> {
  const queue: Uint8Array[] = []
  let ended = false
  let wake: (() => void) | undefined
  socket.on('data', (chunk: Buffer) => { queue.push(chunk); socket.pause(); wake?.() })
  socket.once('end', () => { ended = true; wake?.() })
  socket.once('close', () => { ended = true; wake?.() })
  for (;;) {
    const chunk = queue.shift()
    if (chunk !== undefined) {
      if (queue.length === 0) socket.resume()
      yield chunk
      continue
    }
    if (ended) return
    await new Promise<void>((resolve) => { wake = resolve })
    wake = undefined
  }
}

/** The messages of a socket's bytes, decoded with bounds; the socket is read only as they are asked for. */
async function * messagesOf (socket: Socket, limits: MrdStreamLimits | undefined): AsyncGenerator<MrdMessage> {
  const decoder = new MrdStreamDecoder(limits)
  for await (const chunk of chunksOf(socket)) {
    for (const message of decoder.push(chunk)) yield message
  }
  if (decoder.bufferedBytes > 0) throw new MrdClientError(`the connection ended inside a message (${decoder.bufferedBytes} bytes of it arrived)`)
}

export class MrdTcpServer {
  private server: Server | undefined
  /** connections being served */
  private readonly sockets = new Set<Socket>()
  /** every open connection, also those turned away, for stop() */
  private readonly open = new Set<Socket>()
  private readonly maxConnections: number
  private readonly idleTimeoutMs: number
  private readonly log: (message: string) => void

  constructor (private readonly init: MrdTcpServerInit) {
    this.maxConnections = init.maxConnections ?? 4
    this.idleTimeoutMs = init.idleTimeoutMs ?? 60_000
    this.log = init.log ?? (() => {})
  }

  /** Listens; resolves to the port (useful with port 0). */
  async start (): Promise<number> {
    // half-open: a client may end its side after close (4) and still read the images
    const server = createServer({ allowHalfOpen: true }, (socket) => { this.accept(socket) })
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.init.port ?? 9002, this.init.host ?? '127.0.0.1', () => { server.off('error', reject); resolve() })
    })
    const address = server.address()
    return typeof address === 'object' && address !== null ? address.port : 0
  }

  async stop (): Promise<void> {
    for (const socket of this.open) socket.destroy()
    const server = this.server
    if (server !== undefined) await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
  }

  private accept (socket: Socket): void {
    socket.on('error', () => {}) // a reset by the client ends its connection only
    this.open.add(socket)
    socket.once('close', () => { this.open.delete(socket) })
    if (this.sockets.size >= this.maxConnections) {
      socket.end(Buffer.concat([encodeTextMessage(`busy: this peer serves ${this.maxConnections} MRD connections at once; try again later`), encodeCloseMessage()]))
      return
    }
    this.sockets.add(socket)
    socket.setTimeout(this.idleTimeoutMs, () => {
      this.log(`mrd: ${socket.remoteAddress ?? '?'} sent nothing for ${this.idleTimeoutMs / 1000} s: closed`)
      socket.destroy()
    })
    socket.once('close', () => { this.sockets.delete(socket) })
    this.serve(socket).catch((err: Error) => {
      this.log(`mrd: ${socket.remoteAddress ?? '?'}: ${err.name}: ${err.message}`)
      if (!socket.destroyed) socket.end(Buffer.concat([encodeTextMessage(`${err.name}: ${err.message}`), encodeCloseMessage()]))
    })
  }

  private async serve (socket: Socket): Promise<void> {
    const messages = messagesOf(socket, this.init.limits)
    let config: string | undefined
    let xml: string | undefined
    while (xml === undefined) {
      const next = await messages.next()
      if (next.done === true) return
      const m = next.value
      if (m.type === 'config-file') {
        config = m.name
        pipelineOfConfig(config) // an unknown one is refused before anything else is read
      }
      else if (m.type === 'config-text') throw new MrdClientError('configuration as text (message 2) is not supported: name a pipeline with message 1')
      else if (m.type === 'header') xml = m.xml
      else if (m.type === 'close') { socket.end(encodeCloseMessage()); return }
      else if (m.type === 'acquisition') throw new MrdClientError('an acquisition arrived before the XML header (message 3)')
    }
    const header = parseIsmrmrdXml(xml)
    const reconHeader = reconHeaderOf(header)
    const pipeline = pipelineOfConfig(config)
    const chain = chainForPipeline(pipeline, reconHeader)
    let closed = false
    async function * acquisitions (): AsyncGenerator<Acquisition> {
      for (;;) {
        const next = await messages.next()
        if (next.done === true) throw new MrdClientError('the connection ended before the close message (4)')
        const m = next.value
        if (m.type === 'acquisition') yield m.acquisition
        else if (m.type === 'close') { closed = true; return }
        else if (m.type === 'header') throw new MrdClientError('a second XML header arrived')
      }
    }
    let index = 0
    const summary = await runPipeline(acquisitions(), reconHeader, chain, {
      fft: this.init.fft,
      handsOverAcquisitions: true,
      onWarning: (message, stage) => { this.log(`mrd: ${stage}: ${message}`) },
      onImage: async (image) => {
        if (!socket.write(encodeImageMessage(toMrdImage(image, index++)))) await new Promise((resolve) => socket.once('drain', resolve))
      }
    })
    if (!closed) throw new MrdClientError('the stream ended before its close message')
    this.log(`mrd: ${socket.remoteAddress ?? '?'}: ${summary.images} images from ${summary.acquisitions} readouts (${pipeline})`)
    socket.end(encodeCloseMessage())
  }
}
