// Every main view of the app at the sizes a lab uses it — phone (390×844), portrait tablet (768×1024),
// landscape tablet (1024×768) and laptop (1280×800) — in Debian's Chromium: no page scrolls sideways,
// no card is drawn over another, the account menu and its "Log out" stay on screen and clickable, and
// the narrow top bar's menu opens from the keyboard and closes with Escape. Screenshots of every view
// at every size land in test-output/screenshots/<view>-<width>x<height>.png. axe-core then checks
// every view for serious and critical accessibility violations, and the new-patient form shows all its
// errors at once, next to their fields.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import axe from 'axe-core'
import type { Locator, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PROJECT_ROOT, SCANHUB_BIN } from '../support/peer-process.ts'
import { ADMIN, HAS_CHROMIUM, login, newContext, screenshot, useBrowserLab, watchConsole } from './support.ts'

const SIZES = [
  { width: 390, height: 844 },
  { width: 768, height: 1024 },
  { width: 1024, height: 768 },
  { width: 1280, height: 800 }
] as const

/** What the views need from the lab the test seeds. */
interface Seeded { patientId: string, resultId: string }

interface View {
  name: string
  path: (seed: Seeded) => string
  /** waits until the view shows what it is about (and selects what it should show) */
  ready: (page: Page) => Promise<void>
  /** a view other parts of the app may not have yet: skipped when the app answers "Nothing here" */
  optional?: boolean
}

const heading = (name: string) => async (page: Page): Promise<void> => {
  await page.getByRole('heading', { level: 1, name, exact: true }).waitFor()
}

/** The main views; extend the list when the app gains a page. */
const VIEWS: View[] = [
  { name: 'patients', path: () => '/', ready: async (page) => { await page.getByRole('link', { name: 'Curie', exact: true }).waitFor() } },
  {
    name: 'patient-task',
    path: (s) => `/patients/${encodeURIComponent(s.patientId)}`,
    ready: async (page) => {
      await page.getByRole('treeitem', { name: 'Task Head GRE' }).getByText('Head GRE', { exact: true }).click()
      await page.getByRole('heading', { name: 'Results' }).waitFor()
    }
  },
  {
    name: 'patient-imported',
    path: (s) => `/patients/${encodeURIComponent(s.patientId)}`,
    ready: async (page) => {
      const task = page.getByRole('treeitem', { name: /^Task / }).filter({ hasNotText: /Head GRE|Images/ }).first()
      await task.locator('.name').click()
      await page.getByTestId('slice-overlay').first().waitFor({ timeout: 20_000 })
    }
  },
  { name: 'library-devices', path: () => '/library?tab=devices', ready: async (page) => { await page.getByRole('tab', { name: 'Devices', selected: true }).waitFor() } },
  { name: 'library-sequences', path: () => '/library?tab=sequences', ready: async (page) => { await page.getByRole('tab', { name: 'Sequences', selected: true }).waitFor() } },
  { name: 'library-templates', path: () => '/library?tab=templates', ready: async (page) => { await page.getByRole('tab', { name: 'Templates', selected: true }).waitFor() } },
  { name: 'users', path: () => '/users', ready: async (page) => { await page.getByRole('cell', { name: 'ada (you)' }).waitFor() } },
  { name: 'members', path: () => '/members', ready: heading('Members') },
  { name: 'worklist', path: () => '/worklist', ready: heading('Worklist') },
  { name: 'viewer', path: (s) => `/viewer/${encodeURIComponent(s.resultId)}`, ready: async (page) => { await page.getByTestId('slice-overlay').waitFor({ timeout: 20_000 }) } },
  { name: 'pacs', path: () => '/pacs', ready: async () => {}, optional: true },
  { name: 'audit', path: () => '/audit', ready: async () => {}, optional: true }
]

/** Navigates inside the running app (as its links do), so that the lab stays loaded between views. */
async function goTo (page: Page, path: string): Promise<void> {
  await page.evaluate((p) => {
    history.pushState(null, '', p)
    dispatchEvent(new PopStateEvent('popstate'))
  }, path)
}

/** Opens a view; false when it is an optional page the app does not have. */
async function openView (page: Page, view: View, seed: Seeded): Promise<boolean> {
  await goTo(page, view.path(seed))
  if (view.optional === true) {
    await page.locator('main > *').first().waitFor()
    if (await page.getByRole('heading', { name: 'Nothing here' }).isVisible()) return false
    await page.waitForTimeout(500)
  }
  try {
    await view.ready(page)
  } catch (err) {
    await screenshot(page, `${view.name}-not-ready`)
    throw err
  }
  // lets layout settle after late data (presence, fetched users) arrives
  await page.waitForTimeout(150)
  return true
}

