// An export of images to a PACS destination as the REST API answers it (GET /api/v1/exports,
// node/http/pacs-routes.ts): written by a peer's export queue (node/pacs/export-queue.ts), read by the app.

export const EXPORT_STATES = ['queued', 'sending', 'done', 'failed'] as const
export type ExportState = typeof EXPORT_STATES[number]

export interface ExportView {
  id: string
  destinationId: string
  patientId: string
  examId?: string
  taskId?: string
  state: ExportState
  total: number
  sent: number
  /** the destination had them from an earlier export */
  skipped: number
  /** refused by the destination */
  failed: number
  errors: Array<{ file: string, sopInstanceUid?: string, error: string }>
  /** tries that could not finish */
  attempts: number
  /** when the next try is due, while queued after a failed one */
  nextAttemptAt?: string
  /** why the last try stopped, or why the export failed */
  lastError?: string
  /** queued by the exam's automatic sending */
  automatic: boolean
  createdAt: string
  updatedAt: string
  createdBy: string
}
