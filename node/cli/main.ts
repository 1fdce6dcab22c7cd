// The `scanhub` command and the composition root of a peer: the one file of node/ that knows the roles
// (scanner-node/, recon-node/) and hands them to the peer.
import '../runtime/promise-with-resolvers.ts'
import { existsSync } from 'node:fs'
import { homedir, hostname } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { labInvite, labMembers, labPair, labRevoke } from './lab-members.ts'
import { PEER_ROLES, type PeerRole } from '../../protocol/peers.ts'
import { formatHelp, intOption, parseCommand, UsageError, type CommandSpec } from './args.ts'
import { writePeerInfo } from '../lab/peer-info.ts'
import type { RoleService } from '../peer.ts'

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

export const DEFAULT_HTTP_PORT = 7080
export const DEFAULT_P2P_PORT = 7001

function defaultDataDir (): string {
  const base = process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share')
  return process.env.SCANHUB_DATA ?? join(base, 'scanhub')
}

const START: CommandSpec = {
  usage: 'scanhub start [--data DIR] [--http PORT] [--p2p PORT] [--roles hub,scanner,recon] [--name NAME] [--join INVITE] [--lan]',
  description: 'Runs a ScanHub peer in the foreground until SIGINT or SIGTERM. In an empty data directory it founds a new lab, unless --join is given.',
  options: {
    data: { type: 'string' },
    http: { type: 'string' },
    'http-host': { type: 'string' },
    p2p: { type: 'string' },
    listen: { type: 'string' },
    'mrd-port': { type: 'string' },
    roles: { type: 'string' },
    name: { type: 'string' },
    join: { type: 'string' },
    'no-mdns': { type: 'boolean' },
    lan: { type: 'boolean' },
    'virtual-offset-hz': { type: 'string' },
    'virtual-b1': { type: 'string' },
    'fast-scan': { type: 'boolean' },
    serial: { type: 'string' },
    baud: { type: 'string' }
  },
  help: {
    '--data DIR': `where this peer keeps the lab's data (default ${defaultDataDir()}, or $SCANHUB_DATA)`,
    '--http PORT': `port of the app and the REST API (default ${DEFAULT_HTTP_PORT}; 0 = any free port)`,
    '--http-host ADDR': 'address the app and API listen on (default 127.0.0.1: this machine only)',
    '--p2p PORT': `TCP port for other peers (default ${DEFAULT_P2P_PORT}); browsers connect by WebSocket on PORT+1`,
    '--listen ADDR': 'address for peer connections (default 0.0.0.0: the lab network)',
    '--mrd-port PORT': 'hub and recon roles: also accept raw data over the ISMRMRD streaming protocol, as Gadgetron does (its default port is 9002), on the --listen address; images are answered on the connection and recorded in the lab (patient, exam, raw data, DICOM)',
    '--roles LIST': `what this peer does, comma-separated from ${PEER_ROLES.filter((r) => r !== 'browser').join(', ')} (default hub)`,
    '--name NAME': `the peer's name in the lab (default the host name, ${hostname()})`,
    '--join INVITE': 'join the lab of an invite made by `scanhub lab invite` on a lab member',
    '--no-mdns': 'do not look for lab peers on the LAN (they can still be reached through the invite)',
    '--lan': 'serve the app to the lab network: https on --http-host 0.0.0.0 and wss for browsers, with a certificate from this hub\'s own CA, which devices fetch over plain http on the --http port + 2 (`scanhub lab ca`)',
    '--virtual-offset-hz HZ': 'scanner role: the virtual magnet\'s resonance offset that frequency calibration must find (default 0)',
    '--virtual-b1 SCALE': 'scanner role: the virtual RF chain\'s actual/nominal flip angle (default 1)',
    '--fast-scan': 'scanner role: play sequences as fast as possible instead of in real time',
    '--serial PATH': 'scanner role: drive the spectrometer on this serial port (scanner-node/serial/PROTOCOL.md) instead of the virtual scanner',
    '--baud N': 'scanner role: baud rate of the serial port (default 115200)',
    '-h, --help': 'show this help'
  }
}

