// The sequence library in the app: upload a Pulseq file, see the parser's message for a broken one,
// and inspect a sequence's summary and its RF / gradient / ADC / k-space plot.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixture, hasFixtures } from '../support/external-tools.ts'
import { HAS_CHROMIUM, createFirstUser, newContext, screenshot, useBrowserLab, watchConsole } from './support.ts'
import { BUILTIN_SEQUENCES, writeSeq } from '../../protocol/pulseq/index.ts'

describe.skipIf(!HAS_CHROMIUM)('sequence library', () => {
  const env = useBrowserLab()
  let dir: string

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scanhub-seq-e2e-'))
  })

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('uploads a .seq, refuses a broken one with the line, and plots a sequence', async () => {
    const text = hasFixtures()
      ? await readFile(fixture('pulseq', 'pulseq_gre_v151.seq'), 'utf8')
      : writeSeq(BUILTIN_SEQUENCES.gre.build({}))
    const good = join(dir, 'my-gre.seq')
    const broken = join(dir, 'broken.seq')
    await writeFile(good, text)
    await writeFile(broken, text.replace(/\[RF\]\n(?:#.*\n)*/, (m) => m + '1 not-a-number 1 2 3\n'))

    const context = await newContext(env.browser)
    const page = await context.newPage()
    const errors = watchConsole(page, [/Failed to load resource/])
    await createFirstUser(page, env.hub)
    await page.getByRole('link', { name: 'Library' }).click()
    await page.getByRole('tab', { name: 'Sequences' }).click()

    const upload = page.getByRole('form', { name: 'Upload a sequence' })
    await upload.getByLabel('Pulseq file (.seq)').setInputFiles(broken)
    await upload.getByRole('button', { name: 'Upload' }).click()
    await expect.poll(async () => await upload.getByRole('alert').textContent(), { timeout: 10_000 }).toMatch(/line \d+/)

    await upload.getByLabel('Pulseq file (.seq)').setInputFiles(good)
    await upload.getByLabel('Name').fill('My GRE')
    await upload.getByRole('button', { name: 'Upload' }).click()
    const row = page.getByRole('row').filter({ hasText: 'My GRE' })
    await row.waitFor({ timeout: 10_000 })
    // the hub holds it too
    const sequences = (await env.hub.api<Array<{ name: string }>>('GET', '/api/v1/sequences')).body
    expect(sequences.map((q) => q.name)).toContain('My GRE')

    await row.getByRole('button', { name: 'Inspect' }).click()
    const plot = page.locator('sh-sequence-plot')
    await plot.waitFor({ timeout: 20_000 })
    // both canvases have been drawn on
    const inked = await plot.evaluate((el) => [...(el.shadowRoot?.querySelectorAll('canvas') ?? [])].map((c) => {
      const data = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data ?? new Uint8ClampedArray()
      let n = 0
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++
      return n
    }))
    expect(inked).toHaveLength(2)
    expect(Math.min(...inked)).toBeGreaterThan(100)
    await expect.poll(async () => await page.getByRole('region', { name: 'Sequence My GRE' }).textContent()).toMatch(/TE \/ TR/)
    await screenshot(page, '16-sequence-plot')
    expect(errors).toEqual([])
    await context.close()
  }, 120_000)
})
