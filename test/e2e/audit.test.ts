// History and audit in Chromium: a change to a patient shows in the patient's History as who changed
// what on which device, and the admin's Audit page lists the lab's changes and filters them by user;
// the sequence library's duplicate upload, rename and delete, and their entries in the audit.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { BUILTIN_SEQUENCES, writeSeq } from '../../protocol/pulseq/index.ts'
import { eventually } from '../support/peer-process.ts'
import { ADMIN, HAS_CHROMIUM, PASSWORD, createFirstUser, createPatient, login, newContext, screenshot, useBrowserLab, waitSynced, watchConsole } from './support.ts'

describe.skipIf(!HAS_CHROMIUM)('history and audit', () => {
  const env = useBrowserLab()

  it('a patient\'s History says who changed what on which device; the Audit page filters by user', async () => {
    const context = await newContext(env.browser)
    // two browsers and a hub on one machine: give each step time
    context.setDefaultTimeout(30_000)
    const page = await context.newPage()
    const errors = watchConsole(page, [/Failed to load resource/])
    await createFirstUser(page, env.hub)
    expect((await env.hub.api('POST', '/api/v1/users', { username: 'mia', firstName: 'Mia', lastName: 'Medic', email: '', role: 'medical', password: PASSWORD })).status).toBe(201)

    await createPatient(page, { firstName: 'Jane', lastName: 'Doe', birthDate: '1980-02-29' })
    for (const weight of ['70', '72']) {
      await page.getByRole('button', { name: 'Edit Doe, Jane' }).click()
      await page.getByLabel('Weight (kg)').fill(weight)
      await page.getByRole('button', { name: 'Save' }).click()
      await page.getByRole('cell', { name: weight, exact: true }).waitFor()
    }
    await waitSynced(page)
    const jane = ((await env.hub.api('GET', '/api/v1/patients')).body as Array<{ id: string, lastName: string }>).find((p) => p.lastName === 'Doe')
    expect(jane).toBeDefined()
    // another user on another device: a second browser, paired with the lab on its own
    const otherContext = await newContext(env.browser)
    otherContext.setDefaultTimeout(30_000)
    const other = await otherContext.newPage()
    await login(other, env.hub, 'mia', PASSWORD)
    await other.getByRole('button', { name: 'Edit Doe, Jane' }).click()
    await other.getByLabel('Height (cm)').fill('165')
    await other.getByRole('button', { name: 'Save' }).click()
    await other.getByRole('cell', { name: '165', exact: true }).waitFor()
    await waitSynced(other)
    await eventually(async () => ((await env.hub.api('GET', '/api/v1/patients')).body as Array<{ heightCm?: number }>).some((p) => p.heightCm === 165), 10_000, 'the height on the hub')
    await otherContext.close()

    await page.getByRole('link', { name: 'Doe', exact: true }).click()
    await page.getByRole('heading', { name: 'Doe, Jane' }).waitFor()
    const history = page.locator('sh-history details')
    await expect.poll(async () => await history.textContent(), { timeout: 15_000 }).toMatch(/Mia Medic changed the patient's height to 165 cm on /)
    const text = await history.textContent() ?? ''
    // each device by the name it has among the lab's members; two of the same make told apart
    const members = (await env.hub.api('GET', '/api/v1/members')).body as Array<{ name: string, kind: string }>
    const browsers = members.filter((m) => m.kind === 'browser').map((m) => m.name)
    expect(browsers).toHaveLength(2)
    const sentences = await page.locator('sh-history .sentence').allTextContents()
    const deviceOf = (start: string): string => (sentences.find((t) => t.startsWith(start)) ?? '').slice(start.length)
    const miaDevice = deviceOf('Mia Medic changed the patient\'s height to 165 cm on ')
    const adaDevice = deviceOf('Ada Lovelace changed the patient\'s weight from 70 to 72 kg on ')
    expect(browsers.some((name) => miaDevice.startsWith(name))).toBe(true)
    expect(browsers.some((name) => adaDevice.startsWith(name))).toBe(true)
    expect(miaDevice).not.toBe(adaDevice)
    expect(text).toMatch(new RegExp(`${ADMIN.firstName} ${ADMIN.lastName} changed the patient's weight from 70 to 72 kg on `))
    expect(text).toMatch(/Ada Lovelace created the patient on /)
    // every device is named, by the name it paired with
    expect(text).not.toMatch(/unknown device/)
    // newest first
    expect(text.indexOf('Mia Medic')).toBeLessThan(text.indexOf('from 70 to 72 kg'))
    await screenshot(page, '40-patient-history')

    await page.getByRole('link', { name: 'Audit' }).click()
    const table = page.getByRole('table', { name: 'Audit log' })
    await table.getByRole('row').filter({ hasText: 'Mia Medic' }).first().waitFor({ timeout: 15_000 })
    expect(await table.getByRole('row').filter({ hasText: 'from 70 to 72 kg' }).count()).toBe(1)
    await page.getByLabel('User', { exact: true }).selectOption('mia')
    const rows = table.locator('tbody tr')
    // only Mia's entries are left, her change of the height among them
    await expect.poll(async () => (await rows.allTextContents()).every((t) => t.includes('Mia Medic'))).toBe(true)
    const miaRows = (await rows.allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim())
    expect(miaRows.filter((t) => new RegExp(`changed the patient's height to 165 cm.*${miaDevice.replace(/[()…]/g, '.')}.*Doe, Jane`).test(t))).toHaveLength(1)
    expect(miaRows.some((t) => t.includes('from 70 to 72 kg'))).toBe(false)
    await page.getByLabel('User', { exact: true }).selectOption('ada')
    await expect.poll(async () => await table.getByRole('row').filter({ hasText: 'Mia Medic' }).count()).toBe(0)
    expect(await table.getByRole('row').filter({ hasText: 'from 70 to 72 kg' }).count()).toBe(1)
    // a day range before anything happened matches nothing
    await page.getByLabel('From', { exact: true }).fill('2001-01-01')
    await page.getByLabel('To', { exact: true }).fill('2001-01-02')
    await table.getByText('No entries match these filters.').waitFor()
    await page.getByRole('button', { name: 'Clear filters' }).click()
    await table.getByRole('row').filter({ hasText: 'Mia Medic' }).first().waitFor()
    await screenshot(page, '41-audit')
    expect(errors).toEqual([])
    await context.close()
  }, 180_000)

  it('the sequence library: a second upload of a file points at the first, rename and delete, and the audit names them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scanhub-audit-e2e-'))
    const file = join(dir, 'flash.seq')
    await writeFile(file, writeSeq(BUILTIN_SEQUENCES['spin-echo'].build({ matrix: [24, 24] })))
    const context = await newContext(env.browser)
    context.setDefaultTimeout(30_000)
    const page = await context.newPage()
    const errors = watchConsole(page, [/Failed to load resource/])
    // the admin the first test made
    await login(page, env.hub, ADMIN.username, ADMIN.password)
    await page.getByRole('link', { name: 'Library' }).click()
    await page.getByRole('tab', { name: 'Sequences' }).click()
    const upload = page.getByRole('form', { name: 'Upload a sequence' })
    for (const name of ['My SE', 'My SE again']) {
      await upload.getByLabel('Pulseq file (.seq)').setInputFiles(file)
      await upload.getByLabel('Name').fill(name)
      await upload.getByRole('button', { name: 'Upload' }).click()
      await page.getByRole('row').filter({ hasText: 'My SE' }).first().waitFor()
    }
    await expect.poll(async () => await upload.getByRole('alert').textContent()).toMatch(/this file is in the library already, as "My SE" \(id [^)]+\): use that sequence, or rename it/)
    const row = page.getByRole('row').filter({ hasText: 'My SE' })
    expect(await row.count()).toBe(1)
    // typed from its events
    expect(await row.getByRole('cell', { name: 'SE', exact: true }).count()).toBe(1)

    await row.getByRole('button', { name: 'Rename My SE' }).click()
    await page.getByLabel('New name of My SE').fill('Spin echo 24')
    await page.getByRole('button', { name: 'Save' }).click()
    const renamed = page.getByRole('row').filter({ hasText: 'Spin echo 24' })
    await renamed.waitFor()
    await renamed.getByRole('button', { name: 'Delete Spin echo 24' }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click()
    await renamed.waitFor({ state: 'detached' })
    // built-ins have no Delete
    expect(await page.getByRole('button', { name: 'Delete gre', exact: true }).count()).toBe(0)

    await page.getByRole('link', { name: 'Audit' }).click()
    const table = page.getByRole('table', { name: 'Audit log' })
    await table.getByRole('row').filter({ hasText: 'deleted the sequence "Spin echo 24"' }).waitFor()
    expect(await table.getByRole('row').filter({ hasText: 'renamed the sequence "My SE" to "Spin echo 24"' }).count()).toBe(1)
    expect(await table.getByRole('row').filter({ hasText: 'created the sequence "My SE"' }).filter({ hasText: 'Ada Lovelace' }).count()).toBe(1)
    expect(errors).toEqual([])
    await context.close()
    await rm(dir, { recursive: true, force: true })
  }, 180_000)
})
