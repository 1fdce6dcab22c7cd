#!/usr/bin/env node
// `npm run bench`: the reconstruction benchmark (recon-node/bench/main.ts through node/cli/bench.ts),
// run from the compiled modules like the scanhub command. With --child KIND it is one of the benchmark's
// child processes (recon-node/bench/child.ts).
import { fileURLToPath } from 'node:url'
import { importEntry } from './node-bundle.js'

try {
  if (process.argv[2] === '--child') {
    const { run } = await importEntry('bench-child')
    await run(process.argv.slice(3))
  } else {
    const { run } = await importEntry('bench')
    await run(process.argv.slice(2), fileURLToPath(import.meta.url))
  }
  process.exit(0)
} catch (err) {
  process.stderr.write(`bench: ${err.stack ?? err.message}\n`)
  process.exit(1)
}
