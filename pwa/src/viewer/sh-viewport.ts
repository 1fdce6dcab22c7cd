// One viewport of the image viewer: a stack of slices on a canvas, with the conventions of OHIF,
// Weasis and OsiriX: left-drag window/level (or the chosen tool), right-drag zoom, middle-drag pan,
// wheel, arrow keys and the slider through the slices (Ctrl + wheel zooms); on touch one finger
// applies the tool (W/L by default), a pinch zooms and a two-finger drag scrolls. Length, rectangle
// and ellipse ROIs are kept per image (measurements.ts). Scrolling and W/L changes made here are
// announced (sh-viewport-scroll, sh-viewport-window) so that the viewer can link other viewports;
// changes the viewer makes (showIndex, setWindow) are not, so that linking never echoes.
import { css, html, LitElement, nothing } from 'lit'
import { customElement, property, query, state } from 'lit/decorators.js'
import { sharedStyles } from '../styles/shared.ts'
import {
  INITIAL_VIEW, autoWindow, canvasToImage, distance, edgeMarkers, ellipseStats, probe, rectangleStats, toRgba, viewMatrix
} from './image-math.ts'
import type { Point, ViewState, Window } from './image-math.ts'
import { classifyTwoFinger, pinchFactor, scrollSlices } from './gestures.ts'
import type { TouchPair, TwoFingerKind } from './gestures.ts'
import { MeasurementStore } from './measurements.ts'
import type { Measurement, MeasurementKind } from './measurements.ts'
import { keepSlice } from './series.ts'
import { dicomDate, dicomText, frameOf } from './series-loader.ts'
import type { ViewerSlice } from './series-loader.ts'

export type Tool = 'wl' | 'zoom' | 'pan' | MeasurementKind

export interface Preset { name: string, center: number, width: number }

export function round (v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(1) : v.toPrecision(3)
}

function isMeasurementTool (tool: Tool): tool is MeasurementKind {
  return tool === 'length' || tool === 'roi' || tool === 'ellipse'
}

const store = new MeasurementStore()
/** told on the window when an image's measurements change, so that every viewport showing it redraws them */
const MEASURED = 'sh-measurements-changed'

@customElement('sh-viewport')
export class ShViewport extends LitElement {
  static override styles = [sharedStyles, css`
    :host { display: flex; flex-direction: column; min-width: 0; min-height: 0; background: #000; color: #fff; border: 1px solid #222; }
    :host([active]) { border-color: var(--sh-primary); }
    .stage { position: relative; flex: 1; min-height: 0; overflow: hidden; touch-action: none; user-select: none; }
    canvas { position: absolute; inset: 0; width: 100%; height: 100%; display: block; }
    .overlay { position: absolute; font: 12px/1.35 var(--sh-mono); color: #e8f0ff; text-shadow: 0 0 3px #000, 0 0 2px #000; pointer-events: none; white-space: pre; }
    .tl { top: 8px; left: 10px; } .tr { top: 8px; right: 10px; text-align: right; }
    .bl { bottom: 8px; left: 10px; } .br { bottom: 8px; right: 10px; text-align: right; }
    .marker { position: absolute; font: 600 14px var(--sh-font); color: #ffd27a; text-shadow: 0 0 3px #000; pointer-events: none; }
    .m-left { left: 6px; top: 50%; transform: translateY(-50%); } .m-right { right: 6px; top: 50%; transform: translateY(-50%); }
    .m-top { top: 6px; left: 50%; transform: translateX(-50%); } .m-bottom { bottom: 6px; left: 50%; transform: translateX(-50%); }
    .message { position: absolute; inset: 0; display: grid; place-items: center; color: #c9d1d9; padding: 24px; text-align: center; }
    .slider { display: flex; align-items: center; gap: 8px; padding: 2px 8px; background: #111; font: 12px var(--sh-mono); color: #c9d1d9; }
    .slider input { flex: 1; min-height: 0; padding: 0; accent-color: var(--sh-primary); }
  `]

  /** the stack shown, in viewing order */
  @property({ attribute: false }) slices: ViewerSlice[] = []
  /** what the left button (or one finger) does */
  @property() tool: Tool = 'wl'
  /** the viewport the toolbar and keys act on */
  @property({ type: Boolean, reflect: true }) active = false
  /** shown when there is no slice */
  @property() message = ''

