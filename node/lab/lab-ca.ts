// The hub's own certificate authority and the TLS certificate it issues itself, so that tablets and
// other machines of the lab reach the app (https) and the hub's libp2p WebSocket listener (wss) on the
// LAN. Browsers open wss:// and register a service worker only in a secure context, and a lab network
// has no public name a public CA could certify: the lab installs this CA once on each device instead.
//
//   DIR/tls/ca.key    the CA's private key (ECDSA P-256, PKCS#8 PEM), mode 0600; never leaves the hub
//   DIR/tls/ca.crt    the CA certificate (PEM): what devices install (`scanhub lab ca`, /ca.crt); 0600 like all the directory
//   DIR/tls/hub.key   the hub's TLS key, mode 0600
//   DIR/tls/hub.crt   the hub's certificate, issued by the CA for this machine's addresses and names
//
// One CA per data directory: in a lab of several hubs, a device trusts the CA of each hub it opens.
// Certificates are made with WebCrypto (@peculiar/x509), never by running openssl.
import { X509Certificate as NodeX509Certificate } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { hostname, networkInterfaces } from 'node:os'
import { join } from 'node:path'
import * as x509 from './x509.ts'
import { readOptional, writeFileAtomic } from './data-dir.ts'

export const TLS_DIR = 'tls'
export const CA_KEY_FILE = join(TLS_DIR, 'ca.key')
export const CA_CERT_FILE = join(TLS_DIR, 'ca.crt')
export const HUB_KEY_FILE = join(TLS_DIR, 'hub.key')
export const HUB_CERT_FILE = join(TLS_DIR, 'hub.crt')

const DAY_MS = 24 * 60 * 60 * 1000
const CA_VALIDITY_DAYS = 3652
/** iOS and macOS refuse server certificates valid longer than 825 days, even from a CA the user installed. */
export const LEAF_VALIDITY_DAYS = 820
/** A certificate this close to its end is replaced at start, so a hub that runs for weeks does not expire mid-run. */
export const RENEW_BEFORE_DAYS = 30
/** notBefore lies this far back: a tablet whose clock runs late (labs often have no NTP) still accepts a fresh certificate. */
const CLOCK_SKEW_MS = DAY_MS

const EC_KEY: EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' }
const SIGNING: EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' }

/** The names a certificate of this machine is valid for. */
export interface CertificateNames {
  ips: string[]
  dnsNames: string[]
}

export interface HubTls {
  /** the CA certificate, PEM */
  caCert: string
  /** the CA certificate's SHA-256 fingerprint, colon-separated hex as browsers show it */
  caFingerprint: string
  /** the CA's common name, as devices list it */
  caName: string
  /** the hub's certificate and key, PEM, for https.createServer */
  cert: string
  key: string
  names: CertificateNames
  /** whether this start issued a new hub certificate (the first, or because names or dates changed) */
  issued: boolean
}

/**
 * The addresses and names this machine is reached by: every non-internal address, the host name and
 * its mDNS name, and localhost. IPv6 link-local addresses (fe80::/10) are left out: they are
 * usable only with a zone id, which URLs and certificates cannot carry.
 */
export function machineNames (): CertificateNames {
  const ips = new Set<string>(['127.0.0.1'])
  for (const entries of Object.values(networkInterfaces())) {
    for (const entry of entries ?? []) {
      if (entry.internal) continue
      if (entry.family === 'IPv6' && /^fe[89ab]/i.test(entry.address)) continue
      ips.add(entry.address)
    }
  }
  const host = hostname().toLowerCase()
  const dnsNames = new Set<string>(['localhost'])
  if (host !== '' && host !== 'localhost') {
    dnsNames.add(host)
    if (!host.endsWith('.local')) dnsNames.add(`${host}.local`)
  }
  return { ips: [...ips], dnsNames: [...dnsNames] }
}

/** "ScanHub lab <name> CA", the name devices list the CA under. */
export function caCommonName (labName: string): string {
  return `ScanHub lab ${labName} CA`
}

/** The SHA-256 fingerprint of a PEM certificate, as browsers and `openssl x509 -fingerprint -sha256` show it. */
export function certificateFingerprint (pem: string): string {
  return new NodeX509Certificate(pem).fingerprint256
}

/** The CA of a data directory, made now if no hub there has made one yet. */
export async function loadOrCreateLabCa (dataDir: string, labName: string, now = new Date()): Promise<Pick<HubTls, 'caCert' | 'caFingerprint' | 'caName'>> {
  await mkdir(join(dataDir, TLS_DIR), { recursive: true, mode: 0o700 })
  return describeCa(await loadOrCreateCa(dataDir, labName, now))
}

/**
 * The hub's TLS material: the CA (made on first use and kept), and a certificate for this machine,
 * issued again when the machine's names changed, the CA changed, or it ends within RENEW_BEFORE_DAYS.
 */
