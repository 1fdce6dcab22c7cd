// Line icons (24×24, stroked with currentColor) as Lit templates; decorative unless labelled by
// their button, so they are hidden from assistive technology.
import { svg } from 'lit'
import type { SVGTemplateResult } from 'lit'

const PATHS = {
  plus: svg`<path d="M12 5v14M5 12h14"/>`,
  edit: svg`<path d="M4 20h4L19 9l-4-4L4 16v4z"/><path d="M14 6l4 4"/>`,
  trash: svg`<path d="M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13"/><path d="M10 11v6M14 11v6"/>`,
  menu: svg`<path d="M4 6h16M4 12h16M4 18h16"/>`,
  more: svg`<circle cx="5" cy="12" r="1.4"/><circle cx="12" cy="12" r="1.4"/><circle cx="19" cy="12" r="1.4"/>`,
  check: svg`<path d="M5 12.5l4.5 4.5L19 7.5"/>`,
  close: svg`<path d="M6 6l12 12M18 6L6 18"/>`,
  play: svg`<path d="M8 5v14l11-7z"/>`,
  circle: svg`<circle cx="12" cy="12" r="8"/>`,
  progress: svg`<circle cx="12" cy="12" r="8"/><path d="M12 4a8 8 0 0 1 8 8h-8z" fill="currentColor"/>`,
  alert: svg`<circle cx="12" cy="12" r="9"/><path d="M12 7v6M12 16.5v.5"/>`,
  ban: svg`<circle cx="12" cy="12" r="8"/><path d="M6.5 6.5l11 11"/>`,
  pencilCircle: svg`<circle cx="12" cy="12" r="8"/><path d="M9 15h2l4-4-2-2-4 4z"/>`,
  sun: svg`<circle cx="12" cy="12" r="4"/><path d="M12 2v2M12 20v2M2 12h2M20 12h2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4"/>`,
  moon: svg`<path d="M20 14.5A8 8 0 0 1 9.5 4a8 8 0 1 0 10.5 10.5z"/>`,
  monitor: svg`<rect x="3" y="4" width="18" height="12" rx="2"/><path d="M8 20h8M12 16v4"/>`,
  user: svg`<circle cx="12" cy="8" r="4"/><path d="M4 21c0-4 4-6 8-6s8 2 8 6"/>`,
  logout: svg`<path d="M15 4h4v16h-4M10 8l-4 4 4 4M6 12h10"/>`,
  key: svg`<circle cx="8" cy="14" r="4"/><path d="M11 11l9-9M17 5l3 3M15 7l2 2"/>`,
  search: svg`<circle cx="11" cy="11" r="6"/><path d="M20 20l-4.5-4.5"/>`,
  cloud: svg`<path d="M7 18h10a4 4 0 0 0 .5-8 6 6 0 0 0-11.5 1.5A3.5 3.5 0 0 0 7 18z"/>`,
  cloudOff: svg`<path d="M7 18h10a4 4 0 0 0 2.3-.7M20.8 13.5A4 4 0 0 0 17.5 10 6 6 0 0 0 9 5.5M6.2 8.2A6 6 0 0 0 6 11.5 3.5 3.5 0 0 0 7 18M3 3l18 18"/>`,
  sync: svg`<path d="M4 12a8 8 0 0 1 14-5.3M20 12a8 8 0 0 1-14 5.3"/><path d="M18 3v4h-4M6 21v-4h4"/>`,
  grip: svg`<circle cx="9" cy="6" r="1.2"/><circle cx="15" cy="6" r="1.2"/><circle cx="9" cy="12" r="1.2"/><circle cx="15" cy="12" r="1.2"/><circle cx="9" cy="18" r="1.2"/><circle cx="15" cy="18" r="1.2"/>`,
  chevronRight: svg`<path d="M9 6l6 6-6 6"/>`,
  chevronDown: svg`<path d="M6 9l6 6 6-6"/>`,
  arrowUp: svg`<path d="M12 19V5M6 11l6-6 6 6"/>`,
  arrowDown: svg`<path d="M12 5v14M6 13l6 6 6-6"/>`,
  download: svg`<path d="M12 4v11M7 10l5 5 5-5M5 20h14"/>`,
  zoom: svg`<circle cx="11" cy="11" r="6"/><path d="M20 20l-4.5-4.5M11 8v6M8 11h6"/>`,
  pan: svg`<path d="M12 3v18M3 12h18M12 3l-3 3M12 3l3 3M12 21l-3-3M12 21l3-3M3 12l3-3M3 12l3 3M21 12l-3-3M21 12l-3 3"/>`,
  contrast: svg`<circle cx="12" cy="12" r="8"/><path d="M12 4a8 8 0 0 1 0 16z" fill="currentColor"/>`,
  ruler: svg`<path d="M3 17L17 3l4 4L7 21z"/><path d="M7 13l2 2M10 10l2 2M13 7l2 2"/>`,
  square: svg`<rect x="5" y="5" width="14" height="14" rx="1" stroke-dasharray="3 2"/>`,
  tags: svg`<path d="M4 6h16M4 12h16M4 18h10"/>`,
  reset: svg`<path d="M4 12a8 8 0 1 0 2.3-5.7L4 8.5M4 4v4.5h4.5"/>`,
  invert: svg`<rect x="4" y="4" width="16" height="16" rx="2"/><path d="M4 20L20 4v16z" fill="currentColor"/>`,
  scanner: svg`<rect x="3" y="5" width="18" height="14" rx="7"/><circle cx="12" cy="12" r="3.5"/><path d="M2 19h20"/>`,
  peers: svg`<circle cx="6" cy="12" r="2.5"/><circle cx="18" cy="6" r="2.5"/><circle cx="18" cy="18" r="2.5"/><path d="M8.2 11l7.6-3.8M8.2 13l7.6 3.8"/>`,
  image: svg`<rect x="3" y="4" width="18" height="16" rx="2"/><circle cx="9" cy="10" r="2"/><path d="M21 16l-5-5-9 9"/>`,
  template: svg`<rect x="4" y="4" width="7" height="7" rx="1"/><rect x="13" y="4" width="7" height="7" rx="1"/><rect x="4" y="13" width="7" height="7" rx="1"/><path d="M16.5 14v5M14 16.5h5"/>`
} as const

export type IconName = keyof typeof PATHS

export function icon (name: IconName): SVGTemplateResult {
  return svg`<svg class="i" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">${PATHS[name]}</svg>`
}
