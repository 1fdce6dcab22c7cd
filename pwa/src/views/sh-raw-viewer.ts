// The raw data viewer (ScanHub has one; so do we): the readouts of a RAW result (an MRD v1 stream) as
// magnitude, phase, real or imaginary part, over time or over frequency, for one coil or all, one
// readout or a range of them overlaid.
import { css, html, nothing } from 'lit'
import { customElement, property, query, state } from 'lit/decorators.js'
import { AcquisitionFlag, MrdStreamDecoder, hasFlag } from '../../../protocol/mrd/index.ts'
import type { Acquisition } from '../../../protocol/mrd/types.ts'
import { SessionElement } from '../app/session-element.ts'
import { sharedStyles } from '../styles/shared.ts'

type Part = 'magnitude' | 'phase' | 'real' | 'imaginary'
type Domain = 'time' | 'frequency'

const COLOURS = ['#1565c0', '#c62828', '#2e7d32', '#ef6c00', '#6a1b9a', '#00838f', '#ad1457', '#4e342e']

/** Centred discrete Fourier transform of one complex readout (readouts are short: O(n²) is fine). */
export function centredSpectrum (re: Float64Array, im: Float64Array): { re: Float64Array, im: Float64Array } {
  const n = re.length
  const outRe = new Float64Array(n)
  const outIm = new Float64Array(n)
  const half = Math.floor(n / 2)
  for (let k = 0; k < n; k++) {
    let sr = 0
    let si = 0
    for (let t = 0; t < n; t++) {
      const angle = (-2 * Math.PI * (k - half) * (t - half)) / n
      const c = Math.cos(angle)
      const s = Math.sin(angle)
      sr += re[t] * c - im[t] * s
      si += re[t] * s + im[t] * c
    }
    outRe[k] = sr
    outIm[k] = si
  }
  return { re: outRe, im: outIm }
}

function part (re: number, im: number, which: Part): number {
  switch (which) {
    case 'magnitude': return Math.hypot(re, im)
    case 'phase': return Math.atan2(im, re)
    case 'real': return re
    case 'imaginary': return im
  }
}

@customElement('sh-raw-viewer')
export class ShRawViewer extends SessionElement {
  static override styles = [sharedStyles, css`
    :host { display: flex; flex-direction: column; gap: 8px; }
    .controls { display: flex; flex-wrap: wrap; gap: 12px; align-items: end; }
    .controls label { display: flex; flex-direction: column; gap: 2px; font-size: 13px; }
    select, input[type="number"] { width: auto; min-height: 30px; }
    canvas { width: 100%; height: 260px; border: 1px solid var(--sh-border); border-radius: 6px; background: var(--sh-surface); }
    .muted { color: var(--sh-text-muted); margin: 0; }
  `]

  /** sha-256 of the MRD v1 stream to show */
  @property() sha256: string | undefined

  @state() private acquisitions: Acquisition[] = []
  @state() private error = ''
  @state() private first = 0
  @state() private count = 1
  @state() private coil = -1
  @state() private shown: Part = 'magnitude'
  @state() private domain: Domain = 'time'
  @query('canvas') private canvas?: HTMLCanvasElement
  private loaded: string | undefined

  override willUpdate (): void {
    if (this.sha256 !== undefined && this.sha256 !== this.loaded && this.session !== undefined) {
      this.loaded = this.sha256
      this.load(this.sha256).catch(() => {})
    }
  }

  private async load (sha256: string): Promise<void> {
    this.error = ''
    this.acquisitions = []
    try {
      const bytes = new Uint8Array(await this.session.fetchBlob(sha256))
      const decoder = new MrdStreamDecoder()
      const acquisitions: Acquisition[] = []
      for (const message of decoder.push(bytes)) {
        if (message.type === 'acquisition') acquisitions.push(message.acquisition)
      }
      this.acquisitions = acquisitions
      const firstSignal = acquisitions.findIndex((a) => !hasFlag(a.head.flags, AcquisitionFlag.IS_NOISE_MEASUREMENT))
      this.first = Math.max(0, firstSignal)
    } catch (err) {
      this.error = `the raw data cannot be shown: ${(err as Error).message}`
    }
  }

