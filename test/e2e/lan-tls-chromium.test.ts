// Chromium, as a desktop of the LAN that installed the lab's CA the way the README says (certutil into
// its NSS database), opens the app of a hub started with --lan by its LAN address and the hub's wss
// listener, with no certificate warning; without the CA it refuses both. The hub runs in a network
// namespace (test/support/lan-peer.ts); skipped, loudly, without root, chromium or certutil.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasTool } from '../support/external-tools.ts'
import { canMakeLanNamespaces, createLanTestHost, homeTrustingCa, startLanPeer, type LanPeer, type LanTestHost } from '../support/lan-peer.ts'
import { TestLab } from '../support/peer-process.ts'
import { CHROMIUM, HAS_CHROMIUM } from './support.ts'

const enabled = HAS_CHROMIUM && hasTool('certutil') && canMakeLanNamespaces()
let lab: TestLab
let host: LanTestHost
let hub: LanPeer

async function launch (home: string): Promise<Browser> {
  return await chromium.launch({ executablePath: CHROMIUM, env: { ...process.env, HOME: home }, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] })
}

/** Whether a page can open a WebSocket to this URL (the TLS handshake included). */
async function opens (browser: Browser, pageUrl: string, wsUrl: string): Promise<{ page: string, ws: string }> {
  const page = await browser.newPage()
  const loaded = await page.goto(pageUrl).then((r) => `HTTP ${r?.status()}`, (err: Error) => err.message.split('\n')[0]!)
  if (!loaded.startsWith('HTTP')) return { page: loaded, ws: 'not tried' }
  const ws = await page.evaluate(async (url) => await new Promise<string>((resolve) => {
    const socket = new WebSocket(url)
    socket.onopen = () => { socket.close(); resolve('open') }
    socket.onerror = () => { resolve('error') }
  }), wsUrl)
  return { page: loaded, ws }
}

describe.skipIf(!enabled)('Chromium and a hub started with --lan', () => {
  beforeAll(async () => {
    host = createLanTestHost()
    lab = new TestLab()
    hub = await startLanPeer(lab, host)
  }, 60_000)

  afterAll(async () => {
    await lab?.cleanup()
    host?.cleanup()
  })

  it('opens the app and the wss listener once the lab CA is installed, and refuses both before', async () => {
    const wsUrl = `wss://${host.address}:${hub.wssPort}/`
    const trusting = await homeTrustingCa(hub.caCert)
    const browser = await launch(trusting)
    try {
      // (the app's files, or where pwa/dist is not built the hint to build it: the TLS is what counts here)
      expect(await opens(browser, hub.appUrl, wsUrl)).toEqual({ page: expect.stringMatching(/^HTTP (200|404)$/), ws: 'open' })
    } finally {
      await browser.close()
      await rm(trusting, { recursive: true, force: true })
    }
    const emptyHome = await mkdtemp(join(tmpdir(), 'scanhub-nohome-'))
    const stranger = await launch(emptyHome)
    try {
      const refused = await opens(stranger, hub.appUrl, wsUrl)
      expect(refused.page).toMatch(/ERR_CERT_AUTHORITY_INVALID/)
      // the CA page is plain http: a browser that trusts nothing yet can fetch the certificate
      const page = await stranger.newPage()
      const caPage = await page.goto(hub.caPageUrl)
      expect(caPage?.status()).toBe(200)
      expect(await page.locator('a[href="/ca.crt"]').count()).toBe(1)
    } finally {
      await stranger.close()
      await rm(emptyHome, { recursive: true, force: true })
    }
  }, 120_000)
})
