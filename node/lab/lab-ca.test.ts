import { spawnSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { request, createServer } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { hasTool } from '../../test/support/external-tools.ts'
import { CA_CERT_FILE, CA_KEY_FILE, HUB_CERT_FILE, HUB_KEY_FILE, LEAF_VALIDITY_DAYS, loadOrCreateHubTls, loadOrCreateLabCa, machineNames, type CertificateNames } from './lab-ca.ts'
import * as x509 from './x509.ts'

const DAY_MS = 24 * 60 * 60 * 1000
const names: CertificateNames = { ips: ['127.0.0.1', '10.1.2.3', 'fd00::7'], dnsNames: ['localhost', 'hub-test', 'hub-test.local'] }

let dir: string
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'scanhub-ca-')) })
afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

const days = (from: string, to: string): number => (new Date(to).getTime() - new Date(from).getTime()) / DAY_MS

describe('the lab CA', () => {
  it('is a P-256 CA named after the lab, valid about ten years, for signing certificates only', async () => {
    const tls = await loadOrCreateHubTls(dir, 'Neuro 3T', names)
    const ca = new X509Certificate(tls.caCert)
    expect(ca.subject).toBe('CN=ScanHub lab Neuro 3T CA\nO=ScanHub')
    expect(ca.issuer).toBe(ca.subject)
    expect(ca.ca).toBe(true)
    expect(ca.verify(ca.publicKey)).toBe(true)
    expect(ca.publicKey.asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' })
    expect(days(ca.validFrom, ca.validTo)).toBeGreaterThan(3650)
    expect(days(ca.validFrom, ca.validTo)).toBeLessThan(3660)
    const parsed = new x509.X509Certificate(tls.caCert)
    const usage = parsed.getExtension(x509.KeyUsagesExtension)
    expect(usage?.critical).toBe(true)
    expect(usage?.usages).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign)
    const constraints = parsed.getExtension(x509.BasicConstraintsExtension)
    expect({ ca: constraints?.ca, critical: constraints?.critical, pathLength: constraints?.pathLength }).toEqual({ ca: true, critical: true, pathLength: 0 })
    expect(tls.caFingerprint).toBe(ca.fingerprint256)
    expect(tls.caName).toBe('ScanHub lab Neuro 3T CA')
  })

  it('keeps its keys to this user (0600) in DIR/tls (0700)', async () => {
    await loadOrCreateHubTls(dir, 'Lab', names)
    expect((await stat(join(dir, 'tls'))).mode & 0o777).toBe(0o700)
    for (const file of [CA_KEY_FILE, CA_CERT_FILE, HUB_KEY_FILE, HUB_CERT_FILE]) {
      expect({ file, mode: (await stat(join(dir, file))).mode & 0o777 }).toEqual({ file, mode: 0o600 })
    }
    expect(await readFile(join(dir, CA_KEY_FILE), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/)
  })

  it('is made once per data directory: `lab ca` and the hub see the same one', async () => {
    const first = await loadOrCreateLabCa(dir, 'Lab')
    const tls = await loadOrCreateHubTls(dir, 'Renamed lab', names)
    expect(tls.caCert).toBe(first.caCert)
    expect((await loadOrCreateLabCa(dir, 'Lab')).caFingerprint).toBe(first.caFingerprint)
  })
})

describe('the hub certificate', () => {
  it('is issued by the CA for the machine\'s names, for servers, within the 825 days Apple platforms accept', async () => {
    const tls = await loadOrCreateHubTls(dir, 'Lab', names)
    const ca = new X509Certificate(tls.caCert)
    const leaf = new X509Certificate(tls.cert)
    expect(leaf.issuer).toBe(ca.subject)
    expect(leaf.subject).toMatch(/^CN=hub-test\n/)
    expect(leaf.ca).toBe(false)
    expect(leaf.verify(ca.publicKey)).toBe(true)
    expect(leaf.checkIssued(ca)).toBe(true)
    expect(leaf.subjectAltName).toBe('DNS:localhost, DNS:hub-test, DNS:hub-test.local, IP Address:127.0.0.1, IP Address:10.1.2.3, IP Address:FD00:0:0:0:0:0:0:7')
    for (const ip of names.ips) expect(leaf.checkIP(ip)).toBe(ip)
    for (const host of names.dnsNames) expect(leaf.checkHost(host)).toBe(host)
    expect(leaf.checkIP('10.1.2.4')).toBeUndefined()
    expect(leaf.checkHost('other.example')).toBeUndefined()
    expect(leaf.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1'])
    expect(days(leaf.validFrom, leaf.validTo)).toBe(LEAF_VALIDITY_DAYS)
    expect(LEAF_VALIDITY_DAYS).toBeLessThanOrEqual(825)
    // valid already for a tablet whose clock runs a few hours late
    expect(new Date(leaf.validFrom).getTime()).toBeLessThan(Date.now() - 12 * 60 * 60 * 1000)
    const usage = new x509.X509Certificate(tls.cert).getExtension(x509.KeyUsagesExtension)
    expect(usage?.usages).toBe(x509.KeyUsageFlags.digitalSignature)
  })

  it('is kept while it fits, and issued again when the names change or its end is within 30 days', async () => {
    const first = await loadOrCreateHubTls(dir, 'Lab', names)
    expect(first.issued).toBe(true)
    const again = await loadOrCreateHubTls(dir, 'Lab', { ips: [...names.ips].reverse(), dnsNames: names.dnsNames })
    expect(again.issued).toBe(false)
    expect(again.cert).toBe(first.cert)

    const moved = await loadOrCreateHubTls(dir, 'Lab', { ...names, ips: ['127.0.0.1', '10.1.2.99'] })
    expect(moved.issued).toBe(true)
    expect(new X509Certificate(moved.cert).checkIP('10.1.2.99')).toBe('10.1.2.99')
    expect(new X509Certificate(moved.cert).checkIP('10.1.2.3')).toBeUndefined()
    // the key and the CA stay: a device that trusts the CA trusts the new certificate
    expect(moved.key).toBe(first.key)
    expect(moved.caCert).toBe(first.caCert)

    const validTo = new Date(new X509Certificate(moved.cert).validTo).getTime()
    const stillFine = await loadOrCreateHubTls(dir, 'Lab', { ...names, ips: ['127.0.0.1', '10.1.2.99'] }, new Date(validTo - 31 * DAY_MS))
    expect(stillFine.issued).toBe(false)
    const nearEnd = await loadOrCreateHubTls(dir, 'Lab', { ...names, ips: ['127.0.0.1', '10.1.2.99'] }, new Date(validTo - 29 * DAY_MS))
    expect(nearEnd.issued).toBe(true)
    expect(new Date(new X509Certificate(nearEnd.cert).validTo).getTime()).toBeGreaterThan(validTo)
  })

  it('is issued again when the CA was replaced', async () => {
    const first = await loadOrCreateHubTls(dir, 'Lab', names)
    await rm(join(dir, CA_KEY_FILE))
    const second = await loadOrCreateHubTls(dir, 'Lab', names)
    expect(second.caCert).not.toBe(first.caCert)
    expect(second.issued).toBe(true)
    expect(new X509Certificate(second.cert).verify(new X509Certificate(second.caCert).publicKey)).toBe(true)
  })

  it('passes a TLS handshake that trusts only the CA, by address and by name', async () => {
    const tls = await loadOrCreateHubTls(dir, 'Lab', names)
    const server = createServer({ cert: tls.cert, key: tls.key }, (_req, res) => { res.end('ok') })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as { port: number }).port
    const get = async (servername: string | undefined, ca: string): Promise<string> => await new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, ca, servername, path: '/' }, (res) => {
        let body = ''
        res.on('data', (d: Buffer) => { body += d.toString() })
        res.on('end', () => resolve(body))
      })
      req.on('error', reject)
      req.end()
    })
    try {
      expect(await get(undefined, tls.caCert)).toBe('ok')
      expect(await get('hub-test.local', tls.caCert)).toBe('ok')
      await expect(get('other.example', tls.caCert)).rejects.toThrow(/altnames/)
      const otherDir = await mkdtemp(join(tmpdir(), 'scanhub-ca-other-'))
      try {
        const otherCa = (await loadOrCreateLabCa(otherDir, 'Other lab')).caCert
        await expect(get(undefined, otherCa)).rejects.toThrow(/certificate/)
      } finally {
        await rm(otherDir, { recursive: true, force: true })
      }
    } finally {
      server.close()
    }
  })

  it.skipIf(!hasTool('openssl'))('is accepted by openssl verify for a server at its addresses and names', async () => {
    await loadOrCreateHubTls(dir, 'Lab', names)
    const verify = (...extra: string[]): ReturnType<typeof spawnSync> =>
      spawnSync('openssl', ['verify', '-CAfile', join(dir, CA_CERT_FILE), '-purpose', 'sslserver', ...extra, join(dir, HUB_CERT_FILE)], { encoding: 'utf8' })
    expect(verify().stdout).toMatch(/: OK\n$/)
    expect(verify('-verify_ip', '10.1.2.3').status).toBe(0)
    expect(verify('-verify_hostname', 'hub-test.local').status).toBe(0)
    expect(verify('-verify_hostname', 'other.example').status).not.toBe(0)
    // the CA itself is no server certificate
    const asServer = spawnSync('openssl', ['x509', '-in', join(dir, CA_CERT_FILE), '-noout', '-ext', 'basicConstraints,keyUsage'], { encoding: 'utf8' })
    expect(asServer.stdout).toMatch(/critical\n\s+CA:TRUE, pathlen:0/)
    expect(asServer.stdout).toMatch(/Certificate Sign, CRL Sign/)
  })
})

describe('machineNames', () => {
  it('names this machine by its outside addresses, its host name, and loopback', () => {
    const found = machineNames()
    expect(found.ips).toContain('127.0.0.1')
    expect(found.dnsNames).toContain('localhost')
    expect(found.ips.every((ip) => !/^fe[89ab]/i.test(ip))).toBe(true)
    expect(new Set(found.ips).size).toBe(found.ips.length)
  })
})
