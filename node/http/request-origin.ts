// Who may call the API from a browser. The API listens on this machine (or the lab's LAN) and trusts
// its callers' key or session, but a browser visiting any site can be made to send requests to
// localhost: a cross-site form or `text/plain` POST (CSRF), or a page of an attacker's domain whose name
// is made to resolve to 127.0.0.1 (DNS rebinding), which the browser then treats as same-origin. So
// every API request must name this machine in `Host` (an address, `localhost`, or this host's own
// names), and a browser's request must come from the same origin (`Origin`, `Sec-Fetch-Site`).
// Clients that are not browsers (curl, scripts) send no Origin and are judged by their key alone.
import type { IncomingMessage } from 'node:http'
import { isIP } from 'node:net'
import { hostname } from 'node:os'

export interface OriginPolicy {
  /** host names besides addresses, localhost and this machine's name (e.g. the hub's LAN name) */
  allowedHostNames?: readonly string[]
}

/** The host part of a Host header or URL host ("[::1]:7080" → "::1", "lab.local:7080" → "lab.local"). */
export function hostOnly (host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'))
  const colon = host.lastIndexOf(':')
  return (colon >= 0 ? host.slice(0, colon) : host).toLowerCase()
}

function knownNames (policy: OriginPolicy): Set<string> {
  const own = hostname().toLowerCase()
  return new Set(['localhost', own, `${own}.local`, ...(policy.allowedHostNames ?? []).map((n) => n.toLowerCase())])
}

/** Why this request may not reach the API, or undefined when it may. */
export function refuseForeignRequest (req: Pick<IncomingMessage, 'headers' | 'method'>, policy: OriginPolicy = {}): string | undefined {
  const host = req.headers.host
  if (typeof host !== 'string' || host === '') return 'the request has no Host header'
  const name = hostOnly(host)
  if (isIP(name) === 0 && !knownNames(policy).has(name)) {
    return `Host "${host}" is not this machine: open the app by its address or as localhost (requests through other names are refused to stop DNS rebinding)`
  }
  if (req.headers['sec-fetch-site'] === 'cross-site') return 'cross-site requests are refused: the API answers the app served by this peer'
  const origin = req.headers.origin
  if (origin === undefined) return undefined
  let originHost: string
  try {
    originHost = new URL(origin).host
  } catch {
    return `Origin "${origin}" is not this peer's: cross-origin requests are refused`
  }
  if (originHost.toLowerCase() !== host.toLowerCase()) return `Origin "${origin}" is not this peer's (${host}): cross-origin requests are refused`
  return undefined
}
