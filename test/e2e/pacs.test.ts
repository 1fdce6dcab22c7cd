// The PACS page and "Send to PACS" in Chromium against a real Orthanc (Debian's orthanc, started here on
// loopback): an admin adds a DICOM destination (a mistake is named beside its field), "Test connection"
// says OK with the time it took, a wrong port says why it failed; a reconstructed exam is sent from the
// patient's page, the page follows the export until it is done with its count, and Orthanc's REST API has
// every image with the patient's ID. A viewer sees the destinations and the queue, and no way to change them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Orthanc, freePort, hasOrthanc } from '../support/orthanc.ts'
import { eventually } from '../support/peer-process.ts'
import type { PeerProcess } from '../support/peer-process.ts'
import { HAS_CHROMIUM, PASSWORD, createFirstUser, login, newContext, screenshot, useBrowserLab, watchConsole } from './support.ts'

const withOrthanc = hasOrthanc()

/** A patient with an exam whose GRE scan of the phantom is reconstructed, made through the hub's API; its ids and the number of DICOM images. */
async function scannedExam (hub: PeerProcess): Promise<{ patientId: string, examId: string, images: number }> {
  const devices = await eventually(async () => {
    const listed = (await hub.api<Array<{ id: string }>>('GET', '/api/v1/devices')).body
    return listed.length > 0 ? listed : undefined
  }, 15_000, 'the virtual scanner in the lab')
  const patient = (await hub.api('POST', '/api/v1/patients', { mrn: 'MRN-PACS-1', firstName: 'Grace', lastName: 'Hopper', birthDate: '1966-12-09', sex: 'FEMALE' })).body
  const exam = (await hub.api('POST', '/api/v1/exams', { patientId: patient.id, name: 'Head' })).body
  const workflow = (await hub.api('POST', '/api/v1/workflows', { examId: exam.id, name: 'Routine' })).body
  const acquisition = (await hub.api('POST', '/api/v1/tasks', { workflowId: workflow.id, type: 'ACQUISITION', name: 'GRE', parameters: { sequenceId: 'builtin-gre', deviceId: devices[0].id } })).body
  const recon = (await hub.api('POST', '/api/v1/tasks', { workflowId: workflow.id, type: 'RECONSTRUCTION', name: 'Images', parameters: { pipeline: 'cartesian', inputTaskId: acquisition.id } })).body
  expect((await hub.api('POST', `/api/v1/tasks/${acquisition.id}/start`)).status).toBe(202)
  const task = await eventually(async () => {
    const t = (await hub.api('GET', `/api/v1/tasks/${recon.id}`)).body
    if (t.status === 'ERROR') throw new Error(`the reconstruction failed: ${t.error}`)
    return t.status === 'FINISHED' ? t : undefined
  }, 90_000, 'the reconstruction FINISHED')
  const images = (task.results as Array<{ type: string, files: unknown[] }>).filter((r) => r.type === 'DICOM').reduce((n, r) => n + r.files.length, 0)
  expect(images).toBeGreaterThan(0)
  return { patientId: patient.id, examId: exam.id, images }
}

function imagesInWords (n: number): string {
  return `${n} image${n === 1 ? '' : 's'}`
}

