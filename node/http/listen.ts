// Starting and stopping the peer's HTTP servers (the app and API, the CA download page) the same way.
import type { Server } from 'node:http'

/** Listens on host:port (0 = any free port); resolves to the port taken. */
export async function listen (server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address()
  return typeof address === 'object' && address !== null ? address.port : 0
}

/** Stops listening and ends every open connection, keep-alive ones included. */
export async function close (server: Server | undefined): Promise<void> {
  if (server === undefined) return
  await new Promise<void>((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })
}
