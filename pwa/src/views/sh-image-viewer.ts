// The image viewer for DICOM results. Its images are series: the files of a patient's results grouped
// by SeriesInstanceUID (however many results hold a series' slices) and shown as stacks in 1×1, 1×2
// or 2×2 viewports (viewer/sh-viewport.ts) whose scrolling and W/L follow each other while linked.
// Beside them a series browser with thumbnails, grouped by study, and the tags of the image shown.
// While a reconstruction runs, its new slices join the stack as their results arrive. Images are
// blobs, fetched with the session's token and kept in Cache Storage, so a result seen once opens
// offline. The full-page viewer links back to the patient and task the series came from.
import { css, html, nothing } from 'lit'
import { customElement, property, state } from 'lit/decorators.js'
import { listTags } from '../../../protocol/dicom/index.ts'
import type { Result } from '../../../protocol/lab/schema.ts'
import { SessionElement } from '../app/session-element.ts'
import { sharedStyles } from '../styles/shared.ts'
import { icon } from '../styles/icons.ts'
import type { IconName } from '../styles/icons.ts'
import '../components/sh-tag-browser.ts'
import '../components/sh-series-browser.ts'
import type { BrowserStudy } from '../components/sh-series-browser.ts'
import { readJson, writeJson } from '../storage/local-store.ts'
import { patientName } from './format.ts'
import { LAYOUTS, linkedIndex, viewportCount } from '../viewer/layout.ts'
import type { LayoutName, LinkedStack } from '../viewer/layout.ts'
import { dicomDate, dicomText, readViewerFile, seriesOf, slicesOfFile } from '../viewer/series-loader.ts'
import type { ViewerFile, ViewerSeries, ViewerSlice } from '../viewer/series-loader.ts'
import '../viewer/sh-viewport.ts'
import { round } from '../viewer/sh-viewport.ts'
import type { Preset, ShViewport, Tool } from '../viewer/sh-viewport.ts'
import type { Window } from '../viewer/image-math.ts'

const PRESETS_KEY = 'scanhub:wl-presets'
const TOOLS: Array<{ id: Tool, label: string, icon?: IconName, text?: string }> = [
  { id: 'wl', label: 'Window/level', icon: 'contrast' },
  { id: 'zoom', label: 'Zoom', icon: 'zoom' },
  { id: 'pan', label: 'Pan', icon: 'pan' },
  { id: 'length', label: 'Length', icon: 'ruler' },
  { id: 'roi', label: 'Rectangle ROI', icon: 'square' },
  { id: 'ellipse', label: 'Ellipse ROI', icon: 'circle' }
]

function isDicomFile (result: Result, file: Result['files'][number]): boolean {
  return file.type === 'application/dicom' || /\.dcm$/i.test(file.name) || result.type === 'DICOM'
}

function stackOf (series: ViewerSeries | undefined): LinkedStack {
  if (series === undefined) return { length: 0 }
  return { length: series.slices.length, positions: series.slices.map((s) => s.position) }
}

@customElement('sh-image-viewer')
export class ShImageViewer extends SessionElement {
  static override styles = [sharedStyles, css`
    :host { display: flex; flex-direction: column; min-height: 0; height: 100%; background: #000; color: #fff; outline: none; container-type: inline-size; }
    :host(:focus-visible) { box-shadow: inset var(--sh-focus); }
    .toolbar { background: var(--sh-surface); color: var(--sh-text); padding: 6px 8px; border-bottom: 1px solid var(--sh-border); gap: 4px; flex-wrap: wrap; }
    .toolbar .sep { width: 1px; height: 22px; background: var(--sh-border); margin: 0 4px; }
    .toolbar button[aria-pressed="true"] { background: var(--sh-primary-soft); border-color: var(--sh-primary); color: var(--sh-primary); }
    .back { display: inline-flex; align-items: center; gap: 4px; margin-right: 6px; font-weight: 600; max-width: 28ch; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    .group { display: inline-flex; gap: 4px; }
    .note { margin: 0; padding: 4px 10px; font-size: 12px; background: var(--sh-surface); color: var(--sh-text-muted); }
    .body { flex: 1; display: flex; min-height: 0; }
    .grid { flex: 1; min-width: 0; display: grid; gap: 2px; background: #111; }
    sh-series-browser { width: 180px; flex: none; border-right: 1px solid var(--sh-border); }
    sh-tag-browser { width: min(560px, 45%); flex: none; border-left: 1px solid var(--sh-border); }
    select { width: auto; min-height: 30px; }
    /* narrow (a task's pane, a phone): the browser and the tags go above and below the images */
    @container (max-width: 760px) {
      .body { flex-direction: column; }
      .grid { min-height: 240px; }
      sh-series-browser { width: auto; max-height: 30%; border-right: 0; border-bottom: 1px solid var(--sh-border); }
      sh-tag-browser { width: auto; height: 45%; border-left: 0; border-top: 1px solid var(--sh-border); }
    }
  `]

