// `scanhub export` and `scanhub import`: asked of the peer running on the data directory through its
// REST API (as `scanhub lab …` is), so they work while it runs. Export downloads the peer's ZIP next to
// the output folder, checks it and unpacks it (the ZIP is the app's download too: one format, one
// writer); import sends one file per request, so one bad file fails alone and progress is per file.
import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises'
import { basename, dirname, join, relative, resolve, sep } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Transform } from 'node:stream'
import { callPeer } from './lab-members.ts'
import { formatHelp, parseCommand, UsageError, type CommandSpec } from './args.ts'
import { ProgressBar } from './progress.ts'
import { readZipDirectory, readZipEntry } from '../exchange/zip.ts'
import { importHintsFromManifest, isExportManifest, originalImportedAlongside, MANIFEST_FILE, type ExportManifest, type ManifestFile } from '../../protocol/export-manifest.ts'
import type { ImportOutcome } from '../exchange/import.ts'

const DATA_HELP = { '--data DIR': 'the peer\'s data directory (default ~/.local/share/scanhub or $SCANHUB_DATA)', '-h, --help': 'show this help' }

export const EXPORT: CommandSpec = {
  usage: 'scanhub export EXAM|PATIENT --out DIR [--data DIR]',
  description: 'Writes an exam (or every exam of a patient) to a new folder: DICOM/ST000001/SE000001/IM000001… with a DICOMDIR (DICOM media layout), the raw data of its acquisitions as MRD v1 streams in RAW/, and manifest.json listing the lab\'s records and every file with its sha-256. Asks the peer running on this data directory.',
  options: { data: { type: 'string' }, out: { type: 'string' } },
  help: { '--out DIR': 'the folder to write (new or empty)', ...DATA_HELP }
}

export const IMPORT: CommandSpec = {
  usage: 'scanhub import DIR|FILE [--patient ID] [--json] [--data DIR]',
  description: 'Brings DICOM files (a folder tree, a DICOMDIR\'s folder, single files), MRD v1 streams and ISMRMRD HDF5 files into the lab. DICOM studies become exams and series tasks; patients are matched by PatientID (the MRN), else created. A file already in the lab is skipped as a duplicate; a file that cannot be imported is reported and the rest go on (exit status 1 if any failed). Asks the peer running on this data directory.',
  options: { data: { type: 'string' }, patient: { type: 'string' }, json: { type: 'boolean' } },
  help: { '--patient ID': 'put every file in this lab patient (its id), whatever the files say', '--json': 'print the outcome of every file as JSON', ...DATA_HELP }
}

function defaultDataDir (): string {
  return process.env.SCANHUB_DATA ?? join(process.env.HOME ?? '.', '.local', 'share', 'scanhub')
}

function dataDirOf (values: Record<string, string | boolean | undefined>): string {
  return resolve(String(values.data ?? defaultDataDir()))
}

