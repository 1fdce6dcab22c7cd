// Reading worklist answers in every shape dcmjs hands them, and picking entries into a lab in memory.
import { describe, expect, it } from 'vitest'
import { Lab, LabValidationError } from '../../protocol/lab/index.ts'
import { MemoryDocSource } from '../../protocol/lab/memory-doc-source.ts'
import { alice } from '../../protocol/lab/test-support.ts'
import { entryFromJson, pickWorklistEntry, splitPersonName } from './pick.ts'
import { entryFromDataset, parseDateRange, worklistIdentifier, WorklistError, type WorklistEntry } from './worklist.ts'

const UID = '1.2.826.0.1.3680043.8.498.99'

function complete (): WorklistEntry {
  return {
    patientId: 'P1', patientName: 'Curie^Marie', birthDate: '1967-11-07', sex: 'FEMALE', accessionNumber: 'A1',
    requestedProcedureId: 'RP1', requestedProcedureDescription: 'MR Brain', studyInstanceUid: UID,
    scheduledStart: '2026-04-12T08:30', modality: 'MR', stationAeTitle: 'MR1', scheduledProcedureStepId: 'S1', missing: [], problems: []
  }
}

describe('worklist answers', () => {
  it('reads names, dates, times and the scheduled step, whatever shape dcmjs gives them', () => {
    const entry = entryFromDataset({
      PatientID: 'P1', PatientName: [{ Alphabetic: 'Curie^Marie' }], PatientBirthDate: '19671107', PatientSex: 'F', AccessionNumber: 'A1',
      RequestedProcedureID: 'RP1', RequestedProcedureDescription: 'MR Brain', StudyInstanceUID: UID,
      ScheduledProcedureStepSequence: [{ ScheduledProcedureStepStartDate: '20260412', ScheduledProcedureStepStartTime: '083000.000', Modality: 'MR', ScheduledStationAETitle: 'MR1', ScheduledProcedureStepID: 'S1' }]
    })
    expect(entry).toEqual({ ...complete(), scheduledStart: '2026-04-12T08:30:00' })
    expect(entryFromDataset({ PatientName: 'Doe^John^^', ScheduledProcedureStepSequence: { ScheduledProcedureStepStartDate: '20260412', ScheduledProcedureStepStartTime: '0915' } }))
      .toMatchObject({ patientName: 'Doe^John', scheduledStart: '2026-04-12T09:15' })
  })

  it('lists what an answer lacks and what it gives unusably, and never throws on junk', () => {
    const entry = entryFromDataset({ PatientID: '  ', PatientBirthDate: '19671399', PatientSex: 'X', StudyInstanceUID: '1.02.3', AccessionNumber: 'A'.repeat(17) })
    expect(entry.missing).toEqual([...Object.keys(complete()).filter((k) => k !== 'missing' && k !== 'problems')])
    expect(entry.problems).toEqual([
      'the birth date is not a date (YYYYMMDD)', 'the sex is none of M, F, O', 'the study instance UID is not a valid DICOM UID', 'the accession number is longer than 16 characters'
    ])
    expect(entryFromDataset({ ScheduledProcedureStepSequence: 'junk', PatientName: 42 }).missing).toContain('scheduledStart')
  })

  it('reads a day or a range of days, and refuses anything else in words', () => {
    expect(parseDateRange('20260412')).toEqual({ dateFrom: '20260412' })
    expect(parseDateRange('20260412-20260418')).toEqual({ dateFrom: '20260412', dateTo: '20260418' })
    for (const bad of ['2026-04-12', '20260431', '20260418-20260412', '20260412-', 'today']) expect(() => parseDateRange(bad)).toThrow(WorklistError)
    const identifier = worklistIdentifier({ dateFrom: '20260412', dateTo: '20260418', modality: 'MR', station: 'MR1' })
    expect(identifier.ScheduledProcedureStepSequence).toEqual([expect.objectContaining({ ScheduledProcedureStepStartDate: '20260412-20260418', Modality: 'MR', ScheduledStationAETitle: 'MR1' })])
  })
})

describe('picking an entry', () => {
  it('creates the patient and the exam with the hospital\'s identifiers, and finds them again', () => {
    const lab = new Lab(new MemoryDocSource())
    const first = pickWorklistEntry(lab, complete(), alice)
    expect(first).toMatchObject({ patientCreated: true, examCreated: true })
    expect(lab.patients.get(first.patientId)).toMatchObject({ mrn: 'P1', lastName: 'Curie', firstName: 'Marie', birthDate: '1967-11-07', sex: 'FEMALE' })
    expect(lab.exams.get(first.examId)).toMatchObject({ name: 'MR Brain', accessionNumber: 'A1', studyInstanceUid: UID })
    expect(lab.exams.get(first.examId)?.description).toMatch(/scheduled procedure step S1 at 2026-04-12 08:30 on MR1 \(MR\); requested procedure RP1/)

    // the hospital corrected the name: the same patient is updated, the same exam found
    const again = pickWorklistEntry(lab, { ...complete(), patientName: 'Sklodowska-Curie^Marie' }, alice)
    expect(again).toEqual({ patientId: first.patientId, examId: first.examId, patientCreated: false, examCreated: false })
    expect(lab.patients.get(first.patientId)?.lastName).toBe('Sklodowska-Curie')
    // another order of the same patient is another exam
    const second = pickWorklistEntry(lab, { ...complete(), accessionNumber: 'A2', studyInstanceUid: `${UID}.2` }, alice)
    expect(second).toMatchObject({ patientId: first.patientId, examCreated: true })
    expect(lab.exams.list({ patientId: first.patientId })).toHaveLength(2)
  })

  it('refuses an entry without a patient ID, or a new patient without a birth date, in words', () => {
    const lab = new Lab(new MemoryDocSource())
    expect(() => pickWorklistEntry(lab, { ...complete(), patientId: undefined }, alice)).toThrow(/no patient ID/)
    expect(() => pickWorklistEntry(lab, { ...complete(), birthDate: undefined }, alice)).toThrow(/lacks the birth date/)
    expect(lab.patients.list()).toEqual([])
  })

  it('takes only the known string fields of an entry a client sends back', () => {
    expect(entryFromJson({ ...complete(), extra: 'x' })).toEqual(complete())
    expect(() => entryFromJson({ patientId: 7 })).toThrow(/patientId must be a string/)
    expect(() => entryFromJson({ sex: 'F' })).toThrow(/sex must be one of/)
    expect(() => entryFromJson('entry')).toThrow(WorklistError)
  })

  it('keeps only valid DICOM UIDs as an exam\'s study UID', () => {
    const lab = new Lab(new MemoryDocSource())
    const patient = lab.patients.create({ firstName: 'A', lastName: 'B', birthDate: '1990-01-01', sex: 'OTHER' }, alice)
    for (const uid of ['1.02.3', '1..2', '1.2.', 'abc', '1.' + '2'.repeat(63)]) {
      expect(() => lab.exams.create({ patientId: patient.id, name: 'X', studyInstanceUid: uid }, alice)).toThrow(LabValidationError)
    }
    expect(lab.exams.create({ patientId: patient.id, name: 'X', studyInstanceUid: ` ${UID} ` }, alice).studyInstanceUid).toBe(UID)
  })

  it('splits DICOM person names into the lab\'s names', () => {
    expect(splitPersonName('Curie^Marie^Salomea')).toEqual({ lastName: 'Curie', firstName: 'Marie Salomea' })
    expect(splitPersonName('Curie')).toEqual({ lastName: 'Curie' })
    expect(splitPersonName('^Marie')).toEqual({ firstName: 'Marie' })
  })
})
