// "Save as template" on an exam: the exam, its workflows and its tasks (sequence, protocol, device,
// calibrations, pipeline, the reconstruction's input) become an exam template of the lab, without run
// state or results (protocol/lab/templates.ts, TemplateTrees.fromExam), for the next patient.
import { css, html, nothing } from 'lit'
import { customElement, property, state } from 'lit/decorators.js'
import { SessionElement } from '../app/session-element.ts'
import { sharedStyles } from '../styles/shared.ts'
import { icon } from '../styles/icons.ts'
import { errorsFromMessage, fieldError, formError, invalid } from './form-errors.ts'
import type { FieldErrors } from './form-errors.ts'

@customElement('sh-save-template')
export class ShSaveTemplate extends SessionElement {
  static override styles = [sharedStyles, css`
    :host { display: flex; flex-direction: column; gap: 8px; }
    form { display: flex; flex-wrap: wrap; align-items: end; gap: 8px; }
    form .field { flex: 1; min-width: 200px; }
  `]

  @property() examId = ''
  @state() private open = false
  @state() private errors: FieldErrors = {}
  /** the name of the template just saved */
  @state() private saved: string | undefined

  private handleSubmit (event: SubmitEvent): void {
    event.preventDefault()
    const name = String(new FormData(event.target as HTMLFormElement).get('name') ?? '').trim()
    if (name === '') {
      this.errors = { name: 'Template name is required' }
      return
    }
    try {
      this.session.write((lab, actor) => lab.saveExamAsTemplate(this.examId, name, actor))
      this.saved = name
      this.open = false
      this.errors = {}
    } catch (err) {
      this.errors = errorsFromMessage((err as Error).message, [])
    }
  }

  override render (): unknown {
    if (!this.session.canEditTemplates) return nothing
    const exam = this.session.lab?.exams.get(this.examId)
    if (exam === undefined) return nothing
    const e = this.errors
    return html`
      ${this.open
        ? html`<form @submit=${this.handleSubmit} novalidate aria-label="Save as template">
            <div class="field">
              <label for="template-name">Template name</label>
              <input id="template-name" name="name" .value=${exam.name} required aria-invalid=${invalid(e, 'name')} aria-describedby="name-error">
              ${fieldError(e, 'name')}
            </div>
            <button type="button" @click=${() => { this.open = false; this.errors = {} }}>Cancel</button>
            <button type="submit" class="primary">${icon('template')} Save template</button>
          </form>
          ${formError(e)}`
        : html`<div><button @click=${() => { this.open = true; this.saved = undefined; this.updateComplete.then(() => { this.renderRoot.querySelector('input')?.select() }).catch(() => {}) }}>
            ${icon('template')} Save as template</button></div>`}
      ${this.saved !== undefined ? html`<p class="notice" role="status">Saved as the exam template "${this.saved}": it is offered under + on every patient, and edited in Library → Templates.</p>` : nothing}`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sh-save-template': ShSaveTemplate
  }
}
