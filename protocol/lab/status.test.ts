import { describe, expect, it } from 'vitest'
import type { DerivedStatus, TaskStatus } from './schema.ts'
import { deriveStatus } from './status.ts'

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
