// The two checksums of a frame: CRC-16/CCITT-FALSE over the header, so that a false sync in garbage or
// in a payload is rejected before its length is believed, and CRC-32 (ISO-HDLC, as zlib and Ethernet)
// over everything after the sync, so that a corrupt frame is never taken for a good one.

const CRC32_TABLE = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

const CRC16_TABLE = (() => {
  const table = new Uint16Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n << 8
    for (let k = 0; k < 8; k++) c = (c & 0x8000) !== 0 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff
    table[n] = c
  }
  return table
})()

/** CRC-32/ISO-HDLC (reflected polynomial 0xEDB88320, init and final xor 0xFFFFFFFF): '123456789' → 0xCBF43926. */
export function crc32 (bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffffffff
  for (let i = start; i < end; i++) c = CRC32_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

/** CRC-16/CCITT-FALSE (polynomial 0x1021, init 0xFFFF, no reflection): '123456789' → 0x29B1. */
export function crc16 (bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffff
  for (let i = start; i < end; i++) c = ((c << 8) & 0xffff) ^ CRC16_TABLE[((c >>> 8) ^ bytes[i]) & 0xff]
  return c
}
