// The protocol card of an acquisition task: the sequence's TR, TE, flip angle, FOV, matrix, slices,
// thickness, bandwidth and scan time. A built-in sequence's values are fields, each with its unit and
// the limits that follow from the others, its error beside it, and the scan time recomputed from the
// sequence built as the user types (protocol/pulseq/protocol-params.ts, the code the scanner peer
// regenerates the sequence with). An uploaded sequence's values are shown read-only, from its summary.
import { LitElement, css, html, nothing } from 'lit'
import { customElement, property, state } from 'lit/decorators.js'
import type { Sequence, SequenceProtocol } from '../../../protocol/lab/index.ts'
import {
  builtinNameOf, checkProtocol, editableFields, PROTOCOL_LABELS, protocolDefaults, protocolFromSummary, type ProtocolCheck, type ProtocolField
} from '../../../protocol/pulseq/protocol-params.ts'
import { sharedStyles } from '../styles/shared.ts'

/** What the card hands back on each edit: the protocol to store (null: the built-in's defaults) and whether it can be played. */
export interface ProtocolChange {
  protocol: SequenceProtocol | null
  valid: boolean
}

/** Checking builds the whole sequence, about 0.1 s for a 256² matrix: wait for a pause in the typing. */
const CHECK_DELAY_MS = 150

type Texts = Partial<Record<ProtocolField, string>> & { matrixPhase?: string }

function textsOf (values: SequenceProtocol): Texts {
  const texts: Texts = {}
  for (const [field, value] of Object.entries(values) as Array<[ProtocolField, unknown]>) {
    if (field === 'matrix') {
      const [read, phase] = value as [number, number]
      texts.matrix = String(read)
      texts.matrixPhase = String(phase)
    } else {
      texts[field] = String(value)
    }
  }
  return texts
}

