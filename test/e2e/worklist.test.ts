// The Worklist page in Chromium against a real worklist provider (dcmtk's wlmscpfs): from Patients,
// "From worklist" lists today's scheduled MR procedures, an incomplete one says what it lacks and cannot
// be picked, "Pick" makes the patient and exam with the hospital's identifiers and opens the patient, and
// a provider that is gone is reported in words.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HAS_CHROMIUM, createFirstUser, newContext, screenshot, useBrowserLab, watchConsole } from './support.ts'
import { hasWorklistTools, WorklistProvider } from '../support/worklist-provider.ts'

const STUDY_UID = '1.2.826.0.1.3680043.8.498.4711.777'
/** The browser's today (its time zone is Europe/Berlin, see newContext), as the page's default day. */
const TODAY = new Date().toLocaleDateString('sv-SE', { timeZone: 'Europe/Berlin' }).replaceAll('-', '')

const provider = new WorklistProvider('HOSPITALRIS', [
  {
    patientId: 'PID-E2E-1', patientName: 'Meitner^Lise', birthDate: '19781107', sex: 'F', accessionNumber: 'ACC-E2E-1',
    requestedProcedureId: 'RP-1', requestedProcedureDescription: 'MR Knee left', studyInstanceUid: STUDY_UID,
    modality: 'MR', stationAeTitle: 'SCANHUB01', startDate: TODAY, startTime: '141500', stepId: 'SPS-1'
  },
  { patientName: 'Unknown^Patient', accessionNumber: 'ACC-E2E-2', modality: 'MR', stationAeTitle: 'SCANHUB01', startDate: TODAY, startTime: '150000', stepId: 'SPS-2', stepDescription: 'MR Spine' }
])

describe.skipIf(!HAS_CHROMIUM || !hasWorklistTools())('worklist in the app', () => {
  const env = useBrowserLab()

  beforeAll(async () => {
    await provider.start()
    const created = await env.hub.api('POST', '/api/v1/destinations', { name: 'Hospital RIS', kind: 'dimse', aeTitle: 'HOSPITALRIS', host: '127.0.0.1', port: provider.port })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
  }, 60_000)
  afterAll(async () => { await provider.stop() })

  it('picks a scheduled procedure into a patient and exam, and says what an incomplete one lacks', async () => {
    const context = await newContext(env.browser)
    const page = await context.newPage()
    // the provider is stopped at the end, and the page's request then fails with 502 on purpose
    const errors = watchConsole(page, [/502/])
    await createFirstUser(page, env.hub)

    await page.getByRole('button', { name: 'From worklist' }).click()
    await page.getByRole('heading', { name: 'Worklist' }).waitFor()
    expect(await page.getByLabel('Day').inputValue()).toBe(`${TODAY.slice(0, 4)}-${TODAY.slice(4, 6)}-${TODAY.slice(6)}`)
    expect(await page.getByLabel('Modality').inputValue()).toBe('MR')
    const table = page.getByRole('table', { name: 'Scheduled procedures' })
    const row = table.getByRole('row').filter({ hasText: 'ACC-E2E-1' })
    await row.waitFor()
    await expect.poll(async () => await row.textContent()).toMatch(/Meitner, Lise.*PID-E2E-1.*7 Nov 1978.*ACC-E2E-1.*MR Knee left.*14:15/s)
    const incomplete = table.getByRole('row').filter({ hasText: 'ACC-E2E-2' })
    expect(await incomplete.textContent()).toMatch(/Missing: patient ID, birth date, sex, requested procedure ID, study UID\..*cannot be picked/s)
    expect(await incomplete.getByRole('button', { name: /^Pick/ }).isDisabled()).toBe(true)

    // the station narrows the list
    await page.getByLabel('Station AE title').fill('OTHERSTATION')
    await page.getByRole('button', { name: 'Search' }).click()
    await table.getByText('No procedures scheduled for this search.').waitFor()
    await page.getByLabel('Station AE title').fill('SCANHUB01')
    await page.getByRole('button', { name: 'Search' }).click()
    await row.waitFor()
    await screenshot(page, 'worklist')

    await row.getByRole('button', { name: 'Pick Meitner, Lise' }).click()
    await page.waitForURL(/\/patients\/[^/]+$/)
    const patientId = decodeURIComponent(new URL(page.url()).pathname.split('/')[2])
    await page.getByText('MR Knee left').first().waitFor()
    const patient = (await env.hub.api('GET', `/api/v1/patients/${patientId}`)).body
    expect(patient).toMatchObject({ mrn: 'PID-E2E-1', lastName: 'Meitner', firstName: 'Lise', birthDate: '1978-11-07', sex: 'FEMALE' })
    const exams = (await env.hub.api('GET', `/api/v1/exams?patientId=${patientId}`)).body
    expect(exams).toHaveLength(1)
    expect(exams[0]).toMatchObject({ name: 'MR Knee left', accessionNumber: 'ACC-E2E-1', studyInstanceUid: STUDY_UID })

    // a provider that has gone away is named, with why
    await provider.stop()
    await page.goto(`${env.hub.baseUrl}/worklist`)
    await expect.poll(async () => await page.getByRole('alert').textContent(), { timeout: 15_000 }).toMatch(/cannot reach the worklist provider at 127\.0\.0\.1:\d+: connection refused/)
    expect(errors).toEqual([])
    await context.close()
  }, 120_000)
})
