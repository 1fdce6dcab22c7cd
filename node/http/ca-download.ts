// The one plain-http service of a hub on the LAN (`scanhub start --lan`): a tablet fetches the lab's
// CA certificate here before it trusts anything, since the app itself is https only. It serves the
// certificate (/ca.crt) and a page saying how to install it, and nothing else: both are public.
import { close, listen } from './listen.ts'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { isIP } from 'node:net'

export interface CaDownloadInit {
  /** the CA certificate, PEM */
  caCert: string
  /** its SHA-256 fingerprint, to compare with what the device shows */
  caFingerprint: string
  /** the name devices list the CA under */
  caName: string
  /** port of the https app, for the page's link to it */
  appPort: number
  host?: string
  port?: number
}

export const CA_PATH = '/ca.crt'

export class CaDownloadService {
  private readonly init: CaDownloadInit
  private server?: Server

  constructor (init: CaDownloadInit) {
    this.init = init
  }

  /** Starts listening; resolves to the port. */
  async start (): Promise<number> {
    const server = createServer((req, res) => { this.handle(req, res) })
    this.server = server
    server.headersTimeout = 10_000
    server.requestTimeout = 30_000
    return await listen(server, this.init.port ?? 0, this.init.host ?? '0.0.0.0')
  }

  async stop (): Promise<void> {
    await close(this.server)
  }

  private handle (req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('only GET\n')
      return
    }
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    if (path === CA_PATH) {
      // iOS offers a configuration profile, Android and desktops a certificate, for this type
      res.writeHead(200, {
        'content-type': 'application/x-x509-ca-cert',
        'content-disposition': 'attachment; filename="scanhub-lab-ca.crt"',
        'content-length': Buffer.byteLength(this.init.caCert),
        'cache-control': 'no-cache'
      })
      res.end(req.method === 'HEAD' ? undefined : this.init.caCert)
      return
    }
    if (path !== '/') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`not found: this address serves only ${CA_PATH} and a page about it\n`)
      return
    }
    const page = installPage(this.init, appUrl(req.headers.host, this.init.appPort))
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(page), 'cache-control': 'no-cache' })
    res.end(req.method === 'HEAD' ? undefined : page)
  }
}

/**
 * The URLs other devices use for a service on this port: by each of the machine's LAN addresses that
 * the listener takes (0.0.0.0 takes IPv4 only, :: both), or the one address it listens on, then by its
 * .local name; never by loopback names.
 */
export function lanUrls (scheme: 'http' | 'https', names: { ips: readonly string[], dnsNames: readonly string[] }, listenHost: string, port: number, path = '/'): string[] {
  const families = listenHost === '::' ? [4, 6] : listenHost === '0.0.0.0' ? [4] : undefined
  const hosts = families !== undefined
    ? [...names.ips.filter((ip) => families.includes(isIP(ip)) && !ip.startsWith('127.') && ip !== '::1'), ...names.dnsNames.filter((n) => n.endsWith('.local'))]
    : [listenHost]
  return hosts.map((h) => `${scheme}://${isIP(h) === 6 ? `[${h}]` : h}:${port}${path}`)
}

/** The https app at the host this page was reached by, when that host is a plain address or name. */
function appUrl (hostHeader: string | undefined, appPort: number): string | undefined {
  if (hostHeader === undefined) return undefined
  const bracketed = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/i.exec(hostHeader)
  if (bracketed !== null && isIP(bracketed[1]!) === 6) return `https://[${bracketed[1]!.toLowerCase()}]:${appPort}/`
  const plain = /^([a-z0-9.-]+)(?::\d{1,5})?$/i.exec(hostHeader)
  return plain !== null ? `https://${plain[1]!.toLowerCase()}:${appPort}/` : undefined
}

function escapeHtml (text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

function installPage (init: CaDownloadInit, app: string | undefined): string {
  const name = escapeHtml(init.caName)
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>ScanHub: trust the lab's certificate</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5}code{word-break:break-all}a.button{display:inline-block;padding:.6rem 1rem;border-radius:.4rem;background:#0b5cad;color:#fff;text-decoration:none}</style>
</head><body>
<h1>Trust this lab's certificate</h1>
<p>The ScanHub app of this lab is served over https with a certificate of the lab's own authority,
<b>${name}</b>. Install it once on this device, then open the app.</p>
<p><a class="button" href="${CA_PATH}">Download the certificate</a></p>
<p>Its SHA-256 fingerprint, to compare with what the device shows (and with <code>scanhub lab ca</code> on the hub):<br>
<code>${escapeHtml(init.caFingerprint)}</code></p>
<h2>Android</h2>
<p>Settings → Security → Encryption &amp; credentials → Install a certificate → CA certificate, and choose the downloaded file.</p>
<h2>iPad / iPhone</h2>
<p>Open the download in Safari and allow the profile. Then Settings → Profile Downloaded → Install;
then Settings → General → About → Certificate Trust Settings, and turn on full trust for <b>${name}</b>.</p>
<h2>Desktop</h2>
<p>Chrome / Chromium: Settings → Privacy and security → Security → Manage certificates → Authorities → Import.
Firefox: Settings → Certificates → View Certificates → Authorities → Import, and trust it to identify websites.</p>
${app !== undefined ? `<h2>Then</h2>\n<p><a class="button" href="${escapeHtml(app)}">Open ScanHub</a> <code>${escapeHtml(app)}</code></p>` : ''}
</body></html>
`
}
