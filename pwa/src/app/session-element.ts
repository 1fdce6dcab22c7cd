// Base class of the app's elements: the session and router from context, and a re-render whenever
// the session (login, connection, presence), the lab's data or the address changes.
import { consume } from '@lit/context'
import { LitElement } from 'lit'
import { routerContext, sessionContext } from './context.ts'
import type { LabSession } from '../services/lab-session.ts'
import type { AppRouter } from './router.ts'

const SESSION_EVENTS = ['sh-session-change', 'sh-lab-change'] as const

export class SessionElement extends LitElement {
  @consume({ context: sessionContext })
  session!: LabSession

  @consume({ context: routerContext })
  router!: AppRouter

  private readonly handleChange = (): void => { this.requestUpdate() }
  private subscribed: { session: LabSession | undefined, router: AppRouter | undefined } = { session: undefined, router: undefined }

  override connectedCallback (): void {
    super.connectedCallback()
    this.subscribe()
  }

  override disconnectedCallback (): void {
    super.disconnectedCallback()
    this.unsubscribe()
  }

  protected override willUpdate (changed: Map<PropertyKey, unknown>): void {
    super.willUpdate(changed)
    this.subscribe()
  }

  private subscribe (): void {
    if (this.session === this.subscribed.session && this.router === this.subscribed.router) return
    this.unsubscribe()
    for (const type of SESSION_EVENTS) this.session?.addEventListener(type, this.handleChange)
    this.router?.addEventListener('sh-route-change', this.handleChange)
    this.subscribed = { session: this.session, router: this.router }
  }

  private unsubscribe (): void {
    for (const type of SESSION_EVENTS) this.subscribed.session?.removeEventListener(type, this.handleChange)
    this.subscribed.router?.removeEventListener('sh-route-change', this.handleChange)
    this.subscribed = { session: undefined, router: undefined }
  }
}
