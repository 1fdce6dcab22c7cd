// The lease book on a fake monotonic clock: grants with epochs, renewals, lapses and re-offers under
// the next epoch, stale epochs, the preferred peer's grace, slots, and giving up after repeated failures.
import { describe, expect, it } from 'vitest'
import { LeaseBook } from './lease-book.ts'

function book (init: { leaseMs?: number, preferredGraceMs?: number, maxAttempts?: number } = {}): { book: LeaseBook, advance: (ms: number) => void } {
  let t = 1000
  return { book: new LeaseBook({ leaseMs: 100, preferredGraceMs: 50, maxAttempts: 3, ...init, now: () => t }), advance: (ms) => { t += ms } }
}

describe('LeaseBook', () => {
  it('grants a pending job to a worker with a free slot under epoch 1, and not twice', () => {
    const { book: b } = book()
    b.addJob('j')
    expect(b.assign()).toEqual([])
    b.setWorker('s1', 'peerA', 1)
    expect(b.assign()).toEqual([{ jobId: 'j', sessionId: 's1', epoch: 1 }])
    expect(b.assign()).toEqual([])
    expect(b.job('j')).toMatchObject({ state: 'leased', epoch: 1, holder: 's1', peerId: 'peerA' })
    expect(b.isCurrent('j', 1, 's1')).toBe(true)
    expect(b.isHeldBy('j', 1, 'peerA')).toBe(true)
    expect(b.isHeldBy('j', 1, 'peerB')).toBe(false)
  })

  it('keeps a lease while it is renewed, lapses it after leaseMs without renewal, and re-offers it under epoch + 1', () => {
    const { book: b, advance } = book()
    b.addJob('j')
    b.setWorker('s1', 'peerA', 1)
    b.setWorker('s2', 'peerB', 1)
    expect(b.assign()[0]).toMatchObject({ sessionId: 's1', epoch: 1 })
    for (let i = 0; i < 5; i++) {
      advance(90)
      expect(b.renew('j', 1, 's1')).toBe(true)
      expect(b.expire()).toEqual([])
    }
    expect(b.nextDeadline()).toBe(1000 + 5 * 90 + 100)
    advance(100)
    expect(b.expire()).toEqual([{ jobId: 'j', sessionId: 's1', epoch: 1, reason: 'lease of 100 ms lapsed without renewal' }])
    // the old holder is stale now: its renewals and reports are refused
    expect(b.renew('j', 1, 's1')).toBe(false)
    expect(b.isCurrent('j', 1, 's1')).toBe(false)
    // s1 still has a free slot and asked first; s2 is equally free: the first to ask gets it, under epoch 2
    const [grant] = b.assign()
    expect(grant.epoch).toBe(2)
    expect(b.isCurrent('j', 1, grant.sessionId)).toBe(false)
    expect(b.isCurrent('j', 2, grant.sessionId)).toBe(true)
  })

  it('lapses the leases of a worker whose stream closed at once, and gives the job to another', () => {
    const { book: b } = book()
    b.addJob('j', { firstEpoch: 5 })
    b.setWorker('s1', 'peerA', 1)
    expect(b.assign()[0].epoch).toBe(5)
    b.setWorker('s2', 'peerB', 1)
    expect(b.removeWorker('s1')).toEqual([{ jobId: 'j', sessionId: 's1', epoch: 5, reason: 'the worker went away' }])
    expect(b.assign()).toEqual([{ jobId: 'j', sessionId: 's2', epoch: 6 }])
  })

  it('offers a job to its preferred peer first: only to it during the grace, to anyone after', () => {
    const { book: b, advance } = book({ preferredGraceMs: 50 })
    b.setWorker('s1', 'peerA', 1)
    b.addJob('j', { preferredPeerId: 'peerB' })
    expect(b.assign()).toEqual([])
    expect(b.nextDeadline()).toBe(1050)
    advance(20)
    b.setWorker('s2', 'peerB', 1)
    expect(b.assign()).toEqual([{ jobId: 'j', sessionId: 's2', epoch: 1 }])
    // another job preferring an absent peer goes to someone else when the grace is over
    b.addJob('k', { preferredPeerId: 'peerC' })
    expect(b.assign()).toEqual([])
    advance(50)
    expect(b.assign()).toEqual([{ jobId: 'k', sessionId: 's1', epoch: 1 }])
  })

  it('does not offer a job before its input is ready, and counts the grace from then', () => {
    const { book: b, advance } = book()
    b.setWorker('s1', 'peerA', 1)
    b.addJob('j', { ready: false, preferredPeerId: 'peerA' })
    expect(b.assign()).toEqual([])
    advance(1000)
    b.markReady('j')
    expect(b.assign()).toEqual([{ jobId: 'j', sessionId: 's1', epoch: 1 }])
  })

  it('respects slots and spreads jobs over the least loaded workers', () => {
    const { book: b } = book()
    b.setWorker('s1', 'peerA', 2)
    b.setWorker('s2', 'peerB', 1)
    for (const id of ['j1', 'j2', 'j3', 'j4']) b.addJob(id)
    const grants = b.assign()
    expect(grants.map((g) => [g.jobId, g.sessionId])).toEqual([['j1', 's1'], ['j2', 's1'], ['j3', 's2']])
    expect(b.job('j4')?.state).toBe('pending')
    b.setWorker('s2', 'peerB', 0)
    expect(b.assign()).toEqual([])
  })

  it('re-offers a released job, and reports it exhausted after maxAttempts', () => {
    const { book: b } = book({ maxAttempts: 2 })
    b.addJob('j')
    b.setWorker('s1', 'peerA', 1)
    b.assign()
    expect(b.release('j', 99, 's1')).toBe(false)
    expect(b.release('j', 1, 's1')).toBe(true)
    expect(b.assign()[0].epoch).toBe(2)
    expect(b.release('j', 2, 's1')).toBe('exhausted')
    expect(b.assign()).toEqual([])
    expect(b.exhausted()).toEqual(['j'])
  })

  it('returns the lease to revoke when a job is removed', () => {
    const { book: b } = book()
    b.addJob('j')
    b.setWorker('s1', 'peerA', 1)
    b.assign()
    expect(b.removeJob('j', 'task cancelled')).toEqual({ jobId: 'j', sessionId: 's1', epoch: 1, reason: 'task cancelled' })
    expect(b.hasJob('j')).toBe(false)
    expect(b.isCurrent('j', 1, 's1')).toBe(false)
  })
})
