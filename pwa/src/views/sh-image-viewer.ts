// The image viewer for DICOM results, with the conventions of OHIF, Weasis and OsiriX: left-drag
// window/level (or the chosen tool), right-drag zoom, middle-drag pan, wheel through the slices
// (Ctrl + wheel zooms), touch W/L and pinch; length and rectangle ROI (mean, std, area), probe,
// presets Default/Auto and saved ones on keys 1-5, invert, rotate, flip, a tag browser, download;
// corner overlays and orientation markers. Images are blobs, fetched with the session's token and
// kept in Cache Storage, so a result seen once opens offline.
import { css, html, nothing } from 'lit'
import { customElement, property, query, state } from 'lit/decorators.js'
import { listTags, readDicom } from '../../../protocol/dicom/index.ts'
import type { DicomImage } from '../../../protocol/dicom/index.ts'
import { SessionElement } from '../app/session-element.ts'
import { sharedStyles } from '../styles/shared.ts'
import { icon } from '../styles/icons.ts'
import type { IconName } from '../styles/icons.ts'
import '../components/sh-tag-browser.ts'
import { readJson, writeJson } from '../storage/local-store.ts'
import {
  INITIAL_VIEW, autoWindow, canvasToImage, distance, edgeMarkers, probe, rectangleStats, toRgba, viewMatrix
} from '../viewer/image-math.ts'
import type { Frame, Point, ViewState, Window } from '../viewer/image-math.ts'

type Tool = 'wl' | 'zoom' | 'pan' | 'length' | 'roi'

interface Slice {
  image: DicomImage
  frameIndex: number
  file: { name: string, bytes: ArrayBuffer }
}

interface Measurement {
  kind: 'length' | 'roi'
  slice: number
  a: Point
  b: Point
}

interface Preset { name: string, center: number, width: number }

const PRESETS_KEY = 'scanhub:wl-presets'
const TOOLS: Array<{ id: Tool, label: string, icon: IconName }> = [
  { id: 'wl', label: 'Window/level', icon: 'contrast' },
  { id: 'zoom', label: 'Zoom', icon: 'zoom' },
  { id: 'pan', label: 'Pan', icon: 'pan' },
  { id: 'length', label: 'Length', icon: 'ruler' },
  { id: 'roi', label: 'Rectangle ROI', icon: 'square' }
]

function frameOf (slice: Slice): Frame {
  const { image, frameIndex } = slice
  return { pixels: image.pixels, offset: frameIndex * image.rows * image.columns, rows: image.rows, columns: image.columns, slope: image.rescaleSlope, intercept: image.rescaleIntercept }
}

function text (value: unknown): string {
  const first = Array.isArray(value) ? value[0] : value
  if (first === null || first === undefined) return ''
  if (typeof first === 'object') return String((first as { Alphabetic?: string }).Alphabetic ?? '').replace(/\^/g, ' ').trim()
  return String(first)
}

function dicomDate (value: unknown): string {
  const m = /^(\d{4})(\d{2})(\d{2})/.exec(text(value))
  return m === null ? '' : `${m[1]}-${m[2]}-${m[3]}`
}

function round (v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(1) : v.toPrecision(3)
}

@customElement('sh-image-viewer')
export class ShImageViewer extends SessionElement {
  static override styles = [sharedStyles, css`
    :host { display: flex; flex-direction: column; min-height: 0; height: 100%; background: #000; color: #fff; outline: none; }
    :host(:focus-visible) { box-shadow: inset var(--sh-focus); }
    .toolbar { background: var(--sh-surface); color: var(--sh-text); padding: 6px 8px; border-bottom: 1px solid var(--sh-border); gap: 4px; }
    .toolbar .sep { width: 1px; height: 22px; background: var(--sh-border); margin: 0 4px; }
    .toolbar button[aria-pressed="true"] { background: var(--sh-primary-soft); border-color: var(--sh-primary); color: var(--sh-primary); }
    .body { flex: 1; display: flex; min-height: 0; }
    .stage { position: relative; flex: 1; min-width: 0; overflow: hidden; touch-action: none; user-select: none; }
    canvas { position: absolute; inset: 0; width: 100%; height: 100%; display: block; }
    .overlay { position: absolute; font: 12px/1.35 var(--sh-mono); color: #e8f0ff; text-shadow: 0 0 3px #000, 0 0 2px #000; pointer-events: none; white-space: pre; }
    .tl { top: 8px; left: 10px; } .tr { top: 8px; right: 10px; text-align: right; }
    .bl { bottom: 8px; left: 10px; } .br { bottom: 8px; right: 10px; text-align: right; }
    .marker { position: absolute; font: 600 14px var(--sh-font); color: #ffd27a; text-shadow: 0 0 3px #000; pointer-events: none; }
    .m-left { left: 6px; top: 50%; transform: translateY(-50%); } .m-right { right: 6px; top: 50%; transform: translateY(-50%); }
    .m-top { top: 6px; left: 50%; transform: translateX(-50%); } .m-bottom { bottom: 6px; left: 50%; transform: translateX(-50%); }
    .message { position: absolute; inset: 0; display: grid; place-items: center; color: #c9d1d9; padding: 24px; text-align: center; }
    sh-tag-browser { width: min(520px, 45%); border-left: 1px solid var(--sh-border); }
    select { width: auto; min-height: 30px; }
  `]

