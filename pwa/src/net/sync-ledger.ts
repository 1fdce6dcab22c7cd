// What this browser knows the lab's hub holds, per document, and which of its own changes the hub
// has not confirmed yet: the "unsynced changes" the app shows. Yjs sync has no acknowledgements, so
// knowledge comes from what the hub says it has (its sync step 1), what it sends (it can only send
// what it holds), and probes (see sync-client.ts). Kept in localStorage, so that a page reloaded
// offline still counts the changes it made before.
import * as Y from 'yjs'

export type StateVector = Map<number, number>

interface PendingChange {
  docId: string
  /** end clock per client of the change's items */
  to: Array<[number, number]>
}

interface LedgerJson {
  v: 1
  known: Record<string, Array<[number, number]>>
  pending: PendingChange[]
}

/** Most changes remembered; beyond it the oldest are dropped (they are still synced, only no longer counted). */
const MAX_PENDING = 5000

export function mergeInto (target: StateVector, source: StateVector): boolean {
  let changed = false
  for (const [client, clock] of source) {
    if ((target.get(client) ?? 0) < clock) {
      target.set(client, clock)
      changed = true
    }
  }
  return changed
}

/** The end clocks of the items in a Yjs update (v1). */
export function updateEnds (update: Uint8Array): StateVector {
  return Y.parseUpdateMeta(update).to
}

export class SyncLedger {
  private readonly known = new Map<string, StateVector>()
  private pending: PendingChange[] = []

  /** Remembers a change this browser made and has not seen confirmed. */
  recordLocal (docId: string, update: Uint8Array): void {
    const to = [...updateEnds(update)]
    if (to.length === 0 || this.covered(docId, to)) return
    this.pending.push({ docId, to })
    if (this.pending.length > MAX_PENDING) this.pending.splice(0, this.pending.length - MAX_PENDING)
  }

  /** The hub holds at least `sv` of the document. Returns whether that confirmed any pending change. */
  learn (docId: string, sv: StateVector): boolean {
    let known = this.known.get(docId)
    if (known === undefined) {
      known = new Map()
      this.known.set(docId, known)
    }
    if (!mergeInto(known, sv)) return false
    const before = this.pending.length
    this.pending = this.pending.filter((p) => p.docId !== docId || !this.covered(docId, p.to))
    return this.pending.length !== before
  }

  knownOf (docId: string): StateVector {
    return new Map(this.known.get(docId) ?? [])
  }

  /** Changes made here that the hub has not confirmed. */
  unsynced (): number {
    return this.pending.length
  }

  toJSON (): LedgerJson {
    const known: Record<string, Array<[number, number]>> = {}
    for (const [docId, sv] of this.known) known[docId] = [...sv]
    return { v: 1, known, pending: this.pending }
  }

  static fromJSON (value: unknown): SyncLedger {
    const ledger = new SyncLedger()
    const json = value as Partial<LedgerJson> | null
    if (json === null || typeof json !== 'object' || json.v !== 1) return ledger
    for (const [docId, entries] of Object.entries(json.known ?? {})) {
      if (Array.isArray(entries)) ledger.known.set(docId, new Map(entries.filter(isClock)))
    }
    for (const p of Array.isArray(json.pending) ? json.pending : []) {
      if (typeof p?.docId === 'string' && Array.isArray(p.to)) ledger.pending.push({ docId: p.docId, to: p.to.filter(isClock) })
    }
    return ledger
  }

  private covered (docId: string, to: Array<[number, number]>): boolean {
    const known = this.known.get(docId)
    return to.every(([client, clock]) => (known?.get(client) ?? 0) >= clock)
  }
}

function isClock (entry: unknown): entry is [number, number] {
  return Array.isArray(entry) && entry.length === 2 && Number.isSafeInteger(entry[0]) && Number.isSafeInteger(entry[1])
}
