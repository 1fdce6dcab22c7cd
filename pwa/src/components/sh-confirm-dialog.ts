// "Are you sure?": a modal dialog that answers through a promise. Deletes go through it, so that
// nothing disappears on one stray click; Escape and Cancel answer no.
import { LitElement, css, html } from 'lit'
import { customElement, property, query, state } from 'lit/decorators.js'
import { sharedStyles } from '../styles/shared.ts'

@customElement('sh-confirm-dialog')
export class ShConfirmDialog extends LitElement {
  static override styles = [sharedStyles, css`
    :host { display: contents; }
    dialog { border: 1px solid var(--sh-border); border-radius: 10px; padding: 20px; background: var(--sh-surface); color: var(--sh-text); box-shadow: var(--sh-shadow); width: min(420px, 92vw); }
    dialog::backdrop { background: rgba(0, 0, 0, 0.45); }
    h2 { margin-bottom: 8px; }
    p { color: var(--sh-text-muted); }
  `]

  /** the button that confirms, e.g. "Delete" */
  @property() confirmLabel = 'Delete'

  @state() private heading = 'Are you sure?'
  @state() private message = ''
  @query('dialog') private dialog!: HTMLDialogElement
  private resolve: ((ok: boolean) => void) | undefined

  /** Opens the dialog; resolves true if the user confirms. */
  async ask (message: string, options: { heading?: string, confirmLabel?: string } = {}): Promise<boolean> {
    this.heading = options.heading ?? 'Are you sure?'
    this.message = message
    if (options.confirmLabel !== undefined) this.confirmLabel = options.confirmLabel
    await this.updateComplete
    this.resolve?.(false)
    this.dialog.showModal()
    return await new Promise<boolean>((resolve) => { this.resolve = resolve })
  }

  private answer (ok: boolean): void {
    this.dialog.close()
    this.resolve?.(ok)
    this.resolve = undefined
  }

  override render (): unknown {
    return html`<dialog aria-labelledby="h" @cancel=${(e: Event) => { e.preventDefault(); this.answer(false) }}>
      <h2 id="h">${this.heading}</h2>
      <p>${this.message}</p>
      <div class="form-actions">
        <button @click=${() => { this.answer(false) }}>Cancel</button>
        <button class="danger" data-confirm @click=${() => { this.answer(true) }}>${this.confirmLabel}</button>
      </div>
    </dialog>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sh-confirm-dialog': ShConfirmDialog
  }
}
