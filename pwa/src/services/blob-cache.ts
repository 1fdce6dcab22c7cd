// Blobs (DICOM images, raw data) as the page reads them: from Cache Storage when this browser has
// fetched them before, else from the hub with the session's token. A blob is named by its sha-256,
// so a cached copy never goes stale, and the bytes are checked against the name before they are kept.
import { ApiError, HubUnreachableError } from './api.ts'

const CACHE_NAME = 'scanhub-blobs-v1'

/** The bytes did not hash to the blob's name. */
export class BlobIntegrityError extends Error {
  override name = 'BlobIntegrityError'
}

async function sha256Hex (bytes: ArrayBuffer): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('')
}

export async function fetchBlob (sha256: string, token: string | undefined): Promise<ArrayBuffer> {
  const url = `/api/v1/blobs/${sha256}`
  const cache = typeof caches === 'undefined' ? undefined : await caches.open(CACHE_NAME)
  const cached = await cache?.match(url)
  if (cached !== undefined) return await cached.arrayBuffer()
  let response: Response
  try {
    response = await fetch(url, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(120_000) })
  } catch (err) {
    throw new HubUnreachableError(`the image is not on this device and the hub cannot be reached: ${(err as Error).message}`)
  }
  if (!response.ok) {
    let message = `the hub answered ${response.status}`
    try {
      message = ((await response.json()) as { error?: string }).error ?? message
    } catch {
      // Not JSON: the status says enough.
    }
    throw new ApiError(response.status, message)
  }
  const bytes = await response.arrayBuffer()
  if (await sha256Hex(bytes) !== sha256) throw new BlobIntegrityError(`blob ${sha256.slice(0, 12)}… arrived damaged`)
  await cache?.put(url, new Response(bytes.slice(0), { headers: { 'content-type': 'application/octet-stream' } }))
  return bytes
}
