// The control under the acquisition tree: what of the patient runs now, with progress pushed by the
// scanner as presence (elapsed and remaining time of the sequence, counting down between reports), a
// large Stop that says when the scanner has stopped, and Run for the selected task. Starting and
// stopping are milestones in the task's document, so they work from any peer (and offline: they take
// effect when they reach the scanner, and until then the run says which scanner it waits for and that
// it is not reachable); an acquisition first asks to check the patient's height and weight, the inputs
// of safety limits. Reconstructions whose raw data was acquired again are listed with Re-run.
import { css, html, nothing } from 'lit'
import { customElement, property, query, state } from 'lit/decorators.js'
import type { Device, Patient, Task } from '../../../protocol/lab/index.ts'
import type { TaskProgress } from '../../../protocol/peers.ts'
import { SessionElement } from '../app/session-element.ts'
import { sharedStyles } from '../styles/shared.ts'
import { icon } from '../styles/icons.ts'
import { errorsFromMessage, fieldError, formError, invalid } from './form-errors.ts'
import type { FieldErrors } from './form-errors.ts'
import { numberOrUndefined, patientName } from '../views/format.ts'
import { ProgressClock, clock, scanTimes, scanTimesText } from './run-progress.ts'
import { STALE_TEXT, staleInput } from './run-state.ts'
import { chooseScanner } from '../../../protocol/scanner-choice.ts'

/** A task that runs now: its latest progress report, if its peer sent one. */
interface Running {
  task: Task
  report?: TaskProgress
}

@customElement('sh-run-control')
export class ShRunControl extends SessionElement {
  static override styles = [sharedStyles, css`
    :host { display: block; }
    .control { padding: 12px 16px; display: flex; flex-direction: column; gap: 8px; }
    .control h2 { font-size: 13px; }
    progress { width: 100%; height: 10px; }
    .running { display: flex; flex-direction: column; gap: 4px; }
    button.stop { min-height: 44px; font-size: 16px; width: 100%; margin-top: 4px; }
    button.run { width: 100%; min-height: 38px; }
    dialog { border: 1px solid var(--sh-border); border-radius: 10px; padding: 20px; background: var(--sh-surface); color: var(--sh-text); box-shadow: var(--sh-shadow); width: min(440px, 92vw); }
    dialog::backdrop { background: rgba(0, 0, 0, 0.45); }
    dialog form { margin-top: 12px; }
    dialog h2 { margin-bottom: 6px; }
    .waiting { display: flex; gap: 6px; align-items: center; color: var(--sh-warning); }
    .waiting svg { width: 16px; height: 16px; flex: none; }
    .stale { display: flex; flex-direction: column; gap: 6px; padding: 8px 10px; border-radius: var(--sh-radius); background: var(--sh-warning-soft); }
    .stale button { align-self: flex-start; }
  `]

  /** the patient whose tasks are controlled */
  @property() patientId = ''
  /** the task selected in the tree, offered to Run */
  @property() taskId: string | undefined
  /** a workflow or exam selected in the tree, offered to run in order */
  @property({ attribute: false }) scope: { kind: 'workflow' | 'exam', id: string } | undefined

  /** tasks whose stop this page asked for, until the scanner confirms */
  @state() private stopping = new Set<string>()
  /** tasks this page saw stop: the confirmation shown */
  @state() private stopped = new Set<string>()
  @state() private runError = ''
  /** what Start in the height/weight dialog will start, in order */
  @state() private preparing: Task[] | undefined
  @state() private prepareErrors: FieldErrors = {}
  @query('dialog#before-acquiring') private beforeDialog!: HTMLDialogElement
  /** moves a scan's elapsed time on between the scanner's reports */
  private readonly progressClock = new ProgressClock()
  /** re-renders every second while something runs, so that the remaining time counts down */
  private ticker: ReturnType<typeof setInterval> | undefined
  private runningCount = 0

