// A lab of a scanner console (hub and scanner) and a reconstruction laptop: an acquisition and its reconstruction
// planned and run from the browser, and the DICOM images shown in the viewer beside the tree.
import { describe, expect, it } from 'vitest'
import { eventually } from '../support/peer-process.ts'
import { HAS_CHROMIUM, createFirstUser, createPatient, newContext, screenshot, useBrowserLab, watchConsole } from './support.ts'

describe.skipIf(!HAS_CHROMIUM)('reconstruction from the browser', () => {
  const env = useBrowserLab({
    hub: { name: 'console', roles: 'hub,scanner' },
    peers: async (lab, hub) => { await (await lab.peer({ name: 'recon-laptop', roles: 'recon', join: hub.invite() })).start() }
  })

  it('acquires, reconstructs and shows the images', async () => {
    const context = await newContext(env.browser)
    const page = await context.newPage()
    const errors = watchConsole(page)
    await createFirstUser(page, env.hub)
    await eventually(async () => ((await env.hub.api('GET', '/api/v1/devices')).body as unknown[]).length > 0, 15_000, 'the virtual scanner in the lab')
    await createPatient(page, { firstName: 'Rita', lastName: 'Recon', birthDate: '1979-04-04' })
    await page.getByRole('link', { name: 'Recon', exact: true }).click()
    await page.getByRole('button', { name: 'Add exam' }).click()
    await page.getByRole('menuitem', { name: 'New exam' }).click()
    await page.getByLabel('Name').fill('Phantom')
    await page.getByRole('button', { name: 'Create exam' }).click()
    await page.getByRole('button', { name: 'Actions for Phantom' }).click()
    await page.getByRole('menuitem', { name: 'New workflow' }).click()
    await page.getByLabel('Name').fill('Imaging')
    await page.getByRole('button', { name: 'Create workflow' }).click()

    await page.getByRole('button', { name: 'Actions for Imaging' }).click()
    await page.getByRole('menuitem', { name: 'New task' }).click()
    await page.getByLabel('Name', { exact: true }).fill('GRE 2D')
    await page.getByLabel('Sequence', { exact: true }).selectOption('builtin-gre')
    await page.getByLabel('Device', { exact: true }).selectOption({ index: 1 })
    await page.getByRole('button', { name: 'Create task' }).click()
    await page.getByRole('treeitem', { name: 'Task GRE 2D' }).waitFor()

    await page.getByRole('button', { name: 'Actions for Imaging' }).click()
    await page.getByRole('menuitem', { name: 'New task' }).click()
    await page.getByRole('tab', { name: 'Reconstruction or processing task' }).click()
    await page.getByLabel('Name', { exact: true }).fill('Images')
    await page.getByLabel('Pipeline').selectOption('cartesian')
    await page.getByLabel('Input task').selectOption({ label: 'GRE 2D' })
    await page.getByRole('button', { name: 'Create task' }).click()
    await page.getByRole('treeitem', { name: 'Task Images' }).waitFor()

    await page.getByRole('treeitem', { name: 'Task GRE 2D' }).click()
    await page.getByRole('button', { name: 'Run GRE 2D' }).click()
    const dialog = page.getByRole('dialog', { name: 'Before acquiring' })
    await dialog.getByLabel('Height (cm)').fill('165')
    await dialog.getByLabel('Weight (kg)').fill('60')
    await dialog.getByRole('button', { name: /^Start/ }).click()
    await page.getByRole('treeitem', { name: 'Task GRE 2D' }).getByRole('status', { name: 'Status: Finished' }).waitFor({ timeout: 90_000 })

    // The reconstruction may already have been taken up when its input finished; else it is run here.
    await page.getByRole('treeitem', { name: 'Task Images' }).click()
    const run = page.getByRole('button', { name: 'Run Images' })
    if (await run.isVisible()) await run.click()
    await page.getByRole('treeitem', { name: 'Task Images' }).getByRole('status', { name: 'Status: Finished' }).waitFor({ timeout: 90_000 })
    await page.getByTestId('slice-overlay').filter({ hasText: /Im: 1\// }).waitFor({ timeout: 30_000 })
    await screenshot(page, '14-reconstruction')
    const tasks = (await env.hub.api('GET', '/api/v1/tasks')).body as Array<{ name: string, status: string, results: Array<{ type: string }> }>
    expect(tasks.find((t) => t.name === 'Images')?.results.some((r) => r.type === 'DICOM')).toBe(true)

    expect(errors).toEqual([])
    await context.close()
  }, 240_000)
})
