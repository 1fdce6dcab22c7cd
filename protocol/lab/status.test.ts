import { describe, expect, it } from 'vitest'
import type { DerivedStatus, TaskStatus } from './schema.ts'
import { countStatuses, deriveStatus, statusNote } from './status.ts'

describe('deriveStatus', () => {
  const table: Array<[TaskStatus[], DerivedStatus]> = [
    [[], 'NEW'],
    [['NEW'], 'NEW'],
    [['NEW', 'UPDATED'], 'NEW'],
    [['NEW', 'CANCELLED'], 'NEW'],
    [['STARTED'], 'INPROGRESS'],
    [['INPROGRESS', 'NEW'], 'INPROGRESS'],
    [['FINISHED', 'NEW'], 'INPROGRESS'],
    [['FINISHED', 'UPDATED', 'CANCELLED'], 'INPROGRESS'],
    [['FINISHED'], 'FINISHED'],
    [['FINISHED', 'FINISHED'], 'FINISHED'],
    [['FINISHED', 'CANCELLED'], 'FINISHED'],
    [['CANCELLED'], 'CANCELLED'],
    [['CANCELLED', 'CANCELLED'], 'CANCELLED'],
    [['ERROR'], 'ERROR'],
    [['ERROR', 'STARTED', 'FINISHED'], 'ERROR'],
    [['ERROR', 'CANCELLED'], 'ERROR'],
    [['STARTED', 'CANCELLED', 'FINISHED'], 'INPROGRESS'],
    [['SOMETHING_NEWER' as TaskStatus], 'NEW']
  ]
  it.each(table)('%j → %s', (statuses, expected) => {
    expect(deriveStatus(statuses)).toBe(expected)
  })
})

describe('statusNote: what the status leaves unsaid', () => {
  const table: Array<[TaskStatus[], DerivedStatus, string]> = [
    // a stopped scan beside finished ones: Finished, but never silently
    [['FINISHED', 'CANCELLED'], 'FINISHED', '1 cancelled'],
    [['FINISHED', 'CANCELLED', 'CANCELLED', 'FINISHED'], 'FINISHED', '2 cancelled'],
    [['FINISHED', 'NEW', 'CANCELLED'], 'INPROGRESS', '1 cancelled'],
    [['ERROR', 'CANCELLED'], 'ERROR', '1 failed, 1 cancelled'],
    [['ERROR', 'ERROR', 'FINISHED'], 'ERROR', '2 failed'],
    // the status says it all
    [['CANCELLED', 'CANCELLED'], 'CANCELLED', ''],
    [['ERROR'], 'ERROR', ''],
    [['FINISHED', 'FINISHED'], 'FINISHED', ''],
    [[], 'NEW', '']
  ]
  it.each(table)('%j → %s with note %j', (statuses, status, note) => {
    expect(deriveStatus(statuses)).toBe(status)
    expect(statusNote(statuses)).toBe(note)
  })

  it('counts each kind of status', () => {
    expect(countStatuses(['NEW', 'STARTED', 'INPROGRESS', 'FINISHED', 'ERROR', 'CANCELLED', 'UPDATED'])).toEqual({ total: 7, error: 1, running: 2, finished: 1, cancelled: 1 })
  })
})