  @state() index = 0
  @state() window: Window = { center: 0, width: 1 }
  @state() view: ViewState = { ...INITIAL_VIEW }
  @state() invert = false
  @state() private measurements: Measurement[] = []
  @state() private draft: Measurement | undefined
  @state() private cursor: { point: Point, value: number } | undefined
  @query('canvas') private canvas!: HTMLCanvasElement
  @query('.stage') private stage!: HTMLElement

  private loadedSops = new Set<string>()
  private offscreen: HTMLCanvasElement | undefined
  private offscreenKey = ''
  private resize: ResizeObserver | undefined
  private drag: { tool: Tool, x: number, y: number, window: Window, view: ViewState, range: number } | undefined
  private touches = new Map<number, Point>()
  private twoFinger: { start: TouchPair, view: ViewState, index: number, kind?: TwoFingerKind } | undefined

  private readonly handleMeasured = (event: Event): void => {
    const detail = (event as CustomEvent<{ sops: string[], from: ShViewport }>).detail
    if (detail.from === this) return
    const shown = detail.sops.filter((sop) => this.loadedSops.has(sop))
    if (shown.length > 0) this.measurements = [...this.measurements.filter((m) => !shown.includes(m.sop)), ...shown.flatMap((sop) => store.load(sop))]
  }

  override connectedCallback (): void {
    super.connectedCallback()
    window.addEventListener(MEASURED, this.handleMeasured)
  }

  override disconnectedCallback (): void {
    super.disconnectedCallback()
    window.removeEventListener(MEASURED, this.handleMeasured)
    this.resize?.disconnect()
    this.resize = undefined
  }

  protected override firstUpdated (): void {
    this.resize = new ResizeObserver(() => { this.draw() })
    this.resize.observe(this.stage)
  }

  protected override willUpdate (changed: Map<PropertyKey, unknown>): void {
    if (!changed.has('slices')) return
    const before = changed.get('slices') as ViewerSlice[] | undefined
    const hadNone = before === undefined || before.length === 0
    this.index = keepSlice(before?.[this.index], this.slices, this.index)
    const fresh = this.slices.filter((s) => !this.loadedSops.has(s.sopInstanceUid))
    if (fresh.length > 0) {
      const sops = new Set(fresh.map((s) => s.sopInstanceUid))
      for (const sop of sops) this.loadedSops.add(sop)
      this.measurements = [...this.measurements, ...[...sops].flatMap((sop) => store.load(sop))]
    }
    if (hadNone && this.slices.length > 0) {
      this.view = { ...INITIAL_VIEW }
      this.window = this.presetWindow('default') ?? this.window
    }
  }

  protected override updated (): void {
    this.draw()
  }

  get current (): ViewerSlice | undefined {
    return this.slices[this.index]
  }

  // ---- what the viewer asks of a viewport ----

  /** Shows a slice without announcing it (the viewer links it to another viewport). */
  showIndex (index: number): void {
    if (this.slices.length > 0) this.index = Math.max(0, Math.min(this.slices.length - 1, index))
  }

  /** Sets W/L without announcing it. */
  setWindow (window: Window): void {
    this.window = { ...window }
  }

  /** Goes to a slice as the user asked, and tells the viewer. */
  goTo (index: number): void {
    if (this.slices.length === 0) return
    const next = Math.max(0, Math.min(this.slices.length - 1, index))
    if (next === this.index) return
    this.index = next
    this.dispatchEvent(new CustomEvent('sh-viewport-scroll', { detail: { index: next }, bubbles: true }))
  }

  private changeWindow (window: Window): void {
    this.window = window
    this.dispatchEvent(new CustomEvent('sh-viewport-window', { detail: { window }, bubbles: true }))
  }

  private presetWindow (which: 'default' | 'auto' | Preset): Window | undefined {
    const slice = this.current
    if (slice === undefined) return undefined
    if (which === 'auto' || (which === 'default' && (slice.image.windowWidth === undefined || slice.image.windowCenter === undefined))) return autoWindow(frameOf(slice))
    if (which === 'default') return { center: slice.image.windowCenter as number, width: slice.image.windowWidth as number }
    return { center: which.center, width: which.width }
  }

  applyPreset (which: 'default' | 'auto' | Preset): void {
    const window = this.presetWindow(which)
    if (window !== undefined) this.changeWindow(window)
  }

  zoomBy (factor: number): void {
    this.view = { ...this.view, zoom: Math.max(0.05, Math.min(50, this.view.zoom * factor)) }
  }

  reset (): void {
    this.view = { ...INITIAL_VIEW }
    this.invert = false
    this.draft = undefined
    this.applyPreset('default')
  }

  cancelDraft (): void {
    this.draft = undefined
    this.drag = undefined
  }

