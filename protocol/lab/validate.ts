// Validation of what a write puts into the lab documents. Pure functions: they return the value to
// store (trimmed names, defaults filled in) or an error that names the field and what is wrong.
// Error messages never repeat the value, since patient data must not end up in logs.
import { malformedTextAt } from '../unicode.ts'
import { isValidUid, MAX_UID_LENGTH } from '../dicom/uid.ts'
import { PROTOCOL_FIELDS, PROTOCOL_RANGES } from '../pulseq/protocol-params.ts'
import { CALIBRATIONS, DESTINATION_KINDS, RESULT_TYPES, ROLES, SEXES, TASK_TYPES } from './schema.ts'
import type {
  Actor, Destination, DestinationInput, DestinationPatch, DeviceInput, DevicePatch, ExamInput, ExamPatch, ExamTemplateInput, ExamTemplatePatch, PatientInput,
  PatientPatch, ResultInput, SequenceInput, SequencePatch, TaskInput, TaskKind, TaskParameters, TaskPatch,
  TaskTemplateInput, TaskTemplatePatch, TaskType, UserInput, UserPatch, WorkflowInput, WorkflowPatch,
  WorkflowTemplateInput, WorkflowTemplatePatch
} from './schema.ts'

export type Validation<T> = { ok: true, value: T } | { ok: false, error: string }

/** Longest one-line name (patient names, entity names). */
export const MAX_NAME_LENGTH = 200
/** Longest free text (descriptions, comments). */
export const MAX_TEXT_LENGTH = 10_000
/**
 * Largest JSON value (options, summaries, headers). The documents are synced to every peer and
 * never shrink, so anything bigger belongs in a blob.
 */
export const MAX_JSON_LENGTH = 65_536
/** Earliest birth date accepted. */
export const MIN_BIRTH_DATE = '1880-01-01'

type Check = (value: unknown, field: string) => Validation<unknown>

/**
 * 'required': must be given at create and cannot be cleared; 'optional': may be absent, and a
 * patch clears it with null; a function: the default used when absent at create (not clearable).
 */
type Presence = 'required' | 'optional' | (() => unknown)

interface Rule {
  check: Check
  presence: Presence
  /** Given at create only. */
  fixed?: boolean
}

type Rules = Record<string, Rule>

function ok<T> (value: T): { ok: true, value: T } {
  return { ok: true, value }
}

function fail (error: string): { ok: false, error: string } {
  return { ok: false, error }
}

export function isPlainObject (value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** Fields every stamped entity gets from the lab, never from the input. */
const STAMPS = ['createdAt', 'updatedAt', 'createdBy', 'updatedBy']

const MANAGED_HINTS: Record<string, string> = {
  status: 'status cannot be changed by update: use tasks.setStatus'
}

/**
 * Checks an object against its rules. At create, required fields must be present and defaults are
 * filled in; in a patch, only the given fields are checked and null clears an optional field.
 */
function validateObject (
  rules: Rules,
  input: unknown,
  mode: 'create' | 'patch',
  options: { what?: string, prefix?: string, managed?: readonly string[] } = {}
): Validation<Record<string, unknown>> {
  const prefix = options.prefix ?? ''
  const managed = options.managed ?? []
  if (!isPlainObject(input)) return fail(`${options.what ?? 'input'} must be an object`)
  // a lone surrogate would be stored as-is here and as U+FFFD on every other peer (protocol/unicode.ts)
  const malformed = malformedTextAt(input, prefix.replace(/\.$/, ''))
  if (malformed !== undefined) return fail(`${malformed === '' ? 'a field name' : malformed} is not well-formed Unicode text (it holds a lone UTF-16 surrogate)`)
  for (const key of Object.keys(input)) {
    if (input[key] === undefined) continue
    if (managed.includes(key)) {
      if (mode === 'create') return fail(`${prefix}${key} is set by the lab`)
      return fail(MANAGED_HINTS[key] ?? `${prefix}${key} cannot be changed`)
    }
    const rule = Object.hasOwn(rules, key) ? rules[key] : undefined
    if (rule === undefined) return fail(`unknown field '${prefix}${key}'`)
    if (mode === 'patch' && rule.fixed === true) return fail(`${prefix}${key} cannot be changed`)
  }
  const value: Record<string, unknown> = {}
  for (const [key, rule] of Object.entries(rules)) {
    const field = prefix + key
    let raw = input[key]
    if (mode === 'patch') {
      if (raw === undefined) continue
      if (raw === null && rule.presence === 'optional') {
        value[key] = null
        continue
      }
    } else if (raw === undefined || (raw === null && rule.presence === 'optional')) {
      if (rule.presence === 'required') return fail(`${field} is required`)
      if (rule.presence === 'optional') continue
      raw = rule.presence()
    }
    const checked = rule.check(raw, field)
    if (!checked.ok) return checked
    value[key] = checked.value
  }
  return ok(value)
}

// ---- checks ----

function hasControlCharacters (text: string, allowLineBreaks: boolean): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code === 127) return true
    if (code < 32 && !(allowLineBreaks && (code === 9 || code === 10 || code === 13))) return true
  }
  return false
}

