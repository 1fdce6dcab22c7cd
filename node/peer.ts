// A running ScanHub peer: the parts every peer has (identity, lab membership, documents on disk, blob
// store, libp2p host, sync, blobs, presence, the local HTTP API), plus the roles it was asked to play.
// Roles (scanner, recon) are handed in by the composition root (node/cli/main.ts): this file knows
// none of them.
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { decodeInvite } from '../protocol/invite.ts'
import { swarmKeyFromHex } from '../protocol/lab-key.ts'
import { Lab } from '../protocol/lab/index.ts'
import { listPeerRecords, publishPeerRecord, type PeerPresence, type PeerRole } from '../protocol/peers.ts'
import { BlobService } from './blob/blob-service.ts'
import { BLOBS_DIR, DOCS_DIR, loadOrCreateApiKey, loadOrCreatePeerKey, makeDataDirPrivate } from './lab/data-dir.ts'
import { labConfigFromInvite, loadLabConfig, newLabConfig, saveLabConfig, type LabConfig } from './lab/lab-config.ts'
import { HttpService } from './http/server.ts'
import { Router } from './http/router.ts'
import { labRoutes } from './http/lab-routes.ts'
import { sequenceRoutes } from './http/sequence-routes.ts'
import { seedBuiltinSequences } from './lab/seed-sequences.ts'
import { authRoutes } from './http/auth-routes.ts'
import { AuthService } from './auth/auth-service.ts'
import { lanWsAddrs, loopbackWsAddrs } from './auth/bootstrap.ts'
import { CaDownloadService, lanUrls } from './http/ca-download.ts'
import { createLabHost, type LabHost } from './p2p/host.ts'
import { PeerKeeper } from './p2p/peer-keeper.ts'
import { BlobStore } from './storage/blob-store.ts'
import { DocStore } from './storage/doc-store.ts'
import { followListedPatients, mayHoldLabDoc } from './sync/patient-doc-admission.ts'
import { loadOrCreateSetupToken, removeSetupToken } from './auth/setup-token.ts'
import { RefusalAudit } from './sync/refusal-audit.ts'
import { SyncService } from './sync/sync-service.ts'
import type { Actor } from '../protocol/lab/index.ts'
import type { HubTls } from './lab/lab-ca.ts'

export interface PeerOptions {
  dataDir: string
  /** shown to the lab's users; defaults to the host name */
  name: string
  roles: PeerRole[]
  /** HTTP port of the UI and REST API (0 = any free port) */
  httpPort: number
  httpHost: string
  /** TCP port for other peers (0 = any); WebSockets for browsers listen on the next port, or any if 0 */
  p2pPort: number
  /** interface for peer connections: 0.0.0.0 (all, the default on a LAN) or one address */
  listenHost: string
  /** join the lab of this invite instead of founding one (only in an empty data directory) */
  join?: string
  /** find lab peers on the LAN with mDNS */
  mdns: boolean
  /** the built PWA to serve */
  staticDir?: string
  /** serve the app (https) and the browsers' WebSocket listener (wss) with a certificate from the lab's CA, for other devices of the LAN */
  lan?: boolean
  /** the roles' code, from the composition root */
  roleServices: RoleService[]
  log: (message: string) => void
}

/** What a role gets from the peer it runs in. */
export interface PeerContext {
  options: PeerOptions
  /** the lab this peer belongs to (its id, name and pre-shared key) */
  labConfig: LabConfig
  libp2p: LabHost
  docs: DocStore
  lab: Lab
  blobs: BlobStore
  blobService: BlobService
  sync: SyncService
  router: Router
  /** the actor a role writes as when no user is behind the change */
  actor: Actor
  /** merge fields into this peer's presence */
  setPresence: (patch: Partial<PeerPresence>) => void
  log: (message: string) => void
}

export interface RoleService {
  role: PeerRole
  start: (context: PeerContext) => Promise<void>
  stop: () => Promise<void>
}

export class PeerStartError extends Error {
  override name = 'PeerStartError'
}

export interface RunningPeer {
  context: PeerContext
  labConfig: LabConfig
  httpPort: number
  apiKey: string
  /** the URL of the UI */
  url: string
  /** while the lab has no user: the UI's URL with the one-time setup code that creates the first one */
  setupUrl?: string
  /** under --lan: where other devices open the app and fetch the lab's CA certificate */
  lan?: LanAccess
  stop: () => Promise<void>
}