  override updated (changed: Map<PropertyKey, unknown>): void {
    super.updated(changed)
    if (this.runningCount > 0 && this.ticker === undefined) this.ticker = setInterval(() => { this.requestUpdate() }, 1000)
    if (this.runningCount === 0 && this.ticker !== undefined) this.stopTicker()
  }

  override disconnectedCallback (): void {
    super.disconnectedCallback()
    this.stopTicker()
  }

  private stopTicker (): void {
    clearInterval(this.ticker)
    this.ticker = undefined
  }

  /** Why the task cannot start yet, or undefined (the same checks as the hub's start route). */
  private startProblem (task: Task): string | undefined {
    const lab = this.session.lab
    if (lab === undefined) return 'the lab is not open'
    const p = task.parameters as unknown as Record<string, unknown>
    if (task.type === 'ACQUISITION') {
      if (typeof p.sequenceId !== 'string') return 'choose a sequence for this acquisition first (Edit)'
      if (lab.sequences.get(p.sequenceId) === undefined) return 'the task\'s sequence is not in the library'
      if (typeof p.deviceId !== 'string') {
        const choice = this.anyScanner()
        return choice.ok ? undefined : choice.problem
      }
      if (lab.devices.get(p.deviceId) === undefined) return 'the task\'s device is not in the lab'
    } else if (typeof p.inputTaskId !== 'string') {
      return 'choose the input task first (Edit)'
    }
    return undefined
  }

  /** The device an acquisition on "any scanner" runs on (protocol/scanner-choice.ts). */
  private anyScanner (): ReturnType<typeof chooseScanner> {
    return chooseScanner(this.session.lab?.devices.list() ?? [], (d) => this.session.deviceStatus(d) !== 'OFFLINE')
  }

  /**
   * Run one task, or a workflow's or an exam's tasks in their order (the scanner plays acquisitions
   * one after another in that order; a reconstruction right after its acquisition starts with it).
   * An acquisition first asks to check the patient's height and weight (the inputs of safety limits).
   */
  private requestStart (task: Task | Task[]): void {
    this.runError = ''
    const single = !Array.isArray(task)
    const todo = (Array.isArray(task) ? task : [task]).filter((t) => t.status !== 'STARTED' && t.status !== 'INPROGRESS' && (single || t.status !== 'FINISHED'))
    // In a batch, a reconstruction whose acquisition also runs is started by the scanner with it.
    const batchIds = new Set(todo.map((t) => t.id))
    const wanted = todo.filter((t) => single || t.type === 'ACQUISITION' || !batchIds.has(String((t.parameters as unknown as Record<string, unknown>).inputTaskId)))
    if (wanted.length === 0) {
      this.runError = 'nothing left to run here'
      return
    }
    for (const t of wanted) {
      const problem = this.startProblem(t)
      if (problem !== undefined) {
        this.runError = `${t.name}: ${problem}`
        return
      }
    }
    if (!wanted.some((t) => t.type === 'ACQUISITION')) {
      this.start(wanted)
      return
    }
    this.preparing = wanted
    this.prepareErrors = {}
    // The dialog starts from what the lab holds now, not from what was typed the last time.
    const patient = this.session.lab?.patients.get(this.patientId)
    const form = this.beforeDialog.querySelector('form')
    const set = (name: string, value: number | undefined): void => {
      const input = form?.elements.namedItem(name)
      if (input instanceof HTMLInputElement) input.value = value === undefined ? '' : String(value)
    }
    set('heightCm', patient?.heightCm)
    set('weightKg', patient?.weightKg)
    this.beforeDialog.showModal()
  }