/** A non-empty one-line string, stored trimmed: names, labels. */
function line (max: number = MAX_NAME_LENGTH): Check {
  return (value, field) => {
    if (typeof value !== 'string' || value.trim() === '') return fail(`${field} must be a non-empty string`)
    const trimmed = value.trim()
    if (trimmed.length > max) return fail(`${field} must be at most ${max} characters`)
    if (hasControlCharacters(trimmed, false)) return fail(`${field} must be one line without control characters`)
    return ok(trimmed)
  }
}

/** A non-empty string kept exactly as given (hashes, tokens). */
function opaque (max: number): Check {
  return (value, field) => {
    if (typeof value !== 'string' || value === '') return fail(`${field} must be a non-empty string`)
    if (value.length > max) return fail(`${field} must be at most ${max} characters`)
    if (hasControlCharacters(value, false)) return fail(`${field} must not contain control characters`)
    return ok(value)
  }
}

/** Free text, possibly empty, possibly several lines. */
function text (max: number = MAX_TEXT_LENGTH): Check {
  return (value, field) => {
    if (typeof value !== 'string') return fail(`${field} must be a string`)
    if (value.length > max) return fail(`${field} must be at most ${max} characters`)
    if (hasControlCharacters(value, true)) return fail(`${field} must not contain control characters`)
    return ok(value)
  }
}

function oneOf (values: readonly string[]): Check {
  return (value, field) => typeof value === 'string' && values.includes(value)
    ? ok(value)
    : fail(`${field} must be one of ${values.join(', ')}`)
}

function numberBetween (min: number, max: number): Check {
  return (value, field) => typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max
    ? ok(value)
    : fail(`${field} must be a number between ${min} and ${max}`)
}

const count: Check = (value, field) => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
  ? ok(value)
  : fail(`${field} must be a whole number, 0 or more`)

const boolean: Check = (value, field) => typeof value === 'boolean' ? ok(value) : fail(`${field} must be true or false`)

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/
const id: Check = (value, field) => typeof value === 'string' && ID.test(value)
  ? ok(value)
  : fail(`${field} must be an id of 1 to 128 letters, digits, '.', '_', ':' or '-'`)

const USERNAME = /^[a-z0-9][a-z0-9._-]{0,63}$/
const username: Check = (value, field) => typeof value === 'string' && USERNAME.test(value)
  ? ok(value)
  : fail(`${field} must be 1 to 64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit`)

const EMAIL = /^[^\s@]+@[^\s@]+$/
const email: Check = (value, field) => typeof value === 'string' && (value === '' || (value.length <= 254 && EMAIL.test(value)))
  ? ok(value)
  : fail(`${field} must be an email address such as name@example.org, or empty`)

