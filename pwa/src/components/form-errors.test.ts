import { describe, expect, it } from 'vitest'
import { errorsFromMessage } from './form-errors.ts'

describe('errorsFromMessage', () => {
  it('puts a message under the field it names, else under the form', () => {
    expect(errorsFromMessage('birthDate must be a date as YYYY-MM-DD', ['firstName', 'birthDate'])).toEqual({ birthDate: 'birthDate must be a date as YYYY-MM-DD' })
    expect(errorsFromMessage('parameters.fovScaling must be three numbers', ['name', 'parameters'])).toEqual({ parameters: 'parameters.fovScaling must be three numbers' })
    expect(errorsFromMessage('viewers cannot change anything', ['name'])).toEqual({ '': 'viewers cannot change anything' })
  })
})
