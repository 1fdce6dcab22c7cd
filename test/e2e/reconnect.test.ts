// The hub goes away and comes back (restarted, so its sessions are gone and its WebSocket port moved):
// the page keeps working offline, reconnects by itself with backoff, learns the hub's new address,
// asks the user to log in again, and then delivers what was changed meanwhile.
import { describe, expect, it } from 'vitest'
import { PeerProcess, eventually } from '../support/peer-process.ts'
import { ADMIN, HAS_CHROMIUM, createFirstUser, createPatient, newContext, screenshot, useBrowserLab, waitSynced, watchConsole } from './support.ts'

/** What Chromium reports while the hub is down, and the 401 of the session the restarted hub no longer knows. */
const HUB_DOWN_NOISE = [/WebSocket connection to .* failed/, /Failed to load resource/, /ERR_CONNECTION_REFUSED/]

describe.skipIf(!HAS_CHROMIUM)('hub restart', () => {
  const env = useBrowserLab()

  it('reconnects to a restarted hub and syncs what was changed while it was away', async () => {
    const context = await newContext(env.browser)
    const page = await context.newPage()
    const errors = watchConsole(page, HUB_DOWN_NOISE)
    await createFirstUser(page, env.hub)
    await createPatient(page, { firstName: 'Bea', lastName: 'Before', birthDate: '1991-01-01' })
    await waitSynced(page)

    const tcpPort = /\/ip4\/127\.0\.0\.1\/tcp\/(\d+)\/p2p\//.exec(env.hub.output)?.[1]
    expect(tcpPort).toBeDefined()
    await env.hub.kill('SIGTERM')
    await page.getByTestId('sync-text').filter({ hasText: /^Offline/ }).waitFor({ timeout: 20_000 })
    await createPatient(page, { firstName: 'Dora', lastName: 'During', birthDate: '1992-02-02' })
    await page.getByTestId('sync-text').filter({ hasText: /^Offline · 1 unsynced$/ }).waitFor()

    // Same HTTP port (the page's origin), another WebSocket port (the TCP port + 1 instead of a random one).
    const again = new PeerProcess({ name: 'hub-a', dataDir: env.hub.dataDir, extraArgs: ['--http', String(env.hub.httpPort), '--p2p', String(tcpPort)] })
    env.lab.peers.push(again)
    await again.start()

    // The restarted hub has no session: it refuses the page's changes, and the page asks for a login.
    await page.getByRole('button', { name: 'Log in' }).waitFor({ timeout: 40_000 })
    await page.getByText('Your session ended').waitFor()
    await screenshot(page, '15-session-ended')
    expect(((await again.api('GET', '/api/v1/patients')).body as Array<{ lastName: string }>).map((p) => p.lastName)).toEqual(['Before'])
    await page.getByLabel('Username').fill(ADMIN.username)
    await page.getByLabel('Password').fill(ADMIN.password)
    await page.getByRole('button', { name: 'Log in' }).click()
    await eventually(async () => ((await again.api('GET', '/api/v1/patients')).body as Array<{ lastName: string }>).some((p) => p.lastName === 'During'), 15_000, 'the change made while the hub was away')
    await waitSynced(page, 15_000)

    expect(errors).toEqual([])
    await context.close()
  }, 180_000)
})
