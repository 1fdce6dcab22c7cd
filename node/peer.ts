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
import { sequenceRequestAuthorised, sequenceRoutes } from './http/sequence-routes.ts'
import { exchangeRoutes, importRequestAuthorised } from './http/exchange-routes.ts'
import { worklistRoutes } from './http/worklist-routes.ts'
import { seedBuiltinSequences } from './lab/seed-sequences.ts'
import { seedStarterTemplates } from './lab/starter-templates.ts'
import { authRoutes } from './http/auth-routes.ts'
import { AuthService } from './auth/auth-service.ts'
import { lanWsAddrs, loopbackWsAddrs } from './auth/bootstrap.ts'
import { CaDownloadService, lanUrls } from './http/ca-download.ts'
import { createLabHost, labMdnsServiceTag, type LabHost } from './p2p/host.ts'
import { PeerKeeper } from './p2p/peer-keeper.ts'
import { BlobStore } from './storage/blob-store.ts'
import { DocStore } from './storage/doc-store.ts'
import { followListedPatients, mayHoldLabDoc } from './sync/patient-doc-admission.ts'
import { loadOrCreateSetupToken, removeSetupToken } from './auth/setup-token.ts'
import { RefusalAudit } from './sync/refusal-audit.ts'
import { SyncService } from './sync/sync-service.ts'
import type { Actor } from '../protocol/lab/index.ts'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import * as Y from 'yjs'
import { MEMBERS_CACHE_FILE, Membership } from './lab/membership.ts'
import { redeemInvite, serveJoin } from './lab/join.ts'
import { Pairings } from './auth/pairings.ts'
import { memberRoutes } from './http/member-routes.ts'
import { pacsRequestAuthorised, pacsRoutes } from './http/pacs-routes.ts'
import { ExportQueue } from './pacs/export-queue.ts'
import type { BootstrapInfo } from './auth/bootstrap.ts'
import type { IncomingMessage } from 'node:http'

