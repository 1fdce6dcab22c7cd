// Offline first: with the network gone, a reload still starts the app from its service worker and
// shows the lab's data from IndexedDB; a change made offline is counted as unsynced and reaches the
// hub once the network is back.
import { describe, expect, it } from 'vitest'
import { eventually } from '../support/peer-process.ts'
import { HAS_CHROMIUM, createFirstUser, createPatient, newContext, screenshot, useBrowserLab, waitSynced, watchConsole } from './support.ts'

/** What Chromium reports while the network is down: failed requests and WebSocket dials. */
const OFFLINE_NOISE = [/ERR_INTERNET_DISCONNECTED/, /WebSocket connection to .* failed/, /Failed to load resource/]

describe.skipIf(!HAS_CHROMIUM)('offline', () => {
  const env = useBrowserLab()

  it('starts, shows the lab and keeps edits with no network, and syncs them when it is back', async () => {
    const context = await newContext(env.browser)
    const page = await context.newPage()
    const errors = watchConsole(page, OFFLINE_NOISE)

    await createFirstUser(page, env.hub)
    await createPatient(page, { firstName: 'Olga', lastName: 'Before', birthDate: '1970-03-03' })
    await waitSynced(page)
    // The service worker has the app shell once it controls the page.
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 15_000 })

    await context.setOffline(true)
    await page.reload()
    await page.getByRole('navigation', { name: 'Main' }).waitFor()
    await page.getByRole('link', { name: 'Before', exact: true }).waitFor()
    await page.getByTestId('sync-text').filter({ hasText: /^Offline/ }).waitFor({ timeout: 15_000 })

    await createPatient(page, { firstName: 'Otto', lastName: 'Offline', birthDate: '1985-08-08' })
    await page.getByTestId('sync-text').filter({ hasText: /^Offline · \d+ unsynced$/ }).waitFor()
    await screenshot(page, '09-offline')
    const whileOffline = (await env.hub.api('GET', '/api/v1/patients')).body as Array<{ lastName: string }>
    expect(whileOffline.map((p) => p.lastName)).toEqual(['Before'])

    // A reload while still offline keeps both the data and the count of what is not on the hub.
    await page.reload()
    await page.getByRole('link', { name: 'Offline', exact: true }).waitFor()
    await page.getByTestId('sync-text').filter({ hasText: /unsynced$/ }).waitFor()

    await context.setOffline(false)
    await eventually(async () => {
      const patients = (await env.hub.api('GET', '/api/v1/patients')).body as Array<{ lastName: string }>
      return patients.some((p) => p.lastName === 'Offline')
    }, 20_000, 'the offline patient on the hub')
    await waitSynced(page, 20_000)

    expect(errors).toEqual([])
    await context.close()
  }, 180_000)
})
