// Which local user opened a loopback connection. A request from 127.0.0.1 comes from this machine but
// not necessarily from the hub's own user: any account (a guest, a service, `nobody`) can connect. On
// Linux the kernel lists every TCP socket with its owner in /proc/net/tcp and /proc/net/tcp6, as identd
// reads them: the client's socket is the one whose local port is the request's remote port and whose
// remote port is the server's. Elsewhere (no /proc) the owner is unknown.
import { readFileSync } from 'node:fs'
import type { Socket } from 'node:net'

const TCP_TABLES = ['/proc/net/tcp', '/proc/net/tcp6']
const ESTABLISHED = '01'

/** The uid owning the client end of a loopback connection, or undefined where the system does not say. */
export function loopbackClientUid (socket: Pick<Socket, 'remotePort' | 'localPort'>): number | undefined {
  const clientPort = socket.remotePort
  const serverPort = socket.localPort
  if (clientPort === undefined || serverPort === undefined) return undefined
  for (const table of TCP_TABLES) {
    let text: string
    try {
      text = readFileSync(table, 'latin1')
    } catch {
      continue
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/)
      if (f.length < 8 || f[3] !== ESTABLISHED) continue
      const localPort = parseInt(f[1].slice(f[1].lastIndexOf(':') + 1), 16)
      const remotePort = parseInt(f[2].slice(f[2].lastIndexOf(':') + 1), 16)
      if (localPort === clientPort && remotePort === serverPort) return Number(f[7])
    }
  }
  return undefined
}

/**
 * Whether a loopback connection comes from the user this process runs as (or root). True where the
 * system cannot tell (no /proc), so that other systems keep working as before; `onUnknown` says so.
 */
export function isSameLocalUser (socket: Pick<Socket, 'remotePort' | 'localPort'>, onUnknown?: () => void): boolean {
  if (typeof process.getuid !== 'function') return true
  const uid = loopbackClientUid(socket)
  if (uid === undefined) {
    onUnknown?.()
    return true
  }
  return uid === process.getuid() || uid === 0
}
