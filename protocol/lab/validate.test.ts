import { describe, expect, it } from 'vitest'
import {
  validateActor, validateDeviceInput, validatePatientInput, validatePatientPatch, validateResultInput,
  validateSequenceInput, validateTaskInput, validateTaskParameters, validateTaskPatch, validateUserInput,
  validateUserPatch, validateWorkflowInput
} from './validate.ts'
import type { Validation } from './validate.ts'
import type { TaskKind } from './schema.ts'

const now = new Date('2024-05-01T12:00:00')
const patient = { firstName: 'Jane', lastName: 'Doe', birthDate: '1980-02-29', sex: 'FEMALE' }
const sha = 'a'.repeat(64)

function errorOf (v: Validation<unknown>): string {
  return v.ok ? 'ok' : v.error
}

describe('patient validation', () => {
  it('accepts a valid patient, trimming names and leaving absent optionals out', () => {
    const v = validatePatientInput({ ...patient, firstName: '  Jane ', heightCm: 170 }, now)
    expect(v).toEqual({ ok: true, value: { ...patient, heightCm: 170 } })
  })

  it.each([
    [{ ...patient, birthDate: '1980/02/29' }, 'birthDate must be a date as YYYY-MM-DD'],
    [{ ...patient, birthDate: 19800229 }, 'birthDate must be a date as YYYY-MM-DD'],
    [{ ...patient, birthDate: '2023-02-30' }, 'birthDate must be a real calendar date'],
    [{ ...patient, birthDate: '1981-02-29' }, 'birthDate must be a real calendar date'],
    [{ ...patient, birthDate: '2024-05-02' }, 'birthDate must not be in the future'],
    [{ ...patient, birthDate: '1850-01-01' }, 'birthDate must not be before 1880-01-01'],
    [{ ...patient, sex: 'F' }, 'sex must be one of MALE, FEMALE, OTHER, NOT_GIVEN'],
    [{ ...patient, heightCm: 5 }, 'heightCm must be a number between 20 and 300'],
    [{ ...patient, heightCm: '170' }, 'heightCm must be a number between 20 and 300'],
    [{ ...patient, heightCm: Number.NaN }, 'heightCm must be a number between 20 and 300'],
    [{ ...patient, weightKg: 1000 }, 'weightKg must be a number between 0.1 and 700'],
    [{ ...patient, firstName: '' }, 'firstName must be a non-empty string'],
    [{ ...patient, firstName: '   ' }, 'firstName must be a non-empty string'],
    [{ ...patient, lastName: 42 }, 'lastName must be a non-empty string'],
    [{ ...patient, lastName: 'x'.repeat(201) }, 'lastName must be at most 200 characters'],
    [{ ...patient, lastName: 'Doe\nSmith' }, 'lastName must be one line without control characters'],
    [{ ...patient, comment: 'c'.repeat(10_001) }, 'comment must be at most 10000 characters'],
    [{ ...patient, foo: 1 }, "unknown field 'foo'"],
    [{ ...patient, createdAt: '2024-01-01T00:00:00.000Z' }, 'createdAt is set by the lab'],
    [{ firstName: 'Jane', lastName: 'Doe', sex: 'FEMALE' }, 'birthDate is required'],
    [{ ...patient, id: 'bad id' }, "id must be an id of 1 to 128 letters, digits, '.', '_', ':' or '-'"],
    ['Jane', 'input must be an object'],
    [null, 'input must be an object'],
    [[patient], 'input must be an object']
  ])('refuses %j: %s', (input, message) => {
    expect(errorOf(validatePatientInput(input, now))).toBe(message)
  })

  it('checks only the given fields of a patch, and null clears an optional field', () => {
    expect(validatePatientPatch({ lastName: 'Roe', heightCm: null }, now)).toEqual({ ok: true, value: { lastName: 'Roe', heightCm: null } })
    expect(validatePatientPatch({ lastName: undefined }, now)).toEqual({ ok: true, value: {} })
  })

  it('refuses patching ids, timestamps, unknown fields, and clearing required fields', () => {
    expect(errorOf(validatePatientPatch({ id: 'x' }, now))).toBe('id cannot be changed')
    expect(errorOf(validatePatientPatch({ updatedAt: 'x' }, now))).toBe('updatedAt cannot be changed')
    expect(errorOf(validatePatientPatch({ nickname: 'x' }, now))).toBe("unknown field 'nickname'")
    expect(errorOf(validatePatientPatch({ firstName: null }, now))).toBe('firstName must be a non-empty string')
    expect(errorOf(validatePatientPatch({ birthDate: '2023-02-30' }, now))).toBe('birthDate must be a real calendar date')
  })
})

