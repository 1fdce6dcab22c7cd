// BART's file format: `name.hdr` (text: "# Dimensions\n" then the dims, BART writes 16) and `name.cfl`
// (complex float32, re/im interleaved, column-major, dimension 0 fastest, little-endian on every
// machine BART runs on). Our complex arrays use the same memory layout, so the data is copied as is.
import { readFile, writeFile } from 'node:fs/promises'

/** BART's number of dimensions. */
export const CFL_DIMS = 16

/** Thrown for a .hdr that does not describe the .cfl beside it. */
export class CflFormatError extends Error {
  override name = 'CflFormatError'
}

/** Writes `base.hdr` and `base.cfl`; dims are padded with 1 to BART's 16. */
export async function writeCfl (base: string, dims: readonly number[], data: Float32Array): Promise<void> {
  const padded = [...dims]
  while (padded.length < CFL_DIMS) padded.push(1)
  const size = padded.reduce((a, b) => a * b, 1)
  if (data.length !== 2 * size) throw new CflFormatError(`dims [${dims.join(' ')}] need ${2 * size} floats, got ${data.length}`)
  await writeFile(`${base}.hdr`, `# Dimensions\n${padded.join(' ')} \n`)
  await writeFile(`${base}.cfl`, new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
}

/** Reads `base.hdr` and `base.cfl`; dims come back as written (16 of them for BART's output). */
export async function readCfl (base: string): Promise<{ dims: number[], data: Float32Array }> {
  const hdr = await readFile(`${base}.hdr`, 'utf8')
  const lines = hdr.split('\n')
  const at = lines.findIndex((l) => l.trim() === '# Dimensions')
  if (at < 0 || at + 1 >= lines.length) throw new CflFormatError(`${base}.hdr has no "# Dimensions" line`)
  const dims = lines[at + 1].trim().split(/\s+/).map(Number)
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new CflFormatError(`${base}.hdr: bad dims "${lines[at + 1]}"`)
  const bytes = await readFile(`${base}.cfl`)
  const size = dims.reduce((a, b) => a * b, 1)
  if (bytes.byteLength !== 8 * size) throw new CflFormatError(`${base}.cfl has ${bytes.byteLength} bytes, dims say ${8 * size}`)
  const data = new Float32Array(2 * size)
  new Uint8Array(data.buffer).set(bytes)
  return { dims, data }
}
