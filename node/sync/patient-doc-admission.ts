// Which documents a peer takes from the lab's peers: the lab document, and the document of every
// patient the lab document lists. Anything else offered (a step 1 naming thousands of made-up
// `patient:<uuid>` ids) is not created, so no peer can make the others fill their disks with empty
// document logs. A patient's document may arrive before the lab document lists the patient; it is
// then asked for again (a step 1 to every peer) as soon as the listing arrives.
import { LAB_DOC_ID, patientDocId, patientIdOfDoc } from '../../protocol/lab/schema.ts'
import type * as Y from 'yjs'
import type { SyncDocs } from './sync-service.ts'

/** The patients map of the lab document, as protocol/lab stores it. */
function patientsOf (labDoc: Y.Doc): Y.Map<unknown> {
  return labDoc.getMap('patients')
}

/** Whether a peer holding `docs` takes the document `docId` when a peer offers it. */
export function mayHoldLabDoc (docs: Pick<SyncDocs, 'get'>, docId: string): boolean {
  if (docId === LAB_DOC_ID) return true
  const patientId = patientIdOfDoc(docId)
  return patientId !== undefined && patientsOf(docs.get(LAB_DOC_ID)).has(patientId)
}

/**
 * Calls `want(docId)` for each patient document that becomes listed while this peer does not hold it
 * (SyncService.watch creates it and asks every peer for its content). Returns the unsubscribe.
 */
export function followListedPatients (docs: Pick<SyncDocs, 'get' | 'has'>, want: (docId: string) => void): () => void {
  const patients = patientsOf(docs.get(LAB_DOC_ID))
  const onChange = (event: Y.YMapEvent<unknown>): void => {
    for (const [patientId, change] of event.changes.keys) {
      const docId = patientDocId(patientId)
      if (change.action === 'add' && !docs.has(docId)) want(docId)
    }
  }
  patients.observe(onChange)
  return () => { patients.unobserve(onChange) }
}
