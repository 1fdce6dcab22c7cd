// The one-time code that creates a lab's first user. Until someone has an account, anyone who can
// send the hub a request could make themselves its admin; so the peer makes a random code when it
// starts without users, prints it in the link `scanhub start` shows (`#setup=CODE`, a fragment, so
// it is never sent in a request line or a Referer), and keeps it in DIR/setup-token (0600: readable
// by the hub's own user only). The code is removed once the first user exists.
import { randomBytes } from 'node:crypto'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from '../lab/data-dir.ts'

export const SETUP_TOKEN_FILE = 'setup-token'

/** The data directory's setup code, made (and kept) if it has none. */
export async function loadOrCreateSetupToken (dataDir: string): Promise<string> {
  const path = join(dataDir, SETUP_TOKEN_FILE)
  try {
    const existing = (await readFile(path, 'utf8')).trim()
    if (/^[\w-]{20,}$/.test(existing)) return existing
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const token = randomBytes(18).toString('base64url')
  await writeFileAtomic(path, token + '\n')
  return token
}

export async function removeSetupToken (dataDir: string): Promise<void> {
  await rm(join(dataDir, SETUP_TOKEN_FILE), { force: true })
}
