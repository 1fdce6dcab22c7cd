// The app's import and export: DICOM files picked on the patient list land in the patient with their
// PatientID as MRN (a junk file is refused with its reason, the rest go on), and the exam they make is
// downloaded as the hub's ZIP export from the exam's pane.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readZipDirectory } from '../../node/exchange/zip.ts'
import { PROJECT_ROOT, SCANHUB_BIN } from '../support/peer-process.ts'
import { HAS_CHROMIUM, createFirstUser, newContext, screenshot, useBrowserLab, watchConsole } from './support.ts'

describe.skipIf(!HAS_CHROMIUM)('import and export in the app', () => {
  const env = useBrowserLab({ hub: { name: 'archive', roles: 'hub' } })
  let work: string
  let dicom: string[]

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'scanhub-e2e-exchange-'))
    const mrd = join(work, 'scan.mrd')
    execFileSync(process.execPath, [SCANHUB_BIN, 'simulate', '--seq', 'builtin:gre-multislice', '--out', mrd], { cwd: PROJECT_ROOT, stdio: 'pipe' })
    execFileSync(process.execPath, [SCANHUB_BIN, 'recon', mrd, '--out', join(work, 'dicom'), '--patient-id', 'P-77', '--patient-name', 'Curie^Marie'], { cwd: PROJECT_ROOT, stdio: 'pipe' })
    dicom = readdirSync(join(work, 'dicom')).map((f) => join(work, 'dicom', f))
    writeFileSync(join(work, 'notes.txt'), 'not an image')
  }, 60_000)
  afterAll(() => { rmSync(work, { recursive: true, force: true }) })

  it('imports picked files into the patient of their PatientID and downloads the exam as a ZIP', async () => {
    const context = await newContext(env.browser)
    const page = await context.newPage()
    const errors = watchConsole(page, [/the server responded with a status of 422/])
    await createFirstUser(page, env.hub)
    await env.hub.api('POST', '/api/v1/patients', { mrn: 'P-77', firstName: 'Marie', lastName: 'Curie', birthDate: '1967-11-07', sex: 'FEMALE' })
    await page.getByRole('link', { name: 'Curie', exact: true }).waitFor()

    await page.getByLabel('Files to import').setInputFiles([...dicom, join(work, 'notes.txt')])
    await page.getByRole('status').filter({ hasText: `${dicom.length} imported, 0 already in the lab, 0 skipped, 1 failed` }).waitFor({ timeout: 30_000 })
    await expect(page.getByRole('alert').textContent()).resolves.toContain('notes.txt is neither DICOM')
    await screenshot(page, 'import-files')
    const patients = (await env.hub.api('GET', '/api/v1/patients')).body as unknown[]
    expect(patients).toHaveLength(1)

    await page.getByRole('link', { name: 'Curie', exact: true }).click()
    // the exam's own row: the middle of its tree item may be one of its tasks
    await page.getByRole('treeitem', { name: /^Exam / }).locator('.row.exam').click()
    const downloading = page.waitForEvent('download')
    await page.getByRole('button', { name: 'Download exam (zip)' }).click()
    const download = await downloading
    expect(download.suggestedFilename()).toMatch(/^scanhub-Curie_Marie-.*\.zip$/)
    const zip = join(work, 'exam.zip')
    await download.saveAs(zip)
    const paths = (await readZipDirectory(zip)).map((e) => e.path)
    expect(paths.filter((p) => p.startsWith('DICOM/'))).toHaveLength(dicom.length)
    expect(paths).toContain('DICOMDIR')
    expect(paths).toContain('manifest.json')

    expect(errors).toEqual([])
    await context.close()
  }, 180_000)
})