  get measurementCount (): number {
    return this.measurements.length
  }

  /** Removes the measurements of this stack's images, here and where they are kept. */
  clearMeasurements (): void {
    const sops = new Set(this.measurements.map((m) => m.sop))
    this.measurements = []
    for (const sop of sops) store.save(sop, [])
    this.measured([...sops])
  }

  private addMeasurement (m: Measurement): void {
    this.measurements = [...this.measurements, m]
    store.save(m.sop, this.measurements)
    this.measured([m.sop])
  }

  private measured (sops: string[]): void {
    this.dispatchEvent(new CustomEvent('sh-viewport-measured', { bubbles: true }))
    window.dispatchEvent(new CustomEvent(MEASURED, { detail: { sops, from: this } }))
  }

  // ---- drawing ----

  private matrix (): DOMMatrix | undefined {
    const slice = this.current
    if (slice === undefined || this.canvas === null || this.canvas === undefined) return undefined
    return viewMatrix(this.view, slice.image, { width: this.canvas.width, height: this.canvas.height })
  }

  private draw (): void {
    const canvas = this.canvas
    const slice = this.current
    if (canvas === null || canvas === undefined) return
    const dpr = window.devicePixelRatio || 1
    const width = Math.max(1, Math.round(canvas.clientWidth * dpr))
    const height = Math.max(1, Math.round(canvas.clientHeight * dpr))
    if (canvas.width !== width || canvas.height !== height) { canvas.width = width; canvas.height = height }
    const ctx = canvas.getContext('2d')
    if (ctx === null) return
    ctx.setTransform(1, 0, 0, 1, 0, 0)
    ctx.fillStyle = '#000'
    ctx.fillRect(0, 0, width, height)
    if (slice === undefined) return
    const key = `${slice.file.sha256}|${slice.frameIndex}|${this.window.center}|${this.window.width}|${this.invert}`
    if (this.offscreen === undefined || this.offscreenKey !== key) {
      const frame = frameOf(slice)
      this.offscreen ??= document.createElement('canvas')
      this.offscreen.width = frame.columns
      this.offscreen.height = frame.rows
      const invert = this.invert !== (slice.image.photometricInterpretation === 'MONOCHROME1')
      const data = new ImageData(toRgba(frame, this.window, { invert }) as Uint8ClampedArray<ArrayBuffer>, frame.columns, frame.rows)
      this.offscreen.getContext('2d')?.putImageData(data, 0, 0)
      this.offscreenKey = key
    }
    const m = this.matrix() as DOMMatrix
    ctx.setTransform(m)
    ctx.imageSmoothingEnabled = true
    ctx.drawImage(this.offscreen, 0, 0)
    ctx.setTransform(1, 0, 0, 1, 0, 0)
    for (const item of [...this.shownMeasurements(), ...(this.draft !== undefined ? [this.draft] : [])]) this.drawMeasurement(ctx, m, item, dpr)
  }

  private shownMeasurements (): Measurement[] {
    const slice = this.current
    return slice === undefined ? [] : this.measurements.filter((x) => x.sop === slice.sopInstanceUid && x.frame === slice.frameIndex)
  }

  /** The text drawn beside a measurement (also what the viewport's status line reads out). */
  private label (item: Measurement, slice: ViewerSlice): string {
    if (item.kind === 'length') {
      const d = distance(item.a, item.b, slice.image.pixelSpacing)
      return `${d.value.toFixed(1)} ${d.unit}`
    }
    const stats = item.kind === 'roi' ? rectangleStats : ellipseStats
    const s = stats(frameOf(slice), item.a, item.b, slice.image.pixelSpacing)
    return `mean ${round(s.mean)}  SD ${round(s.std)}  area ${round(s.area)} ${s.areaUnit}`
  }

