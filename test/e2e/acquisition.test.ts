// Running an acquisition from the browser on a hub with a virtual scanner: Run asks to check the
// patient's height and weight first, progress is pushed by the scanner as presence, Stop is large
// and confirms once the scanner has stopped; a short sequence runs to its end.
import { describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { eventually } from '../support/peer-process.ts'
import { HAS_CHROMIUM, createFirstUser, createPatient, newContext, screenshot, useBrowserLab, watchConsole } from './support.ts'

async function addAcquisition (page: Page, workflow: string, name: string, sequenceId: string): Promise<void> {
  await page.getByRole('button', { name: `Actions for ${workflow}` }).click()
  await page.getByRole('menuitem', { name: 'New task' }).click()
  await page.getByLabel('Name', { exact: true }).fill(name)
  await page.getByLabel('Sequence', { exact: true }).selectOption(sequenceId)
  await page.getByLabel('Device', { exact: true }).selectOption({ index: 1 })
  await page.getByRole('button', { name: 'Create task' }).click()
  await page.getByRole('treeitem', { name: `Task ${name}` }).waitFor()
}

describe.skipIf(!HAS_CHROMIUM)('acquisition from the browser', () => {
  const env = useBrowserLab({ hub: { name: 'console', roles: 'hub,scanner' } })

  it('confirms height and weight, shows live progress, stops on request, and runs a scan to its end', async () => {
    const context = await newContext(env.browser)
    const page = await context.newPage()
    const errors = watchConsole(page)
    await createFirstUser(page, env.hub)
    await eventually(async () => ((await env.hub.api('GET', '/api/v1/devices')).body as unknown[]).length > 0, 15_000, 'the virtual scanner in the lab')
    await createPatient(page, { firstName: 'Sam', lastName: 'Scan', birthDate: '1988-11-11' })
    await page.getByRole('link', { name: 'Scan', exact: true }).click()
    await page.getByRole('button', { name: 'Add exam' }).click()
    await page.getByRole('menuitem', { name: 'New exam' }).click()
    await page.getByLabel('Name').fill('Head')
    await page.getByRole('button', { name: 'Create exam' }).click()
    await page.getByRole('button', { name: 'Actions for Head' }).click()
    await page.getByRole('menuitem', { name: 'New workflow' }).click()
    await page.getByLabel('Name').fill('Anatomy')
    await page.getByRole('button', { name: 'Create workflow' }).click()
    await addAcquisition(page, 'Anatomy', 'Multi-slice GRE', 'builtin-gre-multislice')

    await page.getByRole('button', { name: 'Run Multi-slice GRE' }).click()
    const dialog = page.getByRole('dialog', { name: 'Before acquiring' })
    await dialog.getByRole('button', { name: /^Start/ }).click()
    await dialog.getByText('heightCm is needed before an acquisition').waitFor()
    await dialog.getByLabel('Height (cm)').fill('172')
    await dialog.getByLabel('Weight (kg)').fill('68')
    await dialog.getByRole('button', { name: /^Start/ }).click()

    await page.getByRole('progressbar', { name: 'Progress of Multi-slice GRE' }).waitFor({ timeout: 15_000 })
    await page.getByRole('treeitem', { name: 'Task Multi-slice GRE' }).getByRole('status', { name: /Status: (Started|In progress)/ }).waitFor()
    await screenshot(page, '12-running')
    await page.getByRole('button', { name: 'Stop Multi-slice GRE' }).click()
    await page.getByText('Multi-slice GRE stopped: the scanner confirmed').waitFor({ timeout: 15_000 })
    const patient = ((await env.hub.api('GET', '/api/v1/patients')).body as Array<{ heightCm?: number, weightKg?: number }>)[0]
    expect(patient).toMatchObject({ heightCm: 172, weightKg: 68 })
    const tasks = (await env.hub.api('GET', '/api/v1/tasks')).body as Array<{ name: string, status: string }>
    expect(tasks.find((t) => t.name === 'Multi-slice GRE')?.status).toBe('CANCELLED')

    // A short scan runs to its end.
    await addAcquisition(page, 'Anatomy', 'FID', 'builtin-fid')
    await page.getByRole('button', { name: 'Run FID' }).click()
    // The dialog shows what the lab holds now.
    const again = page.getByRole('dialog', { name: 'Before acquiring' })
    expect(await again.getByLabel('Height (cm)').inputValue()).toBe('172')
    await again.getByRole('button', { name: /^Start/ }).click()
    await page.getByRole('treeitem', { name: 'Task FID' }).getByRole('status', { name: 'Status: Finished' }).waitFor({ timeout: 60_000 })
    const fid = ((await env.hub.api('GET', '/api/v1/tasks')).body as Array<{ name: string, status: string, results: unknown[], finishedAt?: string }>).find((t) => t.name === 'FID')
    expect(fid?.status).toBe('FINISHED')
    await screenshot(page, '13-finished')
    // The raw data downloads with the session's token.
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 15_000 }),
      page.getByRole('button', { name: /FID\.mrd/ }).click()
    ])
    expect(download.suggestedFilename()).toBe('FID.mrd')

    // The raw data viewer draws the readouts, over time and over frequency.
    const raw = page.locator('sh-raw-viewer')
    await raw.getByRole('group', { name: 'Raw data display' }).waitFor({ timeout: 20_000 })
    const inked = async (): Promise<number> => await raw.evaluate((el) => {
      const c = el.shadowRoot?.querySelector('canvas')
      const data = c?.getContext('2d')?.getImageData(0, 0, c.width, c.height).data ?? new Uint8ClampedArray()
      let n = 0
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++
      return n
    })
    await expect.poll(inked, { timeout: 10_000 }).toBeGreaterThan(100)
    await raw.getByLabel('Domain').selectOption('frequency')
    await raw.getByLabel('Part').selectOption('phase')
    await expect.poll(inked, { timeout: 10_000 }).toBeGreaterThan(100)
    await screenshot(page, '14a-raw-data')

    // The whole workflow in order: the stopped scan runs again; the finished one is left as it is.
    await page.getByRole('treeitem', { name: 'Workflow Anatomy' }).getByText('Anatomy', { exact: true }).click()
    await page.getByRole('button', { name: 'Run workflow Anatomy in order' }).click()
    const confirm = page.getByRole('dialog', { name: 'Before acquiring' })
    await confirm.getByRole('button', { name: /^Start/ }).click()
    await page.getByRole('treeitem', { name: 'Task Multi-slice GRE' }).getByRole('status', { name: 'Status: Finished' }).waitFor({ timeout: 60_000 })
    const after = (await env.hub.api('GET', '/api/v1/tasks')).body as Array<{ name: string, status: string, finishedAt?: string }>
    expect(after.find((t) => t.name === 'Multi-slice GRE')?.status).toBe('FINISHED')
    expect(after.find((t) => t.name === 'FID')?.finishedAt).toBe(fid?.finishedAt)

    expect(errors).toEqual([])
    await context.close()
  }, 180_000)
})
