import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { passValue } from './worker-pass/pass-context.js'

/** A private key and its self-signed certificate, PEM. */
export interface SelfSignedCertificate {
  readonly key: Buffer
  readonly cert: Buffer
}

/**
 * A self-signed certificate made by `openssl` for this run (nothing committed): a P-256 key and a
 * certificate for `cn`, valid one day, with 127.0.0.1 as its IP subject name. With `passphrase` the
 * key is encrypted with it (PKCS#8, AES-256), as a client certificate's key usually is. A server
 * presents it; a client trusts it as its `ca`, or presents it to a server that trusts the same. In a
 * worker of the worker-executor test pass replaying a test, the coordinator's pair (`passValue`).
 *
 * @example
 * const server = selfSignedCertificate(); const client = selfSignedCertificate({ cn: 'sluice', passphrase: 'pw' })
 */
export function selfSignedCertificate(options: { cn?: string; passphrase?: string } = {}): SelfSignedCertificate {
  const pem = JSON.parse(passValue(() => JSON.stringify(makeCertificate(options)))) as { key: string; cert: string }
  return { key: Buffer.from(pem.key), cert: Buffer.from(pem.cert) }
}

function makeCertificate(options: { cn?: string; passphrase?: string }): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-tls-'))
  const file = (name: string) => join(dir, name)
  const cn = options.cn ?? '127.0.0.1'
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        ...(options.passphrase === undefined ? ['-nodes'] : ['-passout', `pass:${options.passphrase}`]),
        '-keyout',
        file('key.pem'),
        '-out',
        file('cert.pem'),
        '-days',
        '1',
        '-subj',
        `/CN=${cn}`,
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    )
    return { key: readFileSync(file('key.pem'), 'utf8'), cert: readFileSync(file('cert.pem'), 'utf8') }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
