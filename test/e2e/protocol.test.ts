// The protocol card of an acquisition task in Chromium: choosing a built-in gradient echo shows its TR,
// TE, flip angle, FOV, matrix, slices, thickness and bandwidth with their limits and the scan time;
// changing TR or the matrix changes the scan time as the user types, a TR below the shortest is marked
// beside its field with the shortest offered, and the task is saved with the protocol, which its
// details then show. An uploaded sequence's values are shown read-only.
import { describe, expect, it } from 'vitest'
import { checkProtocol, protocolSequenceText } from '../../protocol/pulseq/protocol-params.ts'
import { formatScanTime } from '../../pwa/src/components/sh-protocol-editor.ts'
import { eventually } from '../support/peer-process.ts'
import { HAS_CHROMIUM, createExamAndWorkflow, createFirstUser, createPatient, newContext, screenshot, useBrowserLab, watchConsole } from './support.ts'

describe.skipIf(!HAS_CHROMIUM)('protocol of an acquisition task', () => {
  const env = useBrowserLab({ hub: { name: 'console', roles: 'hub,scanner' } })

  it('shows the scan time of the built-in GRE and updates it as TR and the matrix change', async () => {
    const context = await newContext(env.browser)
    const page = await context.newPage()
    const errors = watchConsole(page)
    await createFirstUser(page, env.hub)
    await eventually(async () => ((await env.hub.api('GET', '/api/v1/devices')).body as unknown[]).length > 0, 15_000, 'the virtual scanner in the lab')
    await createPatient(page, { firstName: 'Pat', lastName: 'Protocol', birthDate: '1979-04-02' })
    await page.getByRole('link', { name: 'Protocol', exact: true }).click()
    await createExamAndWorkflow(page, 'Head', 'Anatomy')
    await page.getByRole('button', { name: 'Actions for Anatomy' }).click()
    await page.getByRole('menuitem', { name: 'New task' }).click()
    await page.getByLabel('Name', { exact: true }).fill('T1 GRE')
    await page.getByLabel('Sequence', { exact: true }).selectOption('builtin-gre')

    // the built-in's own values, and the scan time of the sequence they build
    const scanTime = page.locator('#scan-time')
    const defaults = checkProtocol('gre', {})
    await expect.poll(async () => await scanTime.textContent()).toBe(formatScanTime(defaults.scanTimeS ?? 0))
    const tr = page.getByLabel('TR (ms)')
    expect(await tr.inputValue()).toBe(String(defaults.values.trMs))
    expect(await page.getByLabel('Flip angle (°)').inputValue()).toBe('15')
    expect(await page.getByLabel('Matrix, read').inputValue()).toBe('64')
    await page.getByText(`${defaults.limits.trMs?.min} – 10000 ms`).waitFor()

    // a longer TR: 64 lines of 50 ms
    await tr.fill('50')
    await expect.poll(async () => await scanTime.textContent()).toBe(formatScanTime(64 * 0.05))
    // twice the phase lines: twice the time
    await page.getByLabel('Matrix, phase').fill('128')
    await expect.poll(async () => await scanTime.textContent()).toBe(formatScanTime(128 * 0.05))

    // below the shortest TR: said beside the field, no scan time, and the shortest offered
    await tr.fill('2')
    const shortest = checkProtocol('gre', { trMs: 2 }).limits.trMs?.min
    await page.getByText(`TR must be at least ${shortest} ms at this TE`).waitFor()
    expect(await scanTime.textContent()).toBe('—')
    expect(await tr.getAttribute('aria-invalid')).toBe('true')
    await screenshot(page, '40-protocol-error')
    await page.getByRole('button', { name: `Use ${shortest} ms` }).click()
    await expect.poll(async () => await scanTime.textContent()).toBe(formatScanTime(128 * (shortest ?? 0) / 1000))
    expect(await tr.getAttribute('aria-invalid')).toBe('false')

    await tr.fill('50')
    await expect.poll(async () => await scanTime.textContent()).toBe(formatScanTime(128 * 0.05))
    await screenshot(page, '41-protocol')
    await page.getByRole('button', { name: 'Create task' }).click()
    await page.getByRole('treeitem', { name: 'Task T1 GRE' }).waitFor()
    const task = await eventually(async () => {
      const tasks = (await env.hub.api('GET', '/api/v1/tasks')).body as Array<{ name: string, parameters: { protocol?: Record<string, unknown> } }>
      return tasks.find((t) => t.name === 'T1 GRE')
    }, 10_000, 'the task on the hub')
    expect(task.parameters.protocol).toMatchObject({ trMs: 50, matrix: [64, 128], flipAngleDeg: 15 })

    // the task's details show the protocol it runs with
    await page.getByRole('treeitem', { name: 'Task T1 GRE' }).getByText('T1 GRE', { exact: true }).click()
    const details = page.getByRole('group', { name: 'Protocol' })
    await details.getByText('Protocol of gre').waitFor()
    await details.getByText('50 ms', { exact: true }).waitFor()
    await details.getByText('64 × 128', { exact: true }).waitFor()
    await details.getByText(formatScanTime(128 * 0.05), { exact: true }).waitFor()

    // an uploaded sequence shows what its file says, without fields
    const uploaded = await env.hub.api('POST', `/api/v1/sequences?name=${encodeURIComponent('SE 700')}`, protocolSequenceText('spin-echo', { trMs: 700, matrix: [32, 32] }), { 'content-type': 'text/plain' })
    expect(uploaded.status, JSON.stringify(uploaded.body)).toBe(201)
    await page.getByRole('button', { name: 'Actions for Anatomy' }).click()
    await page.getByRole('menuitem', { name: 'New task' }).click()
    await page.locator(`#sequence option[value="${uploaded.body.id as string}"]`).waitFor({ state: 'attached' })
    await page.getByLabel('Sequence', { exact: true }).selectOption(uploaded.body.id as string)
    const readOnly = page.getByRole('group', { name: 'Protocol' })
    await readOnly.getByText('Protocol of SE 700 (read-only)').waitFor()
    await readOnly.getByText('700 ms', { exact: true }).waitFor()
    await readOnly.getByText('32 × 32', { exact: true }).waitFor()
    await readOnly.getByText(formatScanTime(32 * 0.7), { exact: true }).waitFor()
    expect(await readOnly.locator('input').count()).toBe(0)
    await screenshot(page, '42-protocol-uploaded')
    expect(errors).toEqual([])
    await context.close()
  }, 180_000)
})
