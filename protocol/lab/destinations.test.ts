// PACS destinations in the lab document: what a destination may hold, and what is refused.
import { describe, expect, it } from 'vitest'
import { Lab } from './lab.ts'
import { MemoryDocSource } from './memory-doc-source.ts'
import { alice } from './test-support.ts'
import { validateDestinationInput, validateDestinationPatch } from './validate.ts'

const dimse = { name: 'Hospital PACS', kind: 'dimse', aeTitle: 'ORTHANC', host: 'pacs.example.org', port: 4242 }
const web = { name: 'DICOMweb', kind: 'dicomweb', url: 'https://pacs.example.org/dicom-web/' }

function errorOf (input: unknown): string {
  const checked = validateDestinationInput(input)
  return checked.ok ? '' : checked.error
}

describe('destination validation', () => {
  it('keeps a DIMSE destination, AE titles trimmed; a DICOMweb URL without its trailing slash', () => {
    expect(validateDestinationInput({ ...dimse, aeTitle: ' ORTHANC ', callingAeTitle: 'SCAN HUB' })).toEqual({ ok: true, value: { ...dimse, callingAeTitle: 'SCAN HUB' } })
    expect(validateDestinationInput({ ...web, username: 'lab', password: 's3cret' })).toEqual({ ok: true, value: { ...web, url: 'https://pacs.example.org/dicom-web', username: 'lab', password: 's3cret' } })
    expect(validateDestinationInput({ ...dimse, host: '10.0.0.7' }).ok).toBe(true)
    expect(validateDestinationInput({ ...dimse, host: 'fe80::1' }).ok).toBe(true)
  })

  it('refuses AE titles DICOM does not allow', () => {
    for (const aeTitle of ['', '    ', 'A'.repeat(17), 'BACK\\SLASH', 'TAB\tTITLE', 'ÜMLAUT']) {
      expect(errorOf({ ...dimse, aeTitle })).toMatch(/aeTitle must be a DICOM AE title/)
    }
    expect(errorOf({ ...dimse, callingAeTitle: 'X'.repeat(17) })).toMatch(/callingAeTitle must be a DICOM AE title/)
  })

  it('refuses ports out of range, bad hosts, URLs that are not http(s) or carry credentials, and unknown kinds', () => {
    for (const port of [0, 65536, 4242.5, '4242']) expect(errorOf({ ...dimse, port })).toMatch(/port must be a port number from 1 to 65535/)
    expect(errorOf({ ...dimse, host: 'pacs example' })).toMatch(/host must be a host name/)
    expect(errorOf({ ...web, url: 'ftp://pacs/dicom-web' })).toMatch(/url must be an http or https URL/)
    expect(errorOf({ ...web, url: 'not a url' })).toMatch(/url must be an http or https URL/)
    expect(errorOf({ ...web, url: 'https://user:pw@pacs/dicom-web' })).toMatch(/must not hold a user name or password/)
    expect(errorOf({ ...dimse, kind: 'ftp' })).toMatch(/kind must be one of dimse, dicomweb/)
    expect(errorOf({ name: 'x', aeTitle: 'A', host: 'h', port: 1 })).toMatch(/kind is required/)
    expect(errorOf({ ...dimse, url: 'http://pacs' })).toMatch(/unknown field 'url'/)
  })

  it('a patch changes fields of the destination\'s kind only, never the kind', () => {
    expect(validateDestinationPatch({ port: 104, callingAeTitle: null }, { kind: 'dimse' })).toEqual({ ok: true, value: { port: 104, callingAeTitle: null } })
    expect(validateDestinationPatch({ kind: 'dicomweb' }, { kind: 'dimse' })).toEqual({ ok: false, error: 'kind cannot be changed' })
    expect(validateDestinationPatch({ url: 'http://x' }, { kind: 'dimse' })).toEqual({ ok: false, error: "unknown field 'url'" })
  })
})

describe('the destinations collection', () => {
  it('creates, lists by name, updates and removes destinations, audited', () => {
    const lab = new Lab(new MemoryDocSource())
    const b = lab.destinations.create({ ...dimse, name: 'B' } as never, alice)
    const a = lab.destinations.create({ ...web, name: 'A' } as never, alice)
    expect(lab.destinations.list().map((d) => d.name)).toEqual(['A', 'B'])
    expect(lab.destinations.update(b.id, { port: 11112 }, alice)).toMatchObject({ kind: 'dimse', port: 11112, updatedBy: 'alice' })
    lab.destinations.remove(a.id, alice)
    expect(lab.destinations.list().map((d) => d.id)).toEqual([b.id])
    expect(lab.audit().filter((e) => e.entity === 'destination').map((e) => e.action)).toEqual(['create', 'create', 'update', 'delete'])
  })

  it('an exam made from a template that sends automatically carries the destinations', () => {
    const lab = new Lab(new MemoryDocSource())
    const destination = lab.destinations.create(dimse as never, alice)
    const template = lab.examTemplates.create({ name: 'Head', autoExportDestinationIds: [destination.id] }, alice)
    const patient = lab.patients.create({ firstName: 'Ada', lastName: 'Lovelace', birthDate: '1985-12-10', sex: 'FEMALE' }, alice)
    expect(lab.instantiateExam(template.id, patient.id, alice).autoExportDestinationIds).toEqual([destination.id])
  })
})
