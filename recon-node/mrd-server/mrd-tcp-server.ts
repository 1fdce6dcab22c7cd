// The ISMRMRD streaming protocol over TCP, as Gadgetron serves it (its clients, `gadgetron_ismrmrd_client`
// and the Python and MATLAB ones, speak to this unchanged): a client sends a configuration (message 1,
// a file name, or 2, text) naming the reconstruction, the XML header (3), acquisitions (1008) and close
// (4); this peer reconstructs as the data arrives and answers on the same connection with one image
// message (1022) per image, then close. What it cannot do (an unknown configuration, data the chain
// refuses, a malformed stream) is answered with a text message (5) that says why, then close.
//
// With a result store (mrd-lab-store.ts, on a hub), the stream and its images are also recorded in the
// lab: patient, exam, a workflow with the raw data and the DICOM files, as a scan of the lab leaves them.
//
// Bounds: every length the stream announces is checked by MrdStreamDecoder before it is allocated; the
// socket is read only as fast as the pipeline takes readouts (a few buffers per connection); the
// readouts the pipeline holds (those received since it last gave an image) are capped by
// `maxBufferedBytes`, and a header whose k-space alone would exceed that is refused before any readout;
// a whole stream by `maxStreamBytes` (its raw data is kept on disk); a client that sends nothing while
// the server waits for it, or reads nothing while images wait for it, for `idleTimeoutMs` is told so
// and closed; at most `maxConnections` are served at once, the others are told so. Each of these ends
// one connection with a text message (5) that says why, never the peer.
import { createServer, type Server, type Socket } from 'node:net'
import { ImageDataType } from '../../protocol/mrd/image-header.ts'
import type { MrdImage } from '../../protocol/mrd/image.ts'
import { MrdStreamDecoder, type MrdStreamLimits } from '../../protocol/mrd/stream-decoder.ts'
import { encodeAcquisitionMessage, encodeCloseMessage, encodeHeaderMessage, encodeImageMessage, encodeTextMessage, type MrdMessage } from '../../protocol/mrd/stream.ts'
import { ACQUISITION_HEADER_SIZE } from '../../protocol/mrd/acquisition-header.ts'
import type { Acquisition } from '../../protocol/mrd/types.ts'
import { parseIsmrmrdXml, type IsmrmrdHeader } from '../../protocol/mrd/xml-header.ts'
import { PIPELINES } from '../../protocol/reconstruction-pipelines.ts'
import type { FftRunner } from '../fft/pool.ts'
import { DicomSeriesWriter, describeSeries } from '../jobs/dicom-series.ts'
import { reconHeaderOf } from '../jobs/recon-header.ts'
import type { MrdResultStore, MrdStreamRecord } from './mrd-lab-store.ts'
import type { ReconImage } from '../pipeline/image.ts'
import { chainForPipeline } from '../pipeline/pipelines.ts'
import type { Chain } from '../pipeline/chain.ts'
import type { ReconHeader } from '../stages/stage.ts'
import { runPipeline } from '../pipeline/run.ts'

export interface MrdTcpServerInit {
  host?: string
  /** default 9002, Gadgetron's */
  port?: number
  fft: FftRunner
  /** connections served at once; default 4 */
  maxConnections?: number
  /** a client that sends nothing while awaited, or reads nothing while images wait, this long is closed; default 60 s */
  idleTimeoutMs?: number
  /** readouts a connection's pipeline may hold (received since its last image), bytes; default 1 GiB */
  maxBufferedBytes?: number
  /** acquisition bytes of one stream; default 16 GiB */
  maxStreamBytes?: number
  limits?: MrdStreamLimits
  /** where the streams and their images are recorded (the lab); without one, images are only sent back */
  store?: MrdResultStore
  log?: (message: string) => void
}

const GiB = 1024 ** 3
const NO_BYTES = new Uint8Array(0)

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

