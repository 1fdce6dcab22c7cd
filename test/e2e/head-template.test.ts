// The first exam of a new lab, as `npm start` makes it (one peer: hub, virtual scanner, reconstruction):
// a patient, an exam from the built-in "Head examination" template, Run exam, and nothing else edited:
// every acquisition runs on the lab's scanner ("any scanner"), every reconstruction reads the
// acquisition of its workflow, and the viewer shows the images of every series.
import { describe, expect, it } from 'vitest'
import type { Locator, Page } from 'playwright-core'
import { eventually, sleep } from '../support/peer-process.ts'
import { HAS_CHROMIUM, createFirstUser, createPatient, newContext, screenshot, useBrowserLab, watchConsole } from './support.ts'

const SCANS = ['Localiser', 'T1-weighted GRE', 'T2-weighted TSE']

/** The tree row of the task named exactly `name` (its accessible name is "Task <name>: " and the words it shows). */
function taskRow (page: Page, name: string): Locator {
  return page.getByRole('treeitem', { name: new RegExp(`^Task ${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `) })
}

interface TaskRow { name: string, type: string, status: string, error?: string, parameters: { deviceId?: string, inputTaskId?: string }, id: string, results: Array<{ type: string }> }

describe.skipIf(!HAS_CHROMIUM)('a new lab\'s head examination template', () => {
  const env = useBrowserLab({ hub: { name: 'console', roles: 'hub,scanner,recon' } })

  it('runs from a patient to images of every series with no edit', async () => {
    const context = await newContext(env.browser)
    const page = await context.newPage()
    const errors = watchConsole(page)
    await createFirstUser(page, env.hub)
    await eventually(async () => ((await env.hub.api('GET', '/api/v1/devices')).body as unknown[]).length > 0, 15_000, 'the virtual scanner in the lab')
    await createPatient(page, { firstName: 'Hana', lastName: 'Head', birthDate: '1985-06-15' })
    await page.getByRole('link', { name: 'Head', exact: true }).click()

    // one click from the patient: the exam with its workflows and tasks
    await page.getByRole('group', { name: 'Start an exam from a template' }).getByRole('button', { name: 'Head examination' }).click()
    for (const scan of SCANS) {
      await taskRow(page, scan).waitFor()
      await taskRow(page, `${scan} images`).waitFor()
    }
    await screenshot(page, 'head-template-exam')

    // one more to run it (the height and weight asked before any acquisition are the patient's, not the exam's)
    await page.getByRole('button', { name: 'Run exam Head examination in order' }).click()
    const dialog = page.getByRole('dialog', { name: 'Before acquiring' })
    await dialog.getByLabel('Height (cm)').fill('168')
    await dialog.getByLabel('Weight (kg)').fill('64')
    await dialog.getByRole('button', { name: /^Start/ }).click()

    // every task ends; one that fails says why at once
    let tasks: TaskRow[] = []
    for (const end = Date.now() + 120_000; ;) {
      tasks = (await env.hub.api('GET', '/api/v1/tasks')).body as TaskRow[]
      const failed = tasks.find((t) => t.status === 'ERROR' || t.status === 'CANCELLED')
      if (failed !== undefined) throw new Error(`${failed.name} ended ${failed.status}: ${failed.error ?? ''}`)
      if (tasks.length === 2 * SCANS.length && tasks.every((t) => t.status === 'FINISHED')) break
      if (Date.now() > end) throw new Error(`not every task finished within 2 minutes: ${tasks.map((t) => `${t.name} ${t.status}`).join(', ')}`)
      await sleep(500)
    }
    for (const scan of SCANS) {
      for (const name of [scan, `${scan} images`]) {
        await taskRow(page, name).getByRole('status', { name: 'Status: Finished' }).waitFor()
      }
    }
    const device = ((await env.hub.api('GET', '/api/v1/devices')).body as Array<{ id: string }>)[0]
    for (const scan of SCANS) {
      const acquisition = tasks.find((t) => t.name === scan)
      const reconstruction = tasks.find((t) => t.name === `${scan} images`)
      // "any scanner" became the lab's scanner; the reconstruction read this acquisition
      expect(acquisition?.parameters.deviceId).toBe(device.id)
      expect(reconstruction?.parameters.inputTaskId).toBe(acquisition?.id)
      expect(reconstruction?.results.some((r) => r.type === 'DICOM')).toBe(true)
    }

    // the viewer shows the images of every series
    for (const scan of SCANS) {
      await taskRow(page, `${scan} images`).click()
      await page.getByRole('heading', { name: `${scan} images` }).waitFor()
      await page.getByTestId('slice-overlay').filter({ hasText: /Im: 1\// }).first().waitFor({ timeout: 30_000 })
      const image = page.getByRole('img', { name: /^Image 1 of \d+$/ }).first()
      await image.waitFor()
      // the image is drawn: the phantom's signal lights a good part of the canvas
      const bright = await image.evaluate((c) => {
        const canvas = c as HTMLCanvasElement
        const data = canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data ?? new Uint8ClampedArray()
        let count = 0
        for (let i = 0; i < data.length; i += 4) if (data[i] > 40) count++
        return count
      })
      expect(bright).toBeGreaterThan(100)
    }
    await screenshot(page, 'head-template-images')

    // the exam as run becomes a template of its own: the device it ran on, the inputs of its reconstructions
    await page.getByRole('treeitem', { name: 'Exam Head examination' }).locator('.row.exam').click()
    await page.getByRole('button', { name: 'Save as template' }).click()
    await page.getByLabel('Template name').fill('Head, as run')
    await page.getByRole('button', { name: 'Save template' }).click()
    await page.getByRole('status').filter({ hasText: 'Saved as the exam template "Head, as run"' }).waitFor()
    await page.getByRole('link', { name: 'Library' }).click()
    await page.getByRole('tab', { name: 'Templates' }).click()
    await page.getByRole('option', { name: /Head, as run/ }).click()
    const overview = page.getByRole('region', { name: 'Overview of Head, as run' })
    await overview.getByText('T2-weighted TSE images').waitFor()
    const text = await overview.textContent() ?? ''
    expect(text).toMatch(/tse on \S/)
    expect(text).not.toContain('any scanner')
    expect(text).toContain('pipeline cartesian · input T2-weighted TSE')
    await screenshot(page, 'head-template-saved')
    // a task template is edited as a task is: here its pipeline, picked from the list
    await page.getByRole('option', { name: /^T2-weighted TSE/ }).click()
    await page.getByRole('option', { name: /^T2-weighted TSE images/ }).click()
    const editor = page.getByRole('region', { name: 'Task template T2-weighted TSE images' })
    expect(await editor.getByLabel('Input task').inputValue()).not.toBe('')
    await editor.getByLabel('Pipeline').selectOption('default')
    await editor.getByRole('button', { name: 'Save task template' }).click()
    await overview.getByText('pipeline default · input T2-weighted TSE').waitFor()

    expect(errors).toEqual([])
    await context.close()
  }, 240_000)
})
