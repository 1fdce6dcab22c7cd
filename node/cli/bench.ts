// `npm run bench`'s composition root (node/bin/bench.js loads it): hands scanner-node's benchmark
// scanner to recon-node's benchmark, which do not import each other.
import '../runtime/promise-with-resolvers.ts'
import { main } from '../../recon-node/bench/main.ts'
import { startBenchScanner } from '../../scanner-node/jobs/bench-scanner.ts'

/** Runs the benchmark; `bin` is the command that runs its child processes (node/bin/bench.js). */
export async function run (argv: string[], bin: string): Promise<void> {
  await main(argv, { bin, startScanner: startBenchScanner })
}
