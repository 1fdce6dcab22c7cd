// The app from first start to a planned acquisition: pairing, the first user, login, a patient, an exam, a
// workflow and an acquisition task, each written by the browser on its own documents and found on
// the hub through its REST API. Screenshots of the main views go to test-output/screenshots.
import { describe, expect, it } from 'vitest'
import { pairingConfirmation } from '../../protocol/pairing.ts'
import { eventually } from '../support/peer-process.ts'
import { ADMIN, HAS_CHROMIUM, createFirstUser, createPatient, login, newContext, pairPage, screenshot, useBrowserLab, waitSynced, watchConsole } from './support.ts'

describe.skipIf(!HAS_CHROMIUM)('the PWA', () => {
  const env = useBrowserLab()

  it('pairs, creates the first user, logs in, and plans patient → exam → workflow → acquisition task', async () => {
    const context = await newContext(env.browser)
    const page = await context.newPage()
    // the wrong code below is answered 404, which the console reports
    const errors = watchConsole(page, [/Failed to load resource: the server responded with a status of 404/])

    // A browser that has not paired asks for a code, and says in words why a wrong one does not work.
    await page.goto(env.hub.baseUrl + '/')
    await page.getByRole('heading', { name: 'Pair this device with the lab' }).waitFor()
    await screenshot(page, '00-pairing')
    await page.getByLabel('Pairing code').fill('abcd-efgh')
    await page.getByRole('button', { name: 'Pair' }).click()
    await page.getByText('This code is unknown or was used already').waitFor()
    // The link the hub printed pairs it; the confirmation code is the one derived from both keys.
    const confirmation = await pairPage(page, env.hub)
    const browserPeerId = await page.evaluate(() => (document.querySelector('sh-app') as unknown as { session: { peerId: string } }).session.peerId)
    expect(confirmation).toBe(await pairingConfirmation(env.hub.peerId, browserPeerId))
    expect(new URL(page.url()).hash).toBe('')
    const members = (await env.hub.api('GET', '/api/v1/members')).body as Array<{ peerId: string, kind: string, ceiling: string, active: boolean }>
    expect(members.find((m) => m.peerId === browserPeerId)).toMatchObject({ kind: 'browser', ceiling: 'admin', active: true })
    await page.getByRole('heading', { name: 'Welcome to ScanHub' }).waitFor()
    await screenshot(page, '01-first-user')
    // The first user's form cannot be dismissed and refuses short passwords next to the field.
    await page.getByLabel('Username').fill(ADMIN.username)
    await page.getByLabel('First name').fill(ADMIN.firstName)
    await page.getByLabel('Last name').fill(ADMIN.lastName)
    await page.getByLabel('Password (at least 12 characters)').fill('too short')
    await page.getByLabel('Password again').fill('too short')
    await page.getByRole('button', { name: 'Create admin and log in' }).click()
    await page.getByText('password must be at least 12 characters long').waitFor()
    await createFirstUser(page, env.hub)
    expect((await env.hub.api('GET', '/api/v1/users')).body).toMatchObject([{ username: 'ada', role: 'admin' }])

    // Log out and in again.
    await page.getByTestId('account-menu').click()
    await page.getByTestId('logout').click()
    await page.getByRole('button', { name: 'Log in' }).waitFor()
    await screenshot(page, '02-login')
    await login(page, env.hub, ADMIN.username, ADMIN.password)

    await createPatient(page, { firstName: 'Jane', lastName: 'Doe', birthDate: '1980-02-29' })
    await createPatient(page, { firstName: 'John', lastName: 'Roe', birthDate: '1975-07-14' })
    await waitSynced(page)
    await screenshot(page, '03-patients')
    const patients = (await env.hub.api('GET', '/api/v1/patients')).body as Array<{ id: string, lastName: string, createdBy: string }>
    expect(patients.map((p) => p.lastName).sort()).toEqual(['Doe', 'Roe'])
    expect(patients[0].createdBy).toBe('ada')
    const jane = patients.find((p) => p.lastName === 'Doe') as { id: string }

    // Inline edit of a row.
    await page.getByRole('button', { name: 'Edit Roe, John' }).click()
    await page.getByLabel('Height (cm)').fill('181')
    await page.getByRole('button', { name: 'Save' }).click()
    await eventually(async () => ((await env.hub.api('GET', '/api/v1/patients')).body as Array<{ heightCm?: number }>).some((p) => p.heightCm === 181), 5000, 'height on the hub')

    // The acquisition view: exam, workflow, task.
    await page.getByRole('link', { name: 'Doe', exact: true }).click()
    await page.getByRole('heading', { name: 'Doe, Jane' }).waitFor()
    await page.getByRole('button', { name: 'Add exam' }).click()
    await page.getByRole('menuitem', { name: 'New exam' }).click()
    await page.getByLabel('Name').fill('Knee')
    await page.getByRole('button', { name: 'Create exam' }).click()
    // Escape closes a menu, as it closes every menu and panel of the app
    await page.getByRole('button', { name: 'Actions for Knee' }).click()
    await page.getByRole('menuitem', { name: 'New workflow' }).waitFor()
    await page.keyboard.press('Escape')
    await page.getByRole('menuitem', { name: 'New workflow' }).waitFor({ state: 'detached' })
    await page.getByRole('button', { name: 'Actions for Knee' }).click()
    await page.getByRole('menuitem', { name: 'New workflow' }).click()
    await page.getByLabel('Name').fill('Localizer')
    await page.getByRole('button', { name: 'Create workflow' }).click()
    await page.getByRole('button', { name: 'Actions for Localizer' }).click()
    await page.getByRole('menuitem', { name: 'New task' }).click()
    await page.getByRole('tab', { name: 'Acquisition task' }).waitFor()
    await page.getByLabel('Name', { exact: true }).fill('Tri-plane GRE')
    await page.getByRole('button', { name: 'Frequency' }).click()
    await page.getByRole('button', { name: 'Shims' }).click()
    await page.getByRole('button', { name: 'Move Shims up' }).click()
    await screenshot(page, '04a-task-form')
    await page.getByRole('button', { name: 'Remove Shims' }).click()
    await page.getByRole('button', { name: 'Create task' }).click()
    const task = page.getByRole('treeitem', { name: 'Task Tri-plane GRE' })
    await task.waitFor()
    await task.getByRole('status', { name: 'Status: New' }).waitFor()
    await waitSynced(page)
    await screenshot(page, '04-acquisition')

    const tasks = (await env.hub.api('GET', `/api/v1/tasks?patientId=${jane.id}`)).body as Array<{ name: string, type: string, status: string, parameters: { calibrations: string[] } }>
    expect(tasks).toMatchObject([{ name: 'Tri-plane GRE', type: 'ACQUISITION', status: 'NEW', parameters: { calibrations: ['FREQUENCY'] } }])
    const exams = (await env.hub.api('GET', `/api/v1/exams?patientId=${jane.id}`)).body as Array<{ name: string, status: string }>
    expect(exams).toMatchObject([{ name: 'Knee', status: 'NEW' }])

    // A second task, then reorder by keyboard-reachable menu; the hub sees the new order.
    await page.getByRole('button', { name: 'Actions for Localizer' }).click()
    await page.getByRole('menuitem', { name: 'New task' }).click()
    await page.getByRole('tab', { name: 'Reconstruction or processing task' }).click()
    await page.getByLabel('Name', { exact: true }).fill('Recon')
    await page.getByLabel('Pipeline').selectOption('cartesian')
    await page.getByRole('button', { name: 'Create task' }).click()
    await page.getByRole('treeitem', { name: 'Task Recon' }).waitFor()
    await page.getByRole('button', { name: 'Actions for Recon' }).click()
    await page.getByRole('menuitem', { name: 'Move up' }).click()
    await eventually(async () => {
      const list = (await env.hub.api('GET', `/api/v1/tasks?patientId=${jane.id}`)).body as Array<{ name: string }>
      return list.map((t) => t.name).join(',') === 'Recon,Tri-plane GRE'
    }, 5000, 'new task order on the hub')

    // Drag and drop puts a task below another of its workflow.
    const recon = page.getByRole('treeitem', { name: 'Task Recon' })
    const gre = page.getByRole('treeitem', { name: 'Task Tri-plane GRE' })
    const greBox = await gre.boundingBox()
    await recon.dragTo(gre, { targetPosition: { x: 20, y: (greBox?.height ?? 40) - 4 } })
    await eventually(async () => {
      const list = (await env.hub.api('GET', `/api/v1/tasks?patientId=${jane.id}`)).body as Array<{ name: string }>
      return list.map((t) => t.name).join(',') === 'Tri-plane GRE,Recon'
    }, 5000, 'dragged task order on the hub')

    // Deleting asks first.
    await page.getByRole('button', { name: 'Actions for Recon' }).click()
    await page.getByRole('menuitem', { name: 'Delete task' }).click()
    await page.getByRole('heading', { name: 'Are you sure?' }).waitFor()
    await page.getByRole('button', { name: 'Cancel' }).click()
    await page.getByRole('treeitem', { name: 'Task Recon' }).waitFor()

    await page.getByRole('link', { name: 'Library' }).click()
    await page.getByRole('tab', { name: 'Templates' }).click()
    await page.getByRole('button', { name: 'Add exam template' }).click()
    await page.getByLabel('Name of the new exam template').fill('Knee protocol')
    await page.getByRole('button', { name: 'Add', exact: true }).click()
    await page.getByRole('option', { name: /Knee protocol/ }).click()
    await page.getByRole('button', { name: 'Add workflow template' }).click()
    await page.getByLabel('Name of the new workflow template').fill('Localizer')
    await page.getByRole('button', { name: 'Add', exact: true }).click()
    await page.getByRole('option', { name: /Localizer/ }).click()
    await page.getByRole('button', { name: 'Add task template' }).click()
    await page.getByLabel('Name of the new task template').fill('GRE 3-plane')
    await page.getByRole('button', { name: 'Add', exact: true }).click()
    await page.getByRole('option', { name: /GRE 3-plane/ }).waitFor()
    await screenshot(page, '05-library-templates')

    await page.getByRole('link', { name: 'Users' }).click()
    await page.getByRole('cell', { name: 'ada (you)' }).waitFor()
    await screenshot(page, '06-users')

    // Dark theme: system → dark.
    await page.getByRole('link', { name: 'Patients' }).click()
    await page.getByRole('button', { name: /^Theme: System/ }).click()
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark')
    await screenshot(page, '07-patients-dark')

    expect(errors).toEqual([])
    await context.close()
  }, 180_000)
})
