// A browser on the hub's machine visiting any site must not be able to use the hub's API: a cross-site
// `text/plain` POST (which needs no CORS preflight) to every route is refused before the route runs,
// the first admin cannot be created that way, and a name that only resolves to 127.0.0.1 (DNS
// rebinding) is refused too. The app itself (same origin) and scripts (no Origin) keep working.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { request } from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TestLab, type PeerProcess } from './support/peer-process.ts'

const lab = new TestLab()
let hub: PeerProcess

beforeAll(async () => {
  hub = await lab.peer({ name: 'hub', roles: 'hub' })
  await hub.start()
}, 60_000)

afterAll(async () => { await lab.cleanup() })

interface OpenApi { paths: Record<string, Record<string, unknown>> }

describe('requests from other sites', () => {
  it('refuses a cross-origin text/plain request to every route, with or without the key', async () => {
    const spec = await (await fetch(`${hub.baseUrl}/api/v1/openapi.json`, { headers: { 'x-api-key': hub.apiKey } })).json() as OpenApi
    const routes = Object.entries(spec.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => [m.toUpperCase(), path.replace(/\{[^}]+\}/g, 'x')] as const))
    expect(routes.length).toBeGreaterThan(20)
    for (const [method, path] of routes) {
      for (const key of [undefined, hub.apiKey]) {
        const response = await fetch(`${hub.baseUrl}${path}`, {
          method,
          headers: { origin: 'https://evil.example', 'content-type': 'text/plain', ...(key !== undefined ? { 'x-api-key': key } : {}) },
          ...(method === 'GET' || method === 'DELETE' ? {} : { body: '{"username":"eve","firstName":"E","lastName":"V","password":"correct horse battery"}' })
        })
        expect({ method, path, status: response.status }).toEqual({ method, path, status: 403 })
        expect((await response.json() as { error: string }).error).toMatch(/cross-origin/)
      }
    }
    // nothing was created: the lab still has no user
    const state = await (await fetch(`${hub.baseUrl}/api/v1/auth/state`)).json() as Record<string, unknown>
    expect(state).toMatchObject({ hasUsers: false })
  })

  it('refuses requests through a foreign host name (DNS rebinding)', async () => {
    // fetch() will not send another Host: a plain request does, as a browser does for the attacker's name
    const answer = await new Promise<{ status: number, body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: hub.httpPort, path: '/api/v1/status', headers: { host: `rebind.evil.example:${hub.httpPort}`, 'x-api-key': hub.apiKey } }, (res) => {
        let body = ''
        res.on('data', (d: Buffer) => { body += d.toString() })
        res.on('end', () => { resolve({ status: res.statusCode ?? 0, body }) })
      })
      req.on('error', reject)
      req.end()
    })
    expect(answer.status).toBe(403)
    expect(answer.body).toMatch(/DNS rebinding/)
  })

  it('answers the same origin and scripts without an Origin', async () => {
    const scripted = await fetch(`${hub.baseUrl}/api/v1/status`, { headers: { 'x-api-key': hub.apiKey } })
    expect(scripted.status).toBe(200)
    const sameOrigin = await fetch(`${hub.baseUrl}/api/v1/status`, { headers: { 'x-api-key': hub.apiKey, origin: hub.baseUrl, 'sec-fetch-site': 'same-origin' } })
    expect(sameOrigin.status).toBe(200)
  })
})

describe('text that is not well-formed Unicode', () => {
  it('is refused by the API with the field named, and nothing is stored', async () => {
    // JSON.stringify writes a lone surrogate as the escape \ud800, which JSON.parse turns back into one
    const body = JSON.stringify({ firstName: 'Ada', lastName: 'Love\uD800lace', birthDate: '1985-12-10', sex: 'FEMALE' })
    expect(body).toContain('\\ud800')
    const response = await fetch(`${hub.baseUrl}/api/v1/patients`, { method: 'POST', headers: { 'x-api-key': hub.apiKey, 'content-type': 'application/json' }, body })
    expect(response.status).toBe(400)
    expect((await response.json() as { error: string }).error).toBe('body.lastName is not well-formed Unicode text (it holds a lone UTF-16 surrogate)')
    const list = await (await fetch(`${hub.baseUrl}/api/v1/patients`, { headers: { 'x-api-key': hub.apiKey } })).json() as unknown[]
    expect(list).toEqual([])
  })
})

