#!/usr/bin/env node
// `npm run bench`: the reconstruction benchmark (recon-node/bench/main.ts), run from the TypeScript
// sources with tsx like the scanhub command. Like the CLI's entry this file is a composition root: it
// hands scanner-node's benchmark scanner to recon-node's benchmark, which do not import each other.
// With --recon-child it is the process whose memory figure (d) measures: it loads only the
// reconstruction, so that the figure is not the benchmark's own.
import { fileURLToPath } from 'node:url'
import { register } from 'tsx/esm/api'

register()
await import('../runtime/promise-with-resolvers.ts')
try {
  if (process.argv[2] === '--recon-child') {
    const { reconChild } = await import('../../recon-node/bench/recon.ts')
    await reconChild(process.argv[3])
  } else {
    const { main } = await import('../../recon-node/bench/main.ts')
    const { startBenchScanner } = await import('../../scanner-node/jobs/bench-scanner.ts')
    await main(process.argv.slice(2), { bin: fileURLToPath(import.meta.url), startScanner: startBenchScanner })
  }
  process.exit(0)
} catch (err) {
  process.stderr.write(`bench: ${err.stack ?? err.message}\n`)
  process.exit(1)
}
