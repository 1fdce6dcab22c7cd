// Run state that is true, in Chromium: a scan's elapsed time never passes its sequence's duration and
// counts down between reports; stopping a scan makes its workflow and exam say so; re-running an
// acquisition makes its reconstruction stale with a Re-run that gives a second run, whose results are
// listed as run 2; a run on a scanner that is not reachable says so in words.
import { describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { eventually } from '../support/peer-process.ts'
import type { PeerProcess } from '../support/peer-process.ts'
import { HAS_CHROMIUM, createFirstUser, newContext, screenshot, useBrowserLab, watchConsole } from './support.ts'

interface ApiTask { id: string, name: string, status: string, run?: number, inputRun?: number, results: Array<{ type: string, run?: number, files: Array<{ name: string }> }> }

async function task (hub: PeerProcess, name: string): Promise<ApiTask> {
  const tasks = (await hub.api<ApiTask[]>('GET', '/api/v1/tasks')).body
  const found = tasks.find((t) => t.name === name)
  if (found === undefined) throw new Error(`no task ${name} on the hub`)
  return found
}

async function post (hub: PeerProcess, path: string, body: unknown): Promise<string> {
  const res = await hub.api<{ id: string }>('POST', path, body)
  expect(res.status, JSON.stringify(res.body)).toBe(201)
  return res.body.id
}

/** Runs an acquisition from its row: Run, then Start in the height and weight check. */
async function runAcquisition (page: Page, name: string): Promise<void> {
  await page.getByRole('treeitem', { name: `Task ${name}` }).getByText(name, { exact: true }).click()
  await page.getByRole('button', { name: `Run ${name}` }).click()
  await page.getByRole('dialog', { name: 'Before acquiring' }).getByRole('button', { name: /^Start/ }).click()
}

function badge (page: Page, row: string, status: string | RegExp): ReturnType<Page['getByRole']> {
  return page.getByRole('treeitem', { name: row }).getByRole('status', { name: status }).first()
}

describe.skipIf(!HAS_CHROMIUM)('run state in the browser', () => {
  const env = useBrowserLab({
    hub: { name: 'console', roles: 'hub,scanner' },
    peers: async (lab, hub) => {
      await (await lab.peer({ name: 'recon-laptop', roles: 'recon', join: hub.invite() })).start(60_000)
    }
  })

  it('shows true times, cancelled workflows, stale reconstructions with Re-run, results by run, and a scanner out of reach', async () => {
    const { hub, lab } = env
    const context = await newContext(env.browser)
    const page = await context.newPage()
    const errors = watchConsole(page)
    await createFirstUser(page, hub)
    type ApiDevice = { id: string, name: string, status: string }
    const scanner = async (prefix: string): Promise<ApiDevice> => await eventually(async () =>
      (await hub.api<ApiDevice[]>('GET', '/api/v1/devices')).body.find((d) => d.name.startsWith(prefix) && d.status === 'ONLINE'), 60_000, `the ${prefix} scanner online`)
    const console = await scanner('console')

    const patientId = await post(hub, '/api/v1/patients', { firstName: 'Rhea', lastName: 'Rerun', birthDate: '1990-03-03', sex: 'FEMALE', heightCm: 170, weightKg: 65 })
    const examId = await post(hub, '/api/v1/exams', { patientId, name: 'Head' })
    const anatomy = await post(hub, '/api/v1/workflows', { examId, name: 'Anatomy' })
    const greId = await post(hub, '/api/v1/tasks', { workflowId: anatomy, type: 'ACQUISITION', name: 'GRE', parameters: { sequenceId: 'builtin-gre', deviceId: console.id } })
    await post(hub, '/api/v1/tasks', { workflowId: anatomy, type: 'RECONSTRUCTION', name: 'Images', parameters: { pipeline: 'cartesian', inputTaskId: greId } })
    const extra = await post(hub, '/api/v1/workflows', { examId, name: 'Extra' })
    await post(hub, '/api/v1/tasks', { workflowId: extra, type: 'ACQUISITION', name: 'FID', parameters: { sequenceId: 'builtin-fid', deviceId: console.id } })
    await post(hub, '/api/v1/tasks', { workflowId: extra, type: 'ACQUISITION', name: 'Spin echo', parameters: { sequenceId: 'builtin-spin-echo', deviceId: console.id } })

    await page.getByRole('link', { name: 'Rerun', exact: true }).click()
    await page.getByRole('treeitem', { name: 'Task Spin echo' }).waitFor({ timeout: 15_000 })

    // A short scan to its end, then a long one: its elapsed time never passes the sequence's
    // duration, and the time left goes down between the scanner's reports.
    await runAcquisition(page, 'FID')
    await badge(page, 'Task FID', 'Status: Finished').waitFor({ timeout: 60_000 })
    await runAcquisition(page, 'Spin echo')
    const times = page.locator('sh-run-control .times').first()
    await times.filter({ hasText: /elapsed/ }).waitFor({ timeout: 20_000 })
    const seen: Array<{ elapsed: number, total: number, left: number }> = []
    const seconds = (text: string): number => { const [m, s] = text.split(':').map(Number); return m * 60 + s }
    for (let i = 0; i < 8; i++) {
      const text = await times.textContent() ?? ''
      const m = /elapsed (\d+:\d\d) of (\d+:\d\d) · (\d+:\d\d) left/.exec(text)
      expect(m, text).not.toBeNull()
      if (m !== null) seen.push({ elapsed: seconds(m[1]), total: seconds(m[2]), left: seconds(m[3]) })
      await page.waitForTimeout(700)
    }
    for (const s of seen) {
      expect(s.elapsed).toBeLessThanOrEqual(s.total)
      expect(s.elapsed + s.left).toBe(s.total)
    }
    // 5.6 s of watching: the remaining time went down by several seconds, not stuck on one value
    expect(seen[0].left - seen[seen.length - 1].left).toBeGreaterThanOrEqual(3)
    await screenshot(page, 'run-state-1-progress')
    await page.getByRole('button', { name: 'Stop Spin echo' }).click()
    await page.getByText('Spin echo stopped: the scanner confirmed').waitFor({ timeout: 15_000 })
    // The workflow and the exam say that a task was cancelled, not a plain "Finished".
    await badge(page, 'Workflow Extra', 'Status: Finished · 1 cancelled').waitFor({ timeout: 10_000 })
    await badge(page, 'Exam Head', /Status: .*1 cancelled/).waitFor()

    // An acquisition and its reconstruction, which starts with it.
    await runAcquisition(page, 'GRE')
    await badge(page, 'Task GRE', 'Status: Finished').waitFor({ timeout: 90_000 })
    await badge(page, 'Task Images', 'Status: Finished').waitFor({ timeout: 90_000 })
    expect((await task(hub, 'Images')).run).toBe(1)

    // The acquisition again: its raw data is run 2, the reconstruction's images are now stale.
    await runAcquisition(page, 'GRE')
    await eventually(async () => (await task(hub, 'GRE')).results.some((r) => r.type === 'RAW' && r.run === 2), 90_000, 'the raw data of run 2')
    await badge(page, 'Task GRE', 'Status: Finished').waitFor({ timeout: 30_000 })
    await badge(page, 'Task Images', 'Status: Finished · stale').waitFor({ timeout: 15_000 })
    const stale = page.getByRole('status', { name: 'Images: Stale: the raw data was acquired again' })
    await stale.waitFor()
    const gre = await task(hub, 'GRE')
    expect(gre.results.filter((r) => r.type === 'RAW').map((r) => [r.run, r.files[0].name]).sort()).toEqual([[1, 'GRE.mrd'], [2, 'GRE-run2.mrd']])
    // the acquisition's results, by run, the newest first
    await page.getByRole('treeitem', { name: 'Task GRE' }).getByText('GRE', { exact: true }).click()
    const headings = page.locator('sh-acquisition-view').getByRole('heading', { name: /^Run \d/ })
    await expect.poll(async () => await headings.allTextContents()).toEqual(['Run 2 (latest)', 'Run 1'])
    await page.getByRole('list', { name: 'Results of run 2' }).getByRole('button', { name: /GRE-run2\.mrd/ }).waitFor()
    await screenshot(page, 'run-state-2-stale')

    // Re-run: a second run of the reconstruction, listed as run 2, and no longer stale.
    await page.getByRole('button', { name: 'Re-run reconstruction Images' }).click()
    await eventually(async () => { const t = await task(hub, 'Images'); return t.run === 2 && t.status === 'FINISHED' }, 90_000, 'the second run of Images finished')
    await badge(page, 'Task Images', 'Status: Finished').waitFor({ timeout: 15_000 })
    await stale.waitFor({ state: 'detached' })
    const images = await task(hub, 'Images')
    expect(images.inputRun).toBe(2)
    expect(images.results.some((r) => r.type === 'DICOM' && r.run === 2)).toBe(true)
    expect(images.results.some((r) => r.type === 'DICOM' && r.run === 1)).toBe(true)
    await page.getByRole('treeitem', { name: 'Task Images' }).getByText('Images', { exact: true }).click()
    await expect.poll(async () => await headings.allTextContents()).toEqual(['Run 2 (latest)', 'Run 1'])
    await screenshot(page, 'run-state-3-rerun')

    // A scan on a scanner that is gone: the run says which scanner it waits for, and that it is out of reach.
    const benchPeer = await lab.peer({ name: 'bench', roles: 'scanner', join: hub.invite() })
    await benchPeer.start(60_000)
    const bench = await scanner('bench')
    await benchPeer.kill()
    await eventually(async () => (await hub.api<Array<{ id: string, status: string }>>('GET', '/api/v1/devices')).body.find((d) => d.id === bench.id)?.status === 'OFFLINE', 60_000, 'the bench scanner offline')
    await post(hub, '/api/v1/tasks', { workflowId: extra, type: 'ACQUISITION', name: 'Bench FID', parameters: { sequenceId: 'builtin-fid', deviceId: bench.id } })
    await page.getByRole('treeitem', { name: 'Task Bench FID' }).waitFor({ timeout: 15_000 })
    await runAcquisition(page, 'Bench FID')
    await page.getByRole('status').filter({ hasText: `Waiting for ${bench.name}: not reachable` }).waitFor({ timeout: 60_000 })
    await expect.poll(async () => await page.getByRole('progressbar', { name: 'Progress of Bench FID' }).count()).toBe(0)
    await screenshot(page, 'run-state-4-unreachable')

    expect(errors).toEqual([])
    await context.close()
  }, 420_000)
})
