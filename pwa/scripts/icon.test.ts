import { describe, expect, it } from 'vitest'
import { encodePng, iconFiles, renderIcon, storedZlib } from './icon.ts'

/** zlib inflate with the web's DecompressionStream (the app's code may not use Node's modules). */
async function inflate (bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('deflate'))
  return new Uint8Array(await new Response(stream).arrayBuffer())
}

describe('icons', () => {
  it('writes PNGs whose image data inflates back to the pixels', async () => {
    const rgba = renderIcon(16)
    const png = encodePng(16, 16, rgba)
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
    const view = new DataView(png.buffer, png.byteOffset)
    const idatLength = view.getUint32(33)
    const raw = await inflate(png.subarray(41, 41 + idatLength))
    expect(raw.length).toBe(16 * (1 + 16 * 4))
    expect([...raw.subarray(1, 1 + 16 * 4)]).toEqual([...rgba.subarray(0, 16 * 4)])
  })

  it('stored zlib streams inflate, also across 64 KiB blocks', async () => {
    const data = new Uint8Array(70_000).map((_, i) => i % 251)
    expect(await inflate(storedZlib(data))).toEqual(data)
  })

  it('makes the sizes the manifest lists', () => {
    expect([...iconFiles().keys()].sort()).toEqual(['apple-touch-icon-180.png', 'icon-192.png', 'icon-512.png', 'icon-maskable-512.png'])
  })
})
