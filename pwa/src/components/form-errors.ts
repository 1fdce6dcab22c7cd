// Errors next to the fields they are about. The lab model's and the hub's validation messages start
// with the field's name ("birthDate must be a date as YYYY-MM-DD"), so a message finds its field;
// one that names no field of the form is shown for the whole form. Before a message is shown it is
// put in the form's words: the field's label instead of its name, dates in the user's locale, and
// nothing about a date's notation (the date input shows the locale's, not YYYY-MM-DD).
import { html, nothing } from 'lit'
import type { TemplateResult } from 'lit'
import { formatDate } from '../views/format.ts'

export type FieldErrors = Record<string, string>

/** A field of a form as its user sees it. */
export interface FormField {
  /** the name the lab model gives it (and the form's input) */
  name: string
  /** the label shown next to the input */
  label: string
  required?: boolean
}

/** The first word of a model message: the field (or field path) it is about. */
function fieldOf (message: string): string {
  return /^([A-Za-z][\w.[\]]*)\s/.exec(message)?.[1] ?? ''
}

/** A model message about a field, in the words of the form: "Height (cm) must be a number between 20 and 300". */
export function plainMessage (message: string, label: string): string {
  const rest = message.slice(fieldOf(message).length).trim()
    .replace(/^must be a non-empty string$|^is required$/, 'is required')
    .replace(/^must be a string$/, 'must be text')
    .replace(/^must be a date as YYYY-MM-DD$/, 'must be a date')
    .replace(/^must be one of .*$/, 'must be one of the choices offered')
    .replace(/\b\d{4}-\d{2}-\d{2}\b/g, (iso) => formatDate(iso))
  return `${label} ${rest}`
}

/** Puts the message under the field it names, or under '' for the form; with the form's fields, in their words. */
export function errorsFromMessage (message: string, fields: ReadonlyArray<string | FormField>): FieldErrors {
  const first = fieldOf(message)
  const field = fields.find((f) => {
    const name = typeof f === 'string' ? f : f.name
    return first === name || first.startsWith(`${name}.`) || first.startsWith(`${name}[`)
  })
  if (field === undefined) return { '': message }
  return typeof field === 'string' ? { [field]: message } : { [field.name]: plainMessage(message, field.label) }
}

/**
 * Every error of a form at once: each field is checked on its own (`check` answers a model message,
 * or undefined when the value is fine), and an empty required field is named as such.
 */
export function fieldErrors (fields: readonly FormField[], values: Record<string, string>, check: (name: string, value: string) => string | undefined): FieldErrors {
  const errors: FieldErrors = {}
  for (const field of fields) {
    const value = values[field.name] ?? ''
    if (field.required === true && value.trim() === '') {
      errors[field.name] = `${field.label} is required`
      continue
    }
    const message = check(field.name, value)
    if (message !== undefined) errors[field.name] = plainMessage(message, field.label)
  }
  return errors
}

/** Moves the focus to the first field of the form that has an error (after the form has rendered them). */
export function focusFirstInvalid (form: ParentNode | null | undefined): void {
  form?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus()
}

/** Moves the focus to the first field of a form the user has just opened. */
export function focusFirstField (form: ParentNode | null | undefined): void {
  form?.querySelector<HTMLElement>('input:not([type="hidden"]):not(:disabled), select:not(:disabled), textarea:not(:disabled)')?.focus()
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