/**
 * The cards of the shown page (elements with class card, the sidebars beside them and what a sidebar holds), through every
 * open shadow root, with their boxes; pairs where one holds the other are left out.
 */
async function overlappingCards (page: Page): Promise<string[]> {
  return await page.evaluate(() => {
    const found: Element[] = []
    const walk = (root: Document | ShadowRoot): void => {
      for (const el of root.querySelectorAll('*')) {
        if (el.matches('.card, aside, aside > *') && el.closest('dialog:not([open])') === null) found.push(el)
        if (el.shadowRoot !== null) walk(el.shadowRoot)
      }
    }
    walk(document)
    /** whether a holds b, across shadow boundaries */
    const holds = (a: Element, b: Element): boolean => {
      let node: Node | null = b
      while (node !== null) {
        if (node === a) return true
        node = node.parentNode ?? (node instanceof ShadowRoot ? node.host : null)
        if (node instanceof ShadowRoot) node = node.host
      }
      return false
    }
    const label = (el: Element): string => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')} "${(el.textContent ?? '').trim().replace(/\s+/g, ' ').slice(0, 40)}"`
    const boxes = found.map((el) => ({ el, r: el.getBoundingClientRect() })).filter(({ r }) => r.width > 0 && r.height > 0)
    const overlaps: string[] = []
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i]
        const b = boxes[j]
        if (holds(a.el, b.el) || holds(b.el, a.el)) continue
        const w = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left)
        const h = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top)
        if (w > 1 && h > 1) overlaps.push(`${label(a.el)} and ${label(b.el)} overlap by ${Math.round(w)}×${Math.round(h)} px`)
      }
    }
    return overlaps
  })
}

/** Whether the element is inside the viewport and a click at its centre reaches it (nothing covers it). */
async function reachable (locator: Locator): Promise<string> {
  await locator.waitFor()
  return await locator.evaluate((el) => {
    const r = el.getBoundingClientRect()
    if (r.left < 0 || r.top < 0 || r.right > innerWidth || r.bottom > innerHeight) return `outside the viewport (${Math.round(r.left)},${Math.round(r.top)} – ${Math.round(r.right)},${Math.round(r.bottom)} in ${innerWidth}×${innerHeight})`
    let hit: Element | null = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2)
    while (hit?.shadowRoot != null) {
      const inner = hit.shadowRoot.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2)
      if (inner === null || inner === hit) break
      hit = inner
    }
    return hit !== null && (el === hit || el.contains(hit)) ? 'reachable' : `covered by ${hit?.tagName.toLowerCase() ?? 'nothing'}`
  })
}

/** The label of the focused field, through shadow roots ('' when no labelled field has the focus). */
async function focusedField (page: Page): Promise<string> {
  return await page.evaluate(() => {
    let el: Element | null = document.activeElement
    while (el?.shadowRoot?.activeElement != null) el = el.shadowRoot.activeElement
    if (el === null) return ''
    const root = el.getRootNode() as Document | ShadowRoot
    const label = el.id !== '' ? root.querySelector(`label[for="${el.id}"]`) : null
    return (label?.textContent ?? el.getAttribute('aria-label') ?? el.textContent ?? '').trim()
  })
}

