// The theme toggle: system → dark → light → system.
import { LitElement, html } from 'lit'
import { customElement, state } from 'lit/decorators.js'
import { sharedStyles } from '../styles/shared.ts'
import { icon } from '../styles/icons.ts'
import { THEME_ORDER, setThemeChoice, themeChoice } from '../styles/theme-mode.ts'
import type { ThemeChoice } from '../styles/theme-mode.ts'

const NAMES: Record<ThemeChoice, string> = { system: 'System', dark: 'Dark', light: 'Light' }

@customElement('sh-theme-toggle')
export class ShThemeToggle extends LitElement {
  static override styles = sharedStyles

  @state() private choice: ThemeChoice = themeChoice()

  private handleClick (): void {
    const next = THEME_ORDER[(THEME_ORDER.indexOf(this.choice) + 1) % THEME_ORDER.length]
    this.choice = next
    setThemeChoice(next)
    this.dispatchEvent(new CustomEvent('sh-theme-change', { detail: next, bubbles: true, composed: true }))
  }

  override render (): unknown {
    const next = THEME_ORDER[(THEME_ORDER.indexOf(this.choice) + 1) % THEME_ORDER.length]
    return html`<button class="ghost icon" @click=${this.handleClick} title="Theme: ${NAMES[this.choice]} (click for ${NAMES[next]})"
      aria-label="Theme: ${NAMES[this.choice]}; switch to ${NAMES[next]}">
      ${icon(this.choice === 'system' ? 'monitor' : this.choice === 'dark' ? 'moon' : 'sun')}
    </button>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sh-theme-toggle': ShThemeToggle
  }
}