/** The pairing code in the URL printed at start lasts a working day: it is shown to whoever started the hub. */
const START_PAIRING_TTL_MS = 12 * 3_600_000
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
  /** let a libp2p host of this same process connect, though it is no member of the lab */
  admitLocalHost: (peerId: string) => void
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
  /**
   * the UI's URL with a one-time code that pairs the browser that opens it (with the setup code too
   * while the lab has no user); only on a hub that may add members
   */
  pairUrl?: string
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
  const privateKey = await loadOrCreatePeerKey(dataDir)
  const { config: labConfig, founder, joinedLab } = await resolveLab(options, privateKey)
  const apiKey = await loadOrCreateApiKey(dataDir)
  const docs = await DocStore.open(join(dataDir, DOCS_DIR), { onWarning: (m) => log(`storage: ${m}`) })
  // What the inviting hub answered: the lab document that lists this peer as a member.
  if (joinedLab !== undefined) {
    Y.applyUpdate(docs.get('lab'), joinedLab, 'join')
    await docs.flush()
  }
  const membership = new Membership({ labId: labConfig.labId, founder, privateKey, lab: docs.get('lab'), cacheFile: join(dataDir, MEMBERS_CACHE_FILE), log })
  await membership.ensureFounderRecord(options.name)
  await membership.flush()
  checkOwnMembership(membership, options)
  const blobs = await BlobStore.open(join(dataDir, BLOBS_DIR))
  const tls = options.lan === true ? await loadLanTls(dataDir, labConfig.labName, log) : undefined

  const libp2p = await createLabHost({
    privateKey,
    swarmKey: swarmKeyFromHex(labConfig.swarmKeyHex),
    host: options.listenHost,
    tcpPort: options.p2pPort,
    wsPort: options.p2pPort === 0 ? 0 : options.p2pPort + 1,
    mdns: options.mdns,
    mdnsServiceTag: labMdnsServiceTag(labConfig.labId),
    connectionGater: membership.gater(),
    ...(tls !== undefined ? { tls: { cert: tls.cert, key: tls.key } } : {})
  })
  const peerId = libp2p.peerId.toString()
  const actor: Actor = { name: `peer:${options.name}`, peerId }
  const lab = new Lab(docs)
  lab.initLab?.({ labId: labConfig.labId, labName: labConfig.labName }, actor)

  // Users and sessions: a browser peer writes only while a user who is not a viewer is logged in from it.
  // What each remote peer may change follows from its membership (kind, ceiling) and, for a browser, its user.
  const auth = new AuthService({ lab, flush: async () => { await docs.flush() }, libp2p, members: membership }, { log })
  auth.start()
  // A revoked member is hung up by the membership; a revoked browser's sessions end with it.
  membership.attach(libp2p)
  const offMembers = membership.onChange(() => {
    for (const member of membership.list()) if (!member.active && member.record.kind === 'browser') auth.endPeerSessions(member.record.peerId)
  })
  const stopJoin = await serveJoin(libp2p, { labId: labConfig.labId, membership, lab: docs.get('lab'), flush: async () => { await docs.flush() }, log })
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
  const admitLocalHost = (id: string): void => { membership.admitLocal(id) }
  const context: PeerContext = { options, labConfig, libp2p, docs, lab, blobs, blobService, sync, router, actor, setPresence, admitLocalHost, log }
  router.add(...labRoutes(context), ...sequenceRoutes(context, auth), ...exchangeRoutes(context))
  await seedBuiltinSequences(context)
  // a hub gives its lab the starter exam templates, once (a template a user deleted stays deleted)
  if (options.roles.includes('hub')) await seedStarterTemplates(context)
  /** What a page needs to find this hub: not a secret (the lab key comes only with pairing). */
  const bootstrapInfo = (req: IncomingMessage): BootstrapInfo => ({
    labId: labConfig.labId,
    labName: lab.info().labName ?? labConfig.labName,
    peerId,
    wsAddrs: tls !== undefined
      ? lanWsAddrs(libp2p.getMultiaddrs(), peerId, req.headers.host, tls.names)
      : loopbackWsAddrs(libp2p.getMultiaddrs(), peerId)
  })
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
    bootstrap: (req) => bootstrapInfo(req)
  }))
  const pairings = new Pairings()
  router.add(...memberRoutes({
    auth,
    membership,
    pairings,
    apiKey,
    labId: labConfig.labId,
    founder,
    swarmKeyHex: labConfig.swarmKeyHex,
    peerId,
    tcpAddrs: () => libp2p.getMultiaddrs().map((a) => a.toString()).filter((a) => !a.includes('/ws')).map((a) => a.includes('/p2p/') ? a : `${a}/p2p/${peerId}`),
    bootstrap: (req) => bootstrapInfo(req),
    labName: () => lab.info().labName ?? labConfig.labName,
    flush: async () => { await docs.flush() }
  }))
  // The browser on this machine pairs like any other, with a one-time code in the URL printed at start
  // (as Jupyter does), made with the admin ceiling of whoever runs the hub.
  const startPairing = membership.mayAdminister() ? pairings.create({ ceiling: 'admin', createdBy: 'operator', ttlMs: START_PAIRING_TTL_MS }) : undefined
  // exports to PACS destinations, resumed from this peer's data directory
  const exportQueue = new ExportQueue({ lab, blobs, blobService, actor }, { dataDir, log })
  await exportQueue.start()
  router.add(...pacsRoutes({ context, auth, queue: exportQueue }))
  // the hospital's modality worklist, asked from one of the lab's DICOM destinations
  router.add(...worklistRoutes({ context, auth, apiKey }))
  for (const role of options.roleServices) await role.start(context)

  const http = new HttpService({
    router, apiKey, host: options.httpHost, port: options.httpPort, staticDir: options.staticDir, log,
    ...(tls !== undefined ? { tls: { cert: tls.cert, key: tls.key } } : {}),
    authorise: (req) => auth.authorisesRead(req.method ?? 'GET', req.headers.authorization) ||
      (req.method === 'POST' && (req.url ?? '').split('?')[0] === '/api/v1/sequences' && auth.authorisesSequenceUpload(req.headers.authorization)) ||
      pacsRequestAuthorised(auth, req) ||
      sequenceRequestAuthorised(auth, req) ||
      importRequestAuthorised(auth, req)
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
  const pairUrl = startPairing !== undefined ? `${url}#pair=${startPairing.code}${setupToken !== undefined ? `&setup=${setupToken}` : ''}` : undefined

  let stopped = false
  return {
    context,
    labConfig,
    httpPort,
    apiKey,
    url,
    ...(setupUrl !== undefined ? { setupUrl } : {}),
    ...(pairUrl !== undefined ? { pairUrl } : {}),
    ...(lan !== undefined ? { lan } : {}),
    stop: async () => {
      if (stopped) return
      stopped = true
      await caDownload?.stop()
      await http.stop()
      for (const role of [...options.roleServices].reverse()) await role.stop().catch((err: Error) => log(`stopping ${role.role}: ${err.message}`))
      await exportQueue.stop()
      keeper.stop()
      offMembers()
      membership.detach()
      await stopJoin()
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

/**
 * The lab of this data directory: the one it has, the one the invite names (redeemed now, with the
 * lab document it answered), or a new one founded by this peer.
 */
async function resolveLab (options: PeerOptions, privateKey: PrivateKey): Promise<{ config: LabConfig, founder: string, joinedLab?: Uint8Array }> {
  const ownPeerId = peerIdFromPrivateKey(privateKey).toString()
  const existing = await loadLabConfig(options.dataDir)
  if (existing !== undefined) {
    if (options.join !== undefined) {
      const invite = decodeInvite(options.join)
      if (invite.labId !== existing.labId) {
        throw new PeerStartError(`${options.dataDir} already belongs to the lab "${existing.labName}"; to join "${invite.labName}" start with an empty --data directory`)
      }
    }
    if (existing.founder !== undefined) return { config: existing, founder: existing.founder }
    // Written before labs had members: a lab founded here gets this peer as its founder; a peer that
    // joined another lab cannot tell which peer founded it, so it must join again.
    if (existing.bootstrap.length > 0) {
      throw new PeerStartError(`${options.dataDir} joined the lab "${existing.labName}" before labs had signed members: ask an admin for a new invite (\`scanhub lab invite\` on the lab's hub) and start with an empty --data directory and --join`)
    }
    const upgraded = { ...existing, founder: ownPeerId }
    await saveLabConfig(options.dataDir, upgraded)
    options.log(`members: this peer is the founder of the lab "${existing.labName}" (its root of trust)`)
    return { config: upgraded, founder: ownPeerId }
  }
  if (options.join !== undefined) {
    const invite = decodeInvite(options.join)
    let joinedLab: Uint8Array
    try {
      joinedLab = await redeemInvite(invite, privateKey, options.name, { mdns: options.mdns })
    } catch (err) {
      throw new PeerStartError((err as Error).message)
    }
    const config = labConfigFromInvite(invite)
    await saveLabConfig(options.dataDir, config)
    options.log(`joined the lab "${config.labName}" as a ${invite.kind}`)
    return { config, founder: invite.founder, joinedLab }
  }
  const config = newLabConfig(`${options.name}'s lab`, ownPeerId)
  await saveLabConfig(options.dataDir, config)
  options.log(`founded a new lab "${config.labName}" (${config.labId})`)
  return { config, founder: ownPeerId }
}

/** Which roles a member of each kind may run: a hub may run any; a device only its own. */
const ROLES_OF_KIND: Record<string, readonly PeerRole[]> = { hub: ['hub', 'scanner', 'recon'], scanner: ['scanner'], recon: ['recon'] }

/** Refuses to start a peer that is no active member of its lab, or that would run roles beyond its kind. */
function checkOwnMembership (membership: Membership, options: PeerOptions): void {
  const self = membership.get(membership.peerId)
  if (self === undefined || !self.active) {
    throw new PeerStartError(`this peer is not a member of its lab${self?.problem !== undefined ? ` (${self.problem})` : ''}: to take part again, start with an empty --data directory and a new invite from an admin`)
  }
  const allowed = ROLES_OF_KIND[self.record.kind] ?? []
  const beyond = options.roles.filter((r) => !allowed.includes(r))
  if (beyond.length > 0) {
    throw new PeerStartError(`this peer joined the lab as a ${self.record.kind}, which may not run ${beyond.join(', ')}: start it with --roles ${allowed.join(',')}, or join with an invite for a hub`)
  }
}

