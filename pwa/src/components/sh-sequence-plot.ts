// The sequence plot ScanHub never shipped: RF magnitude and phase, Gx, Gy, Gz and the ADC windows
// over time on one shared time axis (wheel zooms around the pointer, drag pans, double-click resets),
// and the k-space trajectory of every ADC sample.
import { LitElement, css, html } from 'lit'
import { customElement, property, query, state } from 'lit/decorators.js'

export interface SequenceWaveforms {
  from: number
  to: number
  gx: { t: number[], value: number[] }
  gy: { t: number[], value: number[] }
  gz: { t: number[], value: number[] }
  rf: Array<{ t: number[], magnitude: number[], phase: number[] }>
  adc: Array<{ start: number, end: number }>
  kspace?: { kx: number[], ky: number[], kz: number[] }
}

interface Track { label: string, unit: string, scale: number, series: Array<{ t: number[], v: number[] }>, windows?: Array<{ start: number, end: number }> }

const TRACK_HEIGHT = 64

@customElement('sh-sequence-plot')
export class ShSequencePlot extends LitElement {
  static override styles = css`
    :host { display: grid; grid-template-columns: 1fr 280px; gap: 12px; }
    canvas { width: 100%; border: 1px solid var(--sh-border, #ccc); border-radius: 6px; background: var(--sh-surface, #fff); touch-action: none; }
    .k { aspect-ratio: 1; }
    .hint { grid-column: 1 / -1; color: var(--sh-text-muted, #666); font-size: 12px; margin: 0; }
  `

  /** the waveforms to draw */
  @property({ attribute: false }) waveforms?: SequenceWaveforms
  @state() private view: [number, number] = [0, 1]
  @query('canvas.time') private timeCanvas!: HTMLCanvasElement
  @query('canvas.k') private kCanvas!: HTMLCanvasElement
  private drag?: { x: number, view: [number, number] }

  override willUpdate (changed: Map<string, unknown>): void {
    if (changed.has('waveforms') && this.waveforms !== undefined) this.view = [this.waveforms.from, this.waveforms.to]
  }

  override render (): unknown {
    return html`
      <canvas class="time" height=${6 * TRACK_HEIGHT + 24} aria-label="RF, gradient and ADC waveforms over time"
        @wheel=${this.handleWheel} @pointerdown=${this.handleDown} @pointermove=${this.handleMove} @pointerup=${this.handleUp} @dblclick=${this.handleReset}></canvas>
      <canvas class="k" width="280" height="280" aria-label="k-space trajectory"></canvas>
      <p class="hint">Wheel: zoom time · drag: pan · double-click: whole sequence. Right: k-space of every ADC sample (kx → , ky ↑).</p>`
  }

  override updated (): void {
    this.drawTime()
    this.drawKspace()
  }

  private tracks (w: SequenceWaveforms): Track[] {
    return [
      { label: 'RF |B1|', unit: 'Hz', scale: 1, series: w.rf.map((p) => ({ t: p.t, v: p.magnitude })) },
      { label: 'RF phase', unit: 'rad', scale: 1, series: w.rf.map((p) => ({ t: p.t, v: p.phase })) },
      { label: 'Gx', unit: 'kHz/m', scale: 1e-3, series: [{ t: w.gx.t, v: w.gx.value }] },
      { label: 'Gy', unit: 'kHz/m', scale: 1e-3, series: [{ t: w.gy.t, v: w.gy.value }] },
      { label: 'Gz', unit: 'kHz/m', scale: 1e-3, series: [{ t: w.gz.t, v: w.gz.value }] },
      { label: 'ADC', unit: '', scale: 1, series: [], windows: w.adc }
    ]
  }

