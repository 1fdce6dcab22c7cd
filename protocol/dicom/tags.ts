// Rows for the viewer's tag browser: tag, VR, keyword and value as text, with sequences nested.
// Tag numbers and VRs come from dcmjs's dictionary, so a naturalized dataset (keyword keys) is enough.

import { data } from 'dcmjs'
import type { NaturalDataset } from 'dcmjs'
import { formatTag } from './structure.ts'

const { DicomMetaDictionary } = data

export interface TagRow {
  /** '(0010,0010)' */
  tag: string
  /** 'PN'; '' for the item rows of a sequence */
  vr: string
  /** 'PatientName'; '' for a tag missing from the dictionary (private tags); 'Item' for sequence items */
  keyword: string
  /** The value as text: multiple values joined by '\', binary data summarised, sequences counted. */
  value: string
  /** For a sequence: one 'Item' row per item, whose children are that item's elements. */
  children?: TagRow[]
}

export interface ListTagsOptions {
  /** Longest list of values shown in full; longer ones are cut with a count (default 32). */
  maxValues?: number
}

const BINARY_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN'])

/** The dictionary's placeholders for VRs that depend on the data (PS3.6 note on US or SS, OB or OW). */
const AMBIGUOUS_VR: Record<string, string> = { xs: 'US', ox: 'OW', lt: 'OW', up: 'UL', na: '' }

const HIDDEN_KEYS = new Set(['_vrMap', '_meta'])

function byteLength (value: unknown): number {
  if (value instanceof ArrayBuffer) return value.byteLength
  if (ArrayBuffer.isView(value)) return value.byteLength
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + byteLength(v), 0)
  return 0
}

function personName (value: unknown): string {
  if (value !== null && typeof value === 'object') {
    const pn = value as { Alphabetic?: string, Ideographic?: string, Phonetic?: string }
    return [pn.Alphabetic ?? '', pn.Ideographic ?? '', pn.Phonetic ?? ''].join('=').replace(/=+$/, '')
  }
  return String(value ?? '')
}

function single (vr: string, value: unknown): string {
  if (value === null || value === undefined) return ''
  if (vr === 'PN') return personName(value)
  if (vr === 'AT' && typeof value === 'number') return formatTag(value)
  if (typeof value === 'object') {
    if ('BulkDataURI' in value || 'InlineBinary' in value) return '<bulk data>'
    return JSON.stringify(value)
  }
  return String(value)
}

function formatValue (vr: string, value: unknown, maxValues: number): string {
  if (value === null || value === undefined) return ''
  if (BINARY_VRS.has(vr)) return `<binary, ${byteLength(value)} bytes>`
  const values = Array.isArray(value) ? value : [value]
  const shown = values.slice(0, maxValues).map((v) => single(vr, v)).join('\\')
  return values.length > maxValues ? `${shown}\\… (${values.length} values)` : shown
}

function lookup (key: string, dataset: NaturalDataset): { tag: string, vr: string, keyword: string, sortKey: string } {
  const entry = DicomMetaDictionary.nameMap[key]
  if (entry !== undefined) {
    const vr = dataset._vrMap?.[key] ?? AMBIGUOUS_VR[entry.vr] ?? entry.vr
    return { tag: entry.tag, vr, keyword: entry.name, sortKey: DicomMetaDictionary.unpunctuateTag(entry.tag).toUpperCase() }
  }
  // Elements missing from the dictionary keep their 8-digit hex tag as the key.
  const tag = /^[0-9A-Fa-f]{8}$/.test(key) ? DicomMetaDictionary.punctuateTag(key) : undefined
  if (tag !== undefined) return { tag, vr: dataset._vrMap?.[key] ?? 'UN', keyword: '', sortKey: key.toUpperCase() }
  return { tag: '', vr: dataset._vrMap?.[key] ?? '', keyword: key, sortKey: 'ZZZZZZZZ' + key }
}

/**
 * Lists the elements of a naturalized dataset (from readDicom or parseDicom) in tag order, with the
 * items of sequences as children.
 */
export function listTags (dataset: NaturalDataset, options: ListTagsOptions = {}): TagRow[] {
  const maxValues = options.maxValues ?? 32
  const rows: Array<TagRow & { sortKey: string }> = []
  for (const key of Object.keys(dataset)) {
    if (HIDDEN_KEYS.has(key)) continue
    const { tag, vr, keyword, sortKey } = lookup(key, dataset)
    const value = dataset[key]
    if (vr === 'SQ') {
      const items = value === null || value === undefined ? [] : Array.isArray(value) ? value : [value]
      const children = items.map((item, i): TagRow => ({
        tag: '(FFFE,E000)',
        vr: '',
        keyword: 'Item',
        value: `#${i + 1}`,
        children: item !== null && typeof item === 'object' ? listTags(item as NaturalDataset, options) : []
      }))
      rows.push({ tag, vr, keyword, value: `${items.length} item${items.length === 1 ? '' : 's'}`, children, sortKey })
    } else {
      rows.push({ tag, vr, keyword, value: formatValue(vr, value, maxValues), sortKey })
    }
  }
  rows.sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0))
  return rows.map(({ sortKey: _sortKey, ...row }) => row)
}
