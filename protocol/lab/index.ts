// The lab document model: schema, validation, derived status, audit log, schema versions, and the
// Lab accessors over a DocSource.
export type { DocSource, DocSourceEvents } from './doc-source.ts'
export { hasDocEvents } from './doc-source.ts'
export { MemoryDocSource } from './memory-doc-source.ts'
export { LabNotFoundError, LabSchemaError, LabValidationError } from './errors.ts'
export * from './schema.ts'
export {
  MAX_JSON_LENGTH, MAX_NAME_LENGTH, MAX_TEXT_LENGTH, MIN_BIRTH_DATE, validateActor, validateDestinationInput, validateDestinationPatch, validateDeviceInput, validateDevicePatch,
  validateExamInput, validateExamPatch, validateExamTemplateInput, validateExamTemplatePatch, validateId, validateLabName,
  validatePatientInput, validatePatientPatch, validateResultInput, validateSequenceInput, validateSequencePatch,
  validateTaskInput, validateTaskParameters, validateTaskPatch, validateTaskTemplateInput, validateTaskTemplatePatch,
  validateUserInput, validateUserPatch, validateWorkflowInput, validateWorkflowPatch, validateWorkflowTemplateInput,
  validateWorkflowTemplatePatch
} from './validate.ts'
export type { Validation } from './validate.ts'
export { countStatuses, deriveStatus, statusNote } from './status.ts'
export type { StatusCounts } from './status.ts'
export { isStale, latestInputRun, resultRun, resultsByRun, runFileName, runOf } from './runs.ts'
export { appendAudit, auditLog, mergeAudit, readAudit } from './audit.ts'
export type { AuditAction, AuditEntry, AuditQuery, AuditRecord } from './audit.ts'
export {
  MIGRATIONS, SCHEMA_VERSION, checkSchema, migrate, newerSchemaMessage, prepareForWrite, schemaVersionOf, stampSchemaVersion
} from './schema-version.ts'
export type { MigrateOptions, Migration, SchemaState } from './schema-version.ts'
export { Destinations, Devices, Patients, RecordCollection, Sequences, Users } from './collections.ts'
export { Exams, Results, Tasks, Workflows } from './patient-collections.ts'
export { ExamTemplates, STARTER_TEMPLATES_META, TaskTemplates, WorkflowTemplates } from './templates.ts'
export type { ExamTemplateTree, StarterTemplate, TaskTemplateNode, WorkflowTemplateNode } from './templates.ts'
export type { ChangeListener } from './events.ts'
export { Lab } from './lab.ts'
export type { DocSchemaStatus, LabOptions } from './lab.ts'
