// Errors next to the fields they are about. The lab model's and the hub's validation messages start
// with the field's name ("birthDate must be a date as YYYY-MM-DD"), so a message finds its field;
// one that names no field of the form is shown for the whole form.
import { html, nothing } from 'lit'
import type { TemplateResult } from 'lit'

export type FieldErrors = Record<string, string>

/** Puts the message under the field it names, or under '' for the form. */
export function errorsFromMessage (message: string, fields: readonly string[]): FieldErrors {
  const first = /^([A-Za-z][\w.[\]]*)\s/.exec(message)?.[1] ?? ''
  const field = fields.find((f) => first === f || first.startsWith(`${f}.`) || first.startsWith(`${f}[`))
  return field === undefined ? { '': message } : { [field]: message }
}

/** The error line of a field; its id is what the input's aria-describedby names. */
export function fieldError (errors: FieldErrors, field: string, idPrefix = ''): TemplateResult | typeof nothing {
  const message = errors[field]
  return message === undefined ? nothing : html`<span class="field-error" id="${idPrefix}${field}-error" role="alert">${message}</span>`
}

export function formError (errors: FieldErrors): TemplateResult | typeof nothing {
  const message = errors['']
  return message === undefined ? nothing : html`<p class="form-error" role="alert">${message}</p>`
}

/** aria-invalid and aria-describedby for an input with that field name. */
export function invalid (errors: FieldErrors, field: string): 'true' | 'false' {
  return errors[field] === undefined ? 'false' : 'true'
}
