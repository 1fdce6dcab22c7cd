// "Import files": DICOM files or folders (an export, a CD's DICOM folder), MRD streams and ISMRMRD
// HDF5 files, dropped or picked, sent one by one to the hub's POST /api/v1/import with the upload's
// progress. A folder exported by ScanHub brings its manifest.json, which names the patient and study
// of its raw data (protocol/export-manifest.ts), as `scanhub import` does.
import { css, html, nothing } from 'lit'
import { customElement, state } from 'lit/decorators.js'
import { SessionElement } from '../app/session-element.ts'
import { sharedStyles } from '../styles/shared.ts'
import { icon } from '../styles/icons.ts'
import { importHintsFromManifest, isExportManifest, originalImportedAlongside, MANIFEST_FILE, type ExportManifest } from '../../../protocol/export-manifest.ts'

interface Outcome { name: string, status: 'imported' | 'duplicate' | 'skipped' | 'failed', message?: string }

/** The file's path inside what was dropped or picked (a folder keeps its relative path). */
function pathOf (file: File): string {
  const relative = (file as File & { webkitRelativePath?: string }).webkitRelativePath ?? ''
  return relative !== '' ? relative : file.name
}

/** Upload with progress: fetch cannot report the bytes sent, XMLHttpRequest can. */
async function upload (url: string, file: File, headers: Record<string, string>, onProgress: (sent: number) => void): Promise<{ status: number, body: Record<string, unknown> }> {
  return await new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', url)
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value)
    xhr.setRequestHeader('content-type', 'application/octet-stream')
    xhr.upload.onprogress = (e) => { onProgress(e.loaded) }
    xhr.onload = () => {
      let body: Record<string, unknown> = {}
      try { body = JSON.parse(xhr.responseText) as Record<string, unknown> } catch { /* not JSON: the status says it */ }
      resolve({ status: xhr.status, body })
    }
    xhr.onerror = () => { reject(new Error('the hub cannot be reached')) }
    xhr.send(file)
  })
}

@customElement('sh-file-import')
export class ShFileImport extends SessionElement {
  static override styles = [sharedStyles, css`
    :host { display: block; margin-bottom: 12px; }
    .zone { border: 2px dashed var(--sh-border); border-radius: 10px; padding: 16px; display: flex; flex-wrap: wrap; align-items: center; gap: 10px; }
    .zone.over { border-color: var(--sh-primary); background: var(--sh-primary-soft); }
    .zone p { flex: 1; margin: 0; color: var(--sh-text-muted); }
    input[type=file] { display: none; }
    .status { font-size: 13px; margin-top: 8px; }
    ul { margin: 6px 0 0; padding-left: 18px; font-size: 13px; }
  `]

  @state() private over = false
  @state() private busy = false
  @state() private progress = ''
  @state() private outcomes: Outcome[] = []

  private async importFiles (files: File[]): Promise<void> {
    if (files.length === 0 || this.busy) return
    this.busy = true
    this.outcomes = []
    let manifest: ExportManifest | undefined
    const manifestFile = files.find((f) => pathOf(f).split('/').pop() === MANIFEST_FILE)
    if (manifestFile !== undefined) {
      try {
        const parsed: unknown = JSON.parse(await manifestFile.text())
        if (isExportManifest(parsed)) manifest = parsed
      } catch { /* not an export's manifest: imported without hints */ }
    }
    // a picked folder's paths start with the folder's own name; the manifest's paths do not
    const root = manifestFile !== undefined ? pathOf(manifestFile).slice(0, -MANIFEST_FILE.length) : ''
    const toSend = files.filter((f) => f !== manifestFile)
    const total = toSend.reduce((sum, f) => sum + f.size, 0)
    let done = 0
    const relativeOf = (file: File): string => {
      const path = pathOf(file)
      return root !== '' && path.startsWith(root) ? path.slice(root.length) : path
    }
    const importing = new Set(toSend.map(relativeOf))
    for (const [i, file] of toSend.entries()) {
      const relative = relativeOf(file)
      const original = originalImportedAlongside(manifest, relative, importing)
      if (original !== undefined) {
        this.outcomes = [...this.outcomes, { name: relative, status: 'skipped', message: `a copy of ${original}, whose raw data is imported from it` }]
        done += file.size
        continue
      }
      const query = new URLSearchParams({ name: relative, ...importHintsFromManifest(manifest, relative) })
      try {
        const answer = await upload(`/api/v1/import?${query.toString()}`, file, this.session.authHeaders(), (sent) => {
          this.progress = `${i + 1} of ${toSend.length} files, ${total > 0 ? Math.floor(100 * (done + sent) / total) : 100} %`
        })
        if (answer.status >= 400) throw new Error(typeof answer.body.error === 'string' ? answer.body.error : `the hub answered ${answer.status}`)
        this.outcomes = [...this.outcomes, { name: relative, status: answer.body.status as Outcome['status'], message: answer.body.message as string | undefined }]
      } catch (err) {
        this.outcomes = [...this.outcomes, { name: relative, status: 'failed', message: (err as Error).message }]
      }
      done += file.size
    }
    this.busy = false
    this.progress = ''
  }

  private pick (which: 'files' | 'folder'): void {
    this.renderRoot.querySelector<HTMLInputElement>(`#${which}`)?.click()
  }

  private picked (e: Event): void {
    const input = e.target as HTMLInputElement
    this.importFiles([...(input.files ?? [])]).catch(() => {})
    input.value = ''
  }

  override render (): unknown {
    const count = (status: Outcome['status']): number => this.outcomes.filter((o) => o.status === status).length
    const failed = this.outcomes.filter((o) => o.status === 'failed')
    return html`<div class="zone ${this.over ? 'over' : ''}" aria-label="Import files"
        @dragover=${(e: DragEvent) => { e.preventDefault(); this.over = true }}
        @dragleave=${() => { this.over = false }}
        @drop=${(e: DragEvent) => { e.preventDefault(); this.over = false; this.importFiles([...(e.dataTransfer?.files ?? [])]).catch(() => {}) }}>
        <p>Drop DICOM, MRD stream or ISMRMRD HDF5 files here. Patients are matched by their patient ID; files already in the lab are skipped.</p>
        <button ?disabled=${this.busy} @click=${() => { this.pick('files') }}>${icon('plus')} Import files</button>
        <button ?disabled=${this.busy} @click=${() => { this.pick('folder') }}>${icon('plus')} Import a folder</button>
        <input id="files" type="file" multiple aria-label="Files to import" @change=${this.picked}>
        <input id="folder" type="file" multiple webkitdirectory aria-label="Folder to import" @change=${this.picked}>
      </div>
      ${this.busy ? html`<div class="status" role="status">Importing: ${this.progress}</div>` : nothing}
      ${!this.busy && this.outcomes.length > 0
        ? html`<div class="status" role="status">${count('imported')} imported, ${count('duplicate')} already in the lab, ${count('skipped')} skipped, ${failed.length} failed</div>
          ${failed.length > 0 ? html`<ul role="alert">${failed.map((o) => html`<li class="field-error">${o.message}</li>`)}</ul>` : nothing}`
        : nothing}`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sh-file-import': ShFileImport
  }
}