  private drawMeasurement (ctx: CanvasRenderingContext2D, m: DOMMatrix, item: Measurement, dpr: number): void {
    const slice = this.current
    if (slice === undefined) return
    const a = m.transformPoint(item.a)
    const b = m.transformPoint(item.b)
    ctx.lineWidth = 1.5 * dpr
    ctx.strokeStyle = '#3ee07f'
    ctx.fillStyle = '#3ee07f'
    ctx.font = `${12 * dpr}px ui-monospace, monospace`
    if (item.kind === 'length') {
      ctx.beginPath()
      ctx.moveTo(a.x, a.y)
      ctx.lineTo(b.x, b.y)
      ctx.stroke()
      for (const p of [a, b]) { ctx.beginPath(); ctx.arc(p.x, p.y, 3 * dpr, 0, Math.PI * 2); ctx.fill() }
    } else {
      ctx.setLineDash([5 * dpr, 3 * dpr])
      ctx.beginPath()
      if (item.kind === 'roi') {
        const corners = [item.a, { x: item.b.x, y: item.a.y }, item.b, { x: item.a.x, y: item.b.y }].map((p) => m.transformPoint(p))
        corners.forEach((p, i) => { if (i === 0) ctx.moveTo(p.x, p.y); else ctx.lineTo(p.x, p.y) })
        ctx.closePath()
      } else {
        // the path is laid out in image pixels; stroking after the reset keeps the line width in screen pixels
        ctx.setTransform(m)
        ctx.ellipse((item.a.x + item.b.x) / 2, (item.a.y + item.b.y) / 2, Math.abs(item.b.x - item.a.x) / 2, Math.abs(item.b.y - item.a.y) / 2, 0, 0, Math.PI * 2)
        ctx.setTransform(1, 0, 0, 1, 0, 0)
      }
      ctx.stroke()
      ctx.setLineDash([])
    }
    const label = this.label(item, slice)
    ctx.lineWidth = 3 * dpr
    ctx.strokeStyle = '#000'
    const x = Math.max(a.x, b.x) + 6 * dpr
    const y = Math.min(a.y, b.y) - 6 * dpr
    ctx.strokeText(label, x, y)
    ctx.fillText(label, x, y)
  }

  // ---- input ----

  private point (event: { clientX: number, clientY: number }): Point {
    const rect = this.canvas.getBoundingClientRect()
    const dpr = window.devicePixelRatio || 1
    return { x: (event.clientX - rect.left) * dpr, y: (event.clientY - rect.top) * dpr }
  }

  private imagePoint (event: { clientX: number, clientY: number }): Point | undefined {
    const m = this.matrix()
    return m === undefined ? undefined : canvasToImage(m, this.point(event))
  }

  private touchPair (): TouchPair {
    const [a, b] = [...this.touches.values()]
    return { a, b }
  }

  private handlePointerDown (event: PointerEvent): void {
    this.dispatchEvent(new CustomEvent('sh-viewport-activate', { bubbles: true }))
    const slice = this.current
    if (slice === undefined) return
    this.canvas.setPointerCapture(event.pointerId)
    if (event.pointerType === 'touch') {
      this.touches.set(event.pointerId, { x: event.clientX, y: event.clientY })
      if (this.touches.size === 2) {
        // a second finger turns the gesture into a pinch or a scroll: the first finger's drag is undone
        if (this.drag !== undefined && this.drag.tool === 'wl') this.changeWindow(this.drag.window)
        this.drag = undefined
        this.draft = undefined
        this.twoFinger = { start: this.touchPair(), view: { ...this.view }, index: this.index }
        return
      }
      if (this.touches.size > 2) return
    }
    const tool: Tool = event.button === 2 ? 'zoom' : event.button === 1 ? 'pan' : this.tool
    event.preventDefault()
    this.drag = { tool, x: event.clientX, y: event.clientY, window: { ...this.window }, view: { ...this.view }, range: autoWindow(frameOf(slice)).width }
    if (isMeasurementTool(tool)) {
      const p = this.imagePoint(event)
      if (p !== undefined) this.draft = { kind: tool, sop: slice.sopInstanceUid, frame: slice.frameIndex, a: p, b: p }
    }
  }

  private handlePointerMove (event: PointerEvent): void {
    const slice = this.current
    if (slice === undefined) return
    if (this.twoFinger !== undefined && this.touches.has(event.pointerId)) {
      this.touches.set(event.pointerId, { x: event.clientX, y: event.clientY })
      const gesture = this.twoFinger
      const now = this.touchPair()
      gesture.kind ??= classifyTwoFinger(gesture.start, now)
      if (gesture.kind === 'zoom') this.view = { ...gesture.view, zoom: Math.max(0.05, Math.min(50, gesture.view.zoom * pinchFactor(gesture.start, now))) }
      else if (gesture.kind === 'scroll') this.goTo(gesture.index + scrollSlices(gesture.start, now))
      return
    }
    const drag = this.drag
    if (drag === undefined) {
      const p = this.imagePoint(event)
      const value = p === undefined ? undefined : probe(frameOf(slice), p)
      this.cursor = p === undefined || value === undefined ? undefined : { point: p, value }
      return
    }
    const dx = event.clientX - drag.x
    const dy = event.clientY - drag.y
    const dpr = window.devicePixelRatio || 1
    if (drag.tool === 'wl') {
      const step = Math.max(drag.range / 400, 1e-6)
      this.changeWindow({ center: drag.window.center + dy * step, width: Math.max(1e-6, drag.window.width + dx * step) })
    } else if (drag.tool === 'zoom') {
      this.view = { ...drag.view, zoom: Math.max(0.05, Math.min(50, drag.view.zoom * Math.exp(-dy / 150))) }
    } else if (drag.tool === 'pan') {
      this.view = { ...drag.view, panX: drag.view.panX + dx * dpr, panY: drag.view.panY + dy * dpr }
    } else if (this.draft !== undefined) {
      const p = this.imagePoint(event)
      if (p !== undefined) this.draft = { ...this.draft, b: p }
    }
  }