const SHA256 = /^[0-9a-f]{64}$/
const sha256: Check = (value, field) => typeof value === 'string' && SHA256.test(value)
  ? ok(value)
  : fail(`${field} must be a sha-256 as 64 lowercase hexadecimal digits`)

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/

/** YYYY-MM-DD of `now` in this peer's time zone: the lab's calendar day. */
export function localDate (now: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0')
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`
}

function calendarDate (value: unknown, field: string): Validation<string> {
  const match = typeof value === 'string' ? DATE.exec(value) : null
  if (match === null) return fail(`${field} must be a date as YYYY-MM-DD`)
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])]
  // Date.UTC maps years 0-99 to 1900-1999; such years are refused by range before they get here.
  const date = new Date(Date.UTC(year, month - 1, day))
  if (year < 1000 || date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    return fail(`${field} must be a real calendar date`)
  }
  return ok(match[0])
}

function birthDate (now: Date): Check {
  return (value, field) => {
    const checked = calendarDate(value, field)
    if (!checked.ok) return checked
    if (checked.value < MIN_BIRTH_DATE) return fail(`${field} must not be before ${MIN_BIRTH_DATE}`)
    if (checked.value > localDate(now)) return fail(`${field} must not be in the future`)
    return checked
  }
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/
const isoTime: Check = (value, field) => typeof value === 'string' && ISO_TIME.test(value) && !Number.isNaN(Date.parse(value))
  ? ok(value)
  : fail(`${field} must be an ISO 8601 time such as 2024-01-31T12:00:00.000Z`)

function vec3 (min: number, max: number): Check {
  return (value, field) => Array.isArray(value) && value.length === 3 &&
    value.every((n) => typeof n === 'number' && Number.isFinite(n) && n >= min && n <= max)
    ? ok([value[0], value[1], value[2]])
    : fail(`${field} must be three numbers [x, y, z] between ${min} and ${max}`)
}

const calibrations: Check = (value, field) => Array.isArray(value) &&
  value.every((c) => typeof c === 'string' && (CALIBRATIONS as readonly string[]).includes(c)) &&
  new Set(value).size === value.length
  ? ok([...value])
  : fail(`${field} must be a list of ${CALIBRATIONS.join(', ')} without repeats`)

function listOf (check: Check, min: number, max: number): Check {
  return (value, field) => {
    if (!Array.isArray(value)) return fail(`${field} must be a list`)
    if (value.length < min) return fail(`${field} must have at least ${min} ${min === 1 ? 'entry' : 'entries'}`)
    if (value.length > max) return fail(`${field} must have at most ${max} entries`)
    const out: unknown[] = []
    for (let i = 0; i < value.length; i++) {
      const checked = check(value[i], `${field}[${i}]`)
      if (!checked.ok) return checked
      out.push(checked.value)
    }
    return ok(out)
  }
}

function object (rules: Rules): Check {
  return (value, field) => validateObject(rules, value, 'create', { what: field, prefix: `${field}.` })
}

function isJson (value: unknown, depth: number): boolean {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return true
  if (typeof value === 'number') return Number.isFinite(value)
  if (depth > 32) return false
  if (Array.isArray(value)) return value.every((v) => isJson(v, depth + 1))
  if (isPlainObject(value)) return Object.values(value).every((v) => isJson(v, depth + 1))
  return false
}

/** An object of JSON values, bounded in size. Returned as a copy so the caller's object stays theirs. */
function jsonObject (max: number = MAX_JSON_LENGTH): Check {
  return (value, field) => {
    if (!isPlainObject(value) || !isJson(value, 0)) return fail(`${field} must be an object of JSON values`)
    const json = JSON.stringify(value)
    if (json.length > max) return fail(`${field} must be at most ${max} characters as JSON`)
    return ok(JSON.parse(json))
  }
}

const scalarRecord: Check = (value, field) => {
  const message = `${field} must be an object of at most 256 numbers, strings (up to 1000 characters) and booleans`
  if (!isPlainObject(value)) return fail(message)
  const entries = Object.entries(value)
  if (entries.length > 256) return fail(message)
  for (const [key, v] of entries) {
    if (key.length === 0 || key.length > 64) return fail(message)
    const scalar = typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && v.length <= 1000)
    if (!scalar) return fail(message)
  }
  return ok({ ...value })
}

// ---- rules per entity ----

const patientRules = (now: Date): Rules => ({
  id: { check: id, presence: 'optional', fixed: true },
  // DICOM LO: at most 64 characters
  mrn: { check: line(64), presence: 'optional' },
  firstName: { check: line(), presence: 'required' },
  lastName: { check: line(), presence: 'required' },
  birthDate: { check: birthDate(now), presence: 'required' },
  sex: { check: oneOf(SEXES), presence: 'required' },
  heightCm: { check: numberBetween(20, 300), presence: 'optional' },
  weightKg: { check: numberBetween(0.1, 700), presence: 'optional' },
  comment: { check: text(), presence: 'optional' }
})

const description: Rule = { check: text(), presence: () => '' }
const indication: Rule = { check: text(2000), presence: 'optional' }

/** A DICOM UID (UI): dot-separated numbers without leading zeros, at most 64 characters. */
const dicomUid: Check = (value, field) => typeof value === 'string' && isValidUid(value.trim())
  ? ok(value.trim())
  : fail(`${field} must be a DICOM UID: at most ${MAX_UID_LENGTH} characters of digits and dots, such as 1.2.840.10008.1, without leading zeros in a component`)

const examRules: Rules = {
  id: { check: id, presence: 'optional', fixed: true },
  patientId: { check: id, presence: 'required', fixed: true },
  name: { check: line(), presence: 'required' },
  description,
  indication,
  // DICOM SH: at most 16 characters
  studyInstanceUid: { check: dicomUid, presence: 'optional' },
  accessionNumber: { check: line(16), presence: 'optional' },
  autoExportDestinationIds: { check: listOf(id, 0, 16), presence: 'optional' }
}

const workflowRules: Rules = {
  id: { check: id, presence: 'optional', fixed: true },
  examId: { check: id, presence: 'required', fixed: true },
  name: { check: line(), presence: 'required' },
  description
}

/**
 * A built-in sequence's protocol: each value within the widest range any built-in takes. Whether it
 * suits the chosen sequence (the shortest TR for its TE, the gradients' limits) is checked where the
 * sequence is built, which says which limit was passed.
 */
function protocolRules (): Rules {
  const rules: Rules = {}
  for (const field of PROTOCOL_FIELDS) {
    const { min, max } = PROTOCOL_RANGES[field]
    const check = field === 'matrix'
      ? wholeNumbers(2, min, max)
      : field === 'slices' ? wholeNumbers(undefined, min, max) : numberBetween(min, max)
    rules[field] = { check, presence: 'optional' }
  }
  return rules
}

/** A whole number from min to max, or (with a length) a list of that many. */
function wholeNumbers (length: number | undefined, min: number, max: number): Check {
  const whole = (n: unknown): boolean => typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max
  return (value, field) => {
    if (length === undefined) return whole(value) ? ok(value) : fail(`${field} must be a whole number from ${min} to ${max}`)
    return Array.isArray(value) && value.length === length && value.every(whole)
      ? ok([...value])
      : fail(`${field} must be ${length} whole numbers from ${min} to ${max}`)
  }
}

const acquisitionRules: Rules = {
  sequenceId: { check: id, presence: 'optional' },
  deviceId: { check: id, presence: 'optional' },
  fovScaling: { check: vec3(0.01, 100), presence: () => [1, 1, 1] },
  fovOffsetMm: { check: vec3(-1000, 1000), presence: () => [0, 0, 0] },
  fovRotationDeg: { check: vec3(-360, 360), presence: () => [0, 0, 0] },
  calibrations: { check: calibrations, presence: () => [] },
  protocol: { check: object(protocolRules()), presence: 'optional' }
}

const processingRules: Rules = {
  inputTaskId: { check: id, presence: 'optional' },
  pipeline: { check: line(128), presence: 'required' },
  options: { check: jsonObject(), presence: () => ({}) }
}

const reconstructionRules: Rules = {
  ...processingRules,
  preferredPeerId: { check: id, presence: 'optional' }
}

const PARAMETER_RULES: Record<TaskType, Rules> = {
  ACQUISITION: acquisitionRules,
  RECONSTRUCTION: reconstructionRules,
  PROCESSING: processingRules
}

const TASK_MANAGED = [...STAMPS, 'examId', 'patientId', 'position', 'status', 'startedAt', 'startedBy', 'finishedAt', 'error', 'run', 'inputRun']
const TEMPLATE_MANAGED = [...STAMPS, 'position']

/** Checks the parameters of a task of this type, filling in defaults. */
export function validateTaskParameters (type: TaskType, parameters: unknown, field = 'parameters'): Validation<TaskParameters> {
  return validateObject(PARAMETER_RULES[type], parameters, 'create', { what: field, prefix: `${field}.` }) as Validation<TaskParameters>
}

/** Parameters of a create: required for reconstruction and processing (their pipeline), defaulted for acquisition. */
function parametersRule (type: TaskType): Rule {
  return {
    check: (value, field) => validateTaskParameters(type, value, field),
    presence: type === 'ACQUISITION' ? () => ({}) : 'required'
  }
}

/** Parameters of a patch: merged key by key into the current ones (null clears a key), then checked whole. */
function parametersPatchRule (current: TaskKind): Rule {
  return {
    check: (value, field) => {
      if (!isPlainObject(value)) return fail(`${field} must be an object`)
      const merged: Record<string, unknown> = { ...current.parameters }
      for (const [key, v] of Object.entries(value)) {
        if (v === null) delete merged[key]
        else if (v !== undefined) merged[key] = v
      }
      return validateTaskParameters(current.type, merged, field)
    },
    presence: 'required'
  }
}

function taskTypeOf (input: unknown): Validation<TaskType> {
  if (!isPlainObject(input)) return fail('input must be an object')
  if (input.type === undefined) return fail('type is required')
  return oneOf(TASK_TYPES)(input.type, 'type') as Validation<TaskType>
}

const userRules: Rules = {
  username: { check: username, presence: 'required', fixed: true },
  firstName: { check: line(), presence: 'required' },
  lastName: { check: line(), presence: 'required' },
  email: { check: email, presence: 'required' },
  role: { check: oneOf(ROLES), presence: 'required' },
  passwordHash: { check: opaque(1024), presence: 'required' },
  lastLoginAt: { check: isoTime, presence: 'optional' }
}

const blobRules: Rules = {
  sha256: { check: sha256, presence: 'required' },
  size: { check: count, presence: 'required' }
}

const sequenceRules: Rules = {
  id: { check: id, presence: 'optional', fixed: true },
  name: { check: line(), presence: 'required' },
  description,
  type: { check: line(64), presence: 'required' },
  tags: { check: listOf(line(64), 0, 64), presence: () => [] },
  blob: { check: object(blobRules), presence: 'required' },
  summary: { check: jsonObject(), presence: 'optional' },
  ismrmrdHeader: { check: text(MAX_JSON_LENGTH), presence: 'optional' },
  builtin: { check: boolean, presence: 'optional' }
}

const deviceRules: Rules = {
  id: { check: id, presence: 'optional', fixed: true },
  peerId: { check: id, presence: 'required' },
  name: { check: line(), presence: 'required' },
  manufacturer: { check: line(), presence: 'required' },
  model: { check: line(), presence: 'required' },
  fieldStrengthT: { check: numberBetween(0.001, 30), presence: 'required' },
  driver: { check: line(64), presence: 'required' },
  parameters: { check: scalarRecord, presence: () => ({}) }
}

const fileRules: Rules = {
  name: { check: line(255), presence: 'required' },
  sha256: { check: sha256, presence: 'required' },
  size: { check: count, presence: 'required' },
  type: { check: line(128), presence: 'required' }
}

const resultRules: Rules = {
  id: { check: id, presence: 'optional', fixed: true },
  taskId: { check: id, presence: 'required', fixed: true },
  type: { check: oneOf(RESULT_TYPES), presence: 'required' },
  files: { check: listOf(object(fileRules), 1, 10_000), presence: 'required' },
  epoch: { check: count, presence: 'optional' },
  run: { check: count, presence: 'optional' }
}

const examTemplateRules: Rules = {
  id: { check: id, presence: 'optional', fixed: true },
  name: { check: line(), presence: 'required' },
  description,
  indication,
  autoExportDestinationIds: { check: listOf(id, 0, 16), presence: 'optional' }
}

/**
 * A DICOM Application Entity title (the AE value representation): 1 to 16 characters of the default
 * repertoire without backslash or control characters, not all spaces. Leading and trailing spaces carry
 * no meaning in DICOM, so it is stored trimmed.
 */
const aeTitle: Check = (value, field) => {
  const message = `${field} must be a DICOM AE title: 1 to 16 letters, digits, spaces or punctuation (no backslash), not all spaces`
  if (typeof value !== 'string') return fail(message)
  const trimmed = value.trim()
  if (trimmed === '' || value.length > 16) return fail(message)
  for (let i = 0; i < trimmed.length; i++) {
    const code = trimmed.charCodeAt(i)
    if (code < 0x20 || code > 0x7e || code === 0x5c) return fail(message)
  }
  return ok(trimmed)
}

/** A host name, an IPv4 address or an IPv6 address (without brackets). */
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$/
const host: Check = (value, field) => typeof value === 'string' && value.length <= 253 && HOST.test(value)
  ? ok(value)
  : fail(`${field} must be a host name or an IP address`)

const port: Check = (value, field) => typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535
  ? ok(value)
  : fail(`${field} must be a port number from 1 to 65535`)

/** An http(s) base URL, stored without a trailing slash; credentials go in their own fields, not in the URL. */
const httpUrl: Check = (value, field) => {
  if (typeof value !== 'string' || value.length > 2000) return fail(`${field} must be an http or https URL`)
  let url: URL
  try { url = new URL(value.trim()) } catch { return fail(`${field} must be an http or https URL such as http://pacs:8042/dicom-web`) }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return fail(`${field} must be an http or https URL`)
  if (url.username !== '' || url.password !== '') return fail(`${field} must not hold a user name or password: give them as username and password`)
  if (url.search !== '' || url.hash !== '') return fail(`${field} must be a base URL without a query or fragment`)
  return ok(url.toString().replace(/\/+$/, ''))
}

