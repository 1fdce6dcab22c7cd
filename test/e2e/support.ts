// What the end-to-end tests share: the built PWA (built once if missing), Debian's chromium driven
// by playwright-core (never a downloaded browser), console error collection, screenshots, and the
// steps every test takes (pairing the page with the lab, first user, login).
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { hasTool } from '../support/external-tools.ts'
import { afterAll, beforeAll } from 'vitest'
import { PROJECT_ROOT, sleep, TestLab } from '../support/peer-process.ts'
import type { PeerProcess, PeerProcessOptions } from '../support/peer-process.ts'

export const CHROMIUM = '/usr/bin/chromium'
/** Whether the browser tests can run here; warns loudly once when they cannot. */
export const HAS_CHROMIUM = hasTool('chromium') && existsSync(CHROMIUM)

export const SCREENSHOTS = join(PROJECT_ROOT, 'test-output', 'screenshots')
export const PASSWORD = 'correct horse battery staple'
export const ADMIN = { username: 'ada', firstName: 'Ada', lastName: 'Lovelace', password: PASSWORD }

/** Written last by the build (vite-plugin-pwa's closeBundle): its presence means pwa/dist is complete. */
const DIST_DONE = join(PROJECT_ROOT, 'pwa', 'dist', 'sw.js')
const BUILD_LOCK = join(PROJECT_ROOT, 'test-output', '.pwa-build-lock')

/**
 * Builds the PWA unless pwa/dist has it. Test files run in parallel: one builds under a lock
 * directory while the others wait for it to finish. Peers serve pwa/dist only if it exists when
 * they start, and a page loaded before the service worker is written would never get one.
 */
export async function ensurePwaBuilt (timeoutMs = 240_000): Promise<void> {
  const complete = (): boolean => existsSync(DIST_DONE) && !existsSync(BUILD_LOCK)
  if (complete()) return
  mkdirSync(join(PROJECT_ROOT, 'test-output'), { recursive: true })
  const end = Date.now() + timeoutMs
  for (;;) {
    try {
      mkdirSync(BUILD_LOCK)
      break
    } catch {
      if (complete()) return
      if (Date.now() > end) throw new Error(`waited too long for another test file to build the PWA (remove ${BUILD_LOCK} if no build runs)`)
      await sleep(500)
    }
  }
  try {
    if (existsSync(DIST_DONE)) return
    // vitest sets NODE_ENV=test, which would make vite build a development bundle without the service worker's registration.
    const env = { ...process.env, NODE_ENV: 'production' }
    const result = spawnSync('npx', ['vite', 'build'], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: timeoutMs, env })
    if (result.status !== 0 || !existsSync(DIST_DONE)) throw new Error(`vite build failed:\n${result.stdout}\n${result.stderr}`)
  } finally {
    rmSync(BUILD_LOCK, { recursive: true, force: true })
  }
}

/** What a browser test works with; the fields are set once its beforeAll has run. */
export interface BrowserLab {
  readonly lab: TestLab
  /** the lab's first peer, started: the hub the pages open */
  readonly hub: PeerProcess
  readonly browser: Browser
}

export interface BrowserLabInit {
  /** options of the hub; default a peer named hub-a with the hub role */
  hub?: PeerProcessOptions
  /** starts the lab's other peers once the hub runs (they join it with hub.invite()) */
  peers?: (lab: TestLab, hub: PeerProcess) => Promise<void>
}

/**
 * The set-up every browser test shares, as beforeAll/afterAll of the calling describe block: the
 * PWA built, a lab with its hub (and any other peers) started, Debian's chromium launched; all of it
 * stopped and removed after the block.
 */
export function useBrowserLab (init: BrowserLabInit = {}): BrowserLab {
  const lab = new TestLab()
  const state: { lab: TestLab, hub?: PeerProcess, browser?: Browser } = { lab }
  beforeAll(async () => {
    await ensurePwaBuilt()
    const hub = await lab.peer(init.hub ?? { name: 'hub-a' })
    await hub.start()
    state.hub = hub
    await init.peers?.(lab, hub)
    state.browser = await launchBrowser()
  }, 300_000)
  afterAll(async () => {
    await state.browser?.close()
    await lab.cleanup()
  })
  return {
    lab,
    get hub () {
      if (state.hub === undefined) throw new Error('the hub starts in beforeAll')
      return state.hub
    },
    get browser () {
      if (state.browser === undefined) throw new Error('the browser starts in beforeAll')
      return state.browser
    }
  }
}

export async function launchBrowser (): Promise<Browser> {
  return await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']
  })
}

/** A fresh profile (storage, service workers) at a fixed size, so that screenshots compare. */
export async function newContext (browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB', timezoneId: 'Europe/Berlin' })
  context.setDefaultTimeout(15_000)
  return context
}

/** Collects console errors and uncaught exceptions of a page, minus those a test expects. */
export function watchConsole (page: Page, expected: RegExp[] = []): string[] {
  const errors: string[] = []
  page.on('console', (message) => {
    if (message.type() !== 'error') return
    const text = message.text()
    if (!expected.some((re) => re.test(text))) errors.push(text)
  })
  page.on('pageerror', (err) => { errors.push(`uncaught: ${err.message}`) })
  return errors
}

export async function screenshot (page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true })
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) })
}

/** Peers whose printed pairing link a page has used: its code works once. */
const printedLinkUsed = new WeakSet<PeerProcess>()

