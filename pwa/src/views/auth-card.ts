// The centred card of the login and first-user pages: logo, "ScanHub", a narrow form.
import { css } from 'lit'

export const authCardStyles = css`
  :host { display: grid; place-items: center; min-height: 100%; padding: 24px; }
  .card { width: min(380px, 100%); padding: 28px; display: flex; flex-direction: column; gap: 16px; box-shadow: var(--sh-shadow); }
  .brand { display: flex; flex-direction: column; align-items: center; gap: 8px; }
  .brand h1 { font-size: 24px; }
  .brand p { color: var(--sh-text-muted); text-align: center; }
  form { display: flex; flex-direction: column; gap: 12px; }
  button[type="submit"] { min-height: 38px; }
  .hint { margin: 0; font-size: 13px; color: var(--sh-text-muted); }
  .lab { text-align: center; font-size: 12px; color: var(--sh-text-muted); }
`
