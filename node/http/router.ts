// A small router for the local REST API. Each route is data (method, path pattern, summary, body
// schema) so that the same table serves requests and writes the OpenAPI document.
import type { IncomingMessage, ServerResponse } from 'node:http'

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE'

export interface RouteRequest {
  params: Record<string, string>
  query: URLSearchParams
  /** the parsed JSON body (undefined without one); raw bytes for routes that take files */
  body: unknown
  raw: IncomingMessage
}

export interface RouteResponse {
  status: number
  body?: unknown
  /** bytes sent as they are, with this content type */
  bytes?: { data: Uint8Array | AsyncIterable<Uint8Array>, contentType: string, size?: number, filename?: string }
  headers?: Record<string, string>
}

export interface Route {
  method: HttpMethod
  /** e.g. /api/v1/patients/:id */
  path: string
  summary: string
  tag: string
  /** JSON schema of the request body, for the OpenAPI document */
  requestSchema?: Record<string, unknown>
  /** JSON schema of a successful response */
  responseSchema?: Record<string, unknown>
  /** 'json' (default, bounded to the JSON limit) or 'bytes' (the raw body, bounded to maxBodyBytes) */
  bodyKind?: 'json' | 'bytes'
  maxBodyBytes?: number
  successStatus?: number
  /** routes that answer without the API key (the OpenAPI document, the UI's bootstrap) */
  public?: boolean
  handle: (request: RouteRequest) => Promise<RouteResponse> | RouteResponse
}

/** An error whose message is meant for the client; anything else answers 500 without details. */
export class HttpError extends Error {
  override name = 'HttpError'
  readonly status: number
  constructor (status: number, message: string) {
    super(message)
    this.status = status
  }
}

interface CompiledRoute { route: Route, pattern: RegExp, keys: string[] }

export class Router {
  readonly routes: Route[] = []
  private readonly compiled: CompiledRoute[] = []

  add (...routes: Route[]): void {
    for (const route of routes) {
      const keys: string[] = []
      const source = route.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:([a-zA-Z][a-zA-Z0-9]*)/g, (_m, key: string) => {
        keys.push(key)
        return '([^/]+)'
      })
      this.routes.push(route)
      this.compiled.push({ route, pattern: new RegExp(`^${source}$`), keys })
    }
  }

  /** The route for a request, its path parameters, or which methods the path allows. */
  match (method: string, pathname: string): { route: Route, params: Record<string, string> } | { allowed: string[] } | undefined {
    const allowed: string[] = []
    for (const { route, pattern, keys } of this.compiled) {
      const m = pattern.exec(pathname)
      if (m === null) continue
      if (route.method !== method) { allowed.push(route.method); continue }
      const params: Record<string, string> = {}
      keys.forEach((key, i) => {
        try { params[key] = decodeURIComponent(m[i + 1]) } catch { params[key] = m[i + 1] }
      })
      return { route, params }
    }
    return allowed.length > 0 ? { allowed } : undefined
  }
}

export function sendJson (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body, null, 2)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers })
  res.end(text)
}
