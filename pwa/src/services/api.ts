// The hub's REST API as the page uses it: JSON over fetch, with the session's bearer token, a time
// limit on every call, and errors that say whether the hub answered (ApiError) or could not be
// reached (HubUnreachableError, e.g. offline).
import type { PublicUser } from '../../../protocol/lab/index.ts'

export type { PublicUser }

export interface LoginResult {
  token: string
  user: PublicUser
  expiresAt: string
}

/** Where the hub that served the page listens (GET /api/v1/bootstrap): public, so without the lab key. */
export interface BootstrapInfo {
  labId: string
  labName: string
  peerId: string
  wsAddrs: string[]
}

/** The hub answered with an error status; `message` is the hub's explanation. */
export class ApiError extends Error {
  override name = 'ApiError'
  readonly status: number
  constructor (status: number, message: string) {
    super(message)
    this.status = status
  }
}

/** No answer from the hub (offline, hub stopped, timeout). */
export class HubUnreachableError extends Error {
  override name = 'HubUnreachableError'
}

const TIMEOUT_MS = 10_000

export interface RequestOptions {
  method?: string
  body?: unknown
  token?: string
  timeoutMs?: number
  /** further request headers */
  headers?: Record<string, string>
}

export async function request<T> (path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers }
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
  let response: Response
  try {
    response = await fetch(path, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      cache: 'no-store',
      signal: AbortSignal.timeout(options.timeoutMs ?? TIMEOUT_MS)
    })
  } catch (err) {
    throw new HubUnreachableError(`the hub cannot be reached: ${(err as Error).message}`)
  }
  const text = await response.text()
  let value: unknown
  try { value = text === '' ? undefined : JSON.parse(text) } catch { value = text }
  if (!response.ok) {
    const message = typeof value === 'object' && value !== null && typeof (value as { error?: unknown }).error === 'string'
      ? (value as { error: string }).error
      : `the hub answered ${response.status}`
    throw new ApiError(response.status, message)
  }
  return value as T
}