describe.skipIf(!HAS_CHROMIUM || !withOrthanc)('sending images to a PACS from the app', () => {
  const env = useBrowserLab({ hub: { name: 'scanner-room', roles: 'hub,scanner,recon' } })
  const orthanc = new Orthanc()

  beforeAll(async () => { await orthanc.start() }, 60_000)
  afterAll(async () => { await orthanc.cleanup() })

  it('an admin adds and tests a destination, sends an exam and follows it to Orthanc; a viewer only reads', async () => {
    const context = await newContext(env.browser)
    const page = await context.newPage()
    const errors = watchConsole(page)
    await createFirstUser(page, env.hub)
    const scanned = await scannedExam(env.hub)

    // a destination, with its mistakes named beside the fields
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'PACS' }).click()
    await page.getByRole('heading', { name: 'PACS', exact: true }).waitFor()
    await page.getByRole('button', { name: 'New destination' }).click()
    const form = page.getByRole('form', { name: 'New destination' })
    await form.getByRole('button', { name: 'Add destination' }).click()
    await expect.poll(async () => await form.locator('#name-error').textContent()).toMatch(/^Name is required$/)
    // every mistake at once, and the focus on the first
    expect(await form.locator('#port-error').textContent()).toBe('Port is required')
    expect(await form.getByLabel('Name').evaluate((input) => input.matches(':focus'))).toBe(true)
    await form.getByLabel('Name').fill('Orthanc')
    await form.getByLabel('AE title of the PACS').fill('WAY-TOO-LONG-AE-TITLE')
    await form.getByLabel('Host').fill('127.0.0.1')
    await form.getByLabel('Port').fill(String(orthanc.dicomPort))
    await form.getByRole('button', { name: 'Add destination' }).click()
    await expect.poll(async () => await form.locator('#aeTitle-error').textContent()).toMatch(/^AE title of the PACS must be a DICOM AE title: 1 to 16/)
    expect(await form.getByLabel('AE title of the PACS').getAttribute('aria-invalid')).toBe('true')
    await form.getByLabel('AE title of the PACS').fill(orthanc.aeTitle)
    await form.getByRole('button', { name: 'Add destination' }).click()
    const row = page.getByRole('row', { name: 'Destination Orthanc' })
    await row.waitFor()
    expect(await row.textContent()).toContain(`${orthanc.aeTitle}@127.0.0.1:${orthanc.dicomPort}`)
    await expect.poll(async () => await page.getByRole('form', { name: 'New destination' }).count()).toBe(0)
    const stored = (await env.hub.api<Array<Record<string, unknown>>>('GET', '/api/v1/destinations')).body
    expect(stored).toEqual([expect.objectContaining({ name: 'Orthanc', kind: 'dimse', aeTitle: orthanc.aeTitle, host: '127.0.0.1', port: orthanc.dicomPort, createdBy: 'ada' })])

    // "Test connection": OK with the time, then the error of a wrong port
    await row.getByRole('button', { name: 'Test connection' }).click()
    await expect.poll(async () => await row.getByRole('status').textContent(), { timeout: 20_000 }).toMatch(/OK, \d+ ms/)
    const wrongPort = await freePort()
    await row.getByRole('button', { name: 'Change Orthanc' }).click()
    const change = page.getByRole('form', { name: 'Change Orthanc' })
    await change.getByLabel('Port').fill(String(wrongPort))
    await change.getByRole('button', { name: 'Save' }).click()
    await expect.poll(async () => await row.textContent()).toContain(`:${wrongPort}`)
    await row.getByRole('button', { name: 'Test connection' }).click()
    await expect.poll(async () => await row.getByRole('alert').textContent(), { timeout: 20_000 }).toMatch(new RegExp(`connection refused by 127\\.0\\.0\\.1:${wrongPort}`))
    await screenshot(page, 'pacs-test-connection-failed')
    await row.getByRole('button', { name: 'Change Orthanc' }).click()
    await change.getByLabel('Port').fill(String(orthanc.dicomPort))
    await change.getByRole('button', { name: 'Save' }).click()
    await expect.poll(async () => await row.textContent()).toContain(`:${orthanc.dicomPort}`)
    await row.getByRole('button', { name: 'Test connection' }).click()
    await expect.poll(async () => await row.getByRole('status').textContent(), { timeout: 20_000 }).toMatch(/OK, \d+ ms/)

    // a DICOMweb server: the form asks for its base URL instead; tested, then deleted
    await page.getByRole('button', { name: 'New destination' }).click()
    const web = page.getByRole('form', { name: 'New destination' })
    await web.getByLabel('Name').fill('Orthanc DICOMweb')
    await web.getByLabel('Kind').selectOption('dicomweb')
    await web.getByLabel('DICOMweb base URL').fill('pacs:8042/dicom-web')
    await web.getByRole('button', { name: 'Add destination' }).click()
    await expect.poll(async () => await web.locator('#url-error').textContent()).toMatch(/^DICOMweb base URL must be an http or https URL/)
    await web.getByLabel('DICOMweb base URL').fill(orthanc.dicomWebUrl)
    await web.getByRole('button', { name: 'Add destination' }).click()
    const webRow = page.getByRole('row', { name: 'Destination Orthanc DICOMweb' })
    await webRow.waitFor()
    await webRow.getByRole('button', { name: 'Test connection' }).click()
    await expect.poll(async () => await webRow.getByRole('status').textContent(), { timeout: 20_000 }).toMatch(/OK, \d+ ms/)
    await webRow.getByRole('button', { name: 'Delete Orthanc DICOMweb' }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click()
    await expect.poll(async () => await webRow.count()).toBe(0)
    expect((await env.hub.api<unknown[]>('GET', '/api/v1/destinations')).body).toHaveLength(1)

    // send the exam from the patient's page, and follow it until it is done
    await page.goto(`${env.hub.baseUrl}/patients/${encodeURIComponent(scanned.patientId)}`)
    await page.getByRole('treeitem', { name: /^Exam / }).locator('.row.exam').click()
    expect(await page.getByLabel('PACS destination for this exam').inputValue()).not.toBe('')
    await page.getByRole('button', { name: 'Send exam to PACS' }).click()
    const sent = page.getByRole('status', { name: 'Export to Orthanc' })
    await expect.poll(async () => await sent.textContent(), { timeout: 60_000 }).toMatch(new RegExp(`Done\\s+to Orthanc: ${scanned.images} sent, of ${imagesInWords(scanned.images)}`))
    await screenshot(page, 'pacs-exam-sent')

    // what Orthanc holds: every image, of this patient
    const instances = await orthanc.get<string[]>('/instances')
    expect(instances).toHaveLength(scanned.images)
    const patients = await orthanc.get<Array<{ MainDicomTags: Record<string, string> }>>('/patients?expand')
    expect(patients.map((p) => p.MainDicomTags.PatientID)).toEqual(['MRN-PACS-1'])

    // sent again: nothing goes twice, and the queue on the PACS page says so
    await page.getByRole('button', { name: 'Send exam to PACS' }).click()
    await expect.poll(async () => await sent.first().textContent(), { timeout: 60_000 }).toMatch(new RegExp(`Done\\s+to Orthanc: 0 sent, ${scanned.images} already there, of ${imagesInWords(scanned.images)}`))
    expect(await orthanc.get<string[]>('/instances')).toHaveLength(scanned.images)

    // one series, from the results of the reconstruction task
    await page.getByRole('treeitem', { name: 'Task Images' }).click()
    await page.getByRole('button', { name: 'Send series to PACS' }).click()
    await expect.poll(async () => await page.getByRole('status', { name: 'Export to Orthanc' }).first().textContent(), { timeout: 60_000 })
      .toMatch(new RegExp(`Done\\s+to Orthanc: 0 sent, ${scanned.images} already there`))

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'PACS' }).click()
    const queue = page.getByRole('table', { name: 'Exports' })
    await expect.poll(async () => await queue.getByRole('row').count()).toBe(4)
    expect(await queue.getByRole('row').nth(1).textContent()).toMatch(/Series Images of Hopper, Grace.*Orthanc.*Done/s)
    expect(await queue.getByRole('row').nth(3).textContent()).toMatch(new RegExp(`Exam Head of Hopper, Grace.*Orthanc.*Done.*${scanned.images}\\s*0\\s*0\\s*${scanned.images}`, 's'))

    // the series' link opens the patient's page on its task
    await queue.getByRole('row').nth(1).getByRole('link', { name: 'Hopper, Grace' }).click()
    await page.getByRole('button', { name: 'Send series to PACS' }).waitFor()
    expect(new URL(page.url()).search).toMatch(/^\?task=/)

    // automatic sending: ticked on an exam template, copied to the exam made from it, shown on the exam
    const template = (await env.hub.api('POST', '/api/v1/templates/exams', { name: 'Knee routine' })).body
    await page.goto(`${env.hub.baseUrl}/library?tab=templates`)
    await page.getByRole('option', { name: 'Knee routine' }).click()
    const automatic = page.getByRole('group', { name: 'Send automatically: Knee routine' })
    await automatic.getByRole('checkbox', { name: 'Orthanc' }).check()
    const destinationId = stored[0].id as string
    await eventually(async () => {
      const t = (await env.hub.api('GET', `/api/v1/templates/exams/${template.id}`)).body
      return JSON.stringify(t.autoExportDestinationIds) === JSON.stringify([destinationId])
    }, 10_000, 'the template sending to Orthanc on the hub')
    await page.goto(`${env.hub.baseUrl}/patients/${encodeURIComponent(scanned.patientId)}`)
    await page.getByRole('button', { name: 'Add exam' }).click()
    await page.getByRole('menuitem', { name: 'Knee routine' }).click()
    await page.getByRole('treeitem', { name: 'Exam Knee routine' }).waitFor()
    await expect.poll(async () => await page.locator('dl.details').textContent()).toMatch(/Sends automatically to\s*Orthanc/)
    expect(errors).toEqual([])
    await context.close()

    // a viewer: the destinations and the queue, no way to change, test or send
    expect((await env.hub.api('POST', '/api/v1/users', { username: 'vic', firstName: 'Vic', lastName: 'Viewer', email: 'vic@example.org', role: 'viewer', password: PASSWORD })).status).toBe(201)
    const viewerContext = await newContext(env.browser)
    const viewer = await viewerContext.newPage()
    const viewerErrors = watchConsole(viewer)
    await login(viewer, env.hub, 'vic', PASSWORD)
    await viewer.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'PACS' }).click()
    const seen = viewer.getByRole('row', { name: 'Destination Orthanc' })
    await seen.waitFor()
    await viewer.getByRole('table', { name: 'Exports' }).getByRole('row').nth(2).waitFor()
    for (const name of ['New destination', 'Change Orthanc', 'Delete Orthanc', 'Test connection']) {
      expect(await viewer.getByRole('button', { name }).count(), name).toBe(0)
    }
    await viewer.goto(`${env.hub.baseUrl}/patients/${encodeURIComponent(scanned.patientId)}`)
    await viewer.getByRole('treeitem', { name: /^Exam Head: / }).locator('.row.exam').click()
    await viewer.getByRole('status', { name: 'Export to Orthanc' }).first().waitFor()
    expect(await viewer.getByRole('button', { name: 'Send exam to PACS' }).count()).toBe(0)
    expect(viewerErrors).toEqual([])
    await viewerContext.close()
  }, 300_000)
})
