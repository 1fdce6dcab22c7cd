// Every lab starts with ScanHub's built-in sequences. Each peer adds those missing from the library
// (same ids and bytes on every peer, so concurrent seeding converges to one entry each).
import { BUILTIN_SEQUENCES } from '../../protocol/pulseq/index.ts'
import { builtinSequences } from '../../protocol/sequence-library.ts'
import type { PeerContext } from '../peer.ts'

export async function seedBuiltinSequences (context: Pick<PeerContext, 'lab' | 'blobs' | 'actor' | 'docs'>): Promise<number> {
  const { lab } = context
  // Every built-in, so that a lab seeded before a sequence was added gets it too.
  const wanted = Object.keys(BUILTIN_SEQUENCES).map((name) => `builtin-${name}`)
  if (wanted.every((id) => lab.sequences.get(id) !== undefined)) return 0
  let added = 0
  for (const builtin of builtinSequences()) {
    const blob = await context.blobs.put(new TextEncoder().encode(builtin.text))
    if (lab.sequences.get(builtin.id) !== undefined) continue
    lab.sequences.create({
      id: builtin.id,
      name: builtin.name,
      description: builtin.description,
      type: builtin.type,
      tags: builtin.tags,
      blob,
      summary: JSON.parse(JSON.stringify(builtin.summary)),
      builtin: true
    }, context.actor)
    added++
  }
  await context.docs.flush()
  return added
}
