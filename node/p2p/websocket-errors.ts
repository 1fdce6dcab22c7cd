// Applied by createLabHost (host.ts) before any listener exists, for every peer.
// @libp2p/websockets 10 hands each accepted `ws` WebSocket to libp2p without an 'error' listener, and
// `ws` reports every protocol violation of the remote side (a frame with RSV1 set, an unknown opcode,
// a fragmented control frame, a payload over the limit, invalid UTF-8 in a text frame) as an 'error'
// event: with no listener, one 6-byte frame from anyone on the LAN ends the process, before the pnet
// handshake and so without the lab key. Here every accepted WebSocket gets a listener first that logs
// the violation and drops that connection alone (`ws` has already sent the close frame the RFC asks
// for). The largest message a peer takes is also cut from ws's 100 MiB to what libp2p sends: Noise
// messages are at most 64 KiB, so 4 MiB leaves room and bounds what one client can make us buffer.
import { createRequire } from 'node:module'
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'

/** the largest WebSocket message accepted from a remote side */
export const MAX_WEBSOCKET_MESSAGE_BYTES = 4 * 1024 * 1024

interface WsSocket {
  on: (event: 'error', listener: (err: Error) => void) => unknown
  terminate: () => void
}

interface WsServerPrototype {
  handleUpgrade: (this: WsServer, req: IncomingMessage, socket: Duplex, head: Buffer, cb: (ws: WsSocket, req: IncomingMessage) => void) => void
}

interface WsServer {
  options: { maxPayload?: number }
}

let applied = false

export function applyWebSocketErrorGuard (log: (message: string) => void = () => {}): void {
  if (applied) return
  applied = true
  const require = createRequire(import.meta.url)
  // the one copy of ws in the tree, which @libp2p/websockets loads too (its ESM entry re-exports this
  // CommonJS module); websocket-errors.test.ts would fail if the two ever differed
  const { WebSocketServer } = require('ws') as { WebSocketServer: { prototype: WsServerPrototype } }
  const handleUpgrade = WebSocketServer.prototype.handleUpgrade
  WebSocketServer.prototype.handleUpgrade = function (req, socket, head, cb) {
    if (this.options.maxPayload === undefined || this.options.maxPayload > MAX_WEBSOCKET_MESSAGE_BYTES) {
      this.options.maxPayload = MAX_WEBSOCKET_MESSAGE_BYTES
    }
    // an error of the socket during the handshake is ws's own to answer; afterwards it is ours
    handleUpgrade.call(this, req, socket, head, (ws, request) => {
      ws.on('error', (err) => {
        log(`websocket from ${request.socket.remoteAddress ?? '?'} dropped: ${err.message}`)
        ws.terminate()
      })
      cb(ws, request)
    })
  }
}