  /** the result whose series is shown first */
  @property() resultId: string | undefined
  /** blobs (sha-256) to show when there is no result */
  @property({ attribute: false }) blobs: string[] = []
  /** inside a task's pane: only that task's series, the browser closed, no link back */
  @property({ type: Boolean }) embedded = false

  @state() private series: ViewerSeries[] = []
  @state() private layout: LayoutName = '1x1'
  /** the series (uid) of each viewport */
  @state() private ports: string[] = []
  @state() private active = 0
  @state() private tool: Tool = 'wl'
  @state() private linked = true
  @state() private showTags = false
  @state() private browserOpen: boolean | undefined
  @state() private status = 'Loading images…'
  @state() private presets: Preset[] = readJson<Preset[]>(PRESETS_KEY) ?? []

  /** what the lab says should be shown, in order */
  private files: ViewerFile[] = []
  private filesKey = ''
  /** read files' slices, by sha-256 */
  private readonly slicesByFile = new Map<string, ViewerSlice[]>()
  private readonly problems = new Map<string, string>()
  private readonly requested = new Set<string>()
  private pumping = false

  override connectedCallback (): void {
    super.connectedCallback()
    this.tabIndex = 0
    this.addEventListener('keydown', this.handleKey)
  }

  override disconnectedCallback (): void {
    super.disconnectedCallback()
    this.removeEventListener('keydown', this.handleKey)
  }

  protected override updated (): void {
    this.loadIfNeeded()
  }

  // ---- what to show ----

  private openedResult (): Result | undefined {
    return this.resultId === undefined || this.resultId === '' ? undefined : this.session?.lab?.results.get(this.resultId)
  }

  /** The DICOM files to show: the patient's (the task's when embedded), the opened result's task first. */
  private wantedFiles (): ViewerFile[] | undefined {
    const lab = this.session?.lab
    if (lab === undefined) return undefined
    if (this.resultId === undefined || this.resultId === '') {
      return this.blobs.map((sha256) => ({ name: `${sha256.slice(0, 12)}.dcm`, sha256 }))
    }
    const result = this.openedResult()
    if (result === undefined) return undefined
    const results = (this.embedded ? lab.results.list({ taskId: result.taskId }) : lab.results.list({ patientId: result.patientId }))
      .filter((r) => r.type === 'DICOM' || r.files.some((f) => f.type === 'application/dicom'))
    // the opened result's task first (a stable sort keeps the order of creation), so its series shows before the others load
    results.sort((a, b) => Number(b.taskId === result.taskId) - Number(a.taskId === result.taskId))
    return results.flatMap((r) => r.files.filter((f) => isDicomFile(r, f)).map((f) => ({ name: f.name, sha256: f.sha256, resultId: r.id, taskId: r.taskId })))
  }

  private loadIfNeeded (): void {
    const files = this.wantedFiles()
    if (files === undefined) {
      if (this.session?.lab !== undefined && this.status !== 'This result is not on this device yet.') this.status = 'This result is not on this device yet.'
      return
    }
    const key = files.map((f) => `${f.resultId ?? ''}:${f.sha256}`).join(',')
    if (key === this.filesKey) return
    this.filesKey = key
    this.files = files
    this.regroup()
    void this.pump()
  }

  /** Reads the files not read yet, one after the other, regrouping after each so that slices appear as they come. */
  private async pump (): Promise<void> {
    if (this.pumping) return
    this.pumping = true
    try {
      for (let next = this.nextFile(); next !== undefined; next = this.nextFile()) {
        this.requested.add(next.sha256)
        try {
          const { image, bytes } = await readViewerFile(next, async (sha256) => await this.session.fetchBlob(sha256))
          this.slicesByFile.set(next.sha256, slicesOfFile(next, image, bytes))
        } catch (err) {
          this.problems.set(next.sha256, `${next.name}: ${(err as Error).message}`)
        }
        this.regroup()
      }
    } finally {
      this.pumping = false
    }
  }

  private nextFile (): ViewerFile | undefined {
    return this.files.find((f) => !this.requested.has(f.sha256))
  }