export async function loadOrCreateHubTls (dataDir: string, labName: string, names: CertificateNames = machineNames(), now = new Date()): Promise<HubTls> {
  await mkdir(join(dataDir, TLS_DIR), { recursive: true, mode: 0o700 })
  const ca = await loadOrCreateCa(dataDir, labName, now)
  const existingCert = (await readOptional(join(dataDir, HUB_CERT_FILE)))?.toString('utf8')
  const existingKey = (await readOptional(join(dataDir, HUB_KEY_FILE)))?.toString('utf8')
  if (existingCert !== undefined && existingKey !== undefined && stillFits(existingCert, ca.cert, names, now)) {
    return { ...describeCa(ca), cert: existingCert, key: existingKey, names, issued: false }
  }
  const keys = existingKey !== undefined ? await importKeyPair(existingKey) : await generateKeyPair()
  const keyPem = existingKey ?? await exportPrivateKey(keys.privateKey)
  const notBefore = new Date(now.getTime() - CLOCK_SKEW_MS)
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ CN: [names.dnsNames.find((n) => n !== 'localhost') ?? 'localhost'] }, { O: [caCommonName(labName)] }],
    issuer: ca.certificate.subjectName,
    notBefore,
    notAfter: new Date(notBefore.getTime() + LEAF_VALIDITY_DAYS * DAY_MS),
    publicKey: keys.publicKey,
    signingKey: ca.privateKey,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...names.dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...names.ips.map((value) => ({ type: 'ip' as const, value }))
      ]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate)
    ]
  })
  const certPem = leaf.toString('pem') + '\n'
  if (existingKey === undefined) await writeFileAtomic(join(dataDir, HUB_KEY_FILE), keyPem)
  await writeFileAtomic(join(dataDir, HUB_CERT_FILE), certPem)
  return { ...describeCa(ca), cert: certPem, key: keyPem, names, issued: true }
}

interface LoadedCa {
  cert: string
  certificate: x509.X509Certificate
  privateKey: CryptoKey
}

function describeCa (ca: LoadedCa): Pick<HubTls, 'caCert' | 'caFingerprint' | 'caName'> {
  return { caCert: ca.cert, caFingerprint: certificateFingerprint(ca.cert), caName: ca.certificate.subjectName.getField('CN')[0] ?? '' }
}

async function loadOrCreateCa (dataDir: string, labName: string, now: Date): Promise<LoadedCa> {
  const keyPem = (await readOptional(join(dataDir, CA_KEY_FILE)))?.toString('utf8')
  const certPem = (await readOptional(join(dataDir, CA_CERT_FILE)))?.toString('utf8')
  if (keyPem !== undefined && certPem !== undefined) {
    const certificate = new x509.X509Certificate(certPem)
    if (certificate.notAfter.getTime() - now.getTime() > RENEW_BEFORE_DAYS * DAY_MS) {
      return { cert: certPem, certificate, privateKey: (await importKeyPair(keyPem)).privateKey }
    }
    // A CA at its end (ten years on) is replaced: every device must install the new one.
  }
  const keys = await generateKeyPair()
  const notBefore = new Date(now.getTime() - CLOCK_SKEW_MS)
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [caCommonName(labName)] }, { O: ['ScanHub'] }],
    notBefore,
    notAfter: new Date(notBefore.getTime() + CA_VALIDITY_DAYS * DAY_MS),
    keys,
    signingAlgorithm: SIGNING,
    extensions: [
      // pathLength 0: this CA signs hub certificates, never another CA
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)
    ]
  })
  const cert = certificate.toString('pem') + '\n'
  await writeFileAtomic(join(dataDir, CA_KEY_FILE), await exportPrivateKey(keys.privateKey))
  await writeFileAtomic(join(dataDir, CA_CERT_FILE), cert)
  return { cert, certificate, privateKey: keys.privateKey }
}

/** Whether a hub certificate is by this CA, names exactly these names, and lasts beyond the renewal margin. */
function stillFits (certPem: string, caPem: string, names: CertificateNames, now: Date): boolean {
  let cert: NodeX509Certificate
  try {
    cert = new NodeX509Certificate(certPem)
  } catch {
    return false
  }
  const ca = new NodeX509Certificate(caPem)
  if (!cert.verify(ca.publicKey)) return false
  if (new Date(cert.validTo).getTime() - now.getTime() <= RENEW_BEFORE_DAYS * DAY_MS) return false
  if (new Date(cert.validFrom).getTime() > now.getTime()) return false
  const entries = (cert.subjectAltName ?? '').split(', ').filter((e) => e !== '')
  if (entries.length !== names.ips.length + names.dnsNames.length) return false
  return names.ips.every((ip) => cert.checkIP(ip) !== undefined) &&
    names.dnsNames.every((name) => entries.includes(`DNS:${name}`))
}

async function generateKeyPair (): Promise<CryptoKeyPair> {
  return await crypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify'])
}

async function exportPrivateKey (key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await crypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY') + '\n'
}

/** A PKCS#8 EC private key and its public half (the public key is read from the JWK's x and y). */
async function importKeyPair (pem: string): Promise<CryptoKeyPair> {
  const privateKey = await crypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(pem), EC_KEY, true, ['sign'])
  const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', privateKey)
  const publicKey = await crypto.subtle.importKey('jwk', { kty, crv, x, y }, EC_KEY, true, ['verify'])
  return { privateKey, publicKey }
}

/** 16 random bytes with the top bit clear: a positive serial, unique per certificate as RFC 5280 asks. */
function randomSerial (): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  bytes[0] = (bytes[0]! & 0x7f) | 0x01
  return Buffer.from(bytes).toString('hex')
}
