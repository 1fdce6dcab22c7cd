// Applied by createLabHost (host.ts) before any connection exists, for every peer.
// @libp2p/pnet 3.0.27 hands each batch its connection queued to xsalsa20 in one update(). xsalsa20 1.x
// works in a WebAssembly memory of 640 KiB shared by all its instances; a larger input grows it, which
// detaches the memory view every other instance (the other direction, other connections) keeps, and
// each of those then asks to grow by its whole working size on its next update, until the memory's
// limit of 256 pages (16 MiB) is passed and update() throws a RangeError from an event handler: the
// process dies. Bulk streams make noise queue such batches (megabytes while the TCP socket is full).
// XSalsa20 is a stream cipher whose update() accepts any split of the stream (it carries the partial
// block), so updating in pieces that fit the initial memory gives the same bytes and never grows it.
import { createRequire } from 'node:module'

/** fits the initial 640 KiB with the scratch of thousands of instances before it */
const PIECE = 64 * 1024
let applied = false

interface XSalsa20Prototype {
  update: (input: Uint8Array, output?: Uint8Array) => Uint8Array
}

export function applyXsalsa20ChunkedUpdate (): void {
  if (applied) return
  applied = true
  const require = createRequire(import.meta.url)
  const XSalsa20 = require('xsalsa20') as { prototype: XSalsa20Prototype }
  const update = XSalsa20.prototype.update
  XSalsa20.prototype.update = function (this: unknown, input: Uint8Array, output: Uint8Array = new Uint8Array(input.length)): Uint8Array {
    if (input.length <= PIECE) return update.call(this, input, output)
    for (let i = 0; i < input.length; i += PIECE) update.call(this, input.subarray(i, i + PIECE), output.subarray(i, i + PIECE))
    return output
  }
}
