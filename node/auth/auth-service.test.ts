import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { Lab, MemoryDocSource } from '../../protocol/lab/index.ts'
import { AuthService } from './auth-service.ts'
import { checkPasswordPolicy, hashPassword, verifyPassword } from './password.ts'
import type { Connection, PeerId } from '@libp2p/interface'

const PASSWORD = 'correct horse battery'

async function newPeerId (): Promise<string> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
}

/** An AuthService over an in-memory lab, with connections the test decides (ws = browser, tcp = lab peer). */
async function setup (options: { now?: () => number } = {}): Promise<{ auth: AuthService, lab: Lab, connections: Map<string, string>, hungUp: string[] }> {
  const lab = new Lab(new MemoryDocSource())
  const connections = new Map<string, string>()
  const hungUp: string[] = []
  const hub = await newPeerId()
  const auth = new AuthService({
    lab,
    flush: async () => {},
    libp2p: {
      peerId: { toString: () => hub } as unknown as PeerId,
      getConnections: (peer?: PeerId) => {
        const addr = peer === undefined ? undefined : connections.get(peer.toString())
        return addr === undefined ? [] : [{ remoteAddr: multiaddr(addr) } as unknown as Connection]
      },
      hangUp: async (peer) => { hungUp.push(peer.toString()) }
    }
  }, { now: options.now })
  return { auth, lab, connections, hungUp }
}

describe('passwords', () => {
  it('hashes with scrypt N=2^15, r=8, p=1 and verifies', async () => {
    const hash = await hashPassword(PASSWORD)
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$[\w-]+\$[\w-]+$/)
    expect(await verifyPassword(PASSWORD, hash)).toBe(true)
    expect(await verifyPassword(PASSWORD + 'x', hash)).toBe(false)
    expect(await verifyPassword(PASSWORD, undefined)).toBe(false)
    expect(await verifyPassword(PASSWORD, 'scrypt$1073741824$8$1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA')).toBe(false)
  })

  it('wants at least 12 characters', () => {
    expect(() => checkPasswordPolicy('short')).toThrow(expect.objectContaining({ name: 'PasswordPolicyError' }))
    expect(() => checkPasswordPolicy('twelve chars')).not.toThrow()
  })
})

describe('AuthService', () => {
  it('creates the first user as admin once, then logs in and binds the browser peer', async () => {
    const { auth, connections } = await setup()
    expect(auth.hasUsers()).toBe(false)
    const admin = await auth.createFirstUser({ username: 'Ada', firstName: 'Ada', lastName: 'Lovelace', password: PASSWORD })
    expect(admin).toMatchObject({ username: 'ada', role: 'admin' })
    expect(admin).not.toHaveProperty('passwordHash')
    await expect(auth.createFirstUser({ username: 'eve', firstName: 'E', lastName: 'V', password: PASSWORD })).rejects.toMatchObject({ name: 'AuthConflictError' })

    const browser = await newPeerId()
    connections.set(browser, '/ip4/127.0.0.1/tcp/4000/ws')
    expect(auth.isReadOnly(browser)).toBe(true)
    await expect(auth.login('ada', 'wrong password!!', browser)).rejects.toMatchObject({ name: 'AuthError' })
    const session = await auth.login('ada', PASSWORD, browser)
    expect(session.user.lastLoginAt).toBeDefined()
    expect(auth.isReadOnly(browser)).toBe(false)
    expect(auth.me(session.token).user.username).toBe('ada')
    expect(auth.authorisesRead('GET', `Bearer ${session.token}`)).toBe(true)
    expect(auth.authorisesRead('POST', `Bearer ${session.token}`)).toBe(false)
  })

  it('never makes lab peers on TCP read-only, and viewers always', async () => {
    const { auth, connections } = await setup()
    await auth.createFirstUser({ username: 'ada', firstName: 'Ada', lastName: 'L', password: PASSWORD })
    await auth.createUser({ username: 'vic', firstName: 'Vic', lastName: 'Viewer', role: 'viewer', password: PASSWORD }, 'ada')
    const node = await newPeerId()
    connections.set(node, '/ip4/127.0.0.1/tcp/7001')
    expect(auth.isReadOnly(node)).toBe(false)
    const browser = await newPeerId()
    connections.set(browser, '/ip4/127.0.0.1/tcp/7002/ws')
    await auth.login('vic', PASSWORD, browser)
    expect(auth.isReadOnly(browser)).toBe(true)
  })

  it('keeps the last admin, ends sessions of changed users and hangs up their browser', async () => {
    const { auth, connections, hungUp } = await setup()
    await auth.createFirstUser({ username: 'ada', firstName: 'Ada', lastName: 'L', password: PASSWORD })
    await expect(auth.updateUser('ada', { role: 'medical' }, 'ada')).rejects.toMatchObject({ name: 'AuthConflictError' })
    await expect(auth.removeUser('ada', 'ada')).rejects.toMatchObject({ name: 'AuthConflictError' })
    await auth.createUser({ username: 'max', firstName: 'Max', lastName: 'M', role: 'medical', password: PASSWORD }, 'ada')
    const browser = await newPeerId()
    connections.set(browser, '/ip4/127.0.0.1/tcp/7002/ws')
    const { token } = await auth.login('max', PASSWORD, browser)
    expect(auth.isReadOnly(browser)).toBe(false)
    await auth.updateUser('max', { role: 'viewer' }, 'ada')
    expect(hungUp).toContain(browser)
    expect(() => auth.me(token)).toThrow(expect.objectContaining({ name: 'AuthError' }))
    expect(auth.isReadOnly(browser)).toBe(true)
  })

  it('ends sessions after 30 minutes without use', async () => {
    let now = 1_000_000
    const { auth, connections } = await setup({ now: () => now })
    await auth.createFirstUser({ username: 'ada', firstName: 'Ada', lastName: 'L', password: PASSWORD })
    const browser = await newPeerId()
    connections.set(browser, '/ip4/127.0.0.1/tcp/7002/ws')
    const { token } = await auth.login('ada', PASSWORD, browser)
    now += 29 * 60_000
    expect(auth.me(token).user.username).toBe('ada')
    now += 29 * 60_000
    expect(auth.isReadOnly(browser)).toBe(false)
    now += 31 * 60_000
    expect(() => auth.me(token)).toThrow(expect.objectContaining({ name: 'AuthError' }))
    expect(auth.isReadOnly(browser)).toBe(true)
  })

  it('slows down repeated failed logins', async () => {
    const { auth } = await setup()
    await auth.createFirstUser({ username: 'ada', firstName: 'Ada', lastName: 'L', password: PASSWORD })
    for (let i = 0; i < 6; i++) await auth.login('ada', 'not the password', undefined).catch(() => {})
    await expect(auth.login('ada', PASSWORD)).rejects.toMatchObject({ name: 'AuthThrottledError' })
  })
})