const destinationBase: Rules = {
  id: { check: id, presence: 'optional', fixed: true },
  name: { check: line(), presence: 'required' },
  kind: { check: oneOf(DESTINATION_KINDS), presence: 'required', fixed: true }
}

const DESTINATION_RULES: Record<Destination['kind'], Rules> = {
  dimse: {
    ...destinationBase,
    aeTitle: { check: aeTitle, presence: 'required' },
    host: { check: host, presence: 'required' },
    port: { check: port, presence: 'required' },
    callingAeTitle: { check: aeTitle, presence: 'optional' }
  },
  dicomweb: {
    ...destinationBase,
    url: { check: httpUrl, presence: 'required' },
    username: { check: line(256), presence: 'optional' },
    password: { check: opaque(1024), presence: 'optional' }
  }
}

const workflowTemplateRules: Rules = {
  id: { check: id, presence: 'optional', fixed: true },
  examTemplateId: { check: id, presence: 'optional', fixed: true },
  name: { check: line(), presence: 'required' },
  description
}

function taskTemplateRules (parameters: Rule): Rules {
  return {
    id: { check: id, presence: 'optional', fixed: true },
    workflowTemplateId: { check: id, presence: 'optional', fixed: true },
    type: { check: oneOf(TASK_TYPES), presence: 'required', fixed: true },
    name: { check: line(), presence: 'required' },
    description,
    parameters
  }
}