function sizeText (bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(0)} KiB`
}

async function sha256OfFile (path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex')
}

export async function exportCommand (argv: string[]): Promise<void> {
  const { values, positionals, help } = parseCommand(EXPORT, argv)
  if (help) { process.stdout.write(formatHelp(EXPORT)); return }
  const id = positionals[0]
  if (id === undefined || values.out === undefined) throw new UsageError(`usage: ${EXPORT.usage}`)
  const dataDir = dataDirOf(values)
  const out = resolve(String(values.out))
  const existing = await readdir(out).catch((err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT') return []; throw err })
  if (existing.length > 0) throw new UsageError(`${out} is not empty: export into a new or empty folder`)

  // an exam id, else a patient id
  let path: string
  let what: string
  try {
    const exam = await callPeer<{ id: string, name: string }>(dataDir, 'GET', `/api/v1/exams/${encodeURIComponent(id)}`)
    path = `/api/v1/exams/${encodeURIComponent(exam.id)}/export`
    what = `exam "${exam.name}"`
  } catch (err) {
    if (err instanceof UsageError) throw err
    const patient = await callPeer<{ id: string, firstName: string, lastName: string }>(dataDir, 'GET', `/api/v1/patients/${encodeURIComponent(id)}`)
      .catch(() => { throw new UsageError(`no exam and no patient with id ${id} in the lab`) })
    path = `/api/v1/patients/${encodeURIComponent(patient.id)}/export`
    what = `patient ${patient.lastName}, ${patient.firstName}`
  }

  await mkdir(out, { recursive: true })
  const zipFile = join(out, '.scanhub-export.zip.part')
  try {
    await callPeer(dataDir, 'GET', path, undefined, {
      download: async (res) => {
        const total = Number(res.headers['content-length'] ?? 0)
        const bar = new ProgressBar(`export ${what}`, total)
        let received = 0
        const counter = new Transform({
          transform (chunk: Buffer, _encoding, done) {
            received += chunk.length
            bar.update(received, sizeText(received))
            done(null, chunk)
          }
        })
        await pipeline(res, counter, createWriteStream(zipFile))
        if (total > 0 && received !== total) throw new Error(`the peer sent ${received} of ${total} bytes: the export was cut off`)
        bar.done(`${sizeText(received)} received`)
      }
    })
    const entries = await readZipDirectory(zipFile)
    for (const entry of entries) {
      const target = resolve(out, entry.path)
      if (!target.startsWith(out + sep)) throw new Error(`the export holds a path outside its folder: ${entry.path}`)
      await mkdir(dirname(target), { recursive: true })
      await pipeline(readZipEntry(zipFile, entry), createWriteStream(target))
    }
  } finally {
    await rm(zipFile, { force: true })
  }

  // the manifest's checksums are the lab's: check what landed on disk against them
  const manifest = JSON.parse(await readFile(join(out, MANIFEST_FILE), 'utf8')) as ExportManifest
  for (const file of manifest.files) {
    const actual = await sha256OfFile(join(out, file.path))
    if (actual !== file.sha256) throw new Error(`${file.path} does not match its sha-256 in the manifest`)
  }
  const count = (kind: ManifestFile['kind']): number => manifest.files.filter((f) => f.kind === kind).length
  process.stderr.write(`${manifest.dicomdir.written ? 'DICOMDIR written' : manifest.dicomdir.reason}; ISMRMRD HDF5 ${manifest.hdf5.reason}\n`)
  process.stdout.write(`exported ${manifest.exams.length} exam(s) of ${manifest.patient.lastName}, ${manifest.patient.firstName}: ${count('DICOM')} DICOM file(s), ${count('RAW')} raw data file(s), ${count('OTHER')} other(s) to ${out}\n`)
}

/** Every file below `root` (or `root` itself), in a stable order; hidden files are left out. */
async function filesOf (root: string): Promise<string[]> {
  const info = await stat(root).catch(() => undefined)
  if (info === undefined) throw new UsageError(`${root} does not exist`)
  if (info.isFile()) return [root]
  const found: string[] = []
  const walk = async (dir: string): Promise<void> => {
    const names = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))
    for (const entry of names) {
      if (entry.name.startsWith('.')) continue
      const path = join(dir, entry.name)
      if (entry.isDirectory()) await walk(path)
      else if (entry.isFile()) found.push(path)
    }
  }
  await walk(root)
  return found
}

export async function importCommand (argv: string[]): Promise<void> {
  const { values, positionals, help } = parseCommand(IMPORT, argv)
  if (help) { process.stdout.write(formatHelp(IMPORT)); return }
  const given = positionals[0]
  if (given === undefined) throw new UsageError(`usage: ${IMPORT.usage}`)
  const dataDir = dataDirOf(values)
  // a DICOMDIR stands for the folder it indexes
  const root = resolve(basename(given).toUpperCase() === 'DICOMDIR' ? dirname(given) : given)
  const rootIsDir = (await stat(root).catch(() => undefined))?.isDirectory() === true
  const manifestPath = rootIsDir ? join(root, MANIFEST_FILE) : undefined
  const manifest = manifestPath === undefined ? undefined : await readFile(manifestPath, 'utf8').then((t) => { const m: unknown = JSON.parse(t); return isExportManifest(m) ? m : undefined }).catch(() => undefined)
  const files = (await filesOf(root)).filter((f) => f !== manifestPath)
  if (files.length === 0) throw new UsageError(`${root} holds no files`)

  const bar = new ProgressBar('import', files.length)
  const outcomes: Array<ImportOutcome | { name: string, status: 'failed', error: string }> = []
  const nameOf = (file: string): string => rootIsDir ? relative(root, file).split(sep).join('/') : basename(file)
  const importing = new Set(files.map(nameOf))
  for (const [i, file] of files.entries()) {
    const name = nameOf(file)
    const original = originalImportedAlongside(manifest, name, importing)
    if (original !== undefined) {
      outcomes.push({ name, kind: 'HDF5', status: 'skipped', message: `a copy of ${original}, whose raw data is imported from it` })
      bar.update(i + 1, name)
      continue
    }
    const query = new URLSearchParams({ name, ...importHintsFromManifest(manifest, name), ...(values.patient !== undefined ? { patientId: String(values.patient) } : {}) })
    try {
      const bytes = await readFile(file)
      outcomes.push(await callPeer<ImportOutcome>(dataDir, 'POST', `/api/v1/import?${query.toString()}`, undefined, { bytes }))
    } catch (err) {
      if (err instanceof UsageError) throw err
      outcomes.push({ name, status: 'failed', error: (err as Error).message })
      process.stderr.write(`import: ${name}: ${(err as Error).message}\n`)
    }
    bar.update(i + 1, name)
  }
  const count = (status: string): number => outcomes.filter((o) => o.status === status).length
  const summary = { imported: count('imported'), duplicates: count('duplicate'), skipped: count('skipped'), failed: count('failed') }
  bar.done(`${files.length} file(s)`)
  if (values.json === true) {
    process.stdout.write(JSON.stringify({ ...summary, files: outcomes }, null, 2) + '\n')
  } else {
    const patients = new Set(outcomes.flatMap((o) => 'patientId' in o && o.patientId !== undefined ? [o.patientId] : []))
    const exams = new Set(outcomes.flatMap((o) => 'examId' in o && o.examId !== undefined ? [o.examId] : []))
    process.stdout.write(`imported ${summary.imported} file(s) into ${exams.size} exam(s) of ${patients.size} patient(s); ${summary.duplicates} duplicate(s) skipped, ${summary.skipped} other(s) skipped, ${summary.failed} failed\n`)
  }
  if (summary.failed > 0) process.exitCode = 1
}