  private start (tasks: Task[]): void {
    for (const task of tasks) this.stopped.delete(task.id)
    try {
      this.session.write((lab, actor) => {
        // Starting twice changes nothing: the status is the request, and it is set once.
        for (const task of tasks) {
          const current = lab.tasks.get(task.id)
          if (current === undefined || current.status === 'STARTED' || current.status === 'INPROGRESS') continue
          // "any scanner" becomes the scanner that will play it, so that its peer takes the task up
          if (current.type === 'ACQUISITION' && current.parameters.deviceId === undefined) {
            const choice = this.anyScanner()
            if (!choice.ok) throw new Error(`${current.name}: ${choice.problem}`)
            lab.tasks.update(current.id, { parameters: { deviceId: choice.device.id } }, actor)
          }
          lab.tasks.setStatus(task.id, 'STARTED', actor)
        }
      })
    } catch (err) {
      this.runError = (err as Error).message
    }
  }

  private handleBeforeAcquiring (event: SubmitEvent, patient: Patient): void {
    event.preventDefault()
    const tasks = this.preparing
    if (tasks === undefined) return
    const data = new FormData(event.target as HTMLFormElement)
    const height = numberOrUndefined(String(data.get('heightCm') ?? ''))
    const weight = numberOrUndefined(String(data.get('weightKg') ?? ''))
    const errors: FieldErrors = {}
    if (height === undefined) errors.heightCm = 'heightCm is needed before an acquisition'
    if (weight === undefined) errors.weightKg = 'weightKg is needed before an acquisition'
    if (Object.keys(errors).length > 0) {
      this.prepareErrors = errors
      return
    }
    try {
      if (height !== patient.heightCm || weight !== patient.weightKg) {
        this.session.write((lab, actor) => lab.patients.update(patient.id, { heightCm: height, weightKg: weight }, actor))
      }
    } catch (err) {
      this.prepareErrors = errorsFromMessage((err as Error).message, ['heightCm', 'weightKg'])
      return
    }
    this.beforeDialog.close()
    this.preparing = undefined
    this.start(tasks)
  }

  private stop (task: Task): void {
    try {
      this.session.write((lab, actor) => {
        const current = lab.tasks.get(task.id)
        if (current?.status === 'STARTED' || current?.status === 'INPROGRESS') lab.tasks.setStatus(task.id, 'CANCELLED', actor)
      })
      this.stopping = new Set([...this.stopping, task.id])
    } catch (err) {
      this.runError = (err as Error).message
    }
  }

  /** The device a task waits for: an acquisition's own, or the device of the acquisition a reconstruction reads (its scanner hands out the job). */
  private deviceOf (task: Task): Device | undefined {
    const lab = this.session.lab
    if (lab === undefined) return undefined
    const acquisition = task.type === 'ACQUISITION' ? task : task.parameters.inputTaskId === undefined ? undefined : lab.tasks.get(task.parameters.inputTaskId)
    if (acquisition?.type !== 'ACQUISITION' || acquisition.parameters.deviceId === undefined) return undefined
    return lab.devices.get(acquisition.parameters.deviceId)
  }

  /** What a started task without progress waits for, and whether that is out of reach. */
  private waitingFor (task: Task): { text: string, unreachable: boolean } {
    const device = this.deviceOf(task)
    if (device !== undefined) {
      const status = this.session.deviceStatus(device)
      if (status === 'OFFLINE') return { text: `Waiting for ${device.name}: not reachable`, unreachable: true }
      if (status === 'ERROR') return { text: `Waiting for ${device.name}: it reports an error`, unreachable: true }
      if (task.type === 'ACQUISITION') {
        return { text: status === 'BUSY' ? `Waiting for ${device.name}: it is running another task` : `Waiting for ${device.name} to start…`, unreachable: false }
      }
    }
    if (task.type !== 'ACQUISITION') {
      const reconPeer = this.session.peers().some((p) => !p.self && p.status !== 'OFFLINE' && p.roles.includes('recon'))
      if (!reconPeer) return { text: 'Waiting for a reconstruction peer: none is reachable', unreachable: true }
      return { text: 'Waiting for images…', unreachable: false }
    }
    return { text: 'Waiting for the scanner…', unreachable: false }
  }