  private drawTime (): void {
    const canvas = this.timeCanvas
    const w = this.waveforms
    if (canvas === undefined || w === undefined) return
    const width = canvas.clientWidth > 0 ? canvas.clientWidth : 800
    canvas.width = width
    const ctx = canvas.getContext('2d')
    if (ctx === null) return
    const style = getComputedStyle(this)
    const fg = style.getPropertyValue('--sh-text').trim() || '#222'
    const accent = style.getPropertyValue('--sh-primary').trim() || '#1565c0'
    ctx.clearRect(0, 0, width, canvas.height)
    ctx.font = '11px sans-serif'
    const left = 70
    const [t0, t1] = this.view
    const x = (t: number): number => left + ((t - t0) / (t1 - t0)) * (width - left - 8)
    this.tracks(w).forEach((track, i) => {
      const top = i * TRACK_HEIGHT + 4
      const mid = top + TRACK_HEIGHT / 2
      ctx.fillStyle = fg
      ctx.fillText(track.label, 4, mid - 2)
      if (track.unit !== '') ctx.fillText(track.unit, 4, mid + 11)
      ctx.strokeStyle = '#8884'
      ctx.beginPath(); ctx.moveTo(left, mid); ctx.lineTo(width - 8, mid); ctx.stroke()
      if (track.windows !== undefined) {
        ctx.fillStyle = accent
        for (const win of track.windows) {
          if (win.end < t0 || win.start > t1) continue
          ctx.fillRect(x(win.start), top + 12, Math.max(1, x(win.end) - x(win.start)), TRACK_HEIGHT - 24)
        }
        return
      }
      let peak = 0
      for (const s of track.series) for (const v of s.v) peak = Math.max(peak, Math.abs(v))
      if (peak === 0) return
      const y = (v: number): number => mid - (v / peak) * (TRACK_HEIGHT / 2 - 6)
      ctx.strokeStyle = accent
      ctx.beginPath()
      for (const s of track.series) {
        let started = false
        for (let n = 0; n < s.t.length; n++) {
          const t = s.t[n]
          if (t < t0 - (t1 - t0) || t > t1 + (t1 - t0)) { started = false; continue }
          if (!started) { ctx.moveTo(x(t), y(s.v[n])); started = true } else ctx.lineTo(x(t), y(s.v[n]))
        }
      }
      ctx.stroke()
      ctx.fillStyle = fg
      ctx.fillText(`±${(peak * track.scale).toPrecision(3)}`, 4, top + 12)
    })
    ctx.fillStyle = fg
    const axisY = 6 * TRACK_HEIGHT + 18
    for (let k = 0; k <= 4; k++) {
      const t = t0 + (k / 4) * (t1 - t0)
      ctx.fillText(`${(t * 1e3).toFixed(t1 - t0 < 0.01 ? 2 : 0)} ms`, x(t) - (k === 4 ? 40 : 0), axisY)
    }
  }

  private drawKspace (): void {
    const canvas = this.kCanvas
    const k = this.waveforms?.kspace
    if (canvas === undefined) return
    const ctx = canvas.getContext('2d')
    if (ctx === null) return
    ctx.clearRect(0, 0, canvas.width, canvas.height)
    if (k === undefined || k.kx.length === 0) return
    let peak = 0
    for (let i = 0; i < k.kx.length; i++) peak = Math.max(peak, Math.abs(k.kx[i]), Math.abs(k.ky[i]))
    if (peak === 0) peak = 1
    const half = canvas.width / 2
    ctx.fillStyle = getComputedStyle(this).getPropertyValue('--sh-primary').trim() || '#1565c0'
    const step = Math.max(1, Math.floor(k.kx.length / 200_000))
    for (let i = 0; i < k.kx.length; i += step) {
      ctx.fillRect(half + (k.kx[i] / peak) * (half - 6), half - (k.ky[i] / peak) * (half - 6), 1.5, 1.5)
    }
  }

  private readonly handleWheel = (event: WheelEvent): void => {
    event.preventDefault()
    const rect = this.timeCanvas.getBoundingClientRect()
    const [t0, t1] = this.view
    const at = t0 + ((event.clientX - rect.left - 70) / (rect.width - 78)) * (t1 - t0)
    const factor = event.deltaY < 0 ? 0.8 : 1.25
    const full = this.waveforms === undefined ? [t0, t1] : [this.waveforms.from, this.waveforms.to]
    const span = Math.min(full[1] - full[0], Math.max(1e-6, (t1 - t0) * factor))
    const start = Math.max(full[0], Math.min(full[1] - span, at - (at - t0) * (span / (t1 - t0))))
    this.view = [start, start + span]
  }

  private readonly handleDown = (event: PointerEvent): void => {
    this.drag = { x: event.clientX, view: this.view }
    this.timeCanvas.setPointerCapture(event.pointerId)
  }

  private readonly handleMove = (event: PointerEvent): void => {
    if (this.drag === undefined || this.waveforms === undefined) return
    const rect = this.timeCanvas.getBoundingClientRect()
    const [t0, t1] = this.drag.view
    const shift = ((this.drag.x - event.clientX) / (rect.width - 78)) * (t1 - t0)
    const start = Math.max(this.waveforms.from, Math.min(this.waveforms.to - (t1 - t0), t0 + shift))
    this.view = [start, start + (t1 - t0)]
  }

  private readonly handleUp = (): void => { this.drag = undefined }

  private readonly handleReset = (): void => {
    if (this.waveforms !== undefined) this.view = [this.waveforms.from, this.waveforms.to]
  }
}

declare global {
  interface HTMLElementTagNameMap { 'sh-sequence-plot': ShSequencePlot }
}