function taskRules (parameters: Rule): Rules {
  return {
    id: { check: id, presence: 'optional', fixed: true },
    workflowId: { check: id, presence: 'required', fixed: true },
    type: { check: oneOf(TASK_TYPES), presence: 'required', fixed: true },
    name: { check: line(), presence: 'required' },
    description,
    parameters
  }
}

// ---- public validators ----
// Each returns the value to store: for a create, the input with defaults; for a patch, only the
// given fields, with null for the optional ones to clear.

export function validatePatientInput (input: unknown, now: Date): Validation<PatientInput> {
  return validateObject(patientRules(now), input, 'create', { managed: STAMPS }) as Validation<PatientInput>
}

export function validatePatientPatch (patch: unknown, now: Date): Validation<PatientPatch> {
  return validateObject(patientRules(now), patch, 'patch', { managed: STAMPS }) as Validation<PatientPatch>
}

export function validateExamInput (input: unknown): Validation<ExamInput> {
  return validateObject(examRules, input, 'create', { managed: [...STAMPS, 'status'] }) as Validation<ExamInput>
}

export function validateExamPatch (patch: unknown): Validation<ExamPatch> {
  return validateObject(examRules, patch, 'patch', { managed: [...STAMPS, 'status'] }) as Validation<ExamPatch>
}

