// A DICOM tag browser: a searchable table of tag, VR, keyword and value, with the items of
// sequences nested under them (protocol/dicom listTags).
import { LitElement, css, html, nothing } from 'lit'
import { customElement, property, state } from 'lit/decorators.js'
import type { TagRow } from '../../../protocol/dicom/index.ts'
import { sharedStyles } from '../styles/shared.ts'

function matches (row: TagRow, q: string): boolean {
  return `${row.tag} ${row.vr} ${row.keyword} ${row.value}`.toLowerCase().includes(q) || (row.children ?? []).some((c) => matches(c, q))
}

@customElement('sh-tag-browser')
export class ShTagBrowser extends LitElement {
  static override styles = [sharedStyles, css`
    :host { display: flex; flex-direction: column; min-height: 0; background: var(--sh-surface); }
    .head { padding: 8px; display: flex; gap: 8px; align-items: center; border-bottom: 1px solid var(--sh-border); }
    .scroll { overflow: auto; flex: 1; }
    /* fixed columns for tag, VR and keyword; the value takes the rest of the width and wraps */
    table { font-size: 12px; width: 100%; table-layout: fixed; }
    col.tag { width: 14ch; } col.vr { width: 4.5ch; } col.keyword { width: 28%; }
    td { padding: 3px 8px; border-bottom: 1px solid var(--sh-border); vertical-align: top; overflow-wrap: anywhere; }
    td.tag, td.vr { font-family: var(--sh-mono); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
    td.value { white-space: pre-wrap; }
  `]

  /** rows from listTags() */
  @property({ attribute: false }) rows: TagRow[] = []

  @state() private query = ''

  private renderRows (rows: TagRow[], depth: number, q: string): unknown {
    return rows.filter((r) => q === '' || matches(r, q)).map((r) => html`
      <tr>
        <td class="tag" style="padding-left:${8 + depth * 14}px">${r.tag}</td>
        <td class="vr">${r.vr}</td>
        <td>${r.keyword}</td>
        <td class="value">${r.value}</td>
      </tr>
      ${r.children !== undefined ? this.renderRows(r.children, depth + 1, q) : nothing}`)
  }

  override render (): unknown {
    const q = this.query.trim().toLowerCase()
    return html`<div class="head"><input type="search" aria-label="Search tags" placeholder="Search tag, keyword, value…"
        .value=${this.query} @input=${(e: Event) => { this.query = (e.target as HTMLInputElement).value }}></div>
      <div class="scroll"><table class="table" aria-label="DICOM tags">
        <colgroup><col class="tag"><col class="vr"><col class="keyword"><col class="value"></colgroup>
        <thead><tr><th>Tag</th><th>VR</th><th>Keyword</th><th>Value</th></tr></thead>
        <tbody>${this.renderRows(this.rows, 0, q)}</tbody>
      </table></div>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sh-tag-browser': ShTagBrowser
  }
}
