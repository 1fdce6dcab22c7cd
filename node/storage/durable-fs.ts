// Small file-system steps that crash safety is built from: fsync a directory so that a rename or a
// new entry in it survives power loss, and write a whole file durably before it is given its name.
import { promises as fs } from 'node:fs'
import path from 'node:path'

/**
 * fsyncs a directory, so that entries created, renamed or removed in it are on disk.
 * Windows cannot open a directory for fsync (EPERM / EISDIR) and NTFS journals renames itself, so
 * there the step is skipped; everywhere else a failure is a real error.
 */
export async function fsyncDir (dir: string): Promise<void> {
  let handle: fs.FileHandle
  try {
    handle = await fs.open(dir, 'r')
  } catch (err) {
    if (process.platform === 'win32') return
    throw err
  }
  try {
    await handle.sync()
  } catch (err) {
    if (process.platform !== 'win32') throw err
  } finally {
    await handle.close()
  }
}

/** Writes all of `bytes` at `position`, looping because a single write may be partial. */
export async function writeFully (handle: fs.FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0
  while (done < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.byteLength - done, position + done)
    if (bytesWritten === 0) throw new Error('write made no progress')
    done += bytesWritten
  }
}

/** Creates or overwrites `file` with `bytes` and fsyncs it; the caller renames it into place. */
export async function writeFileDurably (file: string, bytes: Uint8Array): Promise<void> {
  const handle = await fs.open(file, 'w')
  try {
    await writeFully(handle, bytes, 0)
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/**
 * Replaces `target` with `bytes` atomically: write to `temp` in the same directory, fsync, rename over
 * `target`, fsync the directory. A crash leaves either the old file or the new one, never a mix; the
 * temp file may remain, and whoever owns `target` removes it when opening.
 */
export async function replaceFileDurably (target: string, temp: string, bytes: Uint8Array): Promise<void> {
  try {
    await writeFileDurably(temp, bytes)
    await fs.rename(temp, target)
  } catch (err) {
    await fs.rm(temp, { force: true }).catch(() => {})
    throw err
  }
  await fsyncDir(path.dirname(target))
}
