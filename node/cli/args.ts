// Command-line parsing shared by the scanhub commands: node's parseArgs plus help text and errors that
// say what to type instead.
import { parseArgs, type ParseArgsConfig } from 'node:util'

export class UsageError extends Error {
  override name = 'UsageError'
}

export interface CommandSpec {
  usage: string
  description: string
  options: NonNullable<ParseArgsConfig['options']>
  /** one line per option, shown by --help */
  help: Record<string, string>
}

export function formatHelp (spec: CommandSpec): string {
  const lines = [`Usage: ${spec.usage}`, '', spec.description, '']
  const names = Object.keys(spec.help)
  if (names.length > 0) {
    lines.push('Options:')
    const width = Math.max(...names.map((n) => n.length))
    for (const name of names) lines.push(`  ${name.padEnd(width)}  ${spec.help[name]}`)
    lines.push('')
  }
  return lines.join('\n')
}

export function parseCommand (spec: CommandSpec, argv: string[]): { values: Record<string, string | boolean | undefined>, positionals: string[], help: boolean } {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...spec.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true
    })
    return { values: values as Record<string, string | boolean | undefined>, positionals, help: values.help === true }
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${formatHelp(spec)}`)
  }
}

export function intOption (value: string | boolean | undefined, name: string, fallback: number, min = 0, max = 65535): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${name} must be a whole number from ${min} to ${max} (got ${String(value)})`)
  return n
}
