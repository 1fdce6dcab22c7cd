// The peer's HTTP server: the local REST API under /api/v1 (JSON, X-API-Key) and the PWA's files.
// It listens on 127.0.0.1 unless told otherwise: the API key guards the API, not the network. On the
// lab's LAN (`scanhub start --lan`) it speaks https with the hub's certificate (node/lab/lab-ca.ts).
import { close, listen } from './listen.ts'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createTlsServer } from 'node:https'
import { extname, join, normalize, sep } from 'node:path'
import { malformedTextAt } from '../../protocol/unicode.ts'
import { sameSecret } from '../auth/same-secret.ts'
import { refuseForeignRequest } from './request-origin.ts'
import { HttpError, sendJson, type RouteResponse, type Router } from './router.ts'

export interface HttpServerInit {
  router: Router
  apiKey: string
  host?: string
  port?: number
  /** the built PWA (pwa/dist); without it, / answers with a hint */
  staticDir?: string
  /** largest JSON body accepted (bigger → 413) */
  maxJsonBytes?: number
  log?: (message: string) => void
  /** another way in besides the API key (the app's session token); true lets the request through */
  authorise?: (req: IncomingMessage) => boolean
  /** host names the API answers besides addresses, localhost and this machine's name */
  allowedHostNames?: readonly string[]
  /** certificate and key (PEM): serve https instead of http */
  tls?: { cert: string, key: string }
}

export const DEFAULT_MAX_JSON_BYTES = 1024 * 1024

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8'
}

export class HttpService {
  private readonly init: HttpServerInit
  private server?: Server

  constructor (init: HttpServerInit) {
    this.init = init
  }

