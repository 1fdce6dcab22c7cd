// "Download exam (zip)": the hub's export of an exam (DICOMDIR, DICOM media files, raw data as MRD
// streams, manifest.json) saved by the browser, with the bytes received shown as they arrive.
import { css, html, nothing } from 'lit'
import { customElement, property, state } from 'lit/decorators.js'
import { SessionElement } from '../app/session-element.ts'
import { sharedStyles } from '../styles/shared.ts'
import { icon } from '../styles/icons.ts'

function megabytes (bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

/** The file name of a Content-Disposition header, or undefined. */
function attachmentName (header: string | null): string | undefined {
  return /filename="([^"]+)"/.exec(header ?? '')?.[1]
}

@customElement('sh-exam-download')
export class ShExamDownload extends SessionElement {
  static override styles = [sharedStyles, css`
    :host { display: inline-flex; align-items: center; gap: 8px; }
    .progress { font-size: 12px; color: var(--sh-text-muted); }
  `]

  @property() examId = ''
  @state() private received?: number
  @state() private total?: number
  @state() private error?: string

  private async download (): Promise<void> {
    this.error = undefined
    this.received = 0
    try {
      const response = await fetch(`/api/v1/exams/${encodeURIComponent(this.examId)}/export`, { headers: this.session.authHeaders(), cache: 'no-store' })
      if (!response.ok || response.body === null) {
        const body = await response.json().catch(() => ({})) as { error?: string }
        throw new Error(body.error ?? `the hub answered ${response.status}`)
      }
      const length = Number(response.headers.get('content-length'))
      this.total = Number.isFinite(length) && length > 0 ? length : undefined
      const chunks: Uint8Array[] = []
      const reader = response.body.getReader()
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        chunks.push(value)
        this.received += value.length
      }
      const link = document.createElement('a')
      link.href = URL.createObjectURL(new Blob(chunks as BlobPart[], { type: 'application/zip' }))
      link.download = attachmentName(response.headers.get('content-disposition')) ?? 'exam.zip'
      link.click()
      setTimeout(() => { URL.revokeObjectURL(link.href) }, 60_000)
      this.received = undefined
    } catch (err) {
      this.received = undefined
      this.error = `Download failed: ${(err as Error).message}`
    }
  }

  override render (): unknown {
    const busy = this.received !== undefined
    return html`<button ?disabled=${busy} @click=${() => { this.download().catch(() => {}) }}>${icon('download')} Download exam (zip)</button>
      ${busy ? html`<span class="progress" role="status">${this.total !== undefined ? `${Math.floor(100 * this.received! / this.total)} % of ${megabytes(this.total)}` : megabytes(this.received!)}</span>` : nothing}
      ${this.error !== undefined ? html`<span class="field-error" role="alert">${this.error}</span>` : nothing}`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sh-exam-download': ShExamDownload
  }
}