describe('write policy', () => {
  it('keeps browsers out of users and peers, and non-engineers out of devices', async () => {
    const { refusalFor, UpdatePreview } = await import('./write-policy.ts')
    const Y = await import('yjs')
    const doc = new Y.Doc()
    doc.getMap('patients').set('p', 'x')
    const updateOf = (change: (d: InstanceType<typeof Y.Doc>) => void): Uint8Array => {
      const copy = new Y.Doc()
      Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc))
      const sv = Y.encodeStateVector(copy)
      change(copy)
      return Y.encodeStateAsUpdate(copy, sv)
    }
    const patient = updateOf((d) => { d.getMap('patients').set('q', 'y') })
    const users = updateOf((d) => { d.getMap('users').set('eve', 'admin') })
    const devices = updateOf((d) => { d.getMap('devices').set('scanner', 'x') })
    expect(refusalFor('medical', 'lab', new UpdatePreview(doc, patient))).toBeUndefined()
    expect(refusalFor('admin', 'lab', new UpdatePreview(doc, users))).toMatch(/users/)
    expect(refusalFor('medical', 'lab', new UpdatePreview(doc, devices))).toMatch(/devices/)
    expect(refusalFor('engineer', 'lab', new UpdatePreview(doc, devices))).toBeUndefined()
    expect(refusalFor('viewer', 'patient:x', new UpdatePreview(doc, patient))).toMatch(/viewers/)
    expect(refusalFor('scientist', 'patient:x', new UpdatePreview(doc, users))).toBeUndefined()
    // roles as ScanHub has them: engineers read patients, scientists edit sequences and templates but delete no patient
    expect(refusalFor('engineer', 'patient:x', new UpdatePreview(doc, patient))).toMatch(/engineer may read patients' exams but not change them/)
    expect(refusalFor('engineer', 'lab', new UpdatePreview(doc, patient))).toMatch(/engineer may not change patients/)
    const sequences = updateOf((d) => { d.getMap('sequences').set('s', 'x') })
    const templates = updateOf((d) => { d.getMap('examTemplates').set('t', 'x') })
    const deletion = updateOf((d) => { d.getMap('patients').delete('p') })
    expect(refusalFor('scientist', 'lab', new UpdatePreview(doc, sequences))).toBeUndefined()
    expect(refusalFor('engineer', 'lab', new UpdatePreview(doc, sequences))).toBeUndefined()
    expect(refusalFor('medical', 'lab', new UpdatePreview(doc, sequences))).toMatch(/sequences/)
    expect(refusalFor('scientist', 'lab', new UpdatePreview(doc, templates))).toBeUndefined()
    expect(refusalFor('medical', 'lab', new UpdatePreview(doc, templates))).toMatch(/examTemplates/)
    expect(refusalFor('scientist', 'lab', new UpdatePreview(doc, deletion))).toMatch(/scientist may not delete patients/)
    expect(refusalFor('medical', 'lab', new UpdatePreview(doc, deletion))).toBeUndefined()
    expect(refusalFor('admin', 'lab', new UpdatePreview(doc, deletion))).toBeUndefined()
  })
})
