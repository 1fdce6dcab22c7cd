// `scanhub lab ca`: the certificate of this hub's CA, which tablets and other machines install to
// open the app over https on the LAN (`scanhub start --lan`), and what `start --lan` prints for them.
import { writeFile } from 'node:fs/promises'
import { loadLabConfig } from '../lab/lab-config.ts'
import { formatHelp, parseCommand, UsageError, type CommandSpec } from './args.ts'
import { terminalQr } from './terminal-qr.ts'
import type { LanAccess } from '../peer.ts'

export const LAB_CA: CommandSpec = {
  usage: 'scanhub lab ca [--data DIR] [--out FILE]',
  description: 'Writes the certificate (PEM) of the certificate authority of this hub, made on first use, that devices install to trust the app served with `scanhub start --lan`. Its SHA-256 fingerprint and how to install it go to stderr.',
  options: { data: { type: 'string' }, out: { type: 'string' } },
  help: {
    '--data DIR': 'the data directory of the hub',
    '--out FILE': 'write the certificate to FILE instead of stdout',
    '-h, --help': 'show this help'
  }
}

export async function labCaCommand (argv: string[], dataDir: (given: string | undefined) => string): Promise<void> {
  const { values, help } = parseCommand(LAB_CA, argv)
  if (help) { process.stdout.write(formatHelp(LAB_CA)); return }
  const dir = dataDir(values.data as string | undefined)
  const config = await loadLabConfig(dir)
  if (config === undefined) throw new UsageError(`${dir} holds no lab: run \`scanhub start --data ${dir}\` first`)
  const { loadOrCreateLabCa } = await import('../lab/lab-ca.ts')
  const ca = await loadOrCreateLabCa(dir, config.labName)
  if (typeof values.out === 'string') await writeFile(values.out, ca.caCert, { mode: 0o644 })
  else process.stdout.write(ca.caCert)
  process.stderr.write([
    `${typeof values.out === 'string' ? `Wrote ${values.out}: ` : ''}the certificate of "${ca.caName}"`,
    `  SHA-256 fingerprint ${ca.caFingerprint}`,
    'Install it as a trusted certificate authority on each device that opens the app (see README, "Tablets and the lab network"):',
    '  Android   Settings → Security → Encryption & credentials → Install a certificate → CA certificate',
    '  iPadOS    open the file, Settings → Profile Downloaded → Install, then Settings → General → About →',
    '            Certificate Trust Settings → full trust',
    '  Chrome    Settings → Privacy and security → Security → Manage certificates → Authorities → Import',
    '            (Linux: certutil -d sql:$HOME/.pki/nssdb -A -t "C,," -n scanhub -i ca.crt)',
    '  Firefox   Settings → Certificates → View Certificates → Authorities → Import',
    ''
  ].join('\n'))
}

/** What `scanhub start --lan` prints for other devices: the app's URLs, where to get the CA, and a QR code of it. */
export function lanStartLines (lan: LanAccess): string[] {
  const page = lan.caPageUrls[0]
  return [
    'On the lab network (https, certificate from this hub\'s CA):',
    ...lan.appUrls.map((u) => `  app         ${u}`),
    ...lan.caPageUrls.map((u) => `  CA          ${u} (plain http: the certificate to install first, and how)`),
    `  CA SHA-256  ${lan.caFingerprint}`,
    ...(page !== undefined ? ['', `Scan with a tablet to get the CA (${page}):`, ...terminalQr(page).map((l) => `  ${l}`)] : []),
    ''
  ]
}
