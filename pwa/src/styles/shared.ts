// Styles every view shares: buttons, form fields with their errors, tables, cards, chips. Colours
// come from the tokens in index.html, so both themes follow.
import { css } from 'lit'

export const sharedStyles = css`
  :host { font-family: var(--sh-font); color: var(--sh-text); box-sizing: border-box; }
  *, *::before, *::after { box-sizing: inherit; }
  h1, h2, h3 { margin: 0; font-weight: 600; }
  h1 { font-size: 20px; }
  h2 { font-size: 16px; }
  h3 { font-size: 14px; }
  p { margin: 0; }
  a { color: var(--sh-primary); }
  .muted { color: var(--sh-text-muted); }
  .mono { font-family: var(--sh-mono); font-size: 12px; }
  .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }

  button, .btn {
    font: inherit; display: inline-flex; align-items: center; justify-content: center; gap: 6px;
    min-height: 32px; padding: 0 12px; border-radius: var(--sh-radius); border: 1px solid var(--sh-border);
    background: var(--sh-surface); color: var(--sh-text); cursor: pointer; white-space: nowrap;
  }
  button:hover:not(:disabled) { background: var(--sh-hover); }
  button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible, [tabindex]:focus-visible {
    outline: none; box-shadow: var(--sh-focus);
  }
  button:disabled { opacity: 0.55; cursor: not-allowed; }
  button.primary { background: var(--sh-primary); border-color: var(--sh-primary); color: var(--sh-on-primary); font-weight: 600; }
  button.primary:hover:not(:disabled) { background: var(--sh-primary-hover); }
  button.danger { background: var(--sh-danger); border-color: var(--sh-danger); color: #fff; font-weight: 600; }
  button.danger:hover:not(:disabled) { filter: brightness(1.08); background: var(--sh-danger); }
  button.ghost { border-color: transparent; background: transparent; }
  button.ghost:hover:not(:disabled) { background: var(--sh-hover); }
  button.icon { padding: 0; width: 32px; min-width: 32px; }
  button.small { min-height: 26px; padding: 0 8px; font-size: 13px; }
  button.icon.small { width: 26px; min-width: 26px; padding: 0; }
  svg.i { width: 16px; height: 16px; flex: none; }

  .field { display: flex; flex-direction: column; gap: 4px; min-width: 0; }
  .field > label, .field > .label { font-size: 12px; font-weight: 600; color: var(--sh-text-muted); }
  input, select, textarea {
    font: inherit; color: var(--sh-text); background: var(--sh-surface); border: 1px solid var(--sh-border);
    border-radius: var(--sh-radius); min-height: 32px; padding: 4px 8px; width: 100%;
  }
  textarea { min-height: 64px; resize: vertical; }
  input[aria-invalid="true"], select[aria-invalid="true"], textarea[aria-invalid="true"] { border-color: var(--sh-danger); }
  .field-error { color: var(--sh-danger); font-size: 12px; }
  /* a required field's label ends with a star; its input says so to assistive technology with aria-required */
  label.required::after, .label.required::after, legend.required::after { content: " *"; color: var(--sh-danger); }
  .required-note { font-size: 12px; color: var(--sh-text-muted); }
  .form-error { color: var(--sh-danger); background: var(--sh-danger-soft); border-radius: var(--sh-radius); padding: 8px 10px; }
  .notice { color: var(--sh-text); background: var(--sh-info-soft); border-radius: var(--sh-radius); padding: 8px 10px; }
  .form-grid { display: grid; gap: 12px; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); }
  .form-actions { display: flex; gap: 8px; justify-content: flex-end; margin-top: 12px; }

  .card { background: var(--sh-surface); border: 1px solid var(--sh-border); border-radius: 8px; }
  .toolbar { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; }
  .spacer { flex: 1; }

  table.table { width: 100%; border-collapse: collapse; background: var(--sh-surface); }
  .table th, .table td { text-align: left; padding: 8px 10px; border-bottom: 1px solid var(--sh-border); vertical-align: middle; }
  .table th { font-size: 12px; font-weight: 600; color: var(--sh-text-muted); background: var(--sh-surface-2); position: sticky; top: 0; z-index: 1; }
  .table tbody tr:hover { background: var(--sh-hover); }
  .table td.num, .table th.num { text-align: right; font-variant-numeric: tabular-nums; }
  .table td input, .table td select { min-height: 28px; padding: 2px 6px; }

  .chip { display: inline-flex; align-items: center; gap: 4px; border-radius: 999px; padding: 2px 8px; font-size: 12px; font-weight: 600; white-space: nowrap; }
  .type-label { font-size: 10px; font-weight: 700; letter-spacing: 0.04em; color: var(--sh-text-muted); text-transform: uppercase; }
  .empty { padding: 24px; text-align: center; color: var(--sh-text-muted); }
`

/** A page of the app (patients, library, users, members, worklist, PACS, audit): a scrolling column, its tables in frames that scroll sideways on their own. */
export const pageStyles = css`
  :host { display: flex; flex-direction: column; gap: 16px; padding: 20px; height: 100%; overflow: auto; }
  .table-wrap { overflow: auto; border: 1px solid var(--sh-border); border-radius: 8px; }
`
