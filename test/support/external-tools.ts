// Tests check ScanHub against real tools from Debian (bart, ismrmrd-tools, dicom3tools, ...). Where a
// tool is missing, the tests that need it are skipped, and say so loudly, instead of failing obscurely.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const warned = new Set<string>()

/** Whether the command is on PATH; warns once per command when it is not. */
export function hasTool (command: string): boolean {
  const found = spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0
  if (!found && !warned.has(command)) {
    warned.add(command)
    console.warn(`\n*** SKIPPING tests that need \`${command}\`: it is not installed (npm test's pretest installs it as root) ***\n`)
  }
  return found
}

/** Debian's python3, which has pydicom, h5py and numpy (a pyenv python3 earlier on PATH may not). */
export const DEBIAN_PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'

/** Whether Debian's python3 can import every module named; warns once when it cannot. */
export function hasPythonModules (...modules: string[]): boolean {
  const key = 'python:' + modules.join(',')
  const ok = spawnSync(DEBIAN_PYTHON, ['-c', modules.map((m) => `import ${m}`).join('; ')], { stdio: 'ignore' }).status === 0
  if (!ok && !warned.has(key)) {
    warned.add(key)
    console.warn(`\n*** SKIPPING tests that need the python modules ${modules.join(', ')}: not importable by ${DEBIAN_PYTHON} ***\n`)
  }
  return ok
}

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** The shared real-world test data, beside the project's checkout. */
export const FIXTURES_DIR = join(PROJECT_ROOT, '..', 'shared', 'fixtures')

/** Whether ../shared/fixtures is there; warns once when it is not (a clone elsewhere lacks it). */
export function hasFixtures (): boolean {
  const found = existsSync(FIXTURES_DIR)
  if (!found && !warned.has('fixtures')) {
    warned.add('fixtures')
    console.warn(`\n*** SKIPPING tests on real fixture data: ${FIXTURES_DIR} is absent ***\n`)
  }
  return found
}

/** A path inside ../shared/fixtures. */
export function fixture (...parts: string[]): string {
  return join(FIXTURES_DIR, ...parts)
}