  /** The sequence's duration from the library, for a scan whose scanner has not said it yet. */
  private sequenceDuration (task: Task): number | undefined {
    if (task.type !== 'ACQUISITION' || task.parameters.sequenceId === undefined) return undefined
    const duration = this.session.lab?.sequences.get(task.parameters.sequenceId)?.summary?.durationS
    return typeof duration === 'number' && duration > 0 ? duration : undefined
  }

  private renderRunning (r: Running, canEdit: boolean): unknown {
    const stopping = this.stopping.has(r.task.id)
    const stop = canEdit
      ? html`<button class="danger stop" ?disabled=${stopping} @click=${() => { this.stop(r.task) }} aria-label="Stop ${r.task.name}">
          ${stopping ? 'Stopping… waiting for the scanner' : 'Stop'}</button>`
      : nothing
    if (r.report === undefined) {
      const waiting = this.waitingFor(r.task)
      // Out of reach, nothing moves: say so in words rather than with a bar that seems to work.
      return html`<div class="running">
        <strong>${r.task.name}</strong>
        ${waiting.unreachable
          ? html`<span class="waiting" role="status">${icon('cloudOff')} ${waiting.text}</span>`
          : html`<progress aria-label="Progress of ${r.task.name}"></progress><span class="muted" role="status">${waiting.text}</span>`}
        ${stop}
      </div>`
    }
    const report = r.report
    const durationS = report.durationS ?? this.sequenceDuration(r.task)
    let value: number
    let text: string
    if (report.positionS !== undefined && durationS !== undefined) {
      const times = scanTimes(this.progressClock.position(r.task.id, report.positionS), durationS)
      value = times.fraction
      text = scanTimesText(times)
    } else {
      value = Number.isFinite(report.fraction) ? Math.min(1, Math.max(0, report.fraction)) : 0
      text = `${Math.round(value * 100)} %${durationS !== undefined && r.task.type === 'ACQUISITION' ? ` · scan time ${durationS < 10 ? `${durationS.toFixed(1)} s` : clock(Math.round(durationS))}` : ''}`
    }
    return html`<div class="running">
      <strong>${r.task.name}</strong> <span class="muted">${report.message ?? ''}</span>
      <progress max="1" .value=${value} aria-label="Progress of ${r.task.name}"></progress>
      <span class="muted times">${text}</span>
      ${stop}
    </div>`
  }

  private renderStale (tasks: Task[], canEdit: boolean): unknown {
    const lab = this.session.lab
    if (lab === undefined) return nothing
    return tasks.filter((t) => staleInput(lab, t) !== undefined).map((t) => {
      const what = t.type === 'RECONSTRUCTION' ? 'reconstruction' : 'processing'
      return html`<div class="stale" role="status" aria-label="${t.name}: ${STALE_TEXT}">
        <span><strong>${t.name}</strong> · ${STALE_TEXT}.</span>
        ${canEdit ? html`<button class="small" aria-label="Re-run ${what} ${t.name}" @click=${() => { this.requestStart(t) }}>${icon('play')} Re-run ${what}</button>` : nothing}
      </div>`
    })
  }