  private regroup (): void {
    const seen = new Set<string>()
    const slices: ViewerSlice[] = []
    for (const file of this.files) {
      if (seen.has(file.sha256)) continue
      seen.add(file.sha256)
      slices.push(...(this.slicesByFile.get(file.sha256) ?? []))
    }
    this.series = seriesOf(slices)
    this.assignPorts()
    const pending = this.files.some((f) => !this.requested.has(f.sha256))
    const problems = this.files.map((f) => this.problems.get(f.sha256)).filter((p): p is string => p !== undefined)
    this.status = this.files.length === 0
      ? 'No images to show.'
      : this.series.length === 0
        ? pending ? `Loading ${this.files.length} image${this.files.length === 1 ? '' : 's'}…` : `The images cannot be shown. ${problems.join(' ')}`
        : problems.length > 0 ? `Some files were skipped: ${problems.join(' ')}` : ''
  }

  /** Gives each viewport of the layout a series: kept if it still exists, else the opened one, then the others in turn. */
  private assignPorts (): void {
    const uids = this.series.map((s) => s.uid)
    if (uids.length === 0) return
    const opened = this.series.find((s) => s.slices.some((x) => x.file.resultId !== undefined && x.file.resultId === this.resultId))?.uid ?? uids[0]
    const ports: string[] = []
    for (let i = 0; i < viewportCount(this.layout); i++) {
      const kept = this.ports[i]
      if (kept !== undefined && uids.includes(kept)) { ports.push(kept); continue }
      if (i === 0) { ports.push(opened); continue }
      // the next series after the previous viewport's, round the list
      ports.push(uids[(uids.indexOf(ports[i - 1]) + 1) % uids.length])
    }
    if (ports.join('|') !== this.ports.join('|')) this.ports = ports
  }

  private seriesOf (uid: string | undefined): ViewerSeries | undefined {
    return this.series.find((s) => s.uid === uid)
  }

  private viewports (): ShViewport[] {
    return [...this.renderRoot.querySelectorAll('sh-viewport')]
  }

  private port (): ShViewport | undefined {
    return this.viewports()[this.active]
  }

  private setLayout (layout: LayoutName): void {
    this.layout = layout
    this.active = Math.min(this.active, viewportCount(layout) - 1)
    this.assignPorts()
  }

  private choose (uid: string): void {
    const ports = [...this.ports]
    ports[this.active] = uid
    this.ports = ports
  }

  // ---- linking ----

  private followScroll (from: number, index: number): void {
    this.requestUpdate()
    if (!this.linked) return
    const source = stackOf(this.seriesOf(this.ports[from]))
    this.viewports().forEach((vp, i) => {
      if (i !== from) vp.showIndex(linkedIndex(source, index, stackOf(this.seriesOf(this.ports[i]))))
    })
  }

  private followWindow (from: number, window: Window): void {
    if (!this.linked) return
    this.viewports().forEach((vp, i) => { if (i !== from) vp.setWindow(window) })
  }

  // ---- presets ----

  private savePreset (): void {
    const window = this.port()?.window
    if (window === undefined) return
    const name = `W ${round(window.width)} / L ${round(window.center)}`
    this.presets = [...this.presets.filter((p) => p.name !== name), { name, ...window }].slice(-3)
    writeJson(PRESETS_KEY, this.presets)
  }

  private download (): void {
    const slice = this.port()?.current
    if (slice === undefined) return
    const url = URL.createObjectURL(new Blob([slice.bytes], { type: 'application/dicom' }))
    const a = document.createElement('a')
    a.href = url
    a.download = slice.file.name
    a.click()
    setTimeout(() => { URL.revokeObjectURL(url) }, 10_000)
  }

  // ---- keys ----