  /** Starts listening; resolves to the port (useful with port 0). */
  async start (): Promise<number> {
    const listener = (req: IncomingMessage, res: ServerResponse): void => {
      this.handle(req, res).catch((err: Error) => {
        this.init.log?.(`http: ${req.method} ${req.url}: ${err.stack ?? err.message}`)
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error: see the peer\'s log' })
        else res.destroy()
      })
    }
    const tls = this.init.tls
    const server: Server = tls !== undefined ? createTlsServer({ cert: tls.cert, key: tls.key }, listener) : createServer(listener)
    this.server = server
    server.headersTimeout = 20_000
    server.requestTimeout = 300_000
    return await listen(server, this.init.port ?? 0, this.init.host ?? '127.0.0.1')
  }

  async stop (): Promise<void> {
    await close(this.server)
  }

  private async handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (!url.pathname.startsWith('/api/')) {
      await this.serveStatic(url.pathname, res)
      return
    }
    const method = req.method ?? 'GET'
    const foreign = refuseForeignRequest(req, { allowedHostNames: this.init.allowedHostNames })
    if (foreign !== undefined) {
      sendJson(res, 403, { error: foreign })
      return
    }
    const found = this.init.router.match(method, url.pathname)
    if (found === undefined) {
      sendJson(res, 404, { error: `no such API path: ${url.pathname} (see /api/v1/openapi.json)` })
      return
    }
    if ('allowed' in found) {
      sendJson(res, 405, { error: `${method} is not allowed on ${url.pathname}; use ${found.allowed.join(', ')}` }, { allow: found.allowed.join(', ') })
      return
    }
    const { route, params } = found
    if (route.public !== true && !this.authorised(req)) {
      sendJson(res, 401, { error: 'missing or wrong X-API-Key header: the key is in the file api-key of the peer\'s data directory' })
      return
    }
    try {
      let body: unknown
      if (method !== 'GET' && method !== 'DELETE') {
        const limit = route.maxBodyBytes ?? this.init.maxJsonBytes ?? DEFAULT_MAX_JSON_BYTES
        const bytes = await readBody(req, limit)
        body = route.bodyKind === 'bytes' ? bytes : parseJson(bytes)
      }
      const response = await route.handle({ params, query: url.searchParams, body, raw: req })
      await writeResponse(res, response)
    } catch (err) {
      if (err instanceof HttpError) {
        if (err.status === 413) {
          // Answering while the client still sends makes its write fail (EPIPE) before it reads the
          // answer: let a moderately oversized body arrive and be dropped first; a huge one is cut off.
          res.setHeader('connection', 'close')
          await discardBody(req, MAX_DISCARDED_BYTES, DISCARD_TIMEOUT_MS)
        }
        sendJson(res, err.status, { error: err.message })
        return
      }
      throw err
    }
  }

  private authorised (req: IncomingMessage): boolean {
    if (this.init.authorise?.(req) === true) return true
    return sameSecret(req.headers['x-api-key'], this.init.apiKey)
  }

  private async serveStatic (pathname: string, res: ServerResponse): Promise<void> {
    const root = this.init.staticDir
    if (root === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
      res.end('The ScanHub app is not built on this peer: run `npm run build:pwa`, then reload.\n')
      return
    }
    let relative: string
    try { relative = decodeURIComponent(pathname) } catch { relative = pathname }
    const path = normalize(join(root, relative))
    if (path !== root && !path.startsWith(root + sep)) {
      res.writeHead(400).end()
      return
    }
    let file = path
    let info = await stat(file).catch(() => undefined)
    if (info?.isDirectory() === true) {
      file = join(file, 'index.html')
      info = await stat(file).catch(() => undefined)
    }
    // The app routes in the browser: unknown paths get the app shell, not a 404.
    if (info === undefined || !info.isFile()) {
      file = join(root, 'index.html')
      info = await stat(file).catch(() => undefined)
      if (info === undefined) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n')
        return
      }
    }
    const type = CONTENT_TYPES[extname(file)] ?? 'application/octet-stream'
    // Hashed assets never change; the shell and the service worker must always be fresh.
    const cache = file.includes(`${sep}assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache'
    res.writeHead(200, { 'content-type': type, 'content-length': info.size, 'cache-control': cache })
    createReadStream(file).pipe(res)
  }
}

/** An oversized body is read and dropped up to this size before the 413 goes out; beyond, the connection is closed. */
const MAX_DISCARDED_BYTES = 64 * 1024 * 1024
const DISCARD_TIMEOUT_MS = 10_000

async function discardBody (req: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<void> {
  if (req.readableEnded) return
  await new Promise<void>((resolve) => {
    let seen = 0
    const done = (): void => {
      clearTimeout(timer)
      req.off('data', onData)
      req.off('end', done)
      req.off('error', done)
      resolve()
    }
    const onData = (chunk: Buffer): void => {
      seen += chunk.length
      if (seen > maxBytes) done()
    }
    const timer = setTimeout(done, timeoutMs)
    req.on('data', onData)
    req.on('end', done)
    req.on('error', done)
    req.resume()
  })
}

async function readBody (req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit) {
    throw new HttpError(413, `request body of ${declared} bytes is larger than the ${limit} bytes this endpoint accepts`)
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > limit) throw new HttpError(413, `request body is larger than the ${limit} bytes this endpoint accepts`)
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

function parseJson (bytes: Buffer): unknown {
  if (bytes.length === 0) return undefined
  let value: unknown
  try {
    value = JSON.parse(bytes.toString('utf8'))
  } catch (err) {
    throw new HttpError(400, `request body is not valid JSON: ${(err as Error).message}`)
  }
  // "\ud800" is valid JSON but no text: it would be stored differently on each peer (protocol/unicode.ts)
  const malformed = malformedTextAt(value, 'body')
  if (malformed !== undefined) throw new HttpError(400, `${malformed} is not well-formed Unicode text (it holds a lone UTF-16 surrogate)`)
  return value
}

async function writeResponse (res: ServerResponse, response: RouteResponse): Promise<void> {
  if (response.bytes !== undefined) {
    const { data, contentType, size, filename } = response.bytes
    const headers: Record<string, string | number> = { 'content-type': contentType, ...response.headers }
    if (size !== undefined) headers['content-length'] = size
    if (filename !== undefined) headers['content-disposition'] = `attachment; filename="${filename.replace(/["\\\r\n]/g, '_')}"`
    res.writeHead(response.status, headers)
    if (data instanceof Uint8Array) {
      res.end(data)
      return
    }
    for await (const chunk of data) {
      if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve))
    }
    res.end()
    return
  }
  if (response.body === undefined) {
    res.writeHead(response.status, response.headers).end()
    return
  }
  sendJson(res, response.status, response.body, response.headers)
}