/** Minutes and seconds, as a console shows a scan time: "0:07.8", "2:05". */
export function formatScanTime (seconds: number): string {
  // rounded first, so that 59.97 s reads 1:00 rather than 0:60.0
  const tenths = Math.round(seconds * 10) / 10
  if (tenths < 60) return `0:${tenths.toFixed(1).padStart(4, '0')}`
  const whole = Math.round(seconds)
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}`
}

function keyOf (sequence: Sequence | undefined, protocol: SequenceProtocol | undefined): string {
  return JSON.stringify([sequence?.id ?? null, sequence?.blob.sha256 ?? null, protocol ?? null])
}

/** A value rounded for reading, with its unit; a dash when the sequence does not say. */
function shown (value: number | undefined, digits = 2, unit = ''): string {
  return value === undefined ? '—' : `${Number(value.toFixed(digits))}${unit}`
}

@customElement('sh-protocol-editor')
export class ShProtocolEditor extends LitElement {
  static override styles = [sharedStyles, css`
    :host { display: block; }
    fieldset { border: 1px solid var(--sh-border); border-radius: 8px; padding: 10px 12px; margin: 0; display: flex; flex-direction: column; gap: 8px; }
    legend { font-size: 12px; font-weight: 600; color: var(--sh-text-muted); padding: 0 4px; }
    .grid { display: grid; gap: 10px; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); }
    .hint { font-size: 12px; color: var(--sh-text-muted); }
    .matrix { display: flex; align-items: center; gap: 4px; }
    .matrix input { min-width: 0; }
    .scan-time { display: flex; align-items: baseline; gap: 8px; flex-wrap: wrap; }
    .scan-time strong { font-size: 18px; font-variant-numeric: tabular-nums; }
    dl { display: grid; grid-template-columns: repeat(auto-fill, minmax(140px, 1fr)); gap: 6px 12px; margin: 0; }
    dl > div { display: flex; flex-direction: column; gap: 2px; min-width: 0; }
    dt { font-size: 12px; font-weight: 600; color: var(--sh-text-muted); }
    dd { margin: 0; font-variant-numeric: tabular-nums; }
    .toolbar { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }
  `]

  /** the library sequence the task plays */
  @property({ attribute: false }) sequence: Sequence | undefined
  /** the protocol stored with the task (undefined: the built-in's defaults) */
  @property({ attribute: false }) protocol: SequenceProtocol | undefined
  /** shows the values without fields, as a task's details do */
  @property({ type: Boolean }) readonly = false

  @state() private texts: Texts = {}
  @state() private check: ProtocolCheck | undefined
  /** errors of fields whose text is not a number at all */
  @state() private textErrors: Partial<Record<ProtocolField, string>> = {}
  /** the sequence and protocol the fields show, as text: a view that renders often passes equal copies */
  private textsFor: string | undefined
  private timer: ReturnType<typeof setTimeout> | undefined

  private get builtin (): string | undefined {
    return this.sequence === undefined ? undefined : builtinNameOf(this.sequence)
  }

  protected override willUpdate (changed: Map<PropertyKey, unknown>): void {
    if (!changed.has('sequence') && !changed.has('protocol')) return
    const name = this.builtin
    // A new sequence, or a protocol set elsewhere (another peer, a template): show it; the echo of
    // this card's own edit changes nothing.
    const key = keyOf(this.sequence, this.protocol)
    if (this.textsFor === key) return
    this.textsFor = key
    if (name === undefined) {
      this.texts = {}
      this.check = undefined
      return
    }
    this.texts = textsOf({ ...protocolDefaults(name), ...(this.protocol ?? {}) })
    this.textErrors = {}
    this.check = checkProtocol(name, this.protocol ?? {})
  }

  override disconnectedCallback (): void {
    super.disconnectedCallback()
    clearTimeout(this.timer)
  }

  /** The protocol the fields say, or the fields whose text is no number. */
  private parse (name: string): { protocol: SequenceProtocol, errors: Partial<Record<ProtocolField, string>> } {
    const protocol: SequenceProtocol = {}
    const errors: Partial<Record<ProtocolField, string>> = {}
    const number = (text: string | undefined): number | undefined => {
      const t = (text ?? '').trim().replace(',', '.')
      return t === '' || !Number.isFinite(Number(t)) ? undefined : Number(t)
    }
    for (const field of editableFields(name)) {
      const { label } = PROTOCOL_LABELS[field]
      if (field === 'matrix') {
        const read = number(this.texts.matrix)
        const phase = number(this.texts.matrixPhase)
        if (read === undefined || phase === undefined) errors.matrix = 'Matrix needs two numbers: read and phase'
        else protocol.matrix = [read, phase]
        continue
      }
      const value = number(this.texts[field])
      if (value === undefined) errors[field] = `${label} needs a number`
      else Object.assign(protocol, { [field]: value })
    }
    return { protocol, errors }
  }

  private edit (field: ProtocolField | 'matrixPhase', text: string): void {
    this.texts = { ...this.texts, [field]: text }
    clearTimeout(this.timer)
    this.timer = setTimeout(() => { this.recheck() }, CHECK_DELAY_MS)
  }

  private recheck (): void {
    clearTimeout(this.timer)
    const name = this.builtin
    if (name === undefined) return
    const { protocol, errors } = this.parse(name)
    this.textErrors = errors
    this.check = checkProtocol(name, protocol)
    const valid = Object.keys(errors).length === 0 && this.check.scanTimeS !== undefined
    this.textsFor = keyOf(this.sequence, protocol)
    this.protocol = protocol
    this.dispatchEvent(new CustomEvent<ProtocolChange>('sh-protocol-change', { detail: { protocol, valid }, bubbles: true, composed: true }))
  }

  private reset (): void {
    const name = this.builtin
    if (name === undefined) return
    clearTimeout(this.timer)
    this.texts = textsOf(protocolDefaults(name))
    this.textErrors = {}
    this.check = checkProtocol(name, {})
    this.textsFor = keyOf(this.sequence, undefined)
    this.protocol = undefined
    this.dispatchEvent(new CustomEvent<ProtocolChange>('sh-protocol-change', { detail: { protocol: null, valid: true }, bubbles: true, composed: true }))
  }

  private errorOf (field: ProtocolField): string | undefined {
    return this.textErrors[field] ?? this.check?.errors[field]
  }

  private limitHint (field: ProtocolField): string {
    const range = this.check?.limits[field]
    if (range === undefined) return ''
    const unit = field === 'matrix' ? '' : ` ${PROTOCOL_LABELS[field].unit}`
    return `${shown(range.min)} – ${shown(range.max)}${unit}`
  }

  private renderField (field: ProtocolField): unknown {
    const { label, unit } = PROTOCOL_LABELS[field]
    const id = `protocol-${field}`
    const error = this.errorOf(field)
    const described = `${id}-limits${error !== undefined ? ` ${id}-error` : ''}`
    // a TE or TR below the timing's shortest: offer the shortest, as a console's "minimum" does
    const shortest = (field === 'teMs' || field === 'trMs') && error !== undefined ? this.check?.limits[field]?.min : undefined
    const input = (key: ProtocolField | 'matrixPhase', inputId: string, aria?: string): unknown => html`<input id=${inputId} type="text" inputmode="decimal"
      aria-label=${aria ?? nothing} .value=${this.texts[key] ?? ''} aria-invalid=${error !== undefined ? 'true' : 'false'} aria-describedby=${described}
      @input=${(e: Event) => { this.edit(key, (e.target as HTMLInputElement).value) }}>`
    return html`<div class="field">
      <label for=${id}>${label}${unit !== '' && field !== 'matrix' ? html` (${unit})` : nothing}</label>
      ${field === 'matrix'
        ? html`<div class="matrix">${input('matrix', id, 'Matrix, read')}<span aria-hidden="true">×</span>${input('matrixPhase', `${id}-phase`, 'Matrix, phase')}</div>`
        : input(field, id)}
      <span class="hint" id="${id}-limits">${field === 'matrix' ? 'read × phase, ' : ''}${this.limitHint(field)}</span>
      ${error !== undefined ? html`<span class="field-error" id="${id}-error" role="alert">${error}</span>` : nothing}
      ${shortest !== undefined
        ? html`<button type="button" class="small" @click=${() => { this.edit(field, String(shortest)); this.recheck() }}>Use ${shortest} ms</button>`
        : nothing}
    </div>`
  }

  private renderBuiltin (name: string): unknown {
    const check = this.check
    const problem = check?.errors.sequence
    const time = check?.scanTimeS
    return html`<fieldset aria-label="Protocol">
      <legend>Protocol of ${name}</legend>
      <div class="grid">${editableFields(name).map((f) => this.renderField(f))}</div>
      ${problem !== undefined ? html`<span class="field-error" role="alert">${problem}</span>` : nothing}
      <div class="scan-time">
        <span class="hint">Scan time</span>
        <strong id="scan-time" role="status" aria-live="polite">${time !== undefined ? formatScanTime(time) : '—'}</strong>
        ${time === undefined ? html`<span class="hint">correct the values marked to see it</span>` : nothing}
      </div>
      <div class="toolbar">
        <button type="button" class="small" @click=${() => { this.reset() }} ?disabled=${this.protocol === undefined}>Defaults of ${name}</button>
        <span class="hint">The sequence is regenerated with these values when the task runs.</span>
      </div>
    </fieldset>`
  }

  private renderUploaded (sequence: Sequence): unknown {
    const summary = sequence.summary ?? {}
    const duration = typeof summary.durationS === 'number' ? summary.durationS : undefined
    return this.renderValues(`Protocol of ${sequence.name} (read-only)`, protocolFromSummary(summary), duration,
      'An uploaded sequence plays as it was written: its values are read from the file and cannot be changed here.')
  }

  /** The values of a protocol as a list, for a task that is shown rather than edited. */
  private renderValues (title: string, values: SequenceProtocol & { tiMs?: number }, duration: number | undefined, note: string): unknown {
    const row = (label: string, value: string): unknown => html`<div><dt>${label}</dt><dd>${value}</dd></div>`
    return html`<fieldset aria-label="Protocol">
      <legend>${title}</legend>
      <dl>
        ${row('TR', shown(values.trMs, 2, ' ms'))}
        ${row('TE', shown(values.teMs, 2, ' ms'))}
        ${values.tiMs !== undefined ? row('TI', shown(values.tiMs, 2, ' ms')) : nothing}
        ${row('Flip angle', shown(values.flipAngleDeg, 1, '°'))}
        ${row('FOV', shown(values.fovMm, 1, ' mm'))}
        ${row('Matrix', values.matrix !== undefined ? `${values.matrix[0]} × ${values.matrix[1]}` : '—')}
        ${row('Slices', shown(values.slices, 0))}
        ${row('Slice thickness', shown(values.sliceThicknessMm, 2, ' mm'))}
        ${values.bandwidthHzPerPixel !== undefined ? row('Bandwidth', shown(values.bandwidthHzPerPixel, 1, ' Hz/pixel')) : nothing}
        ${row('Scan time', duration !== undefined ? formatScanTime(duration) : '—')}
      </dl>
      <span class="hint">${note}</span>
    </fieldset>`
  }

  override render (): unknown {
    const sequence = this.sequence
    if (sequence === undefined) return nothing
    const name = this.builtin
    if (name === undefined) return this.renderUploaded(sequence)
    if (!this.readonly) return this.renderBuiltin(name)
    const check = this.check
    const problems = check === undefined ? [] : Object.values(check.errors)
    return this.renderValues(`Protocol of ${name}`, check?.values ?? {}, check?.scanTimeS,
      problems.length > 0 ? `This protocol cannot be played: ${problems.join('; ')}` : this.protocol === undefined ? `The defaults of ${name}.` : `${name} is regenerated with these values when the task runs.`)
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sh-protocol-editor': ShProtocolEditor
  }
}