const TOP_HELP = `ScanHub: MRI acquisition for the lab's own network.

Usage: scanhub <command> [options]

Commands:
  start              run a peer (hub, scanner, reconstruction) in the foreground
  lab invite         print a one-time invite for another computer to join this lab
  lab members        list the lab's members (computers, paired devices, open invites)
  lab revoke PEER    revoke a member: every peer refuses it from then on
  lab pair           print a one-time code that pairs a tablet's browser with the lab
  lab ca             print the certificate devices install to trust this hub's app on the LAN (--lan)
  seq inspect FILE   summarise a Pulseq sequence
  simulate           run a sequence on the virtual scanner, write an MRD stream
  recon FILE         reconstruct raw data (ISMRMRD HDF5 or MRD stream) into DICOM files
  export EXAM|PATIENT --out DIR   write an exam's DICOM (with DICOMDIR), raw data and a manifest to a folder
  import DIR|FILE    bring DICOM, MRD stream and ISMRMRD HDF5 files into the lab

Run \`scanhub <command> --help\` for a command's options.
`

async function loadRoleServices (roles: PeerRole[], values: Record<string, string | boolean | undefined>): Promise<RoleService[]> {
  const services: RoleService[] = []
  if (roles.includes('scanner')) {
    const { scannerRole } = await import('../../scanner-node/role.ts')
    const number = (name: string): number | undefined => {
      if (values[name] === undefined) return undefined
      const n = Number(values[name])
      if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number`)
      return n
    }
    services.push(scannerRole({ virtualOffsetHz: number('virtual-offset-hz'), virtualB1Scale: number('virtual-b1'), realTime: values['fast-scan'] !== true,
      serialPath: values.serial as string | undefined,
      baudRate: values.baud === undefined ? undefined : intOption(values.baud, '--baud', 115200, 50, 4_000_000)
    }))
  }
  if (roles.includes('recon')) {
    const { reconRole } = await import('../../recon-node/role.ts')
    services.push(reconRole({
      ...(values['mrd-port'] !== undefined ? { mrdPort: intOption(values['mrd-port'], '--mrd-port', 9002, 0, 65535), mrdHost: String(values.listen ?? '0.0.0.0') } : {})
    }))
  }
  return services
}

async function start (argv: string[]): Promise<void> {
  const { values, help } = parseCommand(START, argv)
  if (help) { process.stdout.write(formatHelp(START)); return }
  const roles = String(values.roles ?? 'hub').split(',').map((r) => r.trim()).filter((r) => r !== '')
  for (const role of roles) {
    if (!PEER_ROLES.includes(role as PeerRole) || role === 'browser') {
      throw new UsageError(`unknown role "${role}": choose from hub, scanner, recon`)
    }
  }
  if (values['mrd-port'] !== undefined && !(roles.includes('recon') && roles.includes('hub'))) throw new UsageError('--mrd-port reconstructs and records what it receives in the lab as patients and exams: it needs the hub and recon roles (--roles hub,recon)')
  const dataDir = resolve(String(values.data ?? defaultDataDir()))
  const httpPort = intOption(values.http, '--http', DEFAULT_HTTP_PORT)
  const p2pPort = intOption(values.p2p, '--p2p', DEFAULT_P2P_PORT, 0, 65534)
  const log = (message: string): void => { process.stderr.write(`${new Date().toISOString()} ${message}\n`) }
  const staticDir = join(PROJECT_ROOT, 'pwa', 'dist')
  // everything the peer writes (documents, blobs, raw data, keys) is readable by this user alone
  process.umask(0o077)
  const { startPeer } = await import('../peer.ts')
  const peer = await startPeer({
    dataDir,
    name: String(values.name ?? hostname()),
    roles: roles as PeerRole[],
    httpPort,
    httpHost: String(values['http-host'] ?? (values.lan === true ? '0.0.0.0' : '127.0.0.1')),
    p2pPort,
    listenHost: String(values.listen ?? '0.0.0.0'),
    join: values.join as string | undefined,
    mdns: values['no-mdns'] !== true,
    staticDir: existsSync(join(staticDir, 'index.html')) ? staticDir : undefined,
    lan: values.lan === true,
    roleServices: await loadRoleServices(roles as PeerRole[], values),
    log
  })
  const { context } = peer
  await writePeerInfo(dataDir, {
    peerId: context.libp2p.peerId.toString(),
    name: context.options.name,
    pid: process.pid,
    httpPort: peer.httpPort,
    addrs: context.libp2p.getMultiaddrs().map((a) => a.toString())
  })
  process.stdout.write([
    `ScanHub peer "${context.options.name}" (${roles.join(', ')}) of the lab "${peer.labConfig.labName}"`,
    `  peer id   ${context.libp2p.peerId.toString()}`,
    `  data      ${dataDir}`,
    `  peers on  ${context.libp2p.getMultiaddrs().map((a) => a.toString()).join('\n            ')}`,
    `  API key   in ${join(dataDir, 'api-key')}`,
    '',
    // The link pairs the browser that opens it (once): open it on this machine, or pair devices from the app.
    `Open ScanHub: ${peer.pairUrl ?? peer.url}`,
    ...(peer.pairUrl !== undefined ? ['  (a one-time link: it pairs the browser that opens it with the lab; for another device, use Lab → Members → Pair a device, or `scanhub lab pair`)'] : []),
    ...(peer.setupUrl !== undefined ? [`The lab has no user yet: the link above asks for the first one (an admin); the setup code alone: ${peer.setupUrl}`] : []),
    '',
    ...(peer.lan !== undefined ? (await import('./lab-ca-command.ts')).lanStartLines(peer.lan) : [])
  ].join('\n'))

  let stopping = false
  const shutdown = (signal: string): void => {
    if (stopping) return
    stopping = true
    log(`${signal}: stopping`)
    const force = setTimeout(() => { log('did not stop within 10 s; exiting'); process.exit(1) }, 10_000)
    force.unref()
    peer.stop().then(() => { log('stopped'); process.exit(0) }, (err: Error) => { log(`error while stopping: ${err.message}`); process.exit(1) })
  }
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGTERM', () => shutdown('SIGTERM'))
}

export async function main (argv: string[]): Promise<void> {
  const [command, sub, ...rest] = argv
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(TOP_HELP)
    return
  }
  if (command === 'start') return await start(argv.slice(1))
  if (command === 'lab' && sub === 'invite') return await labInvite(rest)
  if (command === 'lab' && sub === 'members') return await labMembers(rest)
  if (command === 'lab' && sub === 'revoke') return await labRevoke(rest)
  if (command === 'lab' && sub === 'pair') return await labPair(rest)
  if (command === 'lab' && sub === 'ca') return await (await import('./lab-ca-command.ts')).labCaCommand(rest, (given) => resolve(given ?? defaultDataDir()))
  if (command === 'lab') throw new UsageError('usage: scanhub lab invite|members|revoke|pair|ca [options] (see `scanhub --help`)')
  if (command === 'seq' && sub === 'inspect') {
    const { seqInspectCommand } = await import('./seq-inspect.ts')
    return await seqInspectCommand(rest)
  }
  if (command === 'seq') throw new UsageError('usage: scanhub seq inspect FILE [--json]')
  if (command === 'simulate') {
    const { simulateCommand } = await import('../../scanner-node/cli/simulate.ts')
    return await simulateCommand(argv.slice(1))
  }
  if (command === 'export' || command === 'import') {
    const { exportCommand, importCommand } = await import('./exchange.ts')
    return await (command === 'export' ? exportCommand : importCommand)(argv.slice(1))
  }
  if (command === 'recon') {
    const { reconCommand } = await import('../../recon-node/cli/recon.ts')
    return await reconCommand(argv.slice(1))
  }
  throw new UsageError(`unknown command "${command}"\n\n${TOP_HELP}`)
}

main(process.argv.slice(2)).catch((err: Error) => {
  process.stderr.write(err instanceof UsageError ? `${err.message}\n` : `scanhub: ${err.message}\n`)
  process.exit(err instanceof UsageError ? 2 : 1)
})
