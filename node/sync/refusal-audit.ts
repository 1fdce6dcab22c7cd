// A change a peer sent and this peer refused is recorded in the audit log of the document it was for:
// who sent it (actor `peer:<id>`, its peer id) and why. The refused change itself is dropped here and
// never relayed. A peer that keeps sending refused changes gets one entry per document and reason a
// minute, so that it cannot grow every peer's audit log without bound.
import { appendAudit, type AuditEntry } from '../../protocol/lab/audit.ts'
import { LAB_DOC_ID } from '../../protocol/lab/schema.ts'
import type { SyncDocs } from './sync-service.ts'

export interface RefusalAuditInit {
  docs: Pick<SyncDocs, 'get' | 'has'>
  /** default: the wall clock */
  now?: () => number
  /** shortest time between two entries for the same sender and document; default one minute */
  intervalMs?: number
}

export class RefusalAudit {
  private readonly last = new Map<string, number>()
  private readonly now: () => number
  private readonly intervalMs: number

  constructor (private readonly init: RefusalAuditInit) {
    this.now = init.now ?? Date.now
    this.intervalMs = init.intervalMs ?? 60_000
  }

  /** Records the refusal unless one for the same sender, document and reason was recorded within the interval. */
  record (peerId: string, docId: string, reason: string): boolean {
    if (!this.init.docs.has(docId)) return false
    const key = `${peerId} ${docId} ${reason}`
    if (this.last.size > 10_000) this.last.clear()
    const now = this.now()
    const previous = this.last.get(key)
    if (previous !== undefined && now - previous < this.intervalMs) return false
    this.last.set(key, now)
    const entry: AuditEntry = {
      at: new Date(now).toISOString(),
      actor: `peer:${peerId}`,
      peerId,
      action: 'refuse',
      entity: docId === LAB_DOC_ID ? 'lab' : 'patient',
      entityId: docId,
      detail: reason.slice(0, 500)
    }
    const doc = this.init.docs.get(docId)
    doc.transact(() => { appendAudit(doc, entry) }, this)
    return true
  }
}