  private renderControl (tasks: Task[]): unknown {
    const byId = new Map(tasks.map((t) => [t.id, t]))
    const running: Running[] = []
    for (const peer of this.session.peers()) {
      for (const [taskId, report] of Object.entries(peer.progress ?? {})) {
        const task = byId.get(taskId)
        if (task !== undefined && !running.some((r) => r.task.id === taskId)) running.push({ task, report })
      }
    }
    for (const task of tasks) {
      if ((task.status === 'STARTED' || task.status === 'INPROGRESS') && !running.some((r) => r.task.id === task.id)) running.push({ task })
    }
    this.runningCount = running.length
    this.progressClock.keepOnly(new Set(running.filter((r) => r.report !== undefined).map((r) => r.task.id)))
    // A stop is confirmed once the task is no longer running anywhere: no status, no live progress.
    for (const id of this.stopping) {
      if (!running.some((r) => r.task.id === id)) {
        this.stopping.delete(id)
        this.stopped.add(id)
      }
    }
    const selected = this.taskId === undefined ? undefined : byId.get(this.taskId)
    const canEdit = this.session.canEditPatients
    return html`<div class="control" aria-live="polite" aria-label="Running">
      <h2>Running</h2>
      ${running.length === 0 ? html`<span class="muted">Nothing of this patient is running.</span>` : running.map((r) => this.renderRunning(r, canEdit))}
      ${[...this.stopped].map((id) => byId.get(id)).filter((t): t is Task => t !== undefined).map((t) => html`<p class="notice" role="status">
        ${t.name} stopped: the scanner confirmed (${t.status === 'CANCELLED' ? 'cancelled' : t.status.toLowerCase()}).</p>`)}
      ${this.renderStale(tasks, canEdit)}
      ${canEdit && selected !== undefined && !running.some((r) => r.task.id === selected.id)
        ? html`<button class="primary run" @click=${() => { this.requestStart(selected) }}>${icon('play')} Run ${selected.name}</button>` : nothing}
      ${canEdit && this.scope !== undefined ? this.renderRunScope(this.scope) : nothing}
      ${this.runError !== '' ? html`<p class="form-error" role="alert">${this.runError}</p>` : nothing}
    </div>`
  }

  private renderRunScope (scope: { kind: 'workflow' | 'exam', id: string }): unknown {
    const lab = this.session.lab
    const owner = scope.kind === 'workflow' ? lab?.workflows.get(scope.id) : lab?.exams.get(scope.id)
    if (lab === undefined || owner === undefined) return nothing
    const tasks = scope.kind === 'workflow' ? lab.tasks.list({ workflowId: scope.id }) : lab.tasks.list({ examId: scope.id })
    if (tasks.length === 0) return nothing
    return html`<button class="primary run" @click=${() => { this.requestStart(tasks) }}>${icon('play')} Run ${scope.kind} ${owner.name} in order</button>`
  }

  private renderBeforeAcquiring (patient: Patient): unknown {
    const e = this.prepareErrors
    return html`<dialog id="before-acquiring" aria-labelledby="before-title" @close=${() => { this.preparing = undefined }}>
      <h2 id="before-title">Before acquiring</h2>
      <p class="muted">Check ${patientName(patient)}'s height and weight: the scanner's safety limits depend on them.</p>
      <form @submit=${(ev: SubmitEvent) => { this.handleBeforeAcquiring(ev, patient) }} novalidate>
        <div class="form-grid">
          <div class="field">
            <label for="ba-height">Height (cm)</label>
            <input id="ba-height" name="heightCm" type="number" step="any" inputmode="decimal" .value=${patient.heightCm === undefined ? '' : String(patient.heightCm)}
              aria-invalid=${invalid(e, 'heightCm')} aria-describedby="heightCm-error">
            ${fieldError(e, 'heightCm')}
          </div>
          <div class="field">
            <label for="ba-weight">Weight (kg)</label>
            <input id="ba-weight" name="weightKg" type="number" step="any" inputmode="decimal" .value=${patient.weightKg === undefined ? '' : String(patient.weightKg)}
              aria-invalid=${invalid(e, 'weightKg')} aria-describedby="weightKg-error">
            ${fieldError(e, 'weightKg')}
          </div>
        </div>
        ${formError(e)}
        <div class="form-actions">
          <button type="button" @click=${() => { this.beforeDialog.close() }}>Cancel</button>
          <button type="submit" class="primary">${icon('play')} Start ${this.preparing === undefined ? 'acquisition' : this.preparing.length === 1 ? this.preparing[0].name : `${this.preparing.length} tasks in order`}</button>
        </div>
      </form>
    </dialog>`
  }

  override render (): unknown {
    const lab = this.session.lab
    const patient = lab?.patients.get(this.patientId)
    if (lab === undefined || patient === undefined) return nothing
    return html`${this.renderControl(lab.tasks.list({ patientId: patient.id }))}${this.renderBeforeAcquiring(patient)}`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sh-run-control': ShRunControl
  }
}
