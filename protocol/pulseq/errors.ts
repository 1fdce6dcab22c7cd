// Named errors of the Pulseq module, so that callers (and tests) can tell them apart by `.name`.

/** A .seq file that cannot be read: bad syntax, a dangling reference, or a value beyond the limits. */
export class SeqParseError extends Error {
  override readonly name = 'SeqParseError'
  /** 1-based line of the file where the problem was found, when it belongs to one line. */
  readonly line?: number

  constructor (message: string, line?: number) {
    super(line === undefined ? message : `line ${line}: ${message}`)
    this.line = line
  }
}

/** A request whose result would exceed a configured limit (samples, points, blocks). */
export class SeqLimitError extends Error {
  override readonly name = 'SeqLimitError'
}

/** A sequence that cannot be written as a valid .seq file (e.g. a dangling shape reference). */
export class SeqWriteError extends Error {
  override readonly name = 'SeqWriteError'
}

/** Sequence parameters that cannot be realised within the timing and hardware limits. */
export class SeqBuildError extends Error {
  override readonly name = 'SeqBuildError'
  /**
   * For a time asked for below what the timing allows: which one ('TE', 'TR', 'echo spacing') and its
   * minimum in s, so that a protocol editor can show the limit beside the field.
   */
  readonly tooShort?: { what: string, minimumS: number }

  constructor (message: string, tooShort?: { what: string, minimumS: number }) {
    super(message)
    this.tooShort = tooShort
  }
}
