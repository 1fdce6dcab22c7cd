// MrdSource: the header first, then the acquisitions with their stream offsets, whatever the chunking,
// with a resuming preamble, and with a header that carries a trailing NUL (Python clients count one).
import { describe, expect, it } from 'vitest'
import {
  AcquisitionFlag, MrdProtocolError, emptyAcquisitionHeader, encodeAcquisitionMessage, encodeCloseMessage, encodeHeaderMessage,
  encodeTextMessage, flagBit
} from '../../protocol/mrd/index.ts'
import type { Acquisition } from '../../protocol/mrd/types.ts'
import { MrdSource, type PlacedAcquisition } from './mrd-source.ts'

function acquisition (line: number, noise = false): Acquisition {
  const head = { ...emptyAcquisitionHeader(), numberOfSamples: 8, activeChannels: 2, availableChannels: 2, flags: noise ? flagBit(AcquisitionFlag.IS_NOISE_MEASUREMENT) : 0n }
  head.idx = { ...head.idx, kspaceEncodeStep1: line }
  return { head, traj: new Float32Array(0), data: Float32Array.from({ length: 32 }, (_, i) => i + line) }
}

function concat (parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) { out.set(p, at); at += p.length }
  return out
}

function * chunks (bytes: Uint8Array, size: number): Iterable<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size)
}

async function readAll (source: MrdSource): Promise<PlacedAcquisition[]> {
  const out: PlacedAcquisition[] = []
  for await (const a of source.acquisitions()) out.push(a)
  return out
}

const xml = '<ismrmrdHeader/>'

describe('MrdSource', () => {
  const messages = [encodeHeaderMessage(xml, { nulTerminated: true }), encodeTextMessage('log'), ...[0, 1, 2, 3].map((l) => encodeAcquisitionMessage(acquisition(l))), encodeCloseMessage()]
  const stream = concat(messages)
  const starts: number[] = []
  messages.reduce((at, m) => { starts.push(at); return at + m.length }, 0)

  it.each([1, 7, 350, 100_000])('gives exact offsets in chunks of %i bytes', async (size) => {
    const source = new MrdSource(chunks(stream, size))
    expect(await source.header()).toBe(xml)
    const placed = await readAll(source)
    expect(placed.map((p) => p.acquisition.head.idx.kspaceEncodeStep1)).toEqual([0, 1, 2, 3])
    expect(placed.map((p) => p.offset)).toEqual(starts.slice(2, 6))
    expect(placed.map((p) => p.end)).toEqual(starts.slice(3, 7))
    expect(source.sawClose).toBe(true)
  })

  it('places the preamble of a resumed stream at the resume offset and what follows at its own offsets', async () => {
    const noise = encodeAcquisitionMessage(acquisition(0, true))
    const header = encodeHeaderMessage(xml)
    const preamble = concat([header, noise])
    const tail = concat([encodeAcquisitionMessage(acquisition(7)), encodeCloseMessage()])
    const source = new MrdSource(chunks(concat([preamble, tail]), 100), { preambleLength: preamble.length, startOffset: 10_000 })
    const placed = await readAll(source)
    expect(placed.map((p) => [p.acquisition.head.idx.kspaceEncodeStep1, p.offset, p.end])).toEqual([
      [0, 10_000, 10_000],
      [7, 10_000, 10_000 + tail.length - 2]
    ])
  })

  it('throws MrdProtocolError for a stream without a header, a second header, or one cut inside a message', async () => {
    await expect(new MrdSource([encodeAcquisitionMessage(acquisition(0))]).header()).rejects.toThrow(/acquisition before its XML header/)
    await expect(readAll(new MrdSource([encodeHeaderMessage(xml), encodeHeaderMessage(xml)]))).rejects.toThrow(/second XML header/)
    const cut = concat([encodeHeaderMessage(xml), encodeAcquisitionMessage(acquisition(0)).subarray(0, 100)])
    await expect(readAll(new MrdSource([cut]))).rejects.toThrow(MrdProtocolError)
    // ended cleanly between messages but without close: no error, and sawClose says so
    const source = new MrdSource([concat([encodeHeaderMessage(xml), encodeAcquisitionMessage(acquisition(0))])])
    expect(await readAll(source)).toHaveLength(1)
    expect(source.sawClose).toBe(false)
  })
})
