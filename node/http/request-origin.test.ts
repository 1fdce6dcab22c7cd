import { hostname } from 'node:os'
import { describe, expect, it } from 'vitest'
import { refuseForeignRequest } from './request-origin.ts'

const request = (headers: Record<string, string>, method = 'POST'): { headers: Record<string, string>, method: string } => ({ headers, method })

describe('requests from foreign sites', () => {
  it('lets the app and non-browser clients through', () => {
    expect(refuseForeignRequest(request({ host: 'localhost:7080' }))).toBeUndefined()
    expect(refuseForeignRequest(request({ host: '127.0.0.1:7080', origin: 'http://127.0.0.1:7080', 'sec-fetch-site': 'same-origin' }))).toBeUndefined()
    expect(refuseForeignRequest(request({ host: '[::1]:7080', origin: 'http://[::1]:7080' }))).toBeUndefined()
    expect(refuseForeignRequest(request({ host: '192.168.1.20:7443', origin: 'https://192.168.1.20:7443' }))).toBeUndefined()
    expect(refuseForeignRequest(request({ host: `${hostname()}.local:7080` }))).toBeUndefined()
    expect(refuseForeignRequest(request({ host: 'hub.lab:7443' }), { allowedHostNames: ['hub.lab'] })).toBeUndefined()
  })

  it('lets the app through by every name the --lan certificate gives the hub', () => {
    // node/lab/lab-ca.ts machineNames: the LAN addresses (IPv4 and IPv6), the host name and its .local name
    for (const host of ['10.0.0.2:7080', '[fd00::2]:7080', `${hostname()}:7080`, `${hostname().toUpperCase()}.local:7080`]) {
      expect({ host, refused: refuseForeignRequest(request({ host, origin: `https://${host}`, 'sec-fetch-site': 'same-origin' })) }).toEqual({ host, refused: undefined })
    }
  })

  it('refuses a cross-site POST (CSRF)', () => {
    expect(refuseForeignRequest(request({ host: 'localhost:7080', origin: 'https://evil.example' }))).toMatch(/cross-origin/)
    expect(refuseForeignRequest(request({ host: 'localhost:7080', 'sec-fetch-site': 'cross-site' }))).toMatch(/cross-site/)
    expect(refuseForeignRequest(request({ host: 'localhost:7080', origin: 'null' }))).toMatch(/cross-origin/)
    // same host name, other port: another origin
    expect(refuseForeignRequest(request({ host: 'localhost:7080', origin: 'http://localhost:8000' }))).toMatch(/cross-origin/)
  })

  it('refuses a host name that is not this machine (DNS rebinding)', () => {
    expect(refuseForeignRequest(request({ host: 'rebind.evil.example:7080', origin: 'http://rebind.evil.example:7080' }))).toMatch(/DNS rebinding/)
    expect(refuseForeignRequest(request({}))).toMatch(/no Host/)
  })
})
