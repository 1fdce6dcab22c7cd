// MD5 (RFC 1321) in plain TypeScript. protocol/ runs in browsers too and may not use node:crypto, and
// WebCrypto has no MD5; Pulseq signs its files with MD5 ([SIGNATURE] Type md5), so we carry our own.
// MD5 is used here only to detect accidental changes of a file, never for security.

/** Per-round shift amounts (RFC 1321, section 3.4). */
const S = [
  7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
  5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
  4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
  6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21
]

/** T[i] = floor(2^32 · |sin(i + 1)|), written out so that no engine's Math.sin can change a bit. */
const T = new Int32Array([
  0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
  0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
  0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
  0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
  0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
  0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
  0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
  0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391
])

/** Incremental MD5: feed bytes with update(), read the digest once with digest() or hex(). */
export class Md5 {
  private readonly state = new Int32Array([0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476])
  private readonly buffer = new Uint8Array(64)
  private readonly words = new Int32Array(16)
  private buffered = 0
  private length = 0
  private finished = false

  update (data: Uint8Array): this {
    if (this.finished) throw new Error('Md5: update() after digest()')
    let offset = 0
    this.length += data.length
    if (this.buffered > 0) {
      const take = Math.min(64 - this.buffered, data.length)
      this.buffer.set(data.subarray(0, take), this.buffered)
      this.buffered += take
      offset = take
      if (this.buffered < 64) return this
      this.block(this.buffer, 0)
      this.buffered = 0
    }
    while (offset + 64 <= data.length) {
      this.block(data, offset)
      offset += 64
    }
    if (offset < data.length) {
      this.buffer.set(data.subarray(offset), 0)
      this.buffered = data.length - offset
    }
    return this
  }

  digest (): Uint8Array {
    if (!this.finished) {
      const bitLength = this.length * 8
      const tail = new Uint8Array(this.buffered < 56 ? 64 : 128)
      tail.set(this.buffer.subarray(0, this.buffered))
      tail[this.buffered] = 0x80
      // The message length in bits, 64-bit little-endian; lengths beyond 2^53 bits are not reachable here.
      const lo = bitLength % 0x100000000
      const hi = Math.floor(bitLength / 0x100000000)
      const at = tail.length - 8
      for (let i = 0; i < 4; i++) {
        tail[at + i] = (lo >>> (8 * i)) & 0xff
        tail[at + 4 + i] = (hi >>> (8 * i)) & 0xff
      }
      this.block(tail, 0)
      if (tail.length === 128) this.block(tail, 64)
      this.finished = true
    }
    const out = new Uint8Array(16)
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) out[4 * i + j] = (this.state[i] >>> (8 * j)) & 0xff
    }
    return out
  }

  hex (): string {
    let s = ''
    for (const b of this.digest()) s += b.toString(16).padStart(2, '0')
    return s
  }

  private block (data: Uint8Array, offset: number): void {
    const x = this.words
    for (let i = 0; i < 16; i++) {
      const o = offset + 4 * i
      x[i] = data[o] | (data[o + 1] << 8) | (data[o + 2] << 16) | (data[o + 3] << 24)
    }
    let a = this.state[0]
    let b = this.state[1]
    let c = this.state[2]
    let d = this.state[3]
    for (let i = 0; i < 64; i++) {
      let f: number
      let g: number
      if (i < 16) {
        f = (b & c) | (~b & d)
        g = i
      } else if (i < 32) {
        f = (d & b) | (~d & c)
        g = (5 * i + 1) & 15
      } else if (i < 48) {
        f = b ^ c ^ d
        g = (3 * i + 5) & 15
      } else {
        f = c ^ (b | ~d)
        g = (7 * i) & 15
      }
      const sum = (a + f + T[i] + x[g]) | 0
      const rotated = (sum << S[i]) | (sum >>> (32 - S[i]))
      a = d
      d = c
      c = b
      b = (b + rotated) | 0
    }
    this.state[0] = (this.state[0] + a) | 0
    this.state[1] = (this.state[1] + b) | 0
    this.state[2] = (this.state[2] + c) | 0
    this.state[3] = (this.state[3] + d) | 0
  }
}

/** The MD5 of the bytes, or of the UTF-8 encoding of the string, as 32 lower-case hex digits. */
export function md5Hex (data: Uint8Array | string): string {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data
  return new Md5().update(bytes).hex()
}
