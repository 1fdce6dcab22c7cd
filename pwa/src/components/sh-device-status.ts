// The lab's scanners at a glance: one status for all (worst first), the list on hover or focus.
// Status comes from presence (the device's peer), so it is live and never written to the documents.
import { css, html } from 'lit'
import { customElement } from 'lit/decorators.js'
import { SessionElement } from '../app/session-element.ts'
import { sharedStyles } from '../styles/shared.ts'
import { icon } from '../styles/icons.ts'
import { popoverStyles } from './popover.ts'
import type { DeviceStatus } from '../services/lab-session.ts'

const SEVERITY: DeviceStatus[] = ['ERROR', 'BUSY', 'ONLINE', 'OFFLINE']

@customElement('sh-device-status')
export class ShDeviceStatus extends SessionElement {
  static override styles = [sharedStyles, popoverStyles, css`
    .summary { gap: 6px; }
  `]

  override render (): unknown {
    const devices = this.session.lab?.devices.list() ?? []
    const statuses = devices.map((d) => ({ device: d, status: this.session.deviceStatus(d) }))
    const overall = SEVERITY.find((s) => statuses.some((d) => d.status === s)) ?? 'OFFLINE'
    const label = devices.length === 0 ? 'No device' : devices.length === 1 ? devices[0].name : `${devices.length} devices`
    return html`<div class="pop hover">
      <button class="ghost summary" aria-haspopup="true" aria-label="Devices: ${label}, ${overall}">
        ${icon('scanner')}<span class="dot ${overall}"></span><span class="status-text ${overall}">${devices.length === 0 ? 'No device' : overall}</span>
      </button>
      <div class="panel" role="tooltip">
        <h3>Devices</h3>
        ${statuses.length === 0
          ? html`<div class="row muted">No scanner has joined the lab yet.</div>`
          : statuses.map(({ device, status }) => html`<div class="row">
              <span class="dot ${status}"></span><span class="name">${device.name}<br><span class="muted">${device.manufacturer} ${device.model}, ${device.fieldStrengthT} T</span></span>
              <span class="status-text ${status}">${status}</span>
            </div>`)}
      </div>
    </div>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sh-device-status': ShDeviceStatus
  }
}
