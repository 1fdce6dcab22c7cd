// A tablet on the lab network, as the issue of trust on the LAN asks: Chromium that trusts the lab's CA
// through its NSS database (certutil, as the README says; no --ignore-certificate-errors) opens a hub
// started with --lan by its non-loopback address (the hub runs in a network namespace of its own),
// pairs by typing the code, runs its service worker, reloads offline, and once revoked is logged out
// and stops syncing.
import { spawnSync } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasTool } from '../support/external-tools.ts'
import { canMakeLanNamespaces, createLanTestHost, homeTrustingCa, startLanPeer, type LanPeer, type LanTestHost } from '../support/lan-peer.ts'
import { TestLab } from '../support/peer-process.ts'
import { ADMIN, CHROMIUM, HAS_CHROMIUM, createPatient, ensurePwaBuilt, newContext, screenshot, waitSynced, watchConsole } from './support.ts'

const enabled = HAS_CHROMIUM && hasTool('certutil') && canMakeLanNamespaces()

/** What Chromium reports while offline, and once the hub refuses the revoked tablet. */
const NOISE = [/ERR_INTERNET_DISCONNECTED/, /WebSocket connection to .* failed/, /Failed to load resource/]

/**
 * The lab's first user, made where the hub allows it: on the hub's own machine (inside its namespace),
 * over https to localhost, trusting the lab's CA.
 */
function createFirstUserOnHub (hub: LanPeer, netns: string, setupCode: string): void {
  const body = JSON.stringify({ username: ADMIN.username, firstName: ADMIN.firstName, lastName: ADMIN.lastName, email: '', password: ADMIN.password })
  const r = spawnSync('ip', ['netns', 'exec', netns, 'curl', '-s', '-m', '10', '-w', '\n%{http_code}', '--cacert', join(hub.peer.dataDir, 'tls', 'ca.crt'),
    '-H', 'content-type: application/json', '-H', `x-setup-token: ${setupCode}`, '--data-binary', body,
    `https://localhost:${hub.peer.httpPort}/api/v1/auth/first-user`], { encoding: 'utf8' })
  const status = r.stdout.slice(r.stdout.lastIndexOf('\n') + 1)
  if (status !== '201' && status !== '200') throw new Error(`first user: ${r.stdout} ${r.stderr}`)
}

describe.skipIf(!enabled)('a tablet on the lab network (--lan)', () => {
  let lab: TestLab | undefined
  let host: LanTestHost | undefined
  let hub: LanPeer
  let home: string | undefined
  let browser: Browser | undefined

  beforeAll(async () => {
    await ensurePwaBuilt()
    host = createLanTestHost()
    lab = new TestLab()
    hub = await startLanPeer(lab, host)
    home = await homeTrustingCa(hub.caCert)
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      env: { ...process.env, HOME: home },
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']
    })
  }, 300_000)

  afterAll(async () => {
    await browser?.close()
    await lab?.cleanup()
    host?.cleanup()
    if (home !== undefined) await rm(home, { recursive: true, force: true })
  })

  it('pairs by code over https, works offline from its service worker, and is cut off when revoked', async () => {
    const context = await newContext(browser!)
    const page = await context.newPage()
    const errors = watchConsole(page, NOISE)
    const printed = new URLSearchParams(new URL(hub.peer.pairUrl).hash.slice(1))
    const code = printed.get('pair') ?? ''
    const setupCode = printed.get('setup') ?? ''
    expect(code).not.toBe('')
    // The lab's first user is made on the hub's own machine, as the hub allows only there.
    createFirstUserOnHub(hub, host!.netns, setupCode)

    // The tablet opens the hub's LAN address and types the code.
    await page.goto(hub.appUrl)
    expect(new URL(page.url()).hostname).toBe(host!.address)
    await page.getByRole('heading', { name: 'Pair this device with the lab' }).waitFor()
    await page.getByLabel('Pairing code').fill(code)
    await page.getByRole('button', { name: 'Pair' }).click()
    await page.getByTestId('confirmation-code').waitFor()
    await page.getByRole('button', { name: 'Continue' }).click()

    // The tablet logs in as the lab's first user.
    await page.getByRole('button', { name: 'Log in' }).waitFor()
    await page.getByLabel('Username').fill(ADMIN.username)
    await page.getByLabel('Password').fill(ADMIN.password)
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.getByRole('navigation', { name: 'Main' }).waitFor()

    // It syncs over wss, and its service worker runs (a secure context: the CA is trusted).
    await createPatient(page, { firstName: 'Tara', lastName: 'Tablet', birthDate: '1988-08-08' })
    await waitSynced(page, 20_000)
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 20_000 })

    // Offline, a reload starts the app from the service worker with the lab's data.
    await context.setOffline(true)
    await page.reload()
    await page.getByRole('navigation', { name: 'Main' }).waitFor()
    await page.getByRole('link', { name: 'Tablet', exact: true }).waitFor()
    await context.setOffline(false)
    await waitSynced(page, 30_000)
    await screenshot(page, '20-lan-tablet')

    // Revoked on the hub (scanhub lab revoke), the tablet is logged out and stops syncing.
    const peerId = await page.evaluate(() => (document.querySelector('sh-app') as unknown as { session: { peerId: string } }).session.peerId)
    const revokedAt = Date.now()
    expect(hub.peer.labCommand(['revoke', peerId])).toMatch(/^revoked /)
    await page.getByText(/This device was removed from the lab/).waitFor({ timeout: 10_000 })
    expect(Date.now() - revokedAt).toBeLessThan(10_000)
    const left = await page.evaluate(async () => ({
      connection: (document.querySelector('sh-app') as unknown as { session: { connection: string } }).session.connection,
      keys: Object.keys(localStorage).filter((k) => k === 'scanhub:pairing' || k === 'scanhub:session'),
      databases: (await indexedDB.databases()).map((d) => d.name).filter((n) => n?.startsWith('scanhub:') === true)
    }))
    expect(left).toEqual({ connection: 'offline', keys: [], databases: [] })
    expect(await page.getByRole('navigation', { name: 'Main' }).count()).toBe(0)

    expect(errors).toEqual([])
    await context.close()
  }, 180_000)
})
