// JSON schemas of the REST API's bodies, for the OpenAPI document. The lab model's validators
// (protocol/lab/validate.ts) are what enforce them; these describe them to clients.
const str = { type: 'string' }
const num = { type: 'number' }
const vec3 = { type: 'array', items: num, minItems: 3, maxItems: 3 }
const stamps = {
  createdAt: { type: 'string', format: 'date-time' },
  updatedAt: { type: 'string', format: 'date-time' },
  createdBy: str,
  updatedBy: str
}
const status = { type: 'string', enum: ['NEW', 'UPDATED', 'STARTED', 'INPROGRESS', 'FINISHED', 'ERROR', 'CANCELLED'] }

export const patientInput = {
  type: 'object',
  required: ['firstName', 'lastName', 'birthDate', 'sex'],
  additionalProperties: false,
  properties: {
    mrn: { type: 'string', maxLength: 64, description: 'the hospital\'s patient ID (medical record number), written as the DICOM PatientID' },
    firstName: str,
    lastName: str,
    birthDate: { type: 'string', format: 'date', description: 'YYYY-MM-DD' },
    sex: { type: 'string', enum: ['MALE', 'FEMALE', 'OTHER', 'NOT_GIVEN'] },
    heightCm: { type: 'number', minimum: 20, maximum: 300 },
    weightKg: { type: 'number' },
    comment: str
  }
}
export const patient = { type: 'object', properties: { id: str, ...patientInput.properties, ...stamps } }

export const examInput = {
  type: 'object',
  required: ['patientId', 'name'],
  properties: { patientId: str, name: str, description: str, indication: str, accessionNumber: { type: 'string', maxLength: 16, description: 'the hospital\'s accession number, written in every DICOM of the exam' } }
}
export const exam = { type: 'object', properties: { id: str, ...examInput.properties, status, ...stamps } }

export const workflowInput = {
  type: 'object',
  required: ['examId', 'name'],
  properties: { examId: str, name: str, description: str }
}
export const workflow = { type: 'object', properties: { id: str, ...workflowInput.properties, patientId: str, position: num, status, ...stamps } }

const acquisitionParameters = {
  type: 'object',
  properties: {
    sequenceId: str,
    deviceId: str,
    fovScaling: vec3,
    fovOffsetMm: vec3,
    fovRotationDeg: vec3,
    calibrations: { type: 'array', items: { type: 'string', enum: ['FREQUENCY', 'FLIP_ANGLE', 'SHIM'] } },
    protocol: {
      type: 'object',
      description: 'for a built-in sequence only: the values it is regenerated with when the task runs; a field left out keeps the built-in\'s default',
      properties: {
        trMs: num,
        teMs: num,
        flipAngleDeg: num,
        fovMm: num,
        matrix: { type: 'array', items: { type: 'integer' }, minItems: 2, maxItems: 2, description: '[read, phase]' },
        slices: { type: 'integer' },
        sliceThicknessMm: num,
        bandwidthHzPerPixel: num
      }
    }
  }
}
const reconstructionParameters = {
  type: 'object',
  required: ['pipeline'],
  properties: { inputTaskId: str, pipeline: str, options: { type: 'object' }, preferredPeerId: str }
}

export const taskInput = {
  type: 'object',
  required: ['workflowId', 'type', 'name'],
  properties: {
    workflowId: str,
    type: { type: 'string', enum: ['ACQUISITION', 'RECONSTRUCTION', 'PROCESSING'] },
    name: str,
    description: str,
    parameters: { oneOf: [acquisitionParameters, reconstructionParameters] }
  }
}
export const task = {
  type: 'object',
  properties: {
    id: str,
    ...taskInput.properties,
    examId: str,
    patientId: str,
    position: { type: 'number', description: 'order within the workflow; PATCH it to move the task' },
    status,
    startedAt: str,
    finishedAt: str,
    error: str,
    run: { type: 'integer', description: 'how many times the task was started; its results carry the run that made them' },
    inputRun: { type: 'integer', description: 'the run of the input task a reconstruction or processing read; newer raw data of the input makes it stale' },
    results: { type: 'array', items: { type: 'object', properties: { id: str, type: str, run: { type: 'integer' }, files: { type: 'array', items: { type: 'object', properties: { name: str, sha256: str, size: num, type: str } } } } } },
    ...stamps
  }
}

export const examTemplateInput = { type: 'object', required: ['name'], properties: { name: str, description: str, indication: str } }
export const workflowTemplateInput = { type: 'object', required: ['name'], properties: { examTemplateId: str, name: str, description: str } }
export const taskTemplateInput = {
  type: 'object',
  required: ['type', 'name'],
  properties: { workflowTemplateId: str, type: taskInput.properties.type, name: str, description: str, parameters: taskInput.properties.parameters }
}