  /** the result whose DICOM files are shown */
  @property() resultId: string | undefined
  /** blobs (sha-256) to show when there is no result */
  @property({ attribute: false }) blobs: string[] = []

  @state() private slices: Slice[] = []
  @state() private index = 0
  @state() private window: Window = { center: 0, width: 1 }
  @state() private view: ViewState = { ...INITIAL_VIEW }
  @state() private invert = false
  @state() private tool: Tool = 'wl'
  @state() private measurements: Measurement[] = []
  @state() private draft: Measurement | undefined
  @state() private showTags = false
  @state() private status = 'Loading images…'
  @state() private cursor: { point: Point, value: number } | undefined
  @state() private presets: Preset[] = readJson<Preset[]>(PRESETS_KEY) ?? []
  @query('canvas') private canvas!: HTMLCanvasElement
  @query('.stage') private stage!: HTMLElement

  private loadedKey = ''
  private loading = false
  private offscreen: HTMLCanvasElement | undefined
  private offscreenKey = ''
  private resize: ResizeObserver | undefined
  private drag: { button: number, tool: Tool, x: number, y: number, window: Window, view: ViewState, range: number } | undefined
  private touches = new Map<number, Point>()
  private pinch: { distance: number, mid: Point, view: ViewState } | undefined

  override connectedCallback (): void {
    super.connectedCallback()
    this.tabIndex = 0
    this.addEventListener('keydown', this.handleKey)
  }

  override disconnectedCallback (): void {
    super.disconnectedCallback()
    this.removeEventListener('keydown', this.handleKey)
    this.resize?.disconnect()
  }

  protected override firstUpdated (): void {
    this.resize = new ResizeObserver(() => { this.draw() })
    this.resize.observe(this.stage)
  }

  protected override updated (): void {
    this.loadIfNeeded()
    this.draw()
  }

  // ---- loading ----

  private files (): Array<{ name: string, sha256: string }> | undefined {
    if (this.resultId !== undefined && this.resultId !== '') {
      const result = this.session.lab?.results.get(this.resultId)
      if (result === undefined) return undefined
      return result.files.filter((f) => f.type === 'application/dicom' || /\.dcm$/i.test(f.name) || result.type === 'DICOM')
    }
    return this.blobs.map((sha256) => ({ name: `${sha256.slice(0, 12)}.dcm`, sha256 }))
  }

  private loadIfNeeded (): void {
    if (this.loading || this.session?.lab === undefined) return
    const files = this.files()
    if (files === undefined) {
      if (this.status !== 'This result is not on this device yet.') this.status = 'This result is not on this device yet.'
      return
    }
    const key = files.map((f) => f.sha256).join(',')
    if (key === this.loadedKey) return
    this.loadedKey = key
    this.loading = true
    this.load(files).finally(() => { this.loading = false })
  }

  private async load (files: Array<{ name: string, sha256: string }>): Promise<void> {
    if (files.length === 0) {
      this.status = 'No images to show.'
      this.slices = []
      return
    }
    this.status = `Loading ${files.length} image${files.length === 1 ? '' : 's'}…`
    const slices: Slice[] = []
    const problems: string[] = []
    for (const file of files) {
      try {
        const bytes = await this.session.fetchBlob(file.sha256)
        const image = readDicom(bytes)
        for (let f = 0; f < image.frames; f++) slices.push({ image, frameIndex: f, file: { name: file.name, bytes } })
      } catch (err) {
        problems.push(`${file.name}: ${(err as Error).message}`)
      }
    }
    slices.sort((a, b) => (a.image.instanceNumber ?? 0) - (b.image.instanceNumber ?? 0) || (a.image.sliceLocation ?? 0) - (b.image.sliceLocation ?? 0) || a.frameIndex - b.frameIndex)
    this.slices = slices
    this.index = 0
    this.measurements = []
    this.status = slices.length === 0 ? `The images cannot be shown. ${problems.join(' ')}` : problems.length > 0 ? `Some files were skipped: ${problems.join(' ')}` : ''
    if (slices.length > 0) this.applyPreset('default')
  }

