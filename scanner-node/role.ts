// The scanner role: the peer that drives an MRI scanner (or the virtual one). On start it registers
// its device in the lab document, once, keeping what users changed since (name, parameters), and
// announces the device's status through presence.
import type { PeerContext, RoleService } from '../node/peer.ts'

export interface ScannerRoleInit {
  /** the driver to run; the virtual scanner unless a serial device is configured */
  driver?: 'virtual'
}

/** Larmor frequency of hydrogen per tesla, Hz/T. */
const GAMMA_HZ_PER_T = 42.577478518e6
const VIRTUAL_FIELD_T = 0.05

export function scannerRole (init: ScannerRoleInit = {}): RoleService {
  let context: PeerContext | undefined
  return {
    role: 'scanner',
    async start (ctx) {
      context = ctx
      const peerId = ctx.libp2p.peerId.toString()
      const existing = ctx.lab.devices.list().find((d) => d.peerId === peerId)
      if (existing === undefined) {
        ctx.lab.devices.create({
          id: `device-${peerId.slice(-12)}`,
          peerId,
          name: `${ctx.options.name} virtual scanner`,
          manufacturer: 'ScanHub',
          model: 'Virtual scanner',
          fieldStrengthT: VIRTUAL_FIELD_T,
          driver: init.driver ?? 'virtual',
          parameters: { larmorFrequencyHz: Math.round(GAMMA_HZ_PER_T * VIRTUAL_FIELD_T), receiveCoils: 4, rfAmplitudeScale: 1 }
        }, ctx.actor)
        await ctx.docs.flush()
      }
      ctx.setPresence({ status: 'ONLINE' })
    },
    async stop () {
      context?.setPresence({ status: 'ONLINE' })
    }
  }
}