  private readonly handleKey = (event: KeyboardEvent): void => {
    if ((event.composedPath()[0] as HTMLElement).matches?.('input, select, textarea')) return
    const vp = this.port()
    if (vp === undefined) return
    const last = (this.seriesOf(this.ports[this.active])?.slices.length ?? 1) - 1
    const keys: Record<string, () => void> = {
      ArrowUp: () => { vp.goTo(vp.index - 1) },
      ArrowDown: () => { vp.goTo(vp.index + 1) },
      ArrowLeft: () => { vp.goTo(vp.index - 1) },
      ArrowRight: () => { vp.goTo(vp.index + 1) },
      Home: () => { vp.goTo(0) },
      End: () => { vp.goTo(last) },
      PageUp: () => { vp.goTo(0) },
      PageDown: () => { vp.goTo(last) },
      '+': () => { vp.zoomBy(1.25) },
      '-': () => { vp.zoomBy(0.8) },
      '=': () => { vp.view = { ...vp.view, zoom: 1, panX: 0, panY: 0 } },
      i: () => { vp.invert = !vp.invert },
      r: () => { vp.view = { ...vp.view, rotation: (vp.view.rotation + 1) % 4 } },
      h: () => { vp.view = { ...vp.view, flipH: !vp.view.flipH } },
      v: () => { vp.view = { ...vp.view, flipV: !vp.view.flipV } },
      ' ': () => { vp.reset() },
      Escape: () => { vp.cancelDraft() },
      1: () => { vp.applyPreset('default') },
      2: () => { vp.applyPreset('auto') }
    }
    this.presets.forEach((p, i) => { keys[String(i + 3)] = () => { vp.applyPreset(p) } })
    const action = keys[event.key]
    if (action === undefined || event.ctrlKey || event.metaKey || event.altKey) return
    event.preventDefault()
    action()
    this.requestUpdate()
  }

  // ---- rendering ----

  /** The way back to the patient and task of the active viewport's series (the full-page viewer only). */
  private renderBack (): unknown {
    if (this.embedded) return nothing
    const lab = this.session?.lab
    const opened = this.openedResult()
    if (lab === undefined || opened === undefined) return html`<a class="back" href="/">${icon('arrowUp')} Patients</a>`
    const taskId = this.seriesOf(this.ports[this.active])?.taskId ?? opened.taskId
    const patient = lab.patients.get(opened.patientId)
    const task = lab.tasks.get(taskId)
    const name = patient !== undefined ? patientName(patient) : 'Patient'
    return html`<a class="back" href="/patients/${encodeURIComponent(opened.patientId)}?task=${encodeURIComponent(taskId)}"
      title="Back to ${name}${task !== undefined ? `, task ${task.name}` : ''}">${icon('arrowUp')} ${name}${task !== undefined ? ` · ${task.name}` : ''}</a>`
  }

  /** The series for the browser, grouped by study: titled by the exam when the lab knows it, else by the DICOM study. */
  private studies (): BrowserStudy[] {
    const lab = this.session?.lab
    const studies = new Map<string, BrowserStudy>()
    for (const s of this.series) {
      const first = s.slices[0]
      const ds = first.image.dataset
      const task = s.taskId !== undefined ? lab?.tasks.get(s.taskId) : undefined
      const workflow = task !== undefined ? lab?.workflows.get(task.workflowId) : undefined
      const exam = workflow !== undefined ? lab?.exams.get(workflow.examId) : undefined
      const key = s.studyInstanceUid !== '' ? s.studyInstanceUid : `series:${s.uid}`
      const study = studies.get(key) ?? {
        title: exam?.name ?? (dicomText(ds.StudyDescription) || 'Study'),
        subtitle: [dicomDate(ds.StudyDate), dicomText(ds.AccessionNumber)].filter((t) => t !== '').join(' · '),
        series: []
      }
      const number = dicomText(ds.SeriesNumber)
      const name = dicomText(ds.SeriesDescription) || task?.name || 'Series'
      study.series.push({ uid: s.uid, label: `${number !== '' ? `${number} · ` : ''}${name}`, count: s.slices.length, thumbnail: s.slices[Math.floor(s.slices.length / 2)] })
      studies.set(key, study)
    }
    return [...studies.values()]
  }

