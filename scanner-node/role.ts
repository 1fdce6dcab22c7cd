// The scanner role: the peer that drives an MRI scanner (here the virtual one). On start it registers
// its device in the lab document once (keeping what users changed since: name, parameters), announces
// the device's status through presence, and runs the ACQUISITION tasks of its device.
import { AcquisitionTaskRunner } from './acquisition/task-runner.ts'
import { GAMMA_HZ_PER_T, virtualMagnet } from './acquisition/virtual-magnet.ts'
import { RawRecordings } from './raw/raw-recordings.ts'
import type { PeerContext, RoleService } from '../node/peer.ts'

export interface ScannerRoleInit {
  /** the virtual magnet's true resonance minus its nominal one, Hz (what frequency calibration finds) */
  virtualOffsetHz?: number
  /** the virtual RF chain's actual over nominal flip angle (what flip-angle calibration finds) */
  virtualB1Scale?: number
  /** play sequences in real time (default) or as fast as possible */
  realTime?: boolean
}

const VIRTUAL_FIELD_T = 0.05

export function scannerRole (init: ScannerRoleInit = {}): RoleService {
  let context: PeerContext | undefined
  let runner: AcquisitionTaskRunner | undefined
  return {
    role: 'scanner',
    async start (ctx) {
      context = ctx
      const peerId = ctx.libp2p.peerId.toString()
      let device = ctx.lab.devices.list().find((d) => d.peerId === peerId)
      if (device === undefined) {
        device = ctx.lab.devices.create({
          id: `device-${peerId.slice(-12)}`,
          peerId,
          name: `${ctx.options.name} virtual scanner`,
          manufacturer: 'ScanHub',
          model: 'Virtual scanner',
          fieldStrengthT: VIRTUAL_FIELD_T,
          driver: 'virtual',
          parameters: { larmorFrequencyHz: Math.round(GAMMA_HZ_PER_T * VIRTUAL_FIELD_T), receiveCoils: 4, rfAmplitudeScale: 1 }
        }, ctx.actor)
        await ctx.docs.flush()
      }
      const recordings = new RawRecordings(ctx.options.dataDir)
      runner = new AcquisitionTaskRunner(ctx, {
        deviceId: device.id,
        recordings,
        magnet: virtualMagnet(device.fieldStrengthT, { offsetHz: init.virtualOffsetHz, b1Scale: init.virtualB1Scale }),
        realTime: init.realTime
      })
      ctx.setPresence({ status: 'ONLINE' })
      runner.start()
      // >>> reconstruction jobs (scanner-node/jobs) start here
      // <<< reconstruction jobs
    },
    async stop () {
      await runner?.stop()
      // >>> reconstruction jobs stop here
      // <<< reconstruction jobs
      context?.setPresence({ status: 'ONLINE' })
    }
  }
}
