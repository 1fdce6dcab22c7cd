// The viewer's series browser: the patient's series grouped by study (exam), each with a thumbnail
// of its middle slice, its number of images and its name; choosing one shows it in the active
// viewport. Thumbnails are drawn once per image, at the image's full range (the "Auto" window).
import { LitElement, css, html, nothing } from 'lit'
import { customElement, property } from 'lit/decorators.js'
import { sharedStyles } from '../styles/shared.ts'
import { autoWindow, toRgba } from '../viewer/image-math.ts'
import { frameOf } from '../viewer/series-loader.ts'
import type { ViewerSlice } from '../viewer/series-loader.ts'

export interface BrowserSeries {
  uid: string
  label: string
  /** images in the series so far (it grows while a reconstruction runs) */
  count: number
  /** the slice drawn as thumbnail */
  thumbnail: ViewerSlice
}

export interface BrowserStudy {
  title: string
  subtitle: string
  series: BrowserSeries[]
}

const THUMB = 96
const thumbnails = new WeakMap<object, Map<number, string>>()

function thumbnailOf (slice: ViewerSlice): string {
  const byFrame = thumbnails.get(slice.image) ?? new Map<number, string>()
  thumbnails.set(slice.image, byFrame)
  const known = byFrame.get(slice.frameIndex)
  if (known !== undefined) return known
  const frame = frameOf(slice)
  const full = document.createElement('canvas')
  full.width = frame.columns
  full.height = frame.rows
  const invert = slice.image.photometricInterpretation === 'MONOCHROME1'
  full.getContext('2d')?.putImageData(new ImageData(toRgba(frame, autoWindow(frame), { invert }) as Uint8ClampedArray<ArrayBuffer>, frame.columns, frame.rows), 0, 0)
  const small = document.createElement('canvas')
  const scale = THUMB / Math.max(frame.columns, frame.rows)
  small.width = Math.max(1, Math.round(frame.columns * scale))
  small.height = Math.max(1, Math.round(frame.rows * scale))
  small.getContext('2d')?.drawImage(full, 0, 0, small.width, small.height)
  const url = small.toDataURL('image/png')
  byFrame.set(slice.frameIndex, url)
  return url
}

@customElement('sh-series-browser')
export class ShSeriesBrowser extends LitElement {
  static override styles = [sharedStyles, css`
    :host { display: block; overflow: auto; background: var(--sh-surface); color: var(--sh-text); }
    h3 { font-size: 12px; margin: 10px 8px 2px; }
    .sub { font-size: 11px; margin: 0 8px 6px; color: var(--sh-text-muted); }
    ul { list-style: none; margin: 0; padding: 0 6px 6px; display: grid; gap: 6px; }
    button.series { display: flex; gap: 8px; align-items: center; width: 100%; text-align: left; padding: 4px; min-height: 0;
      background: transparent; border: 1px solid var(--sh-border); border-radius: 6px; color: inherit; font-weight: normal; }
    button.series[aria-current="true"] { border-color: var(--sh-primary); background: var(--sh-primary-soft); }
    .thumb { width: 64px; height: 64px; flex: none; background: #000; display: grid; place-items: center; border-radius: 4px; overflow: hidden; }
    .thumb img { max-width: 100%; max-height: 100%; }
    .text { min-width: 0; font-size: 12px; overflow-wrap: anywhere; }
    .count { color: var(--sh-text-muted); }
  `]

  @property({ attribute: false }) studies: BrowserStudy[] = []
  /** the series of the active viewport */
  @property() selected = ''

  override render (): unknown {
    if (this.studies.length === 0) return html`<p class="sub">No series yet.</p>`
    return html`<nav aria-label="Series">${this.studies.map((study) => html`
      <h3>${study.title}</h3>
      ${study.subtitle !== '' ? html`<p class="sub">${study.subtitle}</p>` : nothing}
      <ul>${study.series.map((s) => html`<li>
        <button class="series" aria-current=${String(s.uid === this.selected)} title="Show ${s.label} in the active viewport"
          @click=${() => { this.dispatchEvent(new CustomEvent('sh-series-select', { detail: { uid: s.uid }, bubbles: true })) }}>
          <span class="thumb"><img alt="" src=${thumbnailOf(s.thumbnail)}></span>
          <span class="text">${s.label}<br><span class="count">${s.count} image${s.count === 1 ? '' : 's'}</span></span>
        </button></li>`)}</ul>`)}</nav>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sh-series-browser': ShSeriesBrowser
  }
}
