// The `scanhub` command as a user types it.
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { fixture, hasFixtures } from './support/external-tools.ts'
import { PROJECT_ROOT, SCANHUB_BIN } from './support/peer-process.ts'

function scanhub (...args: string[]): { status: number | null, stdout: string, stderr: string } {
  const r = spawnSync(process.execPath, [SCANHUB_BIN, ...args], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 60_000 })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** Duration and ADC readouts counted from the file's own [BLOCKS] and [DEFINITIONS], independently of our reader. */
function countBlocks (text: string): { durationS: number, adcReadouts: number } | undefined {
  const raster = Number(/^BlockDurationRaster\s+(\S+)/m.exec(text)?.[1])
  if (!Number.isFinite(raster)) return undefined
  const blocks = text.split('[BLOCKS]')[1].split(/\n\s*\n|\n\[/)[0].split('\n').map((l) => l.trim()).filter((l) => /^\d/.test(l))
  return {
    durationS: blocks.reduce((sum, l) => sum + Number(l.split(/\s+/)[1]) * raster, 0),
    adcReadouts: blocks.filter((l) => Number(l.split(/\s+/)[6]) !== 0).length
  }
}

// Tests that start the command many times, one after another: each start loads the whole program, which
// takes seconds on a busy two-core machine.
const CLI_RUNS_TIMEOUT_MS = 300_000

describe('scanhub CLI', () => {
  it('has --help on every command', () => {
    for (const args of [['--help'], ['start', '--help'], ['lab', 'invite', '--help'], ['seq', 'inspect', '--help'], ['simulate', '--help']]) {
      const r = scanhub(...args)
      expect(r.status, args.join(' ')).toBe(0)
      expect(r.stdout).toMatch(/Usage/)
    }
  }, CLI_RUNS_TIMEOUT_MS)

  it('runs peers with the same Node options however it is started (the command itself, npm start, npm run bench)', () => {
    const shebang = readFileSync(SCANHUB_BIN, 'utf8').split('\n')[0]
    const flags = /^#!\/usr\/bin\/env -S node((?: --\S+)*)$/.exec(shebang)?.[1].trim().split(' ') ?? []
    expect(flags.length, shebang).toBeGreaterThan(0)
    const scripts = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts
    expect(scripts.start).toMatch(new RegExp(`^node ${flags.join(' ')} node/bin/scanhub.js `))
    expect(scripts.bench).toMatch(new RegExp(`^node ${flags.join(' ')} node/bin/bench.js`))
    // and the command line works as a program of its own, through the shebang
    const r = spawnSync(SCANHUB_BIN, ['--help'], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 60_000 })
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/Usage/)
  })

  it('says what is wrong with a bad command line', () => {
    const r = scanhub('start', '--roles', 'hub,telescope')
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('unknown role "telescope"')
    expect(scanhub('frobnicate').stderr).toContain('unknown command')
  })

  it.skipIf(!hasFixtures())('seq inspect --json agrees with every fixture\'s own [BLOCKS]', () => {
    const dir = fixture('pulseq')
    for (const name of readdirSync(dir).filter((f) => f.endsWith('.seq'))) {
      const r = scanhub('seq', 'inspect', join(dir, name), '--json')
      expect(r.status, `${name}: ${r.stderr}`).toBe(0)
      const summary = JSON.parse(r.stdout)
      expect(summary).toHaveProperty('version')
      expect(summary).toHaveProperty('definitions')
      expect(summary.adcSamples).toBeGreaterThanOrEqual(summary.adcReadouts)
      const expected = countBlocks(readFileSync(join(dir, name), 'utf8'))
      if (expected !== undefined) {
        expect(summary.durationS, name).toBeCloseTo(expected.durationS, 6)
        expect(summary.adcReadouts, name).toBe(expected.adcReadouts)
      }
    }
  }, CLI_RUNS_TIMEOUT_MS)

  it.skipIf(!hasFixtures())('reports a changed file\'s signature as invalid and a broken file by line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scanhub-cli-'))
    try {
      const text = readFileSync(fixture('pulseq', 'pulseq_gre_v151.seq'), 'utf8')
      writeFileSync(join(dir, 'changed.seq'), text.replace('[BLOCKS]', '[BLOCKS]\n'))
      const changed = scanhub('seq', 'inspect', join(dir, 'changed.seq'))
      expect(changed.stdout).toMatch(/signature\s+INVALID/)
      writeFileSync(join(dir, 'broken.seq'), text.replace(/\[RF\]\n(.*\n)/, (m) => m.replace(/\n(\s*\d+)\s+\S+/, '\n$1 x')))
      const broken = scanhub('seq', 'inspect', join(dir, 'broken.seq'))
      expect(broken.status).toBe(1)
      expect(broken.stderr).toMatch(/line \d+/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
