// The .seq file an acquisition task plays: the library's file, or, when the task sets a protocol for a
// built-in sequence, the built-in regenerated with it. The regenerated file is kept with the task's
// results, so that what was played can be read again (`scanhub seq inspect`) beside the raw data whose
// MRD header was written from it.
import { builtinNameOf, protocolSequenceText } from '../../protocol/pulseq/protocol-params.ts'
import { runFileName, runOf } from '../../protocol/lab/index.ts'
import type { AcquisitionParameters, Sequence, Task } from '../../protocol/lab/index.ts'
import type { PeerContext } from '../../node/peer.ts'

/** Media type of a Pulseq file kept as a result: it is text. */
export const PULSEQ_MEDIA_TYPE = 'text/plain; charset=utf-8'

export async function sequenceToPlay (context: Pick<PeerContext, 'lab' | 'actor' | 'blobs' | 'blobService'>, task: Task, sequence: Sequence): Promise<Uint8Array> {
  const { lab, actor, blobs } = context
  const protocol = (task.parameters as AcquisitionParameters).protocol
  if (protocol === undefined) {
    await context.blobService.ensure(sequence.blob.sha256)
    return await blobs.read(sequence.blob.sha256)
  }
  const name = builtinNameOf(sequence)
  if (name === undefined) {
    throw new Error(`the sequence "${sequence.name}" is an uploaded file, whose parameters cannot be changed: clear the task's protocol, or choose a built-in sequence`)
  }
  // Deterministic: the same protocol gives the same bytes (and blob) on every peer and every run.
  const bytes = new TextEncoder().encode(protocolSequenceText(name, protocol))
  const blob = await blobs.put(bytes)
  const fileName = runFileName(`${task.name.replace(/[^A-Za-z0-9._-]+/g, '_') || name}.seq`, runOf(task))
  lab.results.create({ taskId: task.id, type: 'OTHER', files: [{ name: fileName, sha256: blob.sha256, size: blob.size, type: PULSEQ_MEDIA_TYPE }] }, actor)
  return bytes
}
