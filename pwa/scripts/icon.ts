// The app's icon, drawn in code so that the PNG sizes an install needs are made at build time from
// one description (the SVG in public/icons is the same drawing): a magnet bore with its patient table
// on the ScanHub blue. The PNG writer is the smallest that browsers accept: 8-bit RGBA, filter 0,
// and a zlib stream from the caller (or stored, uncompressed blocks without one).

export const ICON_BACKGROUND = [11, 107, 203] as const
export const ICON_FOREGROUND = [255, 255, 255] as const

export interface IconOptions {
  /** maskable icons fill the square; the platform cuts the shape, so the drawing keeps to the middle 80 % */
  maskable?: boolean
}

type Deflate = (data: Uint8Array) => Uint8Array

/** Coverage of the icon's shapes at a point of the unit square: 0 background, 1 foreground; -1 outside the icon. */
function shapeAt (x: number, y: number, maskable: boolean): number {
  const scale = maskable ? 0.8 : 1
  const u = (x - 0.5) / scale
  const v = (y - 0.5) / scale
  if (!maskable) {
    // Rounded square with corner radius 0.2.
    const r = 0.2
    const dx = Math.max(Math.abs(x - 0.5) - (0.5 - r), 0)
    const dy = Math.max(Math.abs(y - 0.5) - (0.5 - r), 0)
    if (dx * dx + dy * dy > r * r) return -1
  }
  const d = Math.hypot(u, v + 0.04)
  if (d <= 0.3 && d >= 0.19) return 1
  // The patient table through the bore.
  if (Math.abs(v - 0.2) <= 0.035 && Math.abs(u) <= 0.4) return 1
  return 0
}

/** RGBA pixels of the icon at `size`×`size`, antialiased by 4×4 supersampling. */
export function renderIcon (size: number, options: IconOptions = {}): Uint8Array {
  const maskable = options.maskable === true
  const out = new Uint8Array(size * size * 4)
  const n = 4
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let fg = 0
      let inside = 0
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const s = shapeAt((px + (sx + 0.5) / n) / size, (py + (sy + 0.5) / n) / size, maskable)
          if (s >= 0) inside++
          if (s === 1) fg++
        }
      }
      const alpha = inside / (n * n)
      const mix = inside === 0 ? 0 : fg / inside
      const i = (py * size + px) * 4
      for (let c = 0; c < 3; c++) out[i + c] = Math.round(ICON_BACKGROUND[c] * (1 - mix) + ICON_FOREGROUND[c] * mix)
      out[i + 3] = Math.round(alpha * 255)
    }
  }
  return out
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

function crc32 (bytes: Uint8Array): number {
  let c = 0xffffffff
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

function adler32 (bytes: Uint8Array): number {
  let a = 1
  let b = 0
  for (const byte of bytes) {
    a = (a + byte) % 65521
    b = (b + a) % 65521
  }
  return ((b << 16) | a) >>> 0
}

/** A zlib stream of stored (uncompressed) deflate blocks (RFC 1950/1951). */
export function storedZlib (data: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(data.length / 65535))
  const out = new Uint8Array(2 + blocks * 5 + data.length + 4)
  const view = new DataView(out.buffer)
  out[0] = 0x78
  out[1] = 0x01
  let o = 2
  for (let i = 0; i < blocks; i++) {
    const chunk = data.subarray(i * 65535, Math.min(data.length, (i + 1) * 65535))
    out[o] = i === blocks - 1 ? 1 : 0
    view.setUint16(o + 1, chunk.length, true)
    view.setUint16(o + 3, ~chunk.length & 0xffff, true)
    out.set(chunk, o + 5)
    o += 5 + chunk.length
  }
  view.setUint32(o, adler32(data))
  return out
}

function chunk (type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length)
  const view = new DataView(out.buffer)
  view.setUint32(0, data.length)
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i)
  out.set(data, 8)
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)))
  return out
}

/** A PNG of 8-bit RGBA pixels. */
export function encodePng (width: number, height: number, rgba: Uint8Array, deflate: Deflate = storedZlib): Uint8Array {
  const header = new Uint8Array(13)
  const hv = new DataView(header.buffer)
  hv.setUint32(0, width)
  hv.setUint32(4, height)
  header.set([8, 6, 0, 0, 0], 8)
  const raw = new Uint8Array(height * (1 + width * 4))
  for (let y = 0; y < height; y++) raw.set(rgba.subarray(y * width * 4, (y + 1) * width * 4), y * (1 + width * 4) + 1)
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflate(raw)),
    chunk('IEND', new Uint8Array(0))
  ]
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) { out.set(p, o); o += p.length }
  return out
}

/** The PNG icons the manifest lists, by file name under icons/. */
export function iconFiles (deflate?: Deflate): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>()
  for (const size of [192, 512]) files.set(`icon-${size}.png`, encodePng(size, size, renderIcon(size), deflate))
  files.set('icon-maskable-512.png', encodePng(512, 512, renderIcon(512, { maskable: true }), deflate))
  files.set('apple-touch-icon-180.png', encodePng(180, 180, renderIcon(180, { maskable: true }), deflate))
  return files
}
