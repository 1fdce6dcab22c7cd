// Pairing this browser with its lab: what the hub answers to a pairing code, what the page keeps of it,
// and the small pieces around it (the code and setup code in the page's address, a name for this
// device, errors in words a person at a tablet can act on).
import type { Role } from '../../../protocol/lab/index.ts'
import { ApiError, HubUnreachableError } from './api.ts'

/** The hub's answer to `POST /api/v1/pair`. */
export interface PairingAnswer {
  labId: string
  labName: string
  swarmKeyHex: string
  hubPeerId: string
  wsAddrs: string[]
  /** the most a user of this browser may do */
  ceiling: Role
  /** the lab's founder, the root of its trust: never revoked from the app */
  founder: string
}

/** What this browser keeps of its pairing (localStorage): enough to join the lab with no hub in reach. */
export interface StoredPairing extends PairingAnswer {
  /** this browser's peer id when it paired: a new key means a new pairing */
  peerId: string
  pairedAt: string
}

/**
 * One parameter of the page's fragment (`#pair=CODE&setup=CODE`), and the fragment without it: one-time
 * codes are taken out of the address bar at once, so that they are neither bookmarked nor shared with
 * the page's URL, while the others stay for whoever takes them later.
 */
export function splitHashParam (hash: string, name: string): { value: string | undefined, rest: string } {
  const params = hash.replace(/^#/, '').split('&').filter((p) => p !== '')
  let value: string | undefined
  const rest = params.filter((p) => {
    const eq = p.indexOf('=')
    if ((eq < 0 ? p : p.slice(0, eq)) !== name) return true
    if (eq >= 0) {
      try { value = decodeURIComponent(p.slice(eq + 1)) } catch { value = p.slice(eq + 1) }
    }
    return false
  })
  return { value, rest: rest.length === 0 ? '' : `#${rest.join('&')}` }
}

/** Takes a parameter out of the page's fragment (see splitHashParam). */
export function takeHashParam (name: string): string | undefined {
  const { value, rest } = splitHashParam(location.hash, name)
  if (value === undefined) return undefined
  history.replaceState(history.state, '', location.pathname + location.search + rest)
  return value.trim() === '' ? undefined : value
}

/** "Chrome on Android": how the admin's list of members names this browser until someone renames it. */
export function deviceName (userAgent: string, maxTouchPoints = 0): string {
  const browser = /\bEdg(e|A|iOS)?\//.test(userAgent)
    ? 'Edge'
    : /\b(Firefox|FxiOS)\//.test(userAgent)
      ? 'Firefox'
      : /\bChromium\//.test(userAgent)
        ? 'Chromium'
        : /\b(Headless)?Chrome\/|\bCriOS\//.test(userAgent)
          ? 'Chrome'
          : /\bSafari\//.test(userAgent) ? 'Safari' : 'Browser'
  // iPadOS presents itself as a Mac; only its touch screen tells them apart.
  const system = /Android/.test(userAgent)
    ? 'Android'
    : /iPad/.test(userAgent) || (/Macintosh/.test(userAgent) && maxTouchPoints > 1)
      ? 'iPad'
      : /iPhone/.test(userAgent)
        ? 'iPhone'
        : /Windows/.test(userAgent)
          ? 'Windows'
          : /CrOS/.test(userAgent)
            ? 'ChromeOS'
            : /Mac OS X|Macintosh/.test(userAgent) ? 'macOS' : /Linux/.test(userAgent) ? 'Linux' : ''
  return system === '' ? browser : `${browser} on ${system}`
}

/** Why a pairing code did not work, in words for the person holding the tablet. */
export function pairingErrorMessage (err: unknown): string {
  if (err instanceof HubUnreachableError) {
    return 'The hub that served this page cannot be reached. Check that it runs and that this device is on the lab\'s network, then try again.'
  }
  if (err instanceof ApiError) {
    switch (err.status) {
      case 400: return 'That is not a pairing code. It has eight letters and digits, like K7QD-M2XH.'
      case 404: return 'This code is unknown or was used already. Check it against the admin\'s screen, or ask for a new one.'
      case 410: return 'This code was already used or has expired (a code works once, for 5 minutes). Ask the admin for a new one.'
      case 429: return 'Too many wrong codes were tried. Wait a minute, then try again.'
    }
    return `The hub refused the code: ${err.message}`
  }
  return `Pairing failed: ${(err as Error).message}`
}
