#!/usr/bin/env node
// `npm run bench`: the reconstruction benchmark (recon-node/bench/main.ts through node/cli/bench.ts),
// run from the compiled modules like the scanhub command. With --child KIND ARG it is one of the
// benchmark's child processes: recon-node/bench/recon.ts (KIND recon) or recon-peer.ts (recon-peer).
import { fileURLToPath } from 'node:url'
import { importEntry } from './node-bundle.js'

try {
  if (process.argv[2] === '--child') {
    const { runChild } = await importEntry(`bench-${process.argv[3]}`)
    await runChild(process.argv[4])
  } else {
    const { run } = await importEntry('bench')
    await run(process.argv.slice(2), fileURLToPath(import.meta.url))
  }
  process.exit(0)
} catch (err) {
  process.stderr.write(`bench: ${err.stack ?? err.message}\n`)
  process.exit(1)
}