export function validateWorkflowInput (input: unknown): Validation<WorkflowInput> {
  return validateObject(workflowRules, input, 'create', { managed: [...STAMPS, 'patientId', 'position', 'status'] }) as Validation<WorkflowInput>
}

export function validateWorkflowPatch (patch: unknown): Validation<WorkflowPatch> {
  return validateObject(workflowRules, patch, 'patch', { managed: [...STAMPS, 'patientId', 'position', 'status'] }) as Validation<WorkflowPatch>
}

export function validateTaskInput (input: unknown): Validation<TaskInput & TaskKind> {
  const type = taskTypeOf(input)
  if (!type.ok) return type
  return validateObject(taskRules(parametersRule(type.value)), input, 'create', { managed: TASK_MANAGED }) as Validation<TaskInput & TaskKind>
}

/** `current` is the task as stored: its type decides the parameters, and a parameters patch merges into them. */
export function validateTaskPatch (patch: unknown, current: TaskKind): Validation<TaskPatch & { parameters?: TaskParameters }> {
  return validateObject(taskRules(parametersPatchRule(current)), patch, 'patch', { managed: TASK_MANAGED }) as Validation<TaskPatch & { parameters?: TaskParameters }>
}

export function validateResultInput (input: unknown): Validation<ResultInput> {
  return validateObject(resultRules, input, 'create', { managed: ['patientId', 'createdAt', 'createdBy'] }) as Validation<ResultInput>
}

