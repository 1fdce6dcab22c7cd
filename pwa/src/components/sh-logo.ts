// The ScanHub mark (the same drawing as public/icons/icon.svg).
import { LitElement, css, html } from 'lit'
import { customElement, property } from 'lit/decorators.js'

@customElement('sh-logo')
export class ShLogo extends LitElement {
  static override styles = css`:host { display: inline-flex; } svg { display: block; }`

  /** edge length in CSS pixels */
  @property({ type: Number }) size = 28

  override render (): unknown {
    return html`<svg viewBox="0 0 100 100" width=${this.size} height=${this.size} aria-hidden="true">
      <rect width="100" height="100" rx="20" fill="#0b6bcb"/>
      <circle cx="50" cy="46" r="24.5" fill="none" stroke="#fff" stroke-width="11"/>
      <rect x="10" y="66.5" width="80" height="7" fill="#fff"/>
    </svg>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sh-logo': ShLogo
  }
}