/** axe-core's serious and critical violations on the page as it is, one line each. */
async function axeViolations (page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: axe.source })
  return await page.evaluate(async () => {
    const runner = (window as unknown as { axe: Pick<typeof axe, 'run'> }).axe
    const result = await runner.run(document, { resultTypes: ['violations'] })
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact ?? ''}): ${v.help}: ${v.nodes.slice(0, 4).map((n) => `${JSON.stringify(n.target)} ${n.failureSummary ?? ''}`.replace(/\s+/g, ' ')).join(' | ')}`)
  })
}

describe.skipIf(!HAS_CHROMIUM)('every screen size, forms and accessibility', () => {
  const env = useBrowserLab({ hub: { name: 'console', roles: 'hub,scanner' } })
  let work: string
  const seed: Seeded = { patientId: '', resultId: '' }

  beforeAll(async () => {
    // A patient with a planned exam (an acquisition and its reconstruction) and an imported one with images.
    work = mkdtempSync(join(tmpdir(), 'scanhub-e2e-sizes-'))
    const mrd = join(work, 'scan.mrd')
    execFileSync(process.execPath, [SCANHUB_BIN, 'simulate', '--seq', 'builtin:gre', '--out', mrd], { cwd: PROJECT_ROOT, stdio: 'pipe' })
    execFileSync(process.execPath, [SCANHUB_BIN, 'recon', mrd, '--out', join(work, 'dicom'), '--patient-id', 'P-77', '--patient-name', 'Curie^Marie'], { cwd: PROJECT_ROOT, stdio: 'pipe' })
    const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const answer = await env.hub.api<T>(method, path, body)
      if (answer.status >= 300) throw new Error(`${method} ${path} answered ${answer.status}: ${JSON.stringify(answer.body)}`)
      return answer.body
    }
    const patient = await api<{ id: string }>('POST', '/api/v1/patients', { mrn: 'P-77', firstName: 'Marie', lastName: 'Curie', birthDate: '1967-11-07', sex: 'FEMALE', heightCm: 160, weightKg: 55, comment: 'Claustrophobic: talk her through the localiser' })
    seed.patientId = patient.id
    const exam = await api<{ id: string }>('POST', '/api/v1/exams', { patientId: patient.id, name: 'Head examination', description: 'Routine head', indication: 'Headache since March' })
    const workflow = await api<{ id: string }>('POST', '/api/v1/workflows', { examId: exam.id, name: 'Anatomy' })
    const acquisition = await api<{ id: string }>('POST', '/api/v1/tasks', { workflowId: workflow.id, name: 'Head GRE', type: 'ACQUISITION', parameters: { sequenceId: 'builtin-gre', calibrations: ['FREQUENCY'] } })
    await api('POST', '/api/v1/tasks', { workflowId: workflow.id, name: 'Images', type: 'RECONSTRUCTION', parameters: { pipeline: 'default', inputTaskId: acquisition.id } })
    for (const file of readdirSync(join(work, 'dicom'))) {
      const outcome = await api<{ resultId?: string }>('POST', `/api/v1/import?name=${encodeURIComponent(file)}`, readFileSync(join(work, 'dicom', file)))
      if (outcome.resultId !== undefined) seed.resultId = outcome.resultId
    }
    if (seed.resultId === '') throw new Error('the import made no result to show in the viewer')
    await api('POST', '/api/v1/users', { ...ADMIN, email: 'ada@lab.example', role: 'admin' })
  }, 120_000)
  afterAll(() => { if (work !== undefined) rmSync(work, { recursive: true, force: true }) })

  it('fits every view on a phone, a tablet either way and a laptop', async () => {
    const context = await newContext(env.browser)
    const page = await context.newPage()
    // The worklist page asks the hub, which answers 400 in words while the lab has no worklist provider;
    // Chromium logs that response as an error. Any other refused request is a problem.
    const errors = watchConsole(page, [/Failed to load resource: the server responded with a status of 400/])
    const problems: string[] = []
    page.on('response', (response) => {
      if (response.status() >= 400 && !response.url().includes('/api/v1/worklist?')) problems.push(`${response.status()} from ${response.url()}`)
    })
    await login(page, env.hub, ADMIN.username, ADMIN.password)
    for (const size of SIZES) {
      await page.setViewportSize(size)
      const at = `${size.width}x${size.height}`
      for (const view of VIEWS) {
        if (!(await openView(page, view, seed))) continue
        const where = `${view.name} at ${at}`
        const widths = await page.evaluate(() => ({ scroll: document.scrollingElement?.scrollWidth ?? 0, inner: innerWidth }))
        if (widths.scroll > widths.inner) problems.push(`${where}: the page scrolls sideways (${widths.scroll} px wide in ${widths.inner})`)
        for (const overlap of await overlappingCards(page)) problems.push(`${where}: ${overlap}`)
        await screenshot(page, `${view.name}-${at}`)
        // the account menu opens, its "Log out" is on screen and clickable, and Escape closes it
        const account = page.getByTestId('account-menu')
        const accountState = await reachable(account)
        if (accountState !== 'reachable') problems.push(`${where}: the account menu is ${accountState}`)
        else {
          await account.click()
          const logout = page.getByTestId('logout')
          const logoutState = await reachable(logout)
          if (logoutState !== 'reachable') problems.push(`${where}: "Log out" is ${logoutState}`)
          await page.keyboard.press('Escape')
          await logout.waitFor({ state: 'hidden' })
        }
      }
    }
    expect(problems).toEqual([])
    expect(errors).toEqual([])
    await context.close()
  }, 600_000)

  it('folds the top bar into a menu on a tablet, which the keyboard opens and Escape closes', async () => {
    const context = await newContext(env.browser)
    const page = await context.newPage()
    await login(page, env.hub, ADMIN.username, ADMIN.password)
    const nav = page.getByRole('navigation', { name: 'Main' })
    const toggle = nav.getByRole('button', { name: 'Menu' })
    expect(await toggle.isVisible()).toBe(false)
    expect(await nav.getByRole('link', { name: 'Library' }).isVisible()).toBe(true)

    await page.setViewportSize({ width: 768, height: 1024 })
    await toggle.waitFor()
    expect(await nav.getByRole('link', { name: 'Library' }).isVisible()).toBe(false)
    await toggle.focus()
    await page.keyboard.press('Enter')
    await nav.getByRole('link', { name: 'Library' }).waitFor()
    expect(await toggle.getAttribute('aria-expanded')).toBe('true')
    expect(await focusedField(page)).toBe('Patients')
    expect(await reachable(page.getByTestId('lab-status'))).toBe('reachable')
    await page.keyboard.press('Escape')
    await nav.getByRole('link', { name: 'Library' }).waitFor({ state: 'hidden' })
    expect(await focusedField(page)).toBe('Menu')

    // a page chosen in the menu opens and the menu folds away
    await toggle.click()
    await nav.getByRole('link', { name: 'Library' }).click()
    await page.getByRole('heading', { level: 1, name: 'Library' }).waitFor()
    await nav.getByRole('link', { name: 'Library' }).waitFor({ state: 'hidden' })
    await context.close()
  }, 120_000)

  it('shows every error of an empty new-patient or new-user form at once, each beside its field, and focuses the first', async () => {
    const context = await newContext(env.browser)
    const page = await context.newPage()
    await login(page, env.hub, ADMIN.username, ADMIN.password)
    await page.getByRole('button', { name: 'New patient' }).click()
    const form = page.getByRole('form', { name: 'New patient' })
    // the first field has the focus on first view; required fields say so
    await expect.poll(async () => await focusedField(page)).toBe('Patient ID (MRN)')
    for (const label of ['First name', 'Last name', 'Birthday']) {
      expect(await form.getByLabel(label, { exact: true }).getAttribute('aria-required')).toBe('true')
    }
    expect(await form.getByLabel('Comment', { exact: true }).getAttribute('aria-required')).toBeNull()

    await form.getByLabel('Height (cm)').fill('900')
    await form.getByRole('button', { name: 'Create patient' }).click()
    const expected: Record<string, string> = {
      'First name': 'First name is required',
      'Last name': 'Last name is required',
      Birthday: 'Birthday is required',
      'Height (cm)': 'Height (cm) must be a number between 20 and 300'
    }
    for (const [label, message] of Object.entries(expected)) {
      const input = form.getByLabel(label, { exact: true })
      expect(await input.getAttribute('aria-invalid')).toBe('true')
      // the message is the input's description, and drawn right under it
      const errorId = await input.getAttribute('aria-describedby') ?? ''
      const error = form.locator(`[id="${errorId}"]`)
      expect(await error.textContent()).toBe(message)
      const [inputBox, errorBox] = [await input.boundingBox(), await error.boundingBox()]
      expect(errorBox!.y).toBeGreaterThanOrEqual(inputBox!.y + inputBox!.height - 1)
      expect(errorBox!.y).toBeLessThan(inputBox!.y + inputBox!.height + 24)
      expect(Math.abs(errorBox!.x - inputBox!.x)).toBeLessThan(4)
    }
    expect(await form.getByLabel('Weight (kg)').getAttribute('aria-invalid')).toBe('false')
    expect(await focusedField(page)).toBe('First name')
    await screenshot(page, 'new-patient-errors')

    // a date is spoken of in the user's locale, never as YYYY-MM-DD
    await form.getByLabel('Birthday').fill('1850-03-01')
    await form.getByRole('button', { name: 'Create patient' }).click()
    const birthdayError = await form.locator('[id="new-birthDate-error"]').textContent() ?? ''
    expect(birthdayError).toMatch(/^Birthday must not be before .*1880$/)
    expect(birthdayError).not.toMatch(/YYYY|1880-01-01/)

    await form.getByLabel('First name', { exact: true }).fill('Lise')
    await form.getByLabel('Last name', { exact: true }).fill('Meitner')
    await form.getByLabel('Birthday').fill('1978-11-07')
    await form.getByLabel('Height (cm)').fill('168')
    await form.getByRole('button', { name: 'Create patient' }).click()
    await page.getByRole('link', { name: 'Meitner', exact: true }).waitFor()
    expect(await form.count()).toBe(0)

    // Escape closes the form and gives the focus back to its button
    await page.getByRole('button', { name: 'New patient' }).click()
    await form.waitFor()
    await page.keyboard.press('Escape')
    await form.waitFor({ state: 'detached' })
    expect(await focusedField(page)).toBe('New patient')

    // the new-user form too: focused on its first field, every missing field named at once
    await goTo(page, '/users')
    await page.getByRole('button', { name: 'New user' }).click()
    const userForm = page.getByRole('form', { name: 'New user' })
    await expect.poll(async () => await focusedField(page)).toBe('Username')
    await userForm.getByLabel('E-mail').fill('not an address')
    await userForm.getByRole('button', { name: 'Create user' }).click()
    const userErrors = await userForm.locator('.field-error').allTextContents()
    expect(userErrors).toEqual([
      'Username is required',
      'First name is required',
      'Last name is required',
      'E-mail must be an email address such as name@example.org, or empty',
      'Password is required'
    ])
    expect(await focusedField(page)).toBe('Username')
    await context.close()
  }, 120_000)

  it('moves through a patient\'s exams, workflows and tasks with the keyboard alone', async () => {
    const context = await newContext(env.browser)
    const page = await context.newPage()
    await login(page, env.hub, ADMIN.username, ADMIN.password)
    await goTo(page, `/patients/${encodeURIComponent(seed.patientId)}`)
    const tree = page.getByRole('tree', { name: 'Exams, workflows and tasks' })
    const exam = tree.getByRole('treeitem', { name: /^Exam Head examination: / })
    await exam.waitFor()
    // the tree is one tab stop: its first row
    const first = tree.getByRole('treeitem').first()
    expect(await first.getAttribute('tabindex')).toBe('0')
    expect(await tree.locator('[role="treeitem"][tabindex="0"]').count()).toBe(1)
    const firstName = await first.getAttribute('aria-label') ?? ''
    await exam.focus()
    await page.keyboard.press('ArrowDown')
    expect(await focusedField(page)).toMatch(/^Workflow Anatomy: /)
    await page.keyboard.press('ArrowDown')
    expect(await focusedField(page)).toMatch(/^Task Head GRE: /)
    await page.keyboard.press('Enter')
    await tree.getByRole('treeitem', { name: /^Task Head GRE: / }).and(page.locator('[aria-selected="true"]')).waitFor()
    // Left goes up to the workflow, Left again closes it, Right opens it again
    await page.keyboard.press('ArrowLeft')
    expect(await focusedField(page)).toMatch(/^Workflow Anatomy: /)
    await page.keyboard.press('ArrowLeft')
    await tree.getByRole('treeitem', { name: /^Workflow Anatomy: / }).and(page.locator('[aria-expanded="false"]')).waitFor()
    expect(await tree.getByRole('treeitem', { name: /^Task Head GRE: / }).count()).toBe(0)
    await page.keyboard.press('ArrowRight')
    await tree.getByRole('treeitem', { name: /^Task Head GRE: / }).waitFor()
    await page.keyboard.press('End')
    expect(await focusedField(page)).toMatch(/^(Task|Workflow|Exam) /)
    await page.keyboard.press('Home')
    expect(await focusedField(page)).toBe(firstName)
    await context.close()
  }, 120_000)

  it('has no serious or critical accessibility violation on any view, wide or narrow', async () => {
    const context = await newContext(env.browser)
    const page = await context.newPage()
    await login(page, env.hub, ADMIN.username, ADMIN.password)
    const found: string[] = []
    for (const size of [SIZES[3], SIZES[0]]) {
      await page.setViewportSize(size)
      for (const view of VIEWS) {
        if (!(await openView(page, view, seed))) continue
        for (const violation of await axeViolations(page)) found.push(`${view.name} at ${size.width}x${size.height}: ${violation}`)
      }
    }
    // the forms and menus a user opens
    await page.setViewportSize(SIZES[3])
    await goTo(page, '/')
    await page.getByRole('button', { name: 'New patient' }).click()
    await page.getByRole('button', { name: 'Create patient' }).click()
    await page.getByTestId('account-menu').click()
    for (const violation of await axeViolations(page)) found.push(`new-patient form with errors: ${violation}`)
    await page.keyboard.press('Escape')
    await goTo(page, `/patients/${encodeURIComponent(seed.patientId)}`)
    await page.getByRole('treeitem', { name: 'Workflow Anatomy' }).getByText('Anatomy', { exact: true }).click()
    await page.getByRole('button', { name: 'Add task' }).click()
    await page.getByRole('button', { name: 'Create task' }).waitFor()
    for (const violation of await axeViolations(page)) found.push(`new-task form: ${violation}`)
    expect(found).toEqual([])
    await context.close()
  }, 600_000)
})