  override render (): unknown {
    const has = this.series.length > 0
    const layout = LAYOUTS.find((l) => l.name === this.layout) ?? LAYOUTS[0]
    const count = layout.columns * layout.rows
    const showBrowser = (this.browserOpen ?? !this.embedded) && has
    const vp = this.port()
    const current = vp?.current
    return html`
      <div class="toolbar" role="toolbar" aria-label="Viewer tools">
        ${this.renderBack()}
        ${TOOLS.map((t) => html`<button class="icon small" title="${t.label} (left button)" aria-label=${t.label} aria-pressed=${String(this.tool === t.id)}
          @click=${() => { this.tool = t.id }}>${icon(t.icon ?? 'square')}</button>`)}
        <span class="sep"></span>
        <label class="visually-hidden" for="preset">Window preset</label>
        <select id="preset" ?disabled=${!has} @change=${(e: Event) => {
          const v = (e.target as HTMLSelectElement).value
          if (v === 'default' || v === 'auto') this.port()?.applyPreset(v)
          else { const p = this.presets[Number(v)]; if (p !== undefined) this.port()?.applyPreset(p) }
          ;(e.target as HTMLSelectElement).value = ''
        }}>
          <option value="">W/L preset…</option>
          <option value="default">1 · Default</option>
          <option value="auto">2 · Auto</option>
          ${this.presets.map((p, i) => html`<option value=${i}>${i + 3} · ${p.name}</option>`)}
        </select>
        <button class="small" ?disabled=${!has} title="Save the current window as a preset" @click=${() => { this.savePreset() }}>Save W/L</button>
        <span class="sep"></span>
        <button class="icon small" title="Invert (i)" aria-label="Invert" aria-pressed=${String(vp?.invert ?? false)} @click=${() => { if (vp !== undefined) { vp.invert = !vp.invert; this.requestUpdate() } }}>${icon('invert')}</button>
        <button class="icon small" title="Rotate (r)" aria-label="Rotate" @click=${() => { if (vp !== undefined) vp.view = { ...vp.view, rotation: (vp.view.rotation + 1) % 4 } }}>${icon('sync')}</button>
        <button class="small" title="Flip horizontally (h)" aria-pressed=${String(vp?.view.flipH ?? false)} @click=${() => { if (vp !== undefined) { vp.view = { ...vp.view, flipH: !vp.view.flipH }; this.requestUpdate() } }}>Flip H</button>
        <button class="small" title="Flip vertically (v)" aria-pressed=${String(vp?.view.flipV ?? false)} @click=${() => { if (vp !== undefined) { vp.view = { ...vp.view, flipV: !vp.view.flipV }; this.requestUpdate() } }}>Flip V</button>
        <button class="icon small" title="Reset (space)" aria-label="Reset" @click=${() => { vp?.reset() }}>${icon('reset')}</button>
        <button class="icon small" title="Clear the measurements of this series" aria-label="Clear measurements" ?disabled=${(vp?.measurementCount ?? 0) === 0} @click=${() => { vp?.clearMeasurements() }}>${icon('trash')}</button>
        <span class="sep"></span>
        <span role="group" aria-label="Layout" class="group">
          ${LAYOUTS.map((l) => html`<button class="small" aria-pressed=${String(this.layout === l.name)} title="${l.label} viewports" aria-label="Layout ${l.label}"
            @click=${() => { this.setLayout(l.name) }}>${l.label}</button>`)}
        </span>
        <button class="small" aria-pressed=${String(this.linked)} ?disabled=${count === 1} title="Scroll and window the viewports together"
          @click=${() => { this.linked = !this.linked }}>Link</button>
        <span class="spacer"></span>
        <button class="small" aria-pressed=${String(showBrowser)} ?disabled=${!has} @click=${() => { this.browserOpen = !showBrowser }}>${icon('image')} Series</button>
        <button class="small" aria-pressed=${String(this.showTags)} ?disabled=${!has} @click=${() => { this.showTags = !this.showTags }}>${icon('tags')} Tags</button>
        <button class="icon small" title="Download this image" aria-label="Download" ?disabled=${!has} @click=${() => { this.download() }}>${icon('download')}</button>
      </div>
      ${has && this.status !== '' ? html`<p class="note" role="status">${this.status}</p>` : nothing}
      <div class="body">
        ${showBrowser ? html`<sh-series-browser .studies=${this.studies()} .selected=${this.ports[this.active] ?? ''}
          @sh-series-select=${(e: CustomEvent<{ uid: string }>) => { this.choose(e.detail.uid) }}></sh-series-browser>` : nothing}
        <div class="grid" style="grid-template-columns: repeat(${layout.columns}, minmax(0, 1fr)); grid-template-rows: repeat(${layout.rows}, minmax(0, 1fr))">
          ${Array.from({ length: count }, (_, i) => html`<sh-viewport .slices=${this.seriesOf(this.ports[i])?.slices ?? []} .tool=${this.tool}
            ?active=${count > 1 && i === this.active} .message=${has ? 'No series here.' : this.status}
            @sh-viewport-activate=${() => { this.active = i; this.focus() }}
            @sh-viewport-scroll=${(e: CustomEvent<{ index: number }>) => { this.followScroll(i, e.detail.index) }}
            @sh-viewport-window=${(e: CustomEvent<{ window: Window }>) => { this.followWindow(i, e.detail.window) }}
            @sh-viewport-measured=${() => { this.requestUpdate() }}></sh-viewport>`)}
        </div>
        ${this.showTags && current !== undefined ? html`<sh-tag-browser .rows=${listTags(current.image.dataset)}></sh-tag-browser>` : nothing}
      </div>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sh-image-viewer': ShImageViewer
  }
}
