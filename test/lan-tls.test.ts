// `scanhub start --lan`, seen from another device of the LAN: the app and the browsers' WebSocket
// listener answer over TLS that validates against the lab's CA alone, by the hub's LAN address and
// its names; the CA itself comes over plain http first. The hub runs in a network namespace cabled
// to this test (test/support/lan-peer.ts); skipped, loudly, without root.
import { spawnSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { request } from 'node:https'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasTool } from './support/external-tools.ts'
import { canMakeLanNamespaces, createLanTestHost, get, startLanPeer, type LanPeer, type LanTestHost } from './support/lan-peer.ts'
import { PROJECT_ROOT, SCANHUB_BIN, TestLab } from './support/peer-process.ts'

const enabled = canMakeLanNamespaces()
let lab: TestLab
let host: LanTestHost
let hub: LanPeer

describe.skipIf(!enabled)('a hub on the LAN with --lan', () => {
  beforeAll(async () => {
    host = createLanTestHost()
    lab = new TestLab()
    hub = await startLanPeer(lab, host)
  }, 60_000)

  afterAll(async () => {
    await lab?.cleanup()
    host?.cleanup()
  })

  it('serves the app and the API over https, trusted through the lab CA alone, by address and by name', async () => {
    const url = new URL(hub.appUrl)
    expect(url.hostname).toBe(host.address)
    const state = await get(new URL('/api/v1/auth/state', url).toString(), { ca: hub.caCert })
    expect(state.status).toBe(200)
    expect(JSON.parse(state.body)).toMatchObject({ hasUsers: false })
    // the app's files; 404 where pwa/dist is not built (or is being rebuilt by another test): the TLS is what counts here
    const page = await get(hub.appUrl, { ca: hub.caCert })
    expect([200, 404]).toContain(page.status)
    // a tablet that opened https://<hub>.local/ checks the certificate for that name
    const byName = `${hostname().toLowerCase()}.local`
    const named = await get(new URL('/api/v1/auth/state', url).toString(), { ca: hub.caCert, servername: byName, headers: { host: `${byName}:${url.port}` } })
    expect(named.status).toBe(200)
    await expect(get(hub.appUrl, { ca: hub.caCert, servername: 'not-this-hub.example' })).rejects.toThrow(/altnames|not in the cert/i)
    // a device that has not installed the CA trusts nothing of it
    await expect(get(hub.appUrl)).rejects.toThrow(/certificate/i)
    // and there is no plain-http app on that port
    await expect(get(hub.appUrl.replace('https:', 'http:'))).rejects.toThrow()
  })

  it('hands out the CA certificate over plain http, with a page on how to install it', async () => {
    const cert = await get(`${hub.caPageUrl}ca.crt`)
    expect(cert.status).toBe(200)
    expect(cert.headers['content-type']).toBe('application/x-x509-ca-cert')
    expect(cert.body).toBe(hub.caCert)
    const ca = new X509Certificate(cert.body)
    expect(ca.ca).toBe(true)
    expect(ca.fingerprint256).toBe(hub.caFingerprint)
    expect(ca.subject).toMatch(/^CN=ScanHub lab hub's lab CA\n/)
    const page = await get(hub.caPageUrl)
    expect(page.status).toBe(200)
    expect(page.body).toContain('href="/ca.crt"')
    expect(page.body).toContain(hub.caFingerprint)
    expect(page.body).toContain(`href="${hub.appUrl}"`)
    expect((await get(`${hub.caPageUrl}api/v1/status`)).status).toBe(404)
    // the QR code printed at start is of that page
    expect(hub.peer.output).toContain(`Scan with a tablet to get the CA (${hub.caPageUrl})`)
    expect(hub.peer.output).toMatch(/▀|▄/)
  })

  it('takes browsers\' WebSockets over TLS with the same certificate (wss)', async () => {
    const upgraded = await new Promise<{ status: number, protocolHeader: string | undefined, peerCert: X509Certificate }>((resolve, reject) => {
      const req = request({
        host: host.address,
        port: hub.wssPort,
        ca: hub.caCert,
        path: '/',
        headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': Buffer.from('scanhub-lan-test').toString('base64') },
        timeout: 10_000
      })
      req.on('upgrade', (res, socket) => {
        const peerCert = (socket as import('node:tls').TLSSocket).getPeerX509Certificate()
        socket.destroy()
        if (peerCert === undefined) { reject(new Error('no peer certificate')); return }
        resolve({ status: res.statusCode ?? 0, protocolHeader: res.headers.upgrade, peerCert })
      })
      req.on('response', (res) => reject(new Error(`no upgrade: HTTP ${res.statusCode}`)))
      req.on('timeout', () => req.destroy(new Error('no answer')))
      req.on('error', reject)
      req.end()
    })
    expect(upgraded.status).toBe(101)
    expect(upgraded.protocolHeader).toBe('websocket')
    expect(upgraded.peerCert.checkIP(host.address)).toBe(host.address)
    expect(upgraded.peerCert.verify(new X509Certificate(hub.caCert).publicKey)).toBe(true)
  })

  it('`scanhub lab ca` writes the same CA certificate, and its fingerprint and how to install it to stderr', async () => {
    const printed = spawnSync(process.execPath, [SCANHUB_BIN, 'lab', 'ca', '--data', hub.peer.dataDir], { cwd: PROJECT_ROOT, encoding: 'utf8' })
    expect(printed.status).toBe(0)
    expect(printed.stdout).toBe(hub.caCert)
    expect(printed.stderr).toContain(hub.caFingerprint)
    expect(printed.stderr).toMatch(/Android\s+Settings → Security → Encryption & credentials → Install a certificate → CA certificate/)
    const out = join(hub.peer.dataDir, '..', 'exported-ca.crt')
    const written = spawnSync(process.execPath, [SCANHUB_BIN, 'lab', 'ca', '--data', hub.peer.dataDir, '--out', out], { cwd: PROJECT_ROOT, encoding: 'utf8' })
    expect(written.status).toBe(0)
    expect(written.stdout).toBe('')
    expect(await readFile(out, 'utf8')).toBe(hub.caCert)
  })

  it.skipIf(!hasTool('curl'))('tells a page on the hub\'s machine to dial the wss listener by the name it used', () => {
    const port = new URL(hub.appUrl).port
    const bootstrap = spawnSync('ip', ['netns', 'exec', host.netns, 'curl', '-s', '-m', '5', '--cacert', `${hub.peer.dataDir}/tls/ca.crt`, `https://localhost:${port}/api/v1/bootstrap`], { encoding: 'utf8' })
    const info = JSON.parse(bootstrap.stdout) as { wsAddrs: string[], peerId: string }
    expect(info.wsAddrs).toEqual([`/dns/localhost/tcp/${hub.wssPort}/tls/ws/p2p/${info.peerId}`])
  })
})

describe('scanhub lab ca', () => {
  it('refuses a data directory that holds no lab', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'scanhub-noca-'))
    try {
      const result = spawnSync(process.execPath, [SCANHUB_BIN, 'lab', 'ca', '--data', empty], { cwd: PROJECT_ROOT, encoding: 'utf8' })
      expect(result.status).toBe(2)
      expect(result.stderr).toMatch(/holds no lab/)
      expect(result.stdout).toBe('')
    } finally {
      await rm(empty, { recursive: true, force: true })
    }
  })
})
