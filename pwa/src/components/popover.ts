// Styles of the small panels that hang under nav bar buttons (device list, lab peers, account menu),
// and how they learn of a click outside them to close.
import { css } from 'lit'
import type { ReactiveController, ReactiveControllerHost } from 'lit'

/**
 * Calls `onClick` with every click in the document while its host is connected: a panel or menu closes
 * when the event's composedPath() does not pass through it. `onEscape`, when given, is called when
 * Escape is pressed anywhere, so that the same panel closes from the keyboard.
 */
export class DocumentClickController implements ReactiveController {
  constructor (host: ReactiveControllerHost, private readonly onClick: (event: Event) => void, private readonly onEscape?: () => void) {
    host.addController(this)
  }

  private readonly handleKey = (event: KeyboardEvent): void => {
    if (event.key === 'Escape') this.onEscape?.()
  }

  hostConnected (): void {
    document.addEventListener('click', this.onClick)
    document.addEventListener('keydown', this.handleKey)
  }

  hostDisconnected (): void {
    document.removeEventListener('click', this.onClick)
    document.removeEventListener('keydown', this.handleKey)
  }
}

export const popoverStyles = css`
  .pop { position: relative; display: inline-flex; }
  .panel {
    position: absolute; top: calc(100% + 6px); right: 0; z-index: 20; min-width: 260px; max-width: 360px;
    background: var(--sh-surface); color: var(--sh-text); border: 1px solid var(--sh-border); border-radius: 8px;
    box-shadow: var(--sh-shadow); padding: 8px; display: none;
  }
  .pop.open .panel, .pop.hover:hover .panel, .pop.hover:focus-within .panel { display: block; }
  .panel h3 { font-size: 12px; color: var(--sh-text-muted); margin: 4px 6px 6px; text-transform: uppercase; letter-spacing: 0.04em; }
  .row { display: flex; align-items: center; gap: 8px; padding: 6px; border-radius: 6px; }
  .row .name { flex: 1; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .dot { width: 9px; height: 9px; border-radius: 50%; flex: none; }
  .ONLINE { background: var(--sh-success); }
  .BUSY { background: var(--sh-chip-orange); }
  .OFFLINE { background: var(--sh-neutral); }
  .ERROR { background: var(--sh-danger); }
  .status-text { font-size: 12px; font-weight: 600; }
  .status-text.ONLINE { color: var(--sh-success); background: none; }
  .status-text.BUSY { color: var(--sh-chip-orange); background: none; }
  .status-text.OFFLINE { color: var(--sh-neutral); background: none; }
  .status-text.ERROR { color: var(--sh-danger); background: none; }
  .menu-item { width: 100%; justify-content: flex-start; border: none; background: transparent; }
  .menu-item:hover { background: var(--sh-hover); }
`
