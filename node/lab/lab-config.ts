// The lab a peer belongs to (DIR/lab.json). A peer started in an empty directory founds a new lab,
// unless it joins one with an invite.
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { generateSwarmKeyHex, isSwarmKeyHex } from '../../protocol/lab-key.ts'
import { LAB_FILE, readOptional, writeFileAtomic } from './data-dir.ts'
import type { Invite } from '../../protocol/invite.ts'

export interface LabConfig {
  labId: string
  labName: string
  swarmKeyHex: string
  createdAt: string
  /**
   * the peer id of the lab's founding hub: the root of trust every member record is signed along a
   * chain from (protocol/lab/members.ts); undefined only in files written before members existed
   */
  founder?: string
  /** peers this one learnt of when it joined: multiaddrs to dial before anything else is known */
  bootstrap: string[]
}

export class LabConfigError extends Error {
  override name = 'LabConfigError'
}

export async function loadLabConfig (dataDir: string): Promise<LabConfig | undefined> {
  const raw = await readOptional(join(dataDir, LAB_FILE))
  if (raw === undefined) return undefined
  let value: LabConfig
  try {
    value = JSON.parse(raw.toString('utf8'))
  } catch {
    throw new LabConfigError(`${join(dataDir, LAB_FILE)} is not valid JSON: restore it from a backup or start with an empty data directory`)
  }
  if (typeof value.labId !== 'string' || !isSwarmKeyHex(value.swarmKeyHex)) {
    throw new LabConfigError(`${join(dataDir, LAB_FILE)} lacks a lab id or a valid lab key`)
  }
  return { ...value, bootstrap: Array.isArray(value.bootstrap) ? value.bootstrap : [] }
}

export async function saveLabConfig (dataDir: string, config: LabConfig): Promise<void> {
  await writeFileAtomic(join(dataDir, LAB_FILE), JSON.stringify(config, null, 2) + '\n')
}

/** A new lab, founded by the peer `founder`. */
export function newLabConfig (labName: string, founder: string): LabConfig {
  return { labId: randomUUID(), labName, swarmKeyHex: generateSwarmKeyHex(), createdAt: new Date().toISOString(), founder, bootstrap: [] }
}

export function labConfigFromInvite (invite: Invite): LabConfig {
  return {
    labId: invite.labId,
    labName: invite.labName,
    swarmKeyHex: invite.swarmKeyHex,
    createdAt: new Date().toISOString(),
    founder: invite.founder,
    bootstrap: invite.addrs
  }
}