  // ---- presets and view ----

  private get current (): Slice | undefined {
    return this.slices[this.index]
  }

  private applyPreset (which: 'default' | 'auto' | Preset): void {
    const slice = this.current
    if (slice === undefined) return
    if (which === 'auto' || (which === 'default' && slice.image.windowWidth === undefined)) this.window = autoWindow(frameOf(slice))
    else if (which === 'default') this.window = { center: slice.image.windowCenter as number, width: slice.image.windowWidth as number }
    else this.window = { center: which.center, width: which.width }
  }

  private savePreset (): void {
    const name = `W ${round(this.window.width)} / L ${round(this.window.center)}`
    this.presets = [...this.presets.filter((p) => p.name !== name), { name, ...this.window }].slice(-3)
    writeJson(PRESETS_KEY, this.presets)
  }

  private reset (): void {
    this.view = { ...INITIAL_VIEW }
    this.invert = false
    this.draft = undefined
    this.applyPreset('default')
  }

  private goTo (index: number): void {
    if (this.slices.length === 0) return
    this.index = Math.max(0, Math.min(this.slices.length - 1, index))
  }

  private zoomBy (factor: number): void {
    this.view = { ...this.view, zoom: Math.max(0.05, Math.min(50, this.view.zoom * factor)) }
  }

  private download (): void {
    const slice = this.current
    if (slice === undefined) return
    const url = URL.createObjectURL(new Blob([slice.file.bytes], { type: 'application/dicom' }))
    const a = document.createElement('a')
    a.href = url
    a.download = slice.file.name
    a.click()
    setTimeout(() => { URL.revokeObjectURL(url) }, 10_000)
  }

  // ---- drawing ----

