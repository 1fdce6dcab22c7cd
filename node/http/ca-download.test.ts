import { request } from 'node:http'
import { describe, expect, it } from 'vitest'
import { CaDownloadService, lanUrls } from './ca-download.ts'

const names = { ips: ['127.0.0.1', '10.0.0.2', 'fd00::2'], dnsNames: ['localhost', 'hub', 'hub.local'] }

describe('lanUrls', () => {
  it('lists the addresses the listener takes, then the .local name, never loopback', () => {
    expect(lanUrls('https', names, '0.0.0.0', 7080)).toEqual(['https://10.0.0.2:7080/', 'https://hub.local:7080/'])
    expect(lanUrls('http', names, '::', 7082)).toEqual(['http://10.0.0.2:7082/', 'http://[fd00::2]:7082/', 'http://hub.local:7082/'])
    expect(lanUrls('https', names, '10.0.0.2', 7080, '/x')).toEqual(['https://10.0.0.2:7080/x'])
  })
})

describe('the CA download service', () => {
  const ca = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'
  async function withService (check: (base: string) => Promise<void>): Promise<void> {
    const service = new CaDownloadService({ caCert: ca, caFingerprint: 'AA:BB', caName: 'ScanHub lab <b>Neuro</b> CA', appPort: 7080, host: '127.0.0.1', port: 0 })
    const port = await service.start()
    try { await check(`http://127.0.0.1:${port}`) } finally { await service.stop() }
  }

  it('serves the certificate, a page linking the https app by the host it was reached by, and nothing else', async () => {
    await withService(async (base) => {
      const cert = await fetch(`${base}/ca.crt`)
      expect(cert.headers.get('content-type')).toBe('application/x-x509-ca-cert')
      expect(await cert.text()).toBe(ca)
      const page = await (await fetch(`${base}/`)).text()
      expect(page).toContain('href="https://127.0.0.1:7080/"')
      expect(page).toContain('ScanHub lab &#60;b&#62;Neuro&#60;/b&#62; CA')
      expect(page).toContain('AA:BB')
      expect((await fetch(`${base}/api/v1/status`)).status).toBe(404)
      expect((await fetch(`${base}/ca.crt`, { method: 'POST' })).status).toBe(405)
    })
  })

  it('links no app for a Host header that is not a plain address or name', async () => {
    await withService(async (base) => {
      const body = await new Promise<string>((resolve, reject) => {
        const req = request(`${base}/`, { headers: { host: '"><script>x</script>' } }, (res) => {
          let text = ''
          res.on('data', (d: Buffer) => { text += d.toString() })
          res.on('end', () => resolve(text))
        })
        req.on('error', reject)
        req.end()
      })
      expect(body).not.toContain('<script>')
      expect(body).not.toContain('Open ScanHub')
    })
  })
})
