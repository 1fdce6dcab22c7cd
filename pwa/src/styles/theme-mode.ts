// The theme toggle's three states: follow the system, dark, light. The choice is kept in
// localStorage; the theme in effect is written to <html data-theme>, which the tokens in index.html key on.
import { KEYS, readJson, writeJson } from '../storage/local-store.ts'

export type ThemeChoice = 'system' | 'dark' | 'light'
export const THEME_ORDER: readonly ThemeChoice[] = ['system', 'dark', 'light']

const media = typeof window === 'undefined' ? undefined : window.matchMedia('(prefers-color-scheme: dark)')

export function themeChoice (): ThemeChoice {
  const stored = readJson<string>(KEYS.theme)
  return stored === 'dark' || stored === 'light' ? stored : 'system'
}

export function applyTheme (choice: ThemeChoice = themeChoice()): void {
  const dark = choice === 'dark' || (choice === 'system' && media?.matches === true)
  document.documentElement.dataset.theme = dark ? 'dark' : 'light'
}

export function setThemeChoice (choice: ThemeChoice): void {
  writeJson(KEYS.theme, choice)
  applyTheme(choice)
}

/** Applies the stored choice and follows the system's changes while the choice is 'system'. */
export function initTheme (): void {
  applyTheme()
  media?.addEventListener('change', () => { applyTheme() })
}