describe('task validation', () => {
  it('fills acquisition defaults and refuses bad parameters', () => {
    const v = validateTaskInput({ workflowId: 'w1', type: 'ACQUISITION', name: 'T1 GRE' })
    expect(v).toEqual({
      ok: true,
      value: {
        workflowId: 'w1',
        type: 'ACQUISITION',
        name: 'T1 GRE',
        description: '',
        parameters: { fovScaling: [1, 1, 1], fovOffsetMm: [0, 0, 0], fovRotationDeg: [0, 0, 0], calibrations: [] }
      }
    })
    expect(errorOf(validateTaskInput({ workflowId: 'w1', type: 'ACQUISITION', name: 'x', parameters: { fovScaling: [1, 1] } })))
      .toBe('parameters.fovScaling must be three numbers [x, y, z] between 0.01 and 100')
    expect(errorOf(validateTaskInput({ workflowId: 'w1', type: 'ACQUISITION', name: 'x', parameters: { calibrations: ['SHIM', 'SHIM'] } })))
      .toBe('parameters.calibrations must be a list of FREQUENCY, FLIP_ANGLE, SHIM without repeats')
    expect(errorOf(validateTaskInput({ workflowId: 'w1', type: 'ACQUISITION', name: 'x', parameters: { pipeline: 'fft' } })))
      .toBe("unknown field 'parameters.pipeline'")
  })

  it('requires a pipeline for reconstruction and checks the type', () => {
    expect(errorOf(validateTaskInput({ workflowId: 'w1', type: 'RECONSTRUCTION', name: 'recon' }))).toBe('parameters is required')
    expect(errorOf(validateTaskInput({ workflowId: 'w1', type: 'RECONSTRUCTION', name: 'recon', parameters: {} }))).toBe('parameters.pipeline is required')
    expect(errorOf(validateTaskInput({ workflowId: 'w1', type: 'SCAN', name: 'x' }))).toBe('type must be one of ACQUISITION, RECONSTRUCTION, PROCESSING')
    expect(errorOf(validateTaskInput({ workflowId: 'w1', name: 'x' }))).toBe('type is required')
    expect(errorOf(validateTaskInput({ workflowId: 'w1', type: 'ACQUISITION', name: 'x', status: 'FINISHED' }))).toBe('status is set by the lab')
    expect(errorOf(validateTaskParameters('PROCESSING', { pipeline: 'denoise', options: { f: () => 1 } })))
      .toBe('parameters.options must be an object of JSON values')
    expect(errorOf(validateTaskParameters('PROCESSING', { pipeline: 'denoise', options: { big: 'x'.repeat(70_000) } })))
      .toBe('parameters.options must be at most 65536 characters as JSON')
  })

  it('merges a parameters patch into the current parameters', () => {
    const current: TaskKind = { type: 'RECONSTRUCTION', parameters: { pipeline: 'cartesian', options: { a: 1 }, preferredPeerId: 'p1' } }
    expect(validateTaskPatch({ parameters: { options: { b: 2 }, preferredPeerId: null } }, current)).toEqual({
      ok: true, value: { parameters: { pipeline: 'cartesian', options: { b: 2 } } }
    })
    expect(errorOf(validateTaskPatch({ parameters: { pipeline: null } }, current))).toBe('parameters.pipeline is required')
    expect(errorOf(validateTaskPatch({ type: 'PROCESSING' }, current))).toBe('type cannot be changed')
    expect(errorOf(validateTaskPatch({ status: 'FINISHED' }, current))).toBe('status cannot be changed by update: use tasks.setStatus')
    expect(errorOf(validateTaskPatch({ position: 3 }, current))).toBe('position cannot be changed')
  })
})

