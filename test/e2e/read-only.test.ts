// A viewer, or a browser nobody is logged in on, cannot change anything: not because a button is
// hidden, but because the hub refuses its changes. The test changes the page's own documents behind
// the UI's back (as a tampered client would) and checks that the hub's data stays as it was.
import { describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { sleep } from '../support/peer-process.ts'
import { HAS_CHROMIUM, PASSWORD, createFirstUser, createPatient, login, newContext, screenshot, useBrowserLab, waitSynced, watchConsole } from './support.ts'

/** Writes a patient straight into the page's lab model, skipping the UI's role check. */
async function tamper (page: Page, lastName: string): Promise<void> {
  await page.evaluate((name) => {
    const app = document.querySelector('sh-app') as unknown as { session: { peerId: string, lab: { patients: { create: (input: unknown, actor: unknown) => unknown, list: () => Array<{ id: string }>, update: (id: string, patch: unknown, actor: unknown) => unknown } } } }
    const { session } = app
    const actor = { name: 'intruder', peerId: session.peerId }
    session.lab.patients.create({ firstName: 'Mallory', lastName: name, birthDate: '1990-01-01', sex: 'OTHER' }, actor)
    for (const p of session.lab.patients.list()) session.lab.patients.update(p.id, { comment: 'tampered' }, actor)
  }, lastName)
}

async function refusedByHub (page: Page): Promise<void> {
  await page.waitForFunction(() => (document.querySelector('sh-app') as unknown as { session: { refusedByHub: boolean } }).session.refusedByHub, undefined, { timeout: 10_000 })
}

describe.skipIf(!HAS_CHROMIUM)('read-only browsers', () => {
  const env = useBrowserLab()

  it('the hub refuses the changes of a viewer and of a browser nobody is logged in on', async () => {
    const adminContext = await newContext(env.browser)
    const admin = await adminContext.newPage()
    const adminErrors = watchConsole(admin)
    await createFirstUser(admin, env.hub)
    await createPatient(admin, { firstName: 'Karl', lastName: 'Keep', birthDate: '1960-06-06' })
    await waitSynced(admin)

    // The admin creates a viewer on the Users page.
    await admin.getByRole('link', { name: 'Users' }).click()
    await admin.getByRole('button', { name: 'New user' }).click()
    await admin.getByLabel('Username').fill('vic')
    await admin.getByLabel('First name').fill('Vic')
    await admin.getByLabel('Last name').fill('Viewer')
    await admin.getByLabel('Role', { exact: true }).selectOption('viewer')
    await admin.getByLabel('Password (12+ characters)').fill(PASSWORD)
    await admin.getByRole('button', { name: 'Create user' }).click()
    await admin.getByRole('cell', { name: 'vic', exact: true }).waitFor()
    const before = JSON.stringify((await env.hub.api('GET', '/api/v1/patients')).body)

    const viewerContext = await newContext(env.browser)
    const viewer = await viewerContext.newPage()
    const viewerErrors = watchConsole(viewer)
    await login(viewer, env.hub, 'vic', PASSWORD)
    await viewer.getByText('You are logged in as a viewer').waitFor()
    await viewer.getByRole('link', { name: 'Keep', exact: true }).waitFor()
    expect(await viewer.getByRole('button', { name: 'New patient' }).count()).toBe(0)
    expect(await viewer.getByRole('button', { name: /^Edit / }).count()).toBe(0)
    await screenshot(viewer, '10-viewer')

    await tamper(viewer, 'Tamper')
    await refusedByHub(viewer)
    await sleep(1500)
    expect(JSON.stringify((await env.hub.api('GET', '/api/v1/patients')).body)).toBe(before)

    // Logged out, the admin's browser is read-only too.
    await admin.getByTestId('account-menu').click()
    await admin.getByTestId('logout').click()
    await admin.getByRole('button', { name: 'Log in' }).waitFor()
    await tamper(admin, 'Anonymous')
    await refusedByHub(admin)
    await sleep(1500)
    expect(JSON.stringify((await env.hub.api('GET', '/api/v1/patients')).body)).toBe(before)

    expect(adminErrors).toEqual([])
    expect(viewerErrors).toEqual([])
    await adminContext.close()
    await viewerContext.close()
  }, 180_000)
})
