// A QR code of a text (a link), drawn as SVG: a tablet's camera opens the link without anyone typing
// it. Always dark modules on white, whatever the theme, with the quiet zone scanners need.
import { LitElement, css, html, svg } from 'lit'
import { customElement, property } from 'lit/decorators.js'
import qrcode from 'qrcode-generator'

/** The SVG path of the dark modules of `text`'s QR code, and the code's size in modules. */
export function qrPath (text: string): { size: number, path: string } {
  const code = qrcode(0, 'M')
  code.addData(text, 'Byte')
  code.make()
  const size = code.getModuleCount()
  let path = ''
  for (let row = 0; row < size; row++) {
    for (let col = 0; col < size; col++) {
      if (code.isDark(row, col)) path += `M${col} ${row}h1v1h-1z`
    }
  }
  return { size, path }
}

const QUIET_ZONE = 4

@customElement('sh-qr-code')
export class ShQrCode extends LitElement {
  static override styles = css`
    :host { display: inline-block; width: 200px; height: 200px; }
    svg { display: block; width: 100%; height: 100%; background: #fff; border-radius: 6px; }
  `

  /** what the code says */
  @property() text = ''
  /** what it is, for screen readers */
  @property() label = 'QR code'

  override render (): unknown {
    if (this.text === '') return html``
    const { size, path } = qrPath(this.text)
    const extent = size + 2 * QUIET_ZONE
    return html`<svg role="img" aria-label=${this.label} viewBox="${-QUIET_ZONE} ${-QUIET_ZONE} ${extent} ${extent}" shape-rendering="crispEdges">
      ${svg`<path d=${path} fill="#000"></path>`}
    </svg>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sh-qr-code': ShQrCode
  }
}