const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`
const sizeOf = (bytes: number): string => bytes >= GiB ? `${Math.round(bytes / GiB * 10) / 10} GiB` : bytes >= 1024 * 1024 ? `${Math.round(bytes / 1024 / 1024)} MiB` : `${Math.round(bytes / 1024)} KiB`

/**
 * The socket's bytes, read one chunk at a time as they are asked for (the socket stays paused between),
 * without destroying the socket when the reader stops early: an error is still to be sent back on it.
 * Only the time spent waiting for the client counts as its silence: time the pipeline spends on what
 * arrived does not.
 */
async function * chunksOf (socket: Socket, idleTimeoutMs: number): AsyncGenerator<Uint8Array> {
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
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      await new Promise<void>((resolve, reject) => {
        wake = resolve
        timer = setTimeout(() => { reject(new MrdClientError(`nothing arrived for ${seconds(idleTimeoutMs)}: this peer closes connections that stall`)) }, idleTimeoutMs)
      })
    } finally {
      clearTimeout(timer)
      wake = undefined
    }
  }
}

/** Writes to the socket, waiting while its buffer is full, at most `idleTimeoutMs` for a client that reads nothing. */
async function send (socket: Socket, bytes: Uint8Array, idleTimeoutMs: number): Promise<void> {
  if (socket.write(bytes)) return
  let timer: ReturnType<typeof setTimeout> | undefined
  let drained: (() => void) | undefined
  let closed: (() => void) | undefined
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => { reject(new MrdClientError(`the client read nothing for ${seconds(idleTimeoutMs)} while images waited for it`)) }, idleTimeoutMs)
      drained = resolve
      closed = () => { reject(new MrdClientError('the client closed the connection while images were sent')) }
      socket.once('drain', drained)
      socket.once('close', closed)
    })
  } finally {
    clearTimeout(timer)
    if (drained !== undefined) socket.off('drain', drained)
    if (closed !== undefined) socket.off('close', closed)
  }
}

/** The messages of a socket's bytes, decoded with bounds; the socket is read only as they are asked for. */
async function * messagesOf (socket: Socket, limits: MrdStreamLimits | undefined, idleTimeoutMs: number): AsyncGenerator<MrdMessage> {
  const decoder = new MrdStreamDecoder(limits)
  for await (const chunk of chunksOf(socket, idleTimeoutMs)) {
    for (const message of decoder.push(chunk)) yield message
    // a fault after good messages of the chunk is thrown by the decoder's next push: now, not when the
    // client sends more (a client that lied about a length may wait for an answer)
    for (const message of decoder.push(NO_BYTES)) yield message
  }
  if (decoder.bufferedBytes > 0) throw new MrdClientError(`the connection ended inside a message (${decoder.bufferedBytes} bytes of it arrived)`)
}

/** What a stream's header decided: how it is reconstructed. */
interface StreamPlan {
  xml: string
  header: IsmrmrdHeader
  reconHeader: ReconHeader
  pipeline: string
  chain: Chain
}

export class MrdTcpServer {
  private server: Server | undefined
  /** connections being served */
  private readonly sockets = new Set<Socket>()
  /** every open connection, also those turned away, for stop() */
  private readonly open = new Set<Socket>()
  /** connections' work, awaited by stop() so that their records in the lab are ended */
  private readonly serving = new Set<Promise<void>>()
  private readonly maxConnections: number
  private readonly idleTimeoutMs: number
  private readonly maxBufferedBytes: number
  private readonly maxStreamBytes: number
  private readonly log: (message: string) => void

  constructor (private readonly init: MrdTcpServerInit) {
    this.maxConnections = init.maxConnections ?? 4
    this.idleTimeoutMs = init.idleTimeoutMs ?? 60_000
    this.maxBufferedBytes = init.maxBufferedBytes ?? GiB
    this.maxStreamBytes = init.maxStreamBytes ?? 16 * GiB
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
    const server = this.server
    const closed = server !== undefined ? new Promise<void>((resolve) => { server.close(() => { resolve() }) }) : undefined
    for (const socket of this.open) socket.destroy()
    await Promise.allSettled([...this.serving])
    await closed
  }

  private accept (socket: Socket): void {
    socket.on('error', () => {}) // a reset by the client ends its connection only
    this.open.add(socket)
    socket.once('close', () => { this.open.delete(socket) })
    const client = clientOf(socket)
    if (this.sockets.size >= this.maxConnections) {
      this.log(`mrd: ${client} turned away: ${this.maxConnections} connections are served already`)
      this.finish(socket, `busy: this peer serves ${this.maxConnections} MRD connections at once; try again later`)
      return
    }
    this.sockets.add(socket)
    socket.once('close', () => { this.sockets.delete(socket) })
    const work = this.serve(socket, client).then(() => { this.finish(socket) }, (err: Error) => {
      this.log(`mrd: ${client}: ${err.name}: ${err.message}`)
      this.finish(socket, `${err.name}: ${err.message}`)
    })
    this.serving.add(work)
    void work.finally(() => { this.serving.delete(work) })
  }

  /**
   * Sends close (after the reason, for a failure) and ends this side of the connection. The connection
   * no longer counts against the limit, and one whose client keeps its side open is cut shortly after.
   */
  private finish (socket: Socket, reason?: string): void {
    this.sockets.delete(socket)
    if (socket.destroyed) return
    socket.end(reason === undefined ? encodeCloseMessage() : Buffer.concat([encodeTextMessage(reason), encodeCloseMessage()]))
    setTimeout(() => { socket.destroy() }, Math.min(5_000, this.idleTimeoutMs)).unref()
  }

  private async serve (socket: Socket, client: string): Promise<void> {
    const messages = messagesOf(socket, this.init.limits, this.idleTimeoutMs)
    let config: string | undefined
    let xml: string | undefined
    while (xml === undefined) {
      const next = await messages.next()
      // a client that leaves before its header has nothing to reconstruct
      if (next.done === true) return
      const m = next.value
      if (m.type === 'config-file') {
        config = m.name
        pipelineOfConfig(config) // an unknown one is refused before anything else is read
      }
      else if (m.type === 'config-text') throw new MrdClientError('configuration as text (message 2) is not supported: name a pipeline with message 1')
      else if (m.type === 'header') xml = m.xml
      else if (m.type === 'close') return
      else if (m.type === 'acquisition') throw new MrdClientError('an acquisition arrived before the XML header (message 3)')
    }
    const header = parseIsmrmrdXml(xml)
    const reconHeader = reconHeaderOf(header)
    const pipeline = pipelineOfConfig(config)
    const chain = chainForPipeline(pipeline, reconHeader)
    this.checkKspaceSize(header)
    const record = await this.init.store?.open({ header, pipeline, config, client })
    try {
      await this.reconstruct(socket, client, messages, { xml, header, reconHeader, pipeline, chain }, record)
    } catch (err) {
      await record?.fail((err as Error).message).catch((failure: Error) => { this.log(`mrd: ${client}: recording the failure: ${failure.message}`) })
      throw err
    }
  }

  /** Refuses a header whose k-space of one slice alone would not fit in what a connection may hold. */
  private checkKspaceSize (header: IsmrmrdHeader): void {
    const encoded = header.encoding[0]?.encodedSpace.matrixSize
    if (encoded === undefined) return
    const channels = Math.max(1, header.acquisitionSystemInformation?.receiverChannels ?? 1)
    const bytes = Math.max(1, encoded.x) * Math.max(1, encoded.y) * Math.max(1, encoded.z) * channels * 8
    if (bytes > this.maxBufferedBytes) {
      throw new MrdClientError(`the header's k-space (${encoded.x} × ${encoded.y} × ${encoded.z} samples × ${channels} channels, ${sizeOf(bytes)}) exceeds the ${sizeOf(this.maxBufferedBytes)} of readouts this peer holds per connection`)
    }
  }

  private async reconstruct (socket: Socket, client: string, messages: AsyncGenerator<MrdMessage>, stream: StreamPlan, record: MrdStreamRecord | undefined): Promise<void> {
    const { xml, header, reconHeader, pipeline, chain } = stream
    const warn = (message: string): void => { this.log(`mrd: ${client}: ${message}`) }
    const writer = record !== undefined ? new DicomSeriesWriter(header, describeSeries(header, record.overrides, new Date(), warn), warn) : undefined
    await record?.appendRaw(encodeHeaderMessage(xml))
    const { maxBufferedBytes, maxStreamBytes } = this
    let closed = false
    // bytes of the readouts received since the pipeline last gave an image: what it may be holding
    let held = 0
    let received = 0
    async function * acquisitions (): AsyncGenerator<Acquisition> {
      for (;;) {
        const next = await messages.next()
        if (next.done === true) throw new MrdClientError('the connection ended before the close message (4)')
        const m = next.value
        if (m.type === 'acquisition') {
          const a = m.acquisition
          const bytes = ACQUISITION_HEADER_SIZE + a.traj.byteLength + a.data.byteLength
          held += bytes
          received += bytes
          if (held > maxBufferedBytes) throw new MrdClientError(`the pipeline would hold more than ${sizeOf(maxBufferedBytes)} of readouts before its next image, the most this peer holds per connection: send smaller scans`)
          if (received > maxStreamBytes) throw new MrdClientError(`the stream has more than ${sizeOf(maxStreamBytes)} of readouts, the most this peer takes in one stream`)
          // recorded before the pipeline takes it over (it may change the arrays)
          await record?.appendRaw(encodeAcquisitionMessage(a))
          writer?.noteAcquisition(a.head)
          yield a
        } else if (m.type === 'close') {
          closed = true
          await record?.appendRaw(encodeCloseMessage())
          return
        } else if (m.type === 'header') throw new MrdClientError('a second XML header arrived')
      }
    }
    let index = 0
    const summary = await runPipeline(acquisitions(), reconHeader, chain, {
      fft: this.init.fft,
      handsOverAcquisitions: true,
      onWarning: (message, stage) => { warn(`${stage}: ${message}`) },
      onImage: async (image) => {
        held = 0
        // the DICOM file is made before the image goes out: the pipeline may reuse the pixels after
        const file = writer?.write(image)
        await send(socket, encodeImageMessage(toMrdImage(image, index++)), this.idleTimeoutMs)
        if (file !== undefined) await record?.addImage(image, file)
      }
    })
    if (!closed) throw new MrdClientError('the stream ended before its close message')
    if (summary.images === 0) throw new MrdClientError(`the stream gave no images (${summary.acquisitions} readouts): does it hold image data, not only noise or calibration readouts?`)
    await record?.finish()
    this.log(`mrd: ${client}: ${summary.images} images from ${summary.acquisitions} readouts (${pipeline})${record !== undefined ? ', recorded in the lab' : ''}`)
  }
}

/** The client's address and port as the audit log names it: host:port, [v6]:port. */
function clientOf (socket: Socket): string {
  const address = socket.remoteAddress ?? 'unknown'
  const host = address.startsWith('::ffff:') ? address.slice(7) : address
  return `${host.includes(':') ? `[${host}]` : host}:${socket.remotePort ?? 0}`
}
