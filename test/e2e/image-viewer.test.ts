// The image viewer on a real DICOM file (pydicom's MR_small): fetched as a blob with the session's
// token, drawn, windowed by dragging, its tags browsed; and shown again offline from Cache Storage.
import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { fixture, hasFixtures } from '../support/external-tools.ts'
import { HAS_CHROMIUM, createFirstUser, newContext, screenshot, useBrowserLab, watchConsole } from './support.ts'

const OFFLINE_NOISE = [/ERR_INTERNET_DISCONNECTED/, /WebSocket connection to .* failed/, /Failed to load resource/]

describe.skipIf(!HAS_CHROMIUM || !hasFixtures())('image viewer', () => {
  const env = useBrowserLab()

  it('shows a DICOM blob, windows it, browses its tags, and opens it offline', async () => {
    const bytes = await readFile(fixture('dicom', 'MR_small.dcm'))
    const res = await fetch(`${env.hub.baseUrl}/api/v1/blobs`, { method: 'POST', headers: { 'x-api-key': env.hub.apiKey, 'content-type': 'application/octet-stream' }, body: bytes })
    expect(res.status).toBe(201)
    const { sha256 } = await res.json() as { sha256: string }

    const context = await newContext(env.browser)
    const page = await context.newPage()
    const errors = watchConsole(page, OFFLINE_NOISE)
    await createFirstUser(page, env.hub)
    await page.goto(`${env.hub.baseUrl}/viewer?sha256=${sha256}`)
    const slice = page.getByTestId('slice-overlay')
    await slice.filter({ hasText: 'Im: 1/1' }).waitFor()
    const wl = page.getByTestId('wl-overlay')
    const before = await wl.textContent()

    const canvas = page.getByRole('img', { name: 'Image 1 of 1' })
    const box = await canvas.boundingBox()
    if (box === null) throw new Error('no canvas')
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2)
    await page.mouse.down()
    await page.mouse.move(box.x + box.width / 2 + 120, box.y + box.height / 2 + 40, { steps: 5 })
    await page.mouse.up()
    expect(await wl.textContent()).not.toBe(before)

    // A length measurement with the left button once the tool is chosen; Space resets W/L.
    await page.getByRole('button', { name: 'Length' }).click()
    await page.mouse.move(box.x + box.width / 2 - 80, box.y + box.height / 2)
    await page.mouse.down()
    await page.mouse.move(box.x + box.width / 2 + 80, box.y + box.height / 2, { steps: 4 })
    await page.mouse.up()
    await page.getByRole('button', { name: 'Tags' }).click()
    await page.getByRole('table', { name: 'DICOM tags' }).getByRole('cell', { name: 'Rows', exact: true }).waitFor()
    await screenshot(page, '11-image-viewer')

    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 15_000 })
    await context.setOffline(true)
    await page.reload()
    await page.getByTestId('slice-overlay').filter({ hasText: 'Im: 1/1' }).waitFor()
    await context.setOffline(false)

    expect(errors).toEqual([])
    await context.close()
  }, 180_000)
})