  override render (): unknown {
    if (this.error !== '') return html`<p class="form-error" role="alert">${this.error}</p>`
    if (this.acquisitions.length === 0) return html`<p class="muted">Loading raw data…</p>`
    const total = this.acquisitions.length
    const channels = this.acquisitions[this.first]?.head.activeChannels ?? 1
    const head = this.acquisitions[this.first]?.head
    return html`
      <div class="controls" role="group" aria-label="Raw data display">
        <label>Readout <input type="number" min="0" max=${total - 1} .value=${String(this.first)} aria-label="First readout"
          @change=${(e: Event) => { this.first = clamp(Number((e.target as HTMLInputElement).value), 0, total - 1) }}></label>
        <label>Overlay <input type="number" min="1" max="64" .value=${String(this.count)} aria-label="Readouts overlaid"
          @change=${(e: Event) => { this.count = clamp(Number((e.target as HTMLInputElement).value), 1, 64) }}></label>
        <label>Coil <select aria-label="Coil" @change=${(e: Event) => { this.coil = Number((e.target as HTMLSelectElement).value) }}>
          <option value="-1" ?selected=${this.coil === -1}>all</option>
          ${Array.from({ length: channels }, (_, c) => html`<option value=${c} ?selected=${this.coil === c}>${c + 1}</option>`)}
        </select></label>
        <label>Show <select aria-label="Part" @change=${(e: Event) => { this.shown = (e.target as HTMLSelectElement).value as Part }}>
          ${(['magnitude', 'phase', 'real', 'imaginary'] as const).map((p) => html`<option value=${p} ?selected=${this.shown === p}>${p}</option>`)}
        </select></label>
        <label>Domain <select aria-label="Domain" @change=${(e: Event) => { this.domain = (e.target as HTMLSelectElement).value as Domain }}>
          <option value="time" ?selected=${this.domain === 'time'}>time</option>
          <option value="frequency" ?selected=${this.domain === 'frequency'}>frequency</option>
        </select></label>
      </div>
      <canvas aria-label="Readout plot"></canvas>
      ${head !== undefined
        ? html`<p class="muted">${total} readouts · ${head.numberOfSamples} samples · ${channels} coil${channels === 1 ? '' : 's'} · dwell ${head.sampleTimeUs.toFixed(1)} µs · readout ${this.first}: line ${head.idx.kspaceEncodeStep1}, slice ${head.idx.slice}${hasFlag(head.flags, AcquisitionFlag.IS_NOISE_MEASUREMENT) ? ' (noise)' : ''}</p>`
        : nothing}`
  }

  override updated (): void {
    this.draw()
  }

  private draw (): void {
    const canvas = this.canvas
    if (canvas === undefined || this.acquisitions.length === 0) return
    canvas.width = canvas.clientWidth > 0 ? canvas.clientWidth : 800
    canvas.height = canvas.clientHeight > 0 ? canvas.clientHeight : 260
    const ctx = canvas.getContext('2d')
    if (ctx === null) return
    ctx.clearRect(0, 0, canvas.width, canvas.height)
    const lines: Float64Array[] = []
    for (let r = this.first; r < Math.min(this.acquisitions.length, this.first + this.count); r++) {
      const { head, data } = this.acquisitions[r]
      const n = head.numberOfSamples
      for (let c = 0; c < head.activeChannels; c++) {
        if (this.coil >= 0 && c !== this.coil) continue
        const re = new Float64Array(n)
        const im = new Float64Array(n)
        for (let s = 0; s < n; s++) { re[s] = data[2 * (c * n + s)]; im[s] = data[2 * (c * n + s) + 1] }
        const values = this.domain === 'frequency' ? centredSpectrum(re, im) : { re, im }
        lines.push(Float64Array.from(values.re, (x, s) => part(x, values.im[s], this.shown)))
      }
    }
    let lo = Infinity
    let hi = -Infinity
    for (const line of lines) for (const v of line) { lo = Math.min(lo, v); hi = Math.max(hi, v) }
    if (!Number.isFinite(lo) || hi === lo) { hi = lo + 1 }
    const pad = 8
    lines.forEach((line, i) => {
      ctx.strokeStyle = COLOURS[i % COLOURS.length]
      ctx.beginPath()
      line.forEach((v, s) => {
        const x = pad + (s / Math.max(1, line.length - 1)) * (canvas.width - 2 * pad)
        const y = canvas.height - pad - ((v - lo) / (hi - lo)) * (canvas.height - 2 * pad)
        if (s === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y)
      })
      ctx.stroke()
    })
  }
}

function clamp (x: number, lo: number, hi: number): number {
  return Number.isFinite(x) ? Math.min(hi, Math.max(lo, Math.round(x))) : lo
}

declare global {
  interface HTMLElementTagNameMap { 'sh-raw-viewer': ShRawViewer }
}