describe('the first user', () => {
  const admin = { username: 'ada', firstName: 'Ada', lastName: 'Lovelace', password: 'correct horse battery' }
  const post = async (headers: Record<string, string>): Promise<Response> =>
    await fetch(`${hub.baseUrl}/api/v1/auth/first-user`, { method: 'POST', headers, body: JSON.stringify(admin) })

  it('needs the setup code the peer printed, sent as JSON; the code is gone afterwards', async () => {
    const code = new URL(hub.setupUrl).hash.replace(/^#setup=/, '')
    expect(code).toMatch(/^[\w-]{20,}$/)
    expect((await readFile(join(hub.dataDir, 'setup-token'), 'utf8')).trim()).toBe(code)
    const mode = (await stat(join(hub.dataDir, 'setup-token'))).mode & 0o777
    expect(mode).toBe(0o600)

    const without = await post({ 'content-type': 'application/json' })
    expect(without.status).toBe(403)
    expect((await without.json() as { error: string }).error).toMatch(/setup code/)
    const wrong = await post({ 'content-type': 'application/json', 'x-setup-token': code.replace(/.$/, (c) => c === 'a' ? 'b' : 'a') })
    expect(wrong.status).toBe(403)
    const plain = await post({ 'content-type': 'text/plain', 'x-setup-token': code })
    expect(plain.status).toBe(415)

    const created = await post({ 'content-type': 'application/json', 'x-setup-token': code })
    expect(created.status).toBe(201)
    expect(await readFile(join(hub.dataDir, 'setup-token'), 'utf8').catch(() => 'gone')).toBe('gone')
    // a second first user is refused whatever the code
    expect((await post({ 'content-type': 'application/json', 'x-setup-token': code })).status).toBe(409)
  })
})

describe('the lab key', () => {
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0 && existsSync('/usr/sbin/runuser') && existsSync('/usr/bin/curl')

  it('is not handed out by the bootstrap, which says only where the hub is', async () => {
    const response = await fetch(`${hub.baseUrl}/api/v1/bootstrap`)
    expect(response.status).toBe(200)
    const info = await response.json() as Record<string, unknown>
    expect(info).toHaveProperty('peerId')
    expect(info).not.toHaveProperty('swarmKeyHex')
  })

  it.skipIf(!asRoot)('is not readable by another account of the same machine (runuser -u nobody -- curl)', () => {
    const r = spawnSync('runuser', ['-u', 'nobody', '--', 'curl', '-s', '-w', '\n%{http_code}', `http://127.0.0.1:${hub.httpPort}/api/v1/bootstrap`], { encoding: 'utf8', timeout: 20_000 })
    expect(r.stdout).not.toMatch(/swarmKeyHex/)
    expect(r.stdout.toLowerCase()).not.toContain(hub.labKeyHex().toLowerCase())
  })

  it('comes only with a one-time pairing code, which works once', async () => {
    const code = /#pair=([A-Z0-9]+)/.exec(hub.pairUrl)?.[1] ?? ''
    expect(code).toMatch(/^[A-Z0-9]{8}$/)
    const pair = async (c: string, peerId: string): Promise<Response> => await fetch(`${hub.baseUrl}/api/v1/pair`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: c, peerId, name: 'test browser' })
    })
    const { generateKeyPair } = await import('@libp2p/crypto/keys')
    const { peerIdFromPrivateKey } = await import('@libp2p/peer-id')
    const browser = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    expect((await pair('WRONGCOD', browser)).status).toBe(404)
    const first = await pair(code.toLowerCase().replace(/(.{4})/, '$1-'), browser)
    expect(first.status).toBe(200)
    expect((await first.json() as Record<string, unknown>).swarmKeyHex).toBe(hub.labKeyHex())
    const again = await pair(code, peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString())
    expect(again.status).toBe(404)
  })
})
