// Pairing a device, as a lab does it with a tablet: the admin opens Members → Pair a device and shows a
// code; a browser that is in no lab asks for one; both screens then show the same confirmation code;
// the device is a member, logs in and syncs. Revoked by the admin, it learns so within seconds, forgets
// the lab and its data, and gets nothing the lab writes afterwards.
import { describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { eventually, sleep } from '../support/peer-process.ts'
import { ADMIN, HAS_CHROMIUM, PASSWORD, createFirstUser, createPatient, login, newContext, screenshot, useBrowserLab, waitSynced, watchConsole } from './support.ts'

/** What Chromium reports once the hub refuses the removed device: its dials and the hub's 401s. */
const REFUSED_NOISE = [/WebSocket connection to .* failed/, /Failed to load resource/]

async function peerIdOf (page: Page): Promise<string> {
  return await page.evaluate(() => (document.querySelector('sh-app') as unknown as { session: { peerId: string } }).session.peerId)
}

describe.skipIf(!HAS_CHROMIUM)('pairing a device', () => {
  const env = useBrowserLab()

  it('pairs a browser with the code an admin shows, syncs it, and cuts it off when revoked', async () => {
    const adminContext = await newContext(env.browser)
    const admin = await adminContext.newPage()
    const adminErrors = watchConsole(admin)
    await createFirstUser(admin, env.hub)
    await createPatient(admin, { firstName: 'Anna', lastName: 'Early', birthDate: '1970-01-01' })
    const made = await env.hub.api('POST', '/api/v1/users', { username: 'mia', firstName: 'Mia', lastName: 'Medic', email: '', role: 'medical', password: PASSWORD })
    expect(made.status).toBe(201)

    // A browser in no lab asks for a code.
    const tabletContext = await newContext(env.browser)
    const tablet = await tabletContext.newPage()
    const tabletErrors = watchConsole(tablet, REFUSED_NOISE)
    await tablet.goto(env.hub.baseUrl + '/')
    await tablet.getByRole('heading', { name: 'Pair this device with the lab' }).waitFor()
    expect(await tablet.getByLabel('Pairing code').evaluate((input) => input === (input.getRootNode() as ShadowRoot).activeElement)).toBe(true)

    // The admin: Members → Pair a device; Escape closes the dialog and gives the focus back.
    await admin.getByRole('link', { name: 'Members' }).click()
    const table = admin.getByRole('table', { name: 'Members' })
    await table.getByRole('row').filter({ hasText: 'hub-a' }).waitFor()
    await admin.getByRole('button', { name: 'Pair a device' }).click()
    const dialog = admin.getByRole('dialog', { name: 'Pair a device' })
    await dialog.getByLabel('The most this device may do').waitFor()
    expect(await dialog.getByLabel('The most this device may do').inputValue()).toBe('medical')
    await admin.keyboard.press('Escape')
    await dialog.waitFor({ state: 'hidden' })
    await admin.getByRole('button', { name: 'Pair a device' }).click()
    await dialog.getByRole('button', { name: 'Show a code' }).click()
    const code = (await dialog.getByTestId('pairing-code').textContent()) ?? ''
    expect(code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/)
    await dialog.getByRole('img', { name: 'QR code of the pairing link' }).waitFor()
    await dialog.getByText(`${env.hub.baseUrl}/#pair=${code}`).waitFor()
    await screenshot(admin, '16-pair-a-device')

    // The tablet types it as a person might (lower case, a space for the dash).
    await tablet.getByLabel('Pairing code').fill(code.toLowerCase().replace('-', ' '))
    await tablet.getByRole('button', { name: 'Pair' }).click()
    const confirmation = (await tablet.getByTestId('confirmation-code').textContent()) ?? ''
    expect(confirmation).toMatch(/^\d{3} \d{3}$/)
    await screenshot(tablet, '17-paired-confirmation')
    // Both screens show the same confirmation code.
    const result = dialog.getByTestId('pairing-result')
    await result.waitFor({ timeout: 5000 })
    expect(await result.textContent()).toContain(`Confirmation code: ${confirmation}`)
    await admin.keyboard.press('Escape')
    await dialog.waitFor({ state: 'hidden' })

    // The tablet is a member with the ceiling chosen, listed on the admin's page.
    const tabletPeerId = await peerIdOf(tablet)
    const tabletRow = table.getByRole('row').filter({ hasText: tabletPeerId.slice(-10) })
    await tabletRow.filter({ hasText: 'Browser' }).filter({ hasText: 'medical' }).filter({ hasText: 'Active' }).waitFor()

    // It logs in and syncs both ways.
    await tablet.getByRole('button', { name: 'Continue' }).click()
    await login(tablet, env.hub, 'mia', PASSWORD)
    await tablet.getByRole('link', { name: 'Early', exact: true }).waitFor({ timeout: 10_000 })
    await admin.getByRole('link', { name: 'Patients' }).click()
    await createPatient(admin, { firstName: 'Bert', lastName: 'Between', birthDate: '1980-01-01' })
    await tablet.getByRole('link', { name: 'Between', exact: true }).waitFor({ timeout: 5000 })
    await waitSynced(tablet)

    // The admin revokes it, after a confirmation that names the device.
    await admin.getByRole('link', { name: 'Members' }).click()
    await tabletRow.getByRole('button', { name: /^Revoke / }).click()
    const confirm = admin.getByRole('dialog', { name: /^Revoke / })
    await confirm.waitFor()
    expect(await confirm.getByRole('heading').textContent()).toMatch(/Revoke (Chrome|Chromium) on Linux\?/)
    await confirm.getByRole('button', { name: 'Revoke' }).click()
    const revoked = Date.now()

    // Within 10 s the tablet says it was removed, and keeps neither the lab key nor its data.
    await tablet.getByText(/This device was removed from the lab \(.+\)\. Pair it again to use ScanHub\./).waitFor({ timeout: 10_000 })
    expect(Date.now() - revoked).toBeLessThan(10_000)
    await tablet.getByRole('heading', { name: 'Pair this device with the lab' }).waitFor()
    await screenshot(tablet, '18-removed-device')
    const kept = await tablet.evaluate(async () => ({
      keys: Object.keys(localStorage).filter((k) => k === 'scanhub:pairing' || k === 'scanhub:session' || k === 'scanhub:peer-key'),
      databases: (await indexedDB.databases()).map((d) => d.name).filter((n) => n?.startsWith('scanhub:') === true),
      // the revoked key is gone from the identity store: pairing again makes a new one
      peerKey: await new Promise<boolean>((resolve) => {
        const open = indexedDB.open('scanhub-identity', 1)
        open.onupgradeneeded = () => { open.result.createObjectStore('keys') }
        open.onsuccess = () => {
          const get = open.result.transaction('keys').objectStore('keys').get('peer-key')
          get.onsuccess = () => { resolve(get.result !== undefined); open.result.close() }
        }
      })
    }))
    expect(kept).toEqual({ keys: [], databases: [], peerKey: false })

    // It syncs nothing any more: a patient made afterwards reaches neither its page nor its storage.
    await admin.getByRole('link', { name: 'Patients' }).click()
    await createPatient(admin, { firstName: 'Lena', lastName: 'Later', birthDate: '1990-01-01' })
    await sleep(3000)
    expect(await tablet.getByText('Later').count()).toBe(0)
    const afterwards = await tablet.evaluate(async () => ({
      connection: (document.querySelector('sh-app') as unknown as { session: { connection: string } }).session.connection,
      databases: (await indexedDB.databases()).map((d) => d.name).filter((n) => n?.startsWith('scanhub:') === true)
    }))
    expect(afterwards).toEqual({ connection: 'offline', databases: [] })

    // The admin's list and the hub say so too.
    await admin.getByRole('link', { name: 'Members' }).click()
    await tabletRow.filter({ hasText: /revoked/i }).waitFor()
    expect(await tabletRow.getByRole('button', { name: /^Revoke / }).count()).toBe(0)
    const members = (await env.hub.api('GET', '/api/v1/members')).body as Array<{ peerId: string, active: boolean, revokedBy?: string }>
    expect(members.find((m) => m.peerId === tabletPeerId)).toMatchObject({ active: false, revokedBy: 'ada' })

    expect(adminErrors).toEqual([])
    expect(tabletErrors).toEqual([])
    await adminContext.close()
    await tabletContext.close()
  }, 180_000)

  it('invites a computer: the line the admin copies joins it to the lab with its kind and ceiling', async () => {
    const context = await newContext(env.browser)
    const page = await context.newPage()
    const errors = watchConsole(page)
    await login(page, env.hub, ADMIN.username, ADMIN.password)
    await page.getByRole('link', { name: 'Members' }).click()
    await page.getByRole('button', { name: 'Invite a computer' }).click()
    const dialog = page.getByRole('dialog', { name: 'Invite a computer' })
    await dialog.getByLabel('What the computer is').selectOption('recon')
    await dialog.getByRole('button', { name: 'Create invite' }).click()
    const line = dialog.getByLabel(/^Run this on the new recon computer/)
    const command = await line.inputValue()
    expect(command).toMatch(/^scanhub start --roles recon --join 'scanhub-invite:[^']+'$/)
    await dialog.getByText(/A recon with ceiling engineer\. Works once, until /).waitFor()
    await screenshot(page, '19-invite-a-computer')
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'hidden' })
    expect(await page.getByRole('button', { name: 'Invite a computer' }).evaluate((b) => b === (b.getRootNode() as ShadowRoot).activeElement)).toBe(true)
    // The unused invite is listed, and can be revoked like any member.
    await page.getByRole('table', { name: 'Members' }).getByRole('row').filter({ hasText: 'Waiting to be used' }).waitFor()

    const recon = await env.lab.peer({ name: 'recon-b', roles: 'recon', join: /--join '([^']+)'/.exec(command)?.[1] })
    await recon.start()
    await eventually(async () => {
      const members = (await env.hub.api('GET', '/api/v1/members')).body as Array<{ peerId: string, kind: string, ceiling: string, active: boolean }>
      return members.find((m) => m.peerId === recon.peerId && m.kind === 'recon' && m.ceiling === 'engineer' && m.active)
    }, 15_000, 'the recon computer among the members')
    await page.getByRole('link', { name: 'Patients' }).click()
    await page.getByRole('link', { name: 'Members' }).click()
    await page.getByRole('table', { name: 'Members' }).getByRole('row').filter({ hasText: 'recon-b' }).filter({ hasText: 'Reconstruction' }).waitFor()

    expect(errors).toEqual([])
    await context.close()
  }, 120_000)
})