export interface LanAccess {
  /** https URLs of the app, by each of the machine's addresses */
  appUrls: string[]
  /** plain-http URLs of the page that hands out the CA certificate (at CA_PATH) and says how to install it */
  caPageUrls: string[]
  caFingerprint: string
}

export async function startPeer (options: PeerOptions): Promise<RunningPeer> {
  const { dataDir, log } = options
  const tightened = await makeDataDirPrivate(dataDir)
  if (tightened > 0) log(`storage: ${tightened} files and folders of ${dataDir} were readable by other users: now this user's alone`)
  const labConfig = await resolveLab(options)
  const privateKey = await loadOrCreatePeerKey(dataDir)
  const apiKey = await loadOrCreateApiKey(dataDir)
  const docs = await DocStore.open(join(dataDir, DOCS_DIR), { onWarning: (m) => log(`storage: ${m}`) })
  const blobs = await BlobStore.open(join(dataDir, BLOBS_DIR))
  const tls = options.lan === true ? await loadLanTls(dataDir, labConfig.labName, log) : undefined

  const libp2p = await createLabHost({
    privateKey,
    swarmKey: swarmKeyFromHex(labConfig.swarmKeyHex),
    host: options.listenHost,
    tcpPort: options.p2pPort,
    wsPort: options.p2pPort === 0 ? 0 : options.p2pPort + 1,
    mdns: options.mdns,
    mdnsServiceTag: `_scanhub-${labConfig.labId.slice(0, 8)}._udp.local`,
    ...(tls !== undefined ? { tls: { cert: tls.cert, key: tls.key } } : {})
  })
  const peerId = libp2p.peerId.toString()
  const actor: Actor = { name: `peer:${options.name}`, peerId }
  const lab = new Lab(docs)
  lab.initLab?.({ labId: labConfig.labId, labName: labConfig.labName }, actor)

  // Users and sessions: a browser peer writes only while a user who is not a viewer is logged in from it.
  const auth = new AuthService({ lab, flush: async () => { await docs.flush() }, libp2p }, { log })
  auth.start()
  const refusals = new RefusalAudit({ docs })
  const sync = new SyncService({ libp2p, docs }, {
    log,
    isReadOnly: (remote) => auth.isReadOnly(remote),
    acceptUpdate: (remote, docId, doc, update) => auth.checkUpdate(remote, docId, doc, update),
    mayHold: (docId) => mayHoldLabDoc(docs, docId),
    onRefused: (remote, docId, reason) => { refusals.record(remote, docId, reason) }
  })
  docs.on('doc', (docId) => { sync.watch(docId) })
  followListedPatients(docs, (docId) => { sync.watch(docId) })
  await sync.start()
  const blobService = new BlobService({ libp2p, blobs }, { log })
  await blobService.start()

  const publishSelf = (): void => {
    publishPeerRecord(docs.get('lab'), {
      peerId,
      name: options.name,
      roles: options.roles,
      addrs: libp2p.getMultiaddrs().map((a) => a.toString())
    })
  }
  publishSelf()
  libp2p.addEventListener('self:peer:update', publishSelf)

  let presence: PeerPresence = { peerId, name: options.name, roles: options.roles, status: 'ONLINE' }
  const setPresence = (patch: Partial<PeerPresence>): void => {
    presence = { ...presence, ...patch }
    sync.awareness.setLocalState(presence)
  }
  setPresence({})

  const keeper = new PeerKeeper({ libp2p }, {
    knownPeers: () => [
      ...listPeerRecords(docs.get('lab')),
      ...labConfig.bootstrap.map((a) => ({ peerId: multiaddr(a).getComponents().find((c) => c.name === 'p2p')?.value ?? '', addrs: [a] }))
    ],
    log
  })
  keeper.start()

  const router = new Router()
  const context: PeerContext = { options, labConfig, libp2p, docs, lab, blobs, blobService, sync, router, actor, setPresence, log }
  router.add(...labRoutes(context), ...sequenceRoutes(context))
  await seedBuiltinSequences(context)
  // Until the lab has a user, creating the first one takes the setup code printed at start.
  let setupToken = auth.hasUsers() ? undefined : await loadOrCreateSetupToken(dataDir)
  router.add(...authRoutes({
    auth,
    apiKey,
    setupToken: () => setupToken,
    onFirstUser: async () => {
      setupToken = undefined
      await removeSetupToken(dataDir)
    },
    bootstrap: (req) => ({
      labId: labConfig.labId,
      labName: lab.info().labName ?? labConfig.labName,
      swarmKeyHex: labConfig.swarmKeyHex,
      peerId,
      wsAddrs: tls !== undefined
        ? lanWsAddrs(libp2p.getMultiaddrs(), peerId, req.headers.host, tls.names)
        : loopbackWsAddrs(libp2p.getMultiaddrs(), peerId)
    })
  }))
  for (const role of options.roleServices) await role.start(context)

  const http = new HttpService({
    router, apiKey, host: options.httpHost, port: options.httpPort, staticDir: options.staticDir, log,
    ...(tls !== undefined ? { tls: { cert: tls.cert, key: tls.key } } : {}),
    authorise: (req) => auth.authorisesRead(req.method ?? 'GET', req.headers.authorization) ||
      (req.method === 'POST' && (req.url ?? '').split('?')[0] === '/api/v1/sequences' && auth.authorisesSequenceUpload(req.headers.authorization))
  })
  let httpPort: number
  try {
    httpPort = await http.start()
  } catch (err) {
    throw new PeerStartError(`cannot listen for HTTP on ${options.httpHost}:${options.httpPort}: ${(err as Error).message} (choose another port with --http)`)
  }
  const shownHost = options.httpHost === '0.0.0.0' ? '127.0.0.1' : options.httpHost
  const url = `${tls !== undefined ? 'https' : 'http'}://${shownHost === '127.0.0.1' ? 'localhost' : shownHost}:${httpPort}/`
  // Under --lan a tablet gets the CA over plain http first (on the app's port + 2), since it trusts no https of ours yet.
  let caDownload: CaDownloadService | undefined
  let lan: LanAccess | undefined
  if (tls !== undefined) {
    caDownload = new CaDownloadService({ caCert: tls.caCert, caFingerprint: tls.caFingerprint, caName: tls.caName, appPort: httpPort, host: options.httpHost, port: options.httpPort === 0 ? 0 : httpPort + 2 })
    let caPort: number
    try {
      caPort = await caDownload.start()
    } catch (err) {
      await http.stop()
      throw new PeerStartError(`cannot listen for the CA download on ${options.httpHost}:${httpPort + 2}: ${(err as Error).message} (it takes the app's port + 2; choose another with --http)`)
    }
    lan = {
      appUrls: lanUrls('https', tls.names, options.httpHost, httpPort),
      caPageUrls: lanUrls('http', tls.names, options.httpHost, caPort),
      caFingerprint: tls.caFingerprint
    }
  }
  const setupUrl = setupToken !== undefined ? `${url}#setup=${setupToken}` : undefined

  let stopped = false
  return {
    context,
    labConfig,
    httpPort,
    apiKey,
    url,
    ...(setupUrl !== undefined ? { setupUrl } : {}),
    ...(lan !== undefined ? { lan } : {}),
    stop: async () => {
      if (stopped) return
      stopped = true
      await caDownload?.stop()
      await http.stop()
      for (const role of [...options.roleServices].reverse()) await role.stop().catch((err: Error) => log(`stopping ${role.role}: ${err.message}`))
      keeper.stop()
      libp2p.removeEventListener('self:peer:update', publishSelf)
      await sync.stop()
      auth.stop()
      await blobService.stop()
      await libp2p.stop()
      await docs.close()
    }
  }
}

