import { describe, expect, it } from 'vitest'
import { parseRoute } from './router.ts'

describe('parseRoute', () => {
  it('maps the app\'s paths', () => {
    expect(parseRoute('/', '')).toEqual({ name: 'patients' })
    expect(parseRoute('/patients/abc-1', '')).toEqual({ name: 'patient', patientId: 'abc-1' })
    expect(parseRoute('/library', '?tab=templates')).toEqual({ name: 'library', tab: 'templates' })
    expect(parseRoute('/library', '?tab=nonsense')).toEqual({ name: 'library', tab: 'devices' })
    expect(parseRoute('/members', '')).toEqual({ name: 'members' })
    expect(parseRoute('/worklist', '')).toEqual({ name: 'worklist' })
    expect(parseRoute('/pacs', '')).toEqual({ name: 'pacs' })
    expect(parseRoute('/pacs/extra', '')).toEqual({ name: 'not-found', path: '/pacs/extra' })
    expect(parseRoute('/audit', '')).toEqual({ name: 'audit' })
    expect(parseRoute('/audit/x', '')).toEqual({ name: 'not-found', path: '/audit/x' })
    const sha = 'a'.repeat(64)
    expect(parseRoute('/viewer', `?sha256=${sha}&sha256=bad`)).toEqual({ name: 'viewer', resultId: undefined, blobs: [sha] })
    expect(parseRoute('/nowhere/else', '')).toEqual({ name: 'not-found', path: '/nowhere/else' })
  })
})
