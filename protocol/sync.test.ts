import { describe, expect, it } from 'vitest'
import { encodeSyncFrame, MESSAGE_ERROR, MESSAGE_SYNC, readSyncFrame, readSyncFrameOrAnswer } from './sync.ts'

describe('sync frames', () => {
  it('answers a malformed frame with an ERROR frame and goes on', () => {
    const sent: Uint8Array[] = []
    const logged: string[] = []
    const peer = { remotePeer: 'peer-a', send: (frame: Uint8Array) => { sent.push(frame) } }
    // type 0 (sync) with a document id announced longer than the bytes that follow
    expect(readSyncFrameOrAnswer(new Uint8Array([MESSAGE_SYNC, 200, 1]), peer, (m) => logged.push(m))).toBeUndefined()
    expect(sent).toHaveLength(1)
    const answer = readSyncFrame(sent[0])
    expect(answer.type).toBe(MESSAGE_ERROR)
    expect(logged[0]).toMatch(/^sync: bad frame from peer-a: /)

    const good = readSyncFrameOrAnswer(encodeSyncFrame('lab', new Uint8Array([1, 2, 3])), peer, (m) => logged.push(m))
    expect(good).toEqual({ type: MESSAGE_SYNC, docId: 'lab', payload: new Uint8Array([1, 2, 3]) })
    expect(sent).toHaveLength(1)
  })
})
