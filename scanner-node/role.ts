// The scanner role: the peer that drives an MRI scanner (here the virtual one). On start it registers
// its device in the lab document once (keeping what users changed since: name, parameters), announces
// the device's status through presence, and runs the ACQUISITION tasks of its device.
import { AcquisitionTaskRunner } from './acquisition/task-runner.ts'
import { GAMMA_HZ_PER_T, virtualMagnet } from './acquisition/virtual-magnet.ts'
import { RawRecordings } from './raw/raw-recordings.ts'
import { JobManager } from './jobs/job-manager.ts'
import { serialDriver } from './serial/index.ts'
import type { ScannerDriver } from './driver.ts'
import type { PeerContext, RoleService } from '../node/peer.ts'

export interface ScannerRoleInit {
  /** the virtual magnet's true resonance minus its nominal one, Hz (what frequency calibration finds) */
  virtualOffsetHz?: number
  /** the virtual RF chain's actual over nominal flip angle (what flip-angle calibration finds) */
  virtualB1Scale?: number
  /** play sequences in real time (default) or as fast as possible */
  realTime?: boolean
  /** a spectrometer on this serial port instead of the virtual scanner */
  serialPath?: string
  baudRate?: number
}

const VIRTUAL_FIELD_T = 0.05

export function scannerRole (init: ScannerRoleInit = {}): RoleService {
  let context: PeerContext | undefined
  let runner: AcquisitionTaskRunner | undefined
  let jobs: JobManager | undefined
  let driver: ScannerDriver | undefined
  return {
    role: 'scanner',
    async start (ctx) {
      context = ctx
      const peerId = ctx.libp2p.peerId.toString()
      const kind = init.serialPath === undefined ? 'virtual' : 'serial'
      if (init.serialPath !== undefined) {
        driver = serialDriver({ path: init.serialPath, baudRate: init.baudRate, log: ctx.log })
      }
      let device = ctx.lab.devices.list().find((d) => d.peerId === peerId && d.driver === kind)
      if (device === undefined) {
        const info = driver === undefined
          ? { manufacturer: 'ScanHub', model: 'Virtual scanner', fieldStrengthT: VIRTUAL_FIELD_T, larmorFrequencyHz: Math.round(GAMMA_HZ_PER_T * VIRTUAL_FIELD_T), channels: 4 }
          : await driver.info({ signal: AbortSignal.timeout(10_000) })
        device = ctx.lab.devices.create({
          id: `device-${kind}-${peerId.slice(-12)}`,
          peerId,
          name: `${ctx.options.name} ${driver === undefined ? 'virtual scanner' : info.model}`,
          manufacturer: info.manufacturer,
          model: info.model,
          fieldStrengthT: info.fieldStrengthT,
          driver: kind,
          parameters: { larmorFrequencyHz: info.larmorFrequencyHz, receiveCoils: info.channels, rfAmplitudeScale: 1 }
        }, ctx.actor)
        await ctx.docs.flush()
      }
      const recordings = new RawRecordings(ctx.options.dataDir)
      runner = new AcquisitionTaskRunner(ctx, {
        deviceId: device.id,
        recordings,
        magnet: virtualMagnet(device.fieldStrengthT, { offsetHz: init.virtualOffsetHz, b1Scale: init.virtualB1Scale }),
        realTime: init.realTime,
        driver
      })
      ctx.setPresence({ status: 'ONLINE' })
      runner.start()
      // >>> reconstruction jobs (scanner-node/jobs) start here
      jobs = new JobManager({
        libp2p: ctx.libp2p,
        lab: ctx.lab,
        blobs: ctx.blobs,
        blobService: ctx.blobService,
        recordings,
        actor: ctx.actor,
        flush: async () => { await ctx.docs.flush() }
      }, { log: ctx.log })
      await jobs.start()
      // <<< reconstruction jobs
    },
    async stop () {
      await runner?.stop()
      await driver?.close().catch(() => {})
      // >>> reconstruction jobs stop here
      await jobs?.stop()
      // <<< reconstruction jobs
      context?.setPresence({ status: 'ONLINE' })
    }
  }
}