export function validateSequenceInput (input: unknown): Validation<SequenceInput> {
  return validateObject(sequenceRules, input, 'create', { managed: STAMPS }) as Validation<SequenceInput>
}

export function validateSequencePatch (patch: unknown): Validation<SequencePatch> {
  return validateObject(sequenceRules, patch, 'patch', { managed: STAMPS }) as Validation<SequencePatch>
}

export function validateDeviceInput (input: unknown): Validation<DeviceInput> {
  return validateObject(deviceRules, input, 'create', { managed: STAMPS }) as Validation<DeviceInput>
}

export function validateDevicePatch (patch: unknown): Validation<DevicePatch> {
  return validateObject(deviceRules, patch, 'patch', { managed: STAMPS }) as Validation<DevicePatch>
}

export function validateUserInput (input: unknown): Validation<UserInput> {
  return validateObject(userRules, input, 'create', { managed: ['createdAt'] }) as Validation<UserInput>
}

export function validateUserPatch (patch: unknown): Validation<UserPatch> {
  return validateObject(userRules, patch, 'patch', { managed: ['createdAt'] }) as Validation<UserPatch>
}

export function validateExamTemplateInput (input: unknown): Validation<ExamTemplateInput> {
  return validateObject(examTemplateRules, input, 'create', { managed: STAMPS }) as Validation<ExamTemplateInput>
}

