// Patient data, keys and raw data are the lab's alone: a peer's data directory is readable by its own
// user only, also when it was created by an older version with open modes, and everything the peer
// writes afterwards (documents, blobs, keys) stays private.
import { chmod, mkdir, readdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { TestLab } from './support/peer-process.ts'

const lab = new TestLab()
afterAll(async () => { await lab.cleanup() })

async function openEntries (dir: string): Promise<string[]> {
  const found: string[] = []
  const walk = async (path: string): Promise<void> => {
    const info = await stat(path)
    if ((info.mode & 0o077) !== 0) found.push(`${path} ${(info.mode & 0o777).toString(8)}`)
    if (info.isDirectory()) for (const name of await readdir(path)) await walk(join(path, name))
  }
  await walk(dir)
  return found
}

describe('the data directory', () => {
  it('is made private at start and stays private while the peer writes', async () => {
    const hub = await lab.peer({ name: 'hub', roles: 'hub,scanner' })
    await mkdir(join(hub.dataDir, 'docs'), { recursive: true })
    await writeFile(join(hub.dataDir, 'docs', 'left-over'), 'x')
    await chmod(hub.dataDir, 0o755)
    await chmod(join(hub.dataDir, 'docs'), 0o755)
    await chmod(join(hub.dataDir, 'docs', 'left-over'), 0o644)
    await hub.start()
    await hub.api('POST', '/api/v1/patients', { firstName: 'Ada', lastName: 'Lovelace', birthDate: '1985-12-10', sex: 'FEMALE', heightCm: 165, weightKg: 60 })
    expect((await stat(hub.dataDir)).mode & 0o777).toBe(0o700)
    expect(await openEntries(hub.dataDir)).toEqual([])
  }, 60_000)
})