describe('other entities', () => {
  it('checks workflows, results, sequences, devices and users', () => {
    expect(errorOf(validateWorkflowInput({ examId: 'e1', name: 'w', patientId: 'p' }))).toBe('patientId is set by the lab')
    expect(errorOf(validateResultInput({ taskId: 't', type: 'DICOM', files: [] }))).toBe('files must have at least 1 entry')
    expect(errorOf(validateResultInput({ taskId: 't', type: 'DICOM', files: [{ name: 'a.dcm', sha256: 'XYZ', size: 1, type: 'application/dicom' }] })))
      .toBe('files[0].sha256 must be a sha-256 as 64 lowercase hexadecimal digits')
    expect(errorOf(validateResultInput({ taskId: 't', type: 'DICOM', files: [{ name: 'a.dcm', sha256: sha, size: -1, type: 'application/dicom' }] })))
      .toBe('files[0].size must be a whole number, 0 or more')
    expect(errorOf(validateSequenceInput({ name: 'gre', type: 'pulseq', blob: { sha256: sha, size: 10, path: '/tmp' } })))
      .toBe("unknown field 'blob.path'")
    expect(errorOf(validateSequenceInput({ name: 'gre', type: 'pulseq', blob: { sha256: sha, size: 10 }, tags: ['a', ''] })))
      .toBe('tags[1] must be a non-empty string')
    expect(errorOf(validateDeviceInput({ peerId: 'p', name: 'osi', manufacturer: 'OSI', model: 'ONE', fieldStrengthT: 0, driver: 'serial' })))
      .toBe('fieldStrengthT must be a number between 0.001 and 30')
    expect(errorOf(validateDeviceInput({ peerId: 'p', name: 'osi', manufacturer: 'OSI', model: 'ONE', fieldStrengthT: 0.05, driver: 'serial', parameters: { a: {} } })))
      .toBe('parameters must be an object of at most 256 numbers, strings (up to 1000 characters) and booleans')
    const user = { username: 'alice', firstName: 'Alice', lastName: 'A', email: 'alice@example.org', role: 'medical', passwordHash: 'scrypt$abc' }
    expect(validateUserInput(user).ok).toBe(true)
    expect(errorOf(validateUserInput({ ...user, username: 'Alice' }))).toMatch(/^username must be 1 to 64 lowercase letters/)
    expect(errorOf(validateUserInput({ ...user, email: 'nope' }))).toBe('email must be an email address such as name@example.org, or empty')
    expect(errorOf(validateUserInput({ ...user, role: 'root' }))).toBe('role must be one of admin, medical, scientist, engineer, viewer')
    expect(errorOf(validateUserPatch({ username: 'bob' }))).toBe('username cannot be changed')
    expect(errorOf(validateUserPatch({ lastLoginAt: 'yesterday' }))).toBe('lastLoginAt must be an ISO 8601 time such as 2024-01-31T12:00:00.000Z')
    expect(validateUserPatch({ lastLoginAt: '2024-05-01T12:00:00.000Z' }).ok).toBe(true)
  })

  it('needs an actor with a name and a peer id', () => {
    expect(errorOf(validateActor({ name: 'alice' }))).toBe('actor.peerId must be a non-empty string')
    expect(errorOf(validateActor(undefined))).toBe('actor must be an object')
    expect(validateActor({ name: 'peer:abc', peerId: 'abc' })).toEqual({ ok: true, value: { name: 'peer:abc', peerId: 'abc' } })
  })
})

describe('text that is not well-formed Unicode', () => {
  it('is refused in any field, naming the field and not the value', () => {
    const input = { firstName: 'Ada', lastName: 'Love\uD800lace', birthDate: '1985-12-10', sex: 'FEMALE' }
    const result = validatePatientInput(input, new Date('2026-01-01T00:00:00Z'))
    expect(result).toEqual({ ok: false, error: 'lastName is not well-formed Unicode text (it holds a lone UTF-16 surrogate)' })
    expect(validatePatientPatch({ comment: '\uDC00' }, new Date('2026-01-01T00:00:00Z'))).toMatchObject({ ok: false, error: expect.stringMatching(/^comment is not well-formed/) })
  })
})