/** A fragment parameter of a link the peer printed (`pair`, `setup`). */
function printedParam (url: string, name: string): string | undefined {
  if (url === '') return undefined
  return new URLSearchParams(new URL(url).hash.slice(1)).get(name) ?? undefined
}

/**
 * A one-time pairing code of this hub: the one in the link it printed at start (as a person on the
 * hub's machine copies it from the terminal), then codes an admin makes (here with the API key).
 */
export async function pairingCode (peer: PeerProcess, ceiling = 'admin'): Promise<string> {
  const printed = printedParam(peer.pairUrl, 'pair')
  if (printed !== undefined && !printedLinkUsed.has(peer)) {
    printedLinkUsed.add(peer)
    return printed
  }
  const made = await peer.api<{ code: string }>('POST', '/api/v1/pairings', { ceiling })
  if (made.status !== 201) throw new Error(`the hub made no pairing code: ${made.status} ${JSON.stringify(made.body)}`)
  return made.body.code
}

/** Whether the page, open on this hub's origin, keeps a pairing with the lab. */
async function isPaired (page: Page, peer: PeerProcess): Promise<boolean> {
  if (!page.url().startsWith(peer.baseUrl)) return false
  return await page.evaluate(() => localStorage.getItem('scanhub:pairing') !== null)
}

/**
 * Pairs the page with the lab through a `#pair=` link (with `extraHash`, e.g. `setup=…`, after it),
 * and goes on from the confirmation code. Returns the confirmation code the page showed.
 */
export async function pairPage (page: Page, peer: PeerProcess, extraHash = ''): Promise<string> {
  const code = await pairingCode(peer)
  await page.goto(`${peer.baseUrl}/#pair=${encodeURIComponent(code)}${extraHash !== '' ? `&${extraHash}` : ''}`)
  const confirmation = await page.getByTestId('confirmation-code').textContent({ timeout: 20_000 }) ?? ''
  await page.getByRole('button', { name: 'Continue' }).click()
  return confirmation
}

/** Opens the hub's app (pairing the page first if it is not) and fills the first-user form (which logs the admin in). */
export async function createFirstUser (page: Page, peer: PeerProcess): Promise<void> {
  // the one-time setup code, from the link the peer printed
  const setupCode = printedParam(peer.pairUrl, 'setup') ?? printedParam(peer.setupUrl, 'setup')
  if (setupCode === undefined) throw new Error(`${peer.name} printed no setup code:\n${peer.output}`)
  if (await isPaired(page, peer)) await page.goto(`${peer.baseUrl}/#setup=${setupCode}`)
  else await pairPage(page, peer, `setup=${setupCode}`)
  await page.getByRole('heading', { name: 'Welcome to ScanHub' }).waitFor()
  await page.getByLabel('Username').fill(ADMIN.username)
  await page.getByLabel('First name').fill(ADMIN.firstName)
  await page.getByLabel('Last name').fill(ADMIN.lastName)
  await page.getByLabel('Password (at least 12 characters)').fill(ADMIN.password)
  await page.getByLabel('Password again').fill(ADMIN.password)
  await page.getByRole('button', { name: 'Create admin and log in' }).click()
  await page.getByRole('navigation', { name: 'Main' }).waitFor()
}

/** Logs in on the hub's app, pairing the page with the lab first if it is not. */
export async function login (page: Page, peer: PeerProcess, username: string, password: string): Promise<void> {
  await page.goto(peer.baseUrl + '/')
  const loginButton = page.getByRole('button', { name: 'Log in' })
  const pairing = page.getByRole('heading', { name: 'Pair this device with the lab' })
  await loginButton.or(pairing).waitFor()
  if (await pairing.isVisible()) {
    await pairPage(page, peer)
    await loginButton.waitFor()
  }
  await page.getByLabel('Username').fill(username)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.getByRole('navigation', { name: 'Main' }).waitFor()
}

/** Creates a patient through the Patients page's form. */
export async function createPatient (page: Page, patient: { firstName: string, lastName: string, birthDate: string }): Promise<void> {
  await page.getByRole('button', { name: 'New patient' }).click()
  const form = page.getByRole('form', { name: 'New patient' })
  await form.getByLabel('First name').fill(patient.firstName)
  await form.getByLabel('Last name').fill(patient.lastName)
  await form.getByLabel('Birthday').fill(patient.birthDate)
  await form.getByRole('button', { name: 'Create patient' }).click()
  await page.getByRole('link', { name: patient.lastName, exact: true }).waitFor()
}

/** On a patient's page: a new exam, and a new workflow in it, through the tree's "Add exam" and "•••" menus. */
export async function createExamAndWorkflow (page: Page, exam: string, workflow: string): Promise<void> {
  await page.getByRole('button', { name: 'Add exam' }).click()
  await page.getByRole('menuitem', { name: 'New exam' }).click()
  await page.getByLabel('Name').fill(exam)
  await page.getByRole('button', { name: 'Create exam' }).click()
  await page.getByRole('button', { name: `Actions for ${exam}` }).click()
  await page.getByRole('menuitem', { name: 'New workflow' }).click()
  await page.getByLabel('Name').fill(workflow)
  await page.getByRole('button', { name: 'Create workflow' }).click()
}

/** Waits until the page says all its changes are on the hub. */
export async function waitSynced (page: Page, timeoutMs = 10_000): Promise<void> {
  await page.getByTestId('sync-text').filter({ hasText: /^Synced$/ }).waitFor({ timeout: timeoutMs })
}