/** The lab's CA and this hub's certificate for --lan (node/lab/lab-ca.ts), loaded only then. */
async function loadLanTls (dataDir: string, labName: string, log: (message: string) => void): Promise<HubTls> {
  const { loadOrCreateHubTls } = await import('./lab/lab-ca.ts')
  const tls = await loadOrCreateHubTls(dataDir, labName)
  if (tls.issued) log(`tls: issued this hub's certificate for ${[...tls.names.dnsNames, ...tls.names.ips].join(', ')}`)
  return tls
}

/** The lab of this data directory: the one it has, the one the invite names, or a new one. */
async function resolveLab (options: PeerOptions): Promise<LabConfig> {
  const existing = await loadLabConfig(options.dataDir)
  if (existing !== undefined) {
    if (options.join !== undefined) {
      const invite = decodeInvite(options.join)
      if (invite.labId !== existing.labId) {
        throw new PeerStartError(`${options.dataDir} already belongs to the lab "${existing.labName}"; to join "${invite.labName}" start with an empty --data directory`)
      }
    }
    return existing
  }
  const config = options.join !== undefined ? labConfigFromInvite(decodeInvite(options.join)) : newLabConfig(`${options.name}'s lab`)
  await saveLabConfig(options.dataDir, config)
  options.log(options.join !== undefined ? `joined the lab "${config.labName}"` : `founded a new lab "${config.labName}" (${config.labId})`)
  return config
}

