// The viewer on a real multi-slice reconstruction (the built-in gre-multislice on the virtual scanner):
// its slices are one stack whatever results hold them, scrolled with the arrow keys, the wheel, the
// slider and two fingers; a series browser beside it; a 2×2 layout of linked viewports; an ellipse
// ROI whose statistics stay with the image when the viewer is opened again; the way back to the
// patient and task.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser } from 'playwright-core'
import { TestLab, eventually } from '../support/peer-process.ts'
import type { PeerProcess } from '../support/peer-process.ts'
import { HAS_CHROMIUM, createFirstUser, ensurePwaBuilt, launchBrowser, newContext, screenshot, watchConsole } from './support.ts'

interface ApiResult { id: string, type: string, files: Array<{ sha256: string }> }

describe.skipIf(!HAS_CHROMIUM)('series viewer', () => {
  // one peer that is hub, scanner and reconstruction at once; it is given a minute to start (it plays
  // the scanner and seeds the lab's templates), which a busy test machine needs
  const lab = new TestLab()
  let hub: PeerProcess
  let browser: Browser
  beforeAll(async () => {
    await ensurePwaBuilt()
    hub = await lab.peer({ name: 'console', roles: 'hub,scanner,recon', extraArgs: ['--fast-scan'] })
    await hub.start(60_000)
    browser = await launchBrowser()
  }, 300_000)
  afterAll(async () => {
    await browser?.close()
    await lab.cleanup()
  })

  it('scrolls a reconstruction as one series, in layouts, with measurements that stay', async () => {
    await eventually(async () => ((await hub.api('GET', '/api/v1/devices')).body as unknown[]).length > 0, 15_000, 'the virtual scanner in the lab')
    const device = (await hub.api<Array<{ id: string }>>('GET', '/api/v1/devices')).body[0]
    const patient = (await hub.api('POST', '/api/v1/patients', { firstName: 'Stella', lastName: 'Stack', birthDate: '1981-02-03', sex: 'FEMALE' })).body
    const exam = (await hub.api('POST', '/api/v1/exams', { patientId: patient.id, name: 'Head' })).body
    const wf = (await hub.api('POST', '/api/v1/workflows', { examId: exam.id, name: 'Routine' })).body
    const acq = (await hub.api('POST', '/api/v1/tasks', { workflowId: wf.id, type: 'ACQUISITION', name: 'GRE slices', parameters: { sequenceId: 'builtin-gre-multislice', deviceId: device.id } })).body
    const recon = (await hub.api('POST', '/api/v1/tasks', { workflowId: wf.id, type: 'RECONSTRUCTION', name: 'Slices', parameters: { pipeline: 'cartesian', inputTaskId: acq.id } })).body
    expect((await hub.api('POST', `/api/v1/tasks/${acq.id}/start`)).status).toBe(202)
    const done = await eventually(async () => {
      const t = (await hub.api('GET', `/api/v1/tasks/${recon.id}`)).body
      if (t.status === 'ERROR') throw new Error(`reconstruction failed: ${t.error}`)
      return t.status === 'FINISHED' ? t as { results: ApiResult[] } : undefined
    }, 120_000, 'reconstruction FINISHED')
    const dicom = done.results.filter((r) => r.type === 'DICOM')
    const slices = new Set(dicom.flatMap((r) => r.files.map((f) => f.sha256))).size
    expect(slices).toBeGreaterThan(2)

    const context = await newContext(browser)
    const page = await context.newPage()
    const errors = watchConsole(page)
    await createFirstUser(page, hub)
    await page.goto(`${hub.baseUrl}/viewer/${encodeURIComponent(dicom[0].id)}`)
    const overlay = page.getByTestId('slice-overlay')
    await overlay.filter({ hasText: `Im: 1/${slices}` }).waitFor({ timeout: 30_000 })

    // arrow key, wheel and slider
    const canvas = page.getByRole('img', { name: /^Image \d+ of/ })
    await canvas.click()
    await page.keyboard.press('ArrowDown')
    await overlay.filter({ hasText: `Im: 2/${slices}` }).waitFor()
    const box = await canvas.boundingBox()
    if (box === null) throw new Error('no canvas')
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2)
    await page.mouse.wheel(0, 120)
    await overlay.filter({ hasText: `Im: 3/${slices}` }).waitFor()
    const slider = page.getByRole('slider', { name: 'Slice' })
    await slider.fill(String(slices))
    await overlay.filter({ hasText: `Im: ${slices}/${slices}` }).waitFor()
    await slider.fill('1')
    await overlay.filter({ hasText: `Im: 1/${slices}` }).waitFor()

    // the series browser lists the reconstruction as one series with all its slices
    const seriesNav = page.getByRole('navigation', { name: 'Series' })
    await seriesNav.getByRole('button', { name: new RegExp(`${slices} images`) }).waitFor()
    expect(await seriesNav.getByRole('button').count()).toBe(1)

    // two fingers moving down together scroll through the slices (touch through the DevTools protocol)
    const cdp = await context.newCDPSession(page)
    await cdp.send('Emulation.setTouchEmulationEnabled', { enabled: true, maxTouchPoints: 5 })
    const cx = box.x + box.width / 2
    const cy = box.y + box.height / 3
    const fingers = (dy: number): Array<{ x: number, y: number, id: number }> => [{ x: cx - 40, y: cy + dy, id: 1 }, { x: cx + 40, y: cy + dy, id: 2 }]
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: fingers(0) })
    for (const dy of [10, 20, 30, 40, 50]) await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: fingers(dy) })
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] })
    await overlay.filter({ hasText: `Im: 3/${slices}` }).waitFor()
    await slider.fill('1')

    // an ellipse ROI on the first slice shows its mean
    await page.getByRole('button', { name: 'Ellipse ROI' }).click()
    await page.mouse.move(box.x + box.width / 2 - 40, box.y + box.height / 2 - 30)
    await page.mouse.down()
    await page.mouse.move(box.x + box.width / 2 + 40, box.y + box.height / 2 + 30, { steps: 4 })
    await page.mouse.up()
    const measurements = page.getByTestId('measurements')
    await measurements.filter({ hasText: /Ellipse: mean [-\d.]+ {2}SD [-\d.e]+ {2}area [\d.]+ mm²/ }).waitFor()

    // 2×2: four viewports of the one series, scrolled together while linked
    await page.getByRole('button', { name: 'Layout 2 × 2' }).click()
    await expect.poll(async () => await page.locator('sh-viewport').count()).toBe(4)
    // each new viewport shows the first slice with the ellipse kept for it
    await expect.poll(async () => (await measurements.allTextContents()).filter((t) => t.includes('Ellipse: mean')).length).toBe(4)
    await page.getByRole('img', { name: /^Image \d+ of/ }).first().click({ position: { x: 5, y: 5 } })
    await page.keyboard.press('ArrowDown')
    await expect.poll(async () => await overlay.allTextContents()).toEqual(Array(4).fill(0).map(() => expect.stringContaining(`Im: 2/${slices}`)))
    await screenshot(page, '31-series-viewer-2x2')
    await page.getByRole('button', { name: 'Link', exact: true }).click()
    await page.keyboard.press('ArrowDown')
    await expect.poll(async () => (await overlay.allTextContents()).filter((t) => t.includes(`Im: 3/${slices}`)).length).toBe(1)

    // opened again, the first slice shows the ellipse again
    await page.reload()
    await overlay.filter({ hasText: `Im: 1/${slices}` }).waitFor({ timeout: 30_000 })
    await measurements.filter({ hasText: /Ellipse: mean/ }).waitFor()
    await screenshot(page, '30-series-viewer')

    // back to the patient, with the task selected
    await page.getByRole('link', { name: /Stack.*Slices|Stella.*Slices/ }).click()
    await page.waitForURL((url) => url.pathname === `/patients/${patient.id}` && url.searchParams.get('task') === recon.id)
    await page.locator('[role="treeitem"][aria-label^="Task Slices: "][aria-selected="true"]').waitFor()

    expect(errors).toEqual([])
    await context.close()
  }, 300_000)
})
