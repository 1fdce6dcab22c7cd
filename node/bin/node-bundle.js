// The peer's code compiled to JavaScript: each entry point's TypeScript (ours) bundled by esbuild into
// one module under dist/node/, the npm packages left as imports. Peers and the benchmark run from these
// modules rather than through tsx's loader, which would hold some 35 MiB of its own in every process;
// a module is rebuilt when any source is newer, so a checkout still needs no build step.
//
// Run as a script (`node node/bin/node-bundle.js`) it builds; the commands build through that script in
// a child process, so that esbuild's own threads never live in a peer.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { newestMtime } from './newest-mtime.js'

const HERE = fileURLToPath(import.meta.url)
const ROOT = resolve(dirname(HERE), '..', '..')
/** Two levels below the root, like the sources, so that paths the code finds from its own place hold. */
const OUT = join(ROOT, 'dist', 'node')

/** Name of each compiled module → its TypeScript entry point. */
const ENTRIES = {
  scanhub: 'node/cli/main.ts',
  // started by recon-node/fft/pool.ts as `./fft-worker.js` beside the module that loaded it
  'fft-worker': 'recon-node/fft/fft-worker.ts',
  bench: 'node/cli/bench.ts',
  // the benchmark's child processes (node/bin/bench.js --child recon | recon-peer): one module each, so
  // that each loads only what it measures
  'bench-recon': 'recon-node/bench/recon.ts',
  'bench-recon-peer': 'recon-node/bench/recon-peer.ts'
}

const SOURCES = ['protocol', 'node', 'scanner-node', 'recon-node'].map((folder) => join(ROOT, folder))

function outputOf (name) {
  return join(OUT, `${name}.js`)
}

function isStale () {
  const outputs = Object.keys(ENTRIES).map(outputOf)
  if (!outputs.every((file) => existsSync(file))) return true
  const oldest = Math.min(...outputs.map((file) => statSync(file).mtimeMs))
  return newestMtime(...SOURCES) > oldest
}

/** Compiles every entry into a folder of its own, then moves each module into place whole. */
function build () {
  const require = createRequire(import.meta.url)
  const esbuild = require('esbuild')
  const temp = join(OUT, `.build-${process.pid}`)
  rmSync(temp, { recursive: true, force: true })
  mkdirSync(temp, { recursive: true })
  try {
    esbuild.buildSync({
      absWorkingDir: ROOT,
      entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([name, source]) => [name, join(ROOT, source)])),
      bundle: true,
      packages: 'external',
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: 'linked',
      outdir: temp,
      logLevel: 'error'
    })
    // the worker first: a process that sees the new scanhub.js must find the worker it starts
    const names = ['fft-worker', ...Object.keys(ENTRIES).filter((name) => name !== 'fft-worker')]
    for (const name of names) {
      renameSync(join(temp, `${name}.js.map`), `${outputOf(name)}.map`)
      renameSync(join(temp, `${name}.js`), outputOf(name))
    }
  } finally {
    rmSync(temp, { recursive: true, force: true })
  }
}

/**
 * Imports the compiled module `name`, compiling it first when it is missing or older than the sources.
 * Exits the process with a message when the sources do not compile.
 */
export async function importEntry (name) {
  if (!(name in ENTRIES)) throw new Error(`no entry point named ${name}`)
  if (isStale()) {
    const result = spawnSync(process.execPath, [HERE], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] })
    if (result.status !== 0) {
      process.stderr.write('scanhub: compiling the sources (node/bin/node-bundle.js) failed; see the errors above\n')
      process.exit(1)
    }
  }
  return await import(pathToFileURL(outputOf(name)).href)
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === HERE) build()