  private matrix (): DOMMatrix | undefined {
    const slice = this.current
    if (slice === undefined || this.canvas === null) return undefined
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
    const key = `${this.index}|${this.window.center}|${this.window.width}|${this.invert}|${this.loadedKey}`
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
    const items = [...this.measurements.filter((x) => x.slice === this.index), ...(this.draft !== undefined ? [this.draft] : [])]
    for (const item of items) this.drawMeasurement(ctx, m, item, dpr)
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
    let label: string
    if (item.kind === 'length') {
      ctx.beginPath()
      ctx.moveTo(a.x, a.y)
      ctx.lineTo(b.x, b.y)
      ctx.stroke()
      for (const p of [a, b]) { ctx.beginPath(); ctx.arc(p.x, p.y, 3 * dpr, 0, Math.PI * 2); ctx.fill() }
      const d = distance(item.a, item.b, slice.image.pixelSpacing)
      label = `${d.value.toFixed(1)} ${d.unit}`
    } else {
      const corners = [item.a, { x: item.b.x, y: item.a.y }, item.b, { x: item.a.x, y: item.b.y }].map((p) => m.transformPoint(p))
      ctx.setLineDash([5 * dpr, 3 * dpr])
      ctx.beginPath()
      corners.forEach((p, i) => { if (i === 0) ctx.moveTo(p.x, p.y); else ctx.lineTo(p.x, p.y) })
      ctx.closePath()
      ctx.stroke()
      ctx.setLineDash([])
      const s = rectangleStats(frameOf(slice), item.a, item.b, slice.image.pixelSpacing)
      label = `mean ${round(s.mean)}  std ${round(s.std)}  area ${round(s.area)} ${s.areaUnit}`
    }
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

  private handlePointerDown (event: PointerEvent): void {
    const slice = this.current
    if (slice === undefined) return
    this.focus()
    this.canvas.setPointerCapture(event.pointerId)
    if (event.pointerType === 'touch') {
      this.touches.set(event.pointerId, { x: event.clientX, y: event.clientY })
      if (this.touches.size === 2) {
        const [p, q] = [...this.touches.values()]
        this.drag = undefined
        this.pinch = { distance: Math.hypot(p.x - q.x, p.y - q.y), mid: { x: (p.x + q.x) / 2, y: (p.y + q.y) / 2 }, view: { ...this.view } }
        return
      }
    }
    const tool: Tool = event.button === 2 ? 'zoom' : event.button === 1 ? 'pan' : event.pointerType === 'touch' ? 'wl' : this.tool
    event.preventDefault()
    this.drag = { button: event.button, tool, x: event.clientX, y: event.clientY, window: { ...this.window }, view: { ...this.view }, range: autoWindow(frameOf(slice)).width }
    if (tool === 'length' || tool === 'roi') {
      const p = this.imagePoint(event)
      if (p !== undefined) this.draft = { kind: tool, slice: this.index, a: p, b: p }
    }
  }

  private handlePointerMove (event: PointerEvent): void {
    const slice = this.current
    if (slice === undefined) return
    if (this.pinch !== undefined && this.touches.has(event.pointerId)) {
      this.touches.set(event.pointerId, { x: event.clientX, y: event.clientY })
      const [p, q] = [...this.touches.values()]
      const dist = Math.hypot(p.x - q.x, p.y - q.y)
      const mid = { x: (p.x + q.x) / 2, y: (p.y + q.y) / 2 }
      const dpr = window.devicePixelRatio || 1
      this.view = { ...this.pinch.view, zoom: Math.max(0.05, Math.min(50, this.pinch.view.zoom * dist / Math.max(1, this.pinch.distance))),
        panX: this.pinch.view.panX + (mid.x - this.pinch.mid.x) * dpr, panY: this.pinch.view.panY + (mid.y - this.pinch.mid.y) * dpr }
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
      this.window = { center: drag.window.center + dy * step, width: Math.max(1e-6, drag.window.width + dx * step) }
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
    if (this.touches.size < 2) this.pinch = undefined
    if (this.drag !== undefined && this.draft !== undefined) {
      const { a, b } = this.draft
      if (Math.hypot(b.x - a.x, b.y - a.y) > 0.5) this.measurements = [...this.measurements, this.draft]
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

  private readonly handleKey = (event: KeyboardEvent): void => {
    if ((event.composedPath()[0] as HTMLElement).matches?.('input, select, textarea')) return
    const keys: Record<string, () => void> = {
      ArrowUp: () => { this.goTo(this.index - 1) },
      ArrowDown: () => { this.goTo(this.index + 1) },
      ArrowLeft: () => { this.goTo(this.index - 1) },
      ArrowRight: () => { this.goTo(this.index + 1) },
      Home: () => { this.goTo(0) },
      End: () => { this.goTo(this.slices.length - 1) },
      PageUp: () => { this.goTo(0) },
      PageDown: () => { this.goTo(this.slices.length - 1) },
      '+': () => { this.zoomBy(1.25) },
      '-': () => { this.zoomBy(0.8) },
      '=': () => { this.view = { ...this.view, zoom: 1, panX: 0, panY: 0 } },
      i: () => { this.invert = !this.invert },
      r: () => { this.view = { ...this.view, rotation: (this.view.rotation + 1) % 4 } },
      h: () => { this.view = { ...this.view, flipH: !this.view.flipH } },
      v: () => { this.view = { ...this.view, flipV: !this.view.flipV } },
      ' ': () => { this.reset() },
      Escape: () => { this.draft = undefined; this.drag = undefined },
      1: () => { this.applyPreset('default') },
      2: () => { this.applyPreset('auto') }
    }
    this.presets.forEach((p, i) => { keys[String(i + 3)] = () => { this.applyPreset(p) } })
    const action = keys[event.key]
    if (action === undefined || event.ctrlKey || event.metaKey || event.altKey) return
    event.preventDefault()
    action()
  }

  // ---- rendering ----

  private renderOverlays (): unknown {
    const slice = this.current
    if (slice === undefined) return nothing
    const ds = slice.image.dataset
    const position = slice.image.sliceLocation ?? slice.image.imagePositionPatient?.[2]
    const markers = edgeMarkers(slice.image.imageOrientationPatient, this.view)
    return html`
      <div class="overlay tl">${text(ds.PatientName)}\n${dicomDate(ds.StudyDate)}</div>
      <div class="overlay tr">${text(ds.SeriesDescription)}\n${text(ds.ProtocolName)}</div>
      <div class="overlay bl" data-testid="wl-overlay">W: ${round(this.window.width)} L: ${round(this.window.center)}\nZoom: ${Math.round(this.view.zoom * 100)} %${this.cursor !== undefined ? `\nValue: ${round(this.cursor.value)} at (${Math.floor(this.cursor.point.x)}, ${Math.floor(this.cursor.point.y)})` : ''}</div>
      <div class="overlay br" data-testid="slice-overlay">Im: ${this.index + 1}/${this.slices.length}${position !== undefined ? `\nPos: ${position.toFixed(1)} mm` : ''}</div>
      ${markers !== undefined ? html`<span class="marker m-left">${markers.left}</span><span class="marker m-right">${markers.right}</span>
        <span class="marker m-top">${markers.top}</span><span class="marker m-bottom">${markers.bottom}</span>` : nothing}`
  }

  override render (): unknown {
    const has = this.slices.length > 0
    return html`
      <div class="toolbar" role="toolbar" aria-label="Viewer tools">
        ${TOOLS.map((t) => html`<button class="icon small" title="${t.label} (left button)" aria-label=${t.label} aria-pressed=${String(this.tool === t.id)}
          @click=${() => { this.tool = t.id }}>${icon(t.icon)}</button>`)}
        <span class="sep"></span>
        <label class="visually-hidden" for="preset">Window preset</label>
        <select id="preset" ?disabled=${!has} @change=${(e: Event) => {
          const v = (e.target as HTMLSelectElement).value
          if (v === 'default' || v === 'auto') this.applyPreset(v)
          else { const p = this.presets[Number(v)]; if (p !== undefined) this.applyPreset(p) }
          ;(e.target as HTMLSelectElement).value = ''
        }}>
          <option value="">W/L preset…</option>
          <option value="default">1 · Default</option>
          <option value="auto">2 · Auto</option>
          ${this.presets.map((p, i) => html`<option value=${i}>${i + 3} · ${p.name}</option>`)}
        </select>
        <button class="small" ?disabled=${!has} title="Save the current window as a preset" @click=${() => { this.savePreset() }}>Save W/L</button>
        <span class="sep"></span>
        <button class="icon small" title="Invert (i)" aria-label="Invert" aria-pressed=${String(this.invert)} @click=${() => { this.invert = !this.invert }}>${icon('invert')}</button>
        <button class="icon small" title="Rotate (r)" aria-label="Rotate" @click=${() => { this.view = { ...this.view, rotation: (this.view.rotation + 1) % 4 } }}>${icon('sync')}</button>
        <button class="small" title="Flip horizontally (h)" aria-pressed=${String(this.view.flipH)} @click=${() => { this.view = { ...this.view, flipH: !this.view.flipH } }}>Flip H</button>
        <button class="small" title="Flip vertically (v)" aria-pressed=${String(this.view.flipV)} @click=${() => { this.view = { ...this.view, flipV: !this.view.flipV } }}>Flip V</button>
        <button class="icon small" title="Reset (space)" aria-label="Reset" @click=${() => { this.reset() }}>${icon('reset')}</button>
        <button class="icon small" title="Clear measurements" aria-label="Clear measurements" ?disabled=${this.measurements.length === 0} @click=${() => { this.measurements = [] }}>${icon('trash')}</button>
        <span class="spacer"></span>
        <button class="small" aria-pressed=${String(this.showTags)} ?disabled=${!has} @click=${() => { this.showTags = !this.showTags }}>${icon('tags')} Tags</button>
        <button class="icon small" title="Download this image" aria-label="Download" ?disabled=${!has} @click=${() => { this.download() }}>${icon('download')}</button>
      </div>
      <div class="body">
        <div class="stage" @contextmenu=${(e: Event) => { e.preventDefault() }}>
          <canvas aria-label="Image ${this.index + 1} of ${this.slices.length}" role="img"
            @pointerdown=${this.handlePointerDown} @pointermove=${this.handlePointerMove} @pointerup=${this.handlePointerUp}
            @pointercancel=${this.handlePointerUp} @pointerleave=${() => { if (this.drag === undefined) this.cursor = undefined }}
            @wheel=${this.handleWheel} @auxclick=${(e: Event) => { e.preventDefault() }}></canvas>
          ${this.renderOverlays()}
          ${this.status !== '' && !has ? html`<div class="message" role="status">${this.status}</div>` : nothing}
        </div>
        ${this.showTags && this.current !== undefined ? html`<sh-tag-browser .rows=${listTags(this.current.image.dataset)}></sh-tag-browser>` : nothing}
      </div>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sh-image-viewer': ShImageViewer
  }
}
