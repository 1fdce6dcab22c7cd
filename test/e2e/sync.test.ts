// Two pages on two hubs of one lab (the second joined by invite): a change made in one page shows
// in the other within 2 s, through browser → hub → hub → browser, and presence shows every peer.
import { describe, expect, it } from 'vitest'
import { eventually } from '../support/peer-process.ts'
import type { PeerProcess } from '../support/peer-process.ts'
import { ADMIN, HAS_CHROMIUM, createFirstUser, createPatient, login, newContext, screenshot, useBrowserLab, waitSynced, watchConsole } from './support.ts'

describe.skipIf(!HAS_CHROMIUM)('two pages on two hubs', () => {
  let b: PeerProcess
  const env = useBrowserLab({
    peers: async (lab, hub) => {
      b = await lab.peer({ name: 'hub-b', join: hub.invite() })
      await b.start()
    }
  })

  it('shows an edit made in one page in the other within 2 s', async () => {
    const contextA = await newContext(env.browser)
    const contextB = await newContext(env.browser)
    const pageA = await contextA.newPage()
    const pageB = await contextB.newPage()
    const errorsA = watchConsole(pageA)
    const errorsB = watchConsole(pageB)

    await createFirstUser(pageA, env.hub)
    // The user reaches hub b through the hubs' own sync; then the same account logs in there.
    await eventually(async () => ((await b.api('GET', '/api/v1/auth/state')).body as { hasUsers: boolean }).hasUsers, 15_000, 'the first user on hub b')
    await login(pageB, b, ADMIN.username, ADMIN.password)
    expect(new URL(pageB.url()).port).toBe(String(b.httpPort))

    await createPatient(pageA, { firstName: 'Anna', lastName: 'Sync', birthDate: '1990-05-17' })
    const started = Date.now()
    await pageB.getByRole('link', { name: 'Sync', exact: true }).waitFor({ timeout: 2000 })
    const aToB = Date.now() - started

    await pageB.getByRole('button', { name: 'Edit Sync, Anna' }).click()
    await pageB.getByLabel('Height (cm)').fill('175')
    await pageB.getByRole('button', { name: 'Save' }).click()
    const edited = Date.now()
    await pageA.getByRole('cell', { name: '175', exact: true }).waitFor({ timeout: 2000 })
    const bToA = Date.now() - edited
    expect(aToB).toBeLessThan(2000)
    expect(bToA).toBeLessThan(2000)

    // Presence: page A lists both hubs, online, and the other browser, with nothing left unsynced.
    await waitSynced(pageA)
    await waitSynced(pageB)
    await pageA.getByTestId('lab-status').click()
    const panel = pageA.getByRole('dialog', { name: 'Lab peers and sync' })
    for (const name of ['hub-a', 'hub-b']) {
      await panel.getByRole('listitem', { name }).filter({ hasText: 'ONLINE' }).waitFor({ timeout: 5000 })
    }
    await eventually(async () => (await panel.getByText('Ada Lovelace (browser)').count()) >= 2, 10_000, 'both browsers in presence')
    await eventually(async () => (await panel.getByText(/unsynced/).count()) === 0, 10_000, 'no unsynced changes in presence')
    await screenshot(pageA, '08-lab-peers')

    expect(errorsA).toEqual([])
    expect(errorsB).toEqual([])
    await contextA.close()
    await contextB.close()
  }, 180_000)
})
