// The reconstruction role: a peer that offers its CPU to turn the lab's raw data into images. It
// announces itself through its peer record and presence (roles include recon), asks every connected
// scanner peer for reconstruction jobs (recon-node/jobs), and keeps the DICOM files it makes in its
// blob store, from where any lab peer can fetch them.
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { swarmKeyFromHex } from '../protocol/lab-key.ts'
import { createLabHost, type LabHost } from '../node/p2p/host.ts'
import type { PeerPresence } from '../protocol/peers.ts'
import type { PeerContext, RoleService } from '../node/peer.ts'
import { sharedFftPool } from './fft/pool.ts'
import { JobWorker } from './jobs/job-worker.ts'
import { MrdLabStore } from './mrd-server/mrd-lab-store.ts'
import { MrdTcpServer } from './mrd-server/mrd-tcp-server.ts'
import { favourMemoryOverSpeed } from './memory-mode.ts'

/**
 * Jobs travel between peers, and a libp2p host cannot dial itself: when this process is the scanner
 * too (`npm start`: one laptop is the whole lab), the worker gets a host of its own on loopback,
 * connected to the peer's host, and reaches the local scanner like any other.
 */
async function loopbackWorkerHost (ctx: PeerContext): Promise<{ host: LabHost, stop: () => Promise<void> }> {
  const privateKey = await generateKeyPair('Ed25519')
  // not a member of the lab: the peer's gater lets it in because it lives in this process
  ctx.admitLocalHost(peerIdFromPrivateKey(privateKey).toString())
  const host = await createLabHost({ privateKey, swarmKey: swarmKeyFromHex(ctx.labConfig.swarmKeyHex), mdns: false })
  const target = ctx.libp2p.getMultiaddrs().filter((a) => !a.toString().includes('/ws'))
  const dial = (): void => {
    if (host.getConnections(ctx.libp2p.peerId).length > 0) return
    host.dial(target, { signal: AbortSignal.timeout(5_000) }).catch((err: Error) => { ctx.log(`recon: cannot reach this peer's scanner: ${err.message}`) })
  }
  dial()
  const timer = setInterval(dial, 2_000)
  timer.unref()
  return { host, stop: async () => { clearInterval(timer); await host.stop() } }
}

export interface ReconRoleInit {
  /** jobs reconstructed at once; default 1 (the FFT pool already uses every core) */
  slots?: number
  /** serve the ISMRMRD streaming protocol (Gadgetron's) on this TCP port (mrd-server/); default: not */
  mrdPort?: number
  /** address of that server; default 127.0.0.1 */
  mrdHost?: string
}

export function reconRole (init: ReconRoleInit = {}): RoleService {
  let worker: JobWorker | undefined
  let loopback: { host: LabHost, stop: () => Promise<void> } | undefined
  let mrd: MrdTcpServer | undefined
  return {
    role: 'recon',
    async start (ctx) {
      favourMemoryOverSpeed()
      ctx.setPresence({ status: 'ONLINE' })
      if (ctx.options.roles.includes('scanner')) loopback = await loopbackWorkerHost(ctx)
      worker = new JobWorker({
        libp2p: loopback?.host ?? ctx.libp2p,
        blobs: ctx.blobs,
        setPresence: ctx.setPresence,
        scanners: () => {
          const ids: string[] = []
          for (const state of ctx.sync.awareness.getStates().values()) {
            const presence = state as Partial<PeerPresence>
            if (typeof presence.peerId === 'string' && Array.isArray(presence.roles) && presence.roles.includes('scanner')) ids.push(presence.peerId)
          }
          return ids
        }
      }, { name: ctx.options.name, slots: init.slots, log: ctx.log })
      await worker.start()
      if (init.mrdPort !== undefined) {
        // Only a hub may add patients, exams and workflows (node/auth/write-policy.ts): the CLI asks for
        // --roles hub,recon, so that every stream is recorded in the lab like a scan.
        if (!ctx.options.roles.includes('hub')) throw new Error('the MRD server records what it receives as patients and exams, which only a hub may add: start it with --roles hub,recon')
        const store = new MrdLabStore({ lab: ctx.lab, blobs: ctx.blobs, peerId: ctx.actor.peerId, flush: async () => { await ctx.docs.flush() }, log: ctx.log })
        mrd = new MrdTcpServer({ host: init.mrdHost, port: init.mrdPort, fft: sharedFftPool(), store, log: ctx.log })
        const port = await mrd.start()
        ctx.log(`recon: ISMRMRD streaming (Gadgetron protocol) on ${init.mrdHost ?? '127.0.0.1'}:${port}, recorded in the lab`)
      }
    },
    async stop () {
      await mrd?.stop()
      await worker?.stop()
      await loopback?.stop()
    }
  }
}