export function validateExamTemplatePatch (patch: unknown): Validation<ExamTemplatePatch> {
  return validateObject(examTemplateRules, patch, 'patch', { managed: STAMPS }) as Validation<ExamTemplatePatch>
}

export function validateWorkflowTemplateInput (input: unknown): Validation<WorkflowTemplateInput> {
  return validateObject(workflowTemplateRules, input, 'create', { managed: TEMPLATE_MANAGED }) as Validation<WorkflowTemplateInput>
}

export function validateWorkflowTemplatePatch (patch: unknown): Validation<WorkflowTemplatePatch> {
  return validateObject(workflowTemplateRules, patch, 'patch', { managed: TEMPLATE_MANAGED }) as Validation<WorkflowTemplatePatch>
}

export function validateTaskTemplateInput (input: unknown): Validation<TaskTemplateInput & TaskKind> {
  const type = taskTypeOf(input)
  if (!type.ok) return type
  return validateObject(taskTemplateRules(parametersRule(type.value)), input, 'create', { managed: TEMPLATE_MANAGED }) as Validation<TaskTemplateInput & TaskKind>
}

export function validateTaskTemplatePatch (patch: unknown, current: TaskKind): Validation<TaskTemplatePatch & { parameters?: TaskParameters }> {
  return validateObject(taskTemplateRules(parametersPatchRule(current)), patch, 'patch', { managed: TEMPLATE_MANAGED }) as Validation<TaskTemplatePatch & { parameters?: TaskParameters }>
}

export function validateDestinationInput (input: unknown): Validation<DestinationInput> {
  if (!isPlainObject(input)) return fail('input must be an object')
  if (input.kind === undefined) return fail('kind is required: dimse (a DICOM C-STORE receiver) or dicomweb (a STOW-RS server)')
  const kind = oneOf(DESTINATION_KINDS)(input.kind, 'kind')
  if (!kind.ok) return kind
  return validateObject(DESTINATION_RULES[kind.value as Destination['kind']], input, 'create', { managed: STAMPS }) as Validation<DestinationInput>
}

/** `current` is the destination as stored: its kind decides which fields a patch may change. */
export function validateDestinationPatch (patch: unknown, current: Pick<Destination, 'kind'>): Validation<DestinationPatch> {
  return validateObject(DESTINATION_RULES[current.kind], patch, 'patch', { managed: STAMPS }) as Validation<DestinationPatch>
}

/** The actor of a write: both a name and a peer id, so every audit entry says who and where. */
export function validateActor (actor: unknown): Validation<Actor> {
  if (typeof actor !== 'object' || actor === null) return fail('actor must be an object')
  const { name, peerId } = actor as Record<string, unknown>
  const checkedName = line()(name, 'actor.name')
  if (!checkedName.ok) return checkedName
  const checkedPeer = line()(peerId, 'actor.peerId')
  if (!checkedPeer.ok) return checkedPeer
  return ok({ name: checkedName.value as string, peerId: checkedPeer.value as string })
}

export function validateLabName (name: unknown): Validation<string> {
  return line()(name, 'labName') as Validation<string>
}

export function validateId (value: unknown, field: string): Validation<string> {
  return id(value, field) as Validation<string>
}
