// Serves this peer's blobs over /scanhub/blob/1.0.0 and fetches blobs it lacks from the lab's other
// peers: asks each connected peer in turn, resumes from the last byte received when a peer goes away
// mid-transfer, and keeps the blob only if its sha-256 matches (the store verifies while writing).
import { BLOB_PROTOCOL } from '../../protocol/ids.ts'
import {
  BLOB_STATUS_BAD_REQUEST, BLOB_STATUS_NOT_FOUND, BLOB_STATUS_OK, BlobProtocolError, MAX_BLOB_REQUEST_LENGTH,
  MAX_BLOB_RESPONSE_HEADER_LENGTH, SHA256_HEX, decodeBlobRequest, decodeBlobResponseHeader, encodeBlobRequest,
  encodeBlobResponseHeader
} from '../../protocol/blob.ts'
import { FrameDecoder } from '../../protocol/framing.ts'
import { FrameWriter, readOneFrame } from '../../protocol/framed-stream.ts'
import type { BlobInfo, BlobStore } from '../storage/blob-store.ts'
import type { Connection, Libp2p, Stream } from '@libp2p/interface'

export interface BlobServiceComponents {
  libp2p: Pick<Libp2p, 'handle' | 'unhandle' | 'getConnections' | 'peerId'>
  blobs: BlobStore
}

export interface BlobServiceInit {
  /** time allowed for a peer to answer a request */
  requestTimeoutMs?: number
  log?: (message: string) => void
}

export class BlobNotInLabError extends Error {
  override name = 'BlobNotInLabError'
}

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000

export class BlobService {
  private readonly components: BlobServiceComponents
  private readonly requestTimeoutMs: number
  private readonly log: (message: string) => void
  private readonly inFlight = new Map<string, Promise<BlobInfo>>()

  constructor (components: BlobServiceComponents, init: BlobServiceInit = {}) {
    this.components = components
    this.requestTimeoutMs = init.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
    this.log = init.log ?? (() => {})
  }

  async start (): Promise<void> {
    await this.components.libp2p.handle(BLOB_PROTOCOL, (stream) => {
      this.serve(stream).catch((err: Error) => {
        this.log(`blob: serving a request failed: ${err.message}`)
        stream.abort(err)
      })
    }, { maxInboundStreams: 32 })
  }

  async stop (): Promise<void> {
    await this.components.libp2p.unhandle(BLOB_PROTOCOL)
  }

  /** The blob, from this peer's store or fetched from a lab peer that has it. */
  async ensure (sha256: string): Promise<BlobInfo> {
    if (!SHA256_HEX.test(sha256)) throw new BlobProtocolError('blob id must be 64 lowercase hex characters (sha-256)')
    const stat = await this.components.blobs.stat(sha256)
    if (stat !== undefined) return { sha256, size: stat.size }
    let pending = this.inFlight.get(sha256)
    if (pending === undefined) {
      pending = this.fetch(sha256).finally(() => this.inFlight.delete(sha256))
      this.inFlight.set(sha256, pending)
    }
    return await pending
  }

  private async serve (stream: Stream): Promise<void> {
    const writer = new FrameWriter(stream)
    let request
    try {
      request = decodeBlobRequest(await readOneFrame(stream, MAX_BLOB_REQUEST_LENGTH, this.requestTimeoutMs, (message) => new BlobProtocolError(message)))
    } catch (err) {
      await writer.send(encodeBlobResponseHeader({ status: BLOB_STATUS_BAD_REQUEST, message: (err as Error).message }))
      await stream.close()
      return
    }
    const stat = await this.components.blobs.stat(request.sha256)
    if (stat === undefined || request.offset > stat.size) {
      const message = stat === undefined ? 'this peer does not have that blob' : `offset ${request.offset} is past the end of the blob (${stat.size} bytes)`
      await writer.send(encodeBlobResponseHeader({ status: stat === undefined ? BLOB_STATUS_NOT_FOUND : BLOB_STATUS_BAD_REQUEST, message }))
      await stream.close()
      return
    }
    const end = request.length === 0 ? stat.size : Math.min(stat.size, request.offset + request.length)
    await writer.send(encodeBlobResponseHeader({ status: BLOB_STATUS_OK, size: end - request.offset }))
    for await (const chunk of await this.components.blobs.createReadStream(request.sha256, { start: request.offset, end })) {
      await writer.sendRaw(chunk)
    }
    await writer.flushed()
    await stream.close()
  }

  private async fetch (sha256: string): Promise<BlobInfo> {
    const self = this.components.libp2p.peerId
    const peers = this.components.libp2p.getConnections().filter((c) => !c.remotePeer.equals(self) && c.status === 'open')
    if (peers.length === 0) throw new BlobNotInLabError(`blob ${sha256} is not on this peer and no lab peer is connected`)
    let received = 0
    const tried: string[] = []
    const requestRange = this.requestRange.bind(this)
    // One source for the store: it moves on to the next peer, from the byte it stopped at, whenever a
    // peer lacks the blob or the transfer breaks; the store hashes what arrives and checks it at the end.
    async function * fromPeers (): AsyncGenerator<Uint8Array> {
      for (const connection of peers) {
        try {
          for await (const chunk of requestRange(connection, sha256, received)) {
            received += chunk.length
            yield chunk
          }
          return
        } catch (err) {
          tried.push(`${connection.remotePeer.toString()}: ${(err as Error).message}`)
        }
      }
      throw new BlobNotInLabError(`no connected peer could supply blob ${sha256} (${tried.join('; ')})`)
    }
    return await this.components.blobs.putStream(fromPeers(), { expectedSha256: sha256 })
  }

  /** Bytes of a blob from one peer, from offset to the end. */
  private async * requestRange (connection: Connection, sha256: string, offset: number): AsyncGenerator<Uint8Array> {
    const stream = await connection.newStream(BLOB_PROTOCOL, { signal: AbortSignal.timeout(this.requestTimeoutMs) })
    try {
      await new FrameWriter(stream).send(encodeBlobRequest({ sha256, offset, length: 0 }))
      const decoder = new FrameDecoder(MAX_BLOB_RESPONSE_HEADER_LENGTH)
      let expected: number | undefined
      let got = 0
      for await (const chunk of stream) {
        let bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray()
        if (expected === undefined) {
          const frames = decoder.push(bytes, 1)
          if (frames.length === 0) continue
          const header = decodeBlobResponseHeader(frames[0])
          if (header.status !== BLOB_STATUS_OK) throw new BlobProtocolError(header.message)
          expected = header.size
          // after the header frame the bytes are raw blob data, not frames
          bytes = decoder.takePending()
          if (bytes.length === 0) continue
        }
        if (got + bytes.length > expected) throw new BlobProtocolError(`peer sent more than the ${expected} bytes it announced`)
        got += bytes.length
        yield bytes
      }
      if (expected === undefined) throw new BlobProtocolError('peer closed the stream without answering')
      if (got !== expected) throw new BlobProtocolError(`transfer stopped after ${got} of ${expected} bytes`)
    } finally {
      if (stream.status === 'open') await stream.close().catch(() => stream.abort(new Error('blob transfer ended')))
    }
  }
}
