// Entry of the benchmark's child processes (node/bin/bench.js --child KIND ARG): each figure that is a
// process's own (the time of (a) on a fresh heap, the memory of (d)) is taken in a process that runs
// that one thing.
import '../../node/runtime/promise-with-resolvers.ts'
import { reconChild } from './recon.ts'
import { reconPeerChild } from './recon-peer.ts'

const CHILDREN: Record<string, (arg: string) => Promise<void>> = {
  recon: reconChild,
  'recon-peer': reconPeerChild
}

export async function run (argv: string[]): Promise<void> {
  const [kind, arg] = argv
  const child = CHILDREN[kind]
  if (child === undefined) throw new Error(`no benchmark child named ${kind}`)
  await child(arg)
}