  private handlePointerUp (event: PointerEvent): void {
    this.touches.delete(event.pointerId)
    if (this.touches.size < 2) this.twoFinger = undefined
    if (this.drag !== undefined && this.draft !== undefined) {
      const { a, b } = this.draft
      if (Math.hypot(b.x - a.x, b.y - a.y) > 0.5) this.addMeasurement(this.draft)
      this.draft = undefined
    }
    this.drag = undefined
  }

  private handleWheel (event: WheelEvent): void {
    if (this.current === undefined) return
    event.preventDefault()
    if (event.ctrlKey) this.zoomBy(Math.exp(-event.deltaY / 300))
    else this.goTo(this.index + Math.sign(event.deltaY))
  }

  // ---- rendering ----

  private renderOverlays (): unknown {
    const slice = this.current
    if (slice === undefined) return nothing
    const ds = slice.image.dataset
    const markers = edgeMarkers(slice.image.imageOrientationPatient, this.view)
    const shown = this.shownMeasurements()
    return html`
      <div class="overlay tl">${dicomText(ds.PatientName)}\n${dicomDate(ds.StudyDate)}</div>
      <div class="overlay tr">${dicomText(ds.SeriesDescription)}\n${dicomText(ds.ProtocolName)}</div>
      <div class="overlay bl" data-testid="wl-overlay">W: ${round(this.window.width)} L: ${round(this.window.center)}\nZoom: ${Math.round(this.view.zoom * 100)} %${this.cursor !== undefined ? `\nValue: ${round(this.cursor.value)} at (${Math.floor(this.cursor.point.x)}, ${Math.floor(this.cursor.point.y)})` : ''}</div>
      <div class="overlay br" data-testid="slice-overlay">Im: ${this.index + 1}/${this.slices.length}${slice.position !== undefined ? `\nPos: ${slice.position.toFixed(1)} mm` : ''}</div>
      ${markers !== undefined ? html`<span class="marker m-left">${markers.left}</span><span class="marker m-right">${markers.right}</span>
        <span class="marker m-top">${markers.top}</span><span class="marker m-bottom">${markers.bottom}</span>` : nothing}
      <ul class="visually-hidden" aria-label="Measurements on this image" data-testid="measurements">
        ${shown.map((m) => html`<li>${m.kind === 'roi' ? 'Rectangle' : m.kind === 'ellipse' ? 'Ellipse' : 'Length'}: ${this.label(m, slice)}</li>`)}
      </ul>`
  }

  override render (): unknown {
    const count = this.slices.length
    return html`
      <div class="stage" @contextmenu=${(e: Event) => { e.preventDefault() }}>
        <canvas aria-label="Image ${this.index + 1} of ${count}" role="img"
          @pointerdown=${this.handlePointerDown} @pointermove=${this.handlePointerMove} @pointerup=${this.handlePointerUp}
          @pointercancel=${this.handlePointerUp} @pointerleave=${() => { if (this.drag === undefined) this.cursor = undefined }}
          @wheel=${this.handleWheel} @auxclick=${(e: Event) => { e.preventDefault() }}></canvas>
        ${this.renderOverlays()}
        ${count === 0 && this.message !== '' ? html`<div class="message" role="status">${this.message}</div>` : nothing}
      </div>
      ${count > 1 ? html`<div class="slider">
        <input type="range" aria-label="Slice" min="1" max=${count} step="1" .value=${String(this.index + 1)}
          @input=${(e: Event) => { this.goTo(Number((e.target as HTMLInputElement).value) - 1) }}>
        <span aria-hidden="true">${this.index + 1}/${count}</span>
      </div>` : nothing}`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sh-viewport': ShViewport
  }
}
