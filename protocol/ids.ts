// libp2p protocol ids of ScanHub, versioned as /scanhub/<name>/<semver> (see PROTOCOL.md).

export const PROTOCOL_PREFIX = '/scanhub'

function protocolId (name: string, version: string): string {
  return `${PROTOCOL_PREFIX}/${name}/${version}`
}

/** Lab documents and presence: one long-lived stream per peer. */
export const SYNC_PROTOCOL = protocolId('sync', '1.0.0')
/** Content-addressed blobs by sha-256, with byte ranges. */
export const BLOB_PROTOCOL = protocolId('blob', '1.0.0')
/** Reconstruction job leases granted by the scanner peer. */
export const JOB_PROTOCOL = protocolId('job', '1.0.0')
/** Raw data as the ISMRMRD (MRD v1) streaming protocol. */
export const RAW_PROTOCOL = protocolId('raw', '1.0.0')
/** Redeeming a one-time invite: the invite's key names the key that joins (node/lab/join.ts). */
export const JOIN_PROTOCOL = protocolId('join', '1.0.0')
