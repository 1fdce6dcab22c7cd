// The reconstruction role: a peer that offers its CPU to turn the lab's raw data into images. It
// announces itself through its peer record and presence (roles include recon), asks every connected
// scanner peer for reconstruction jobs (recon-node/jobs), and keeps the DICOM files it makes in its
// blob store, from where any lab peer can fetch them.
import type { PeerPresence } from '../protocol/peers.ts'
import type { RoleService } from '../node/peer.ts'
import { JobWorker } from './jobs/job-worker.ts'

export interface ReconRoleInit {
  /** jobs reconstructed at once; default 1 (the FFT pool already uses every core) */
  slots?: number
}

export function reconRole (init: ReconRoleInit = {}): RoleService {
  let worker: JobWorker | undefined
  return {
    role: 'recon',
    async start (ctx) {
      ctx.setPresence({ status: 'ONLINE' })
      worker = new JobWorker({
        libp2p: ctx.libp2p,
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
    },
    async stop () {
      await worker?.stop()
    }
  }
}
