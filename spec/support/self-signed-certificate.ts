import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { tempDir } from './temp-dir.js'

/** A private key and its self-signed certificate, PEM. */
export interface SelfSignedCertificate {
  readonly key: Buffer
  readonly cert: Buffer
}

/**
 * A self-signed certificate for 127.0.0.1 (its common name and IP subject name), made by `openssl` for
 * this run: nothing is committed. A server presents it; a client trusts it as its `ca`, or presents
 * it as its own certificate to a server that trusts the same.
 *
 * @example
 * const { key, cert } = selfSignedCertificate('sluice-client')
 * https.createServer({ key, cert }, handler)
 */
export function selfSignedCertificate(commonName = '127.0.0.1'): SelfSignedCertificate {
  const dir = tempDir('sluice-tls-')
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
        '-nodes',
        '-keyout',
        dir.file('key.pem'),
        '-out',
        dir.file('cert.pem'),
        '-days',
        '1',
        '-subj',
        `/CN=${commonName}`,
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    )
    return { key: readFileSync(dir.file('key.pem')), cert: readFileSync(dir.file('cert.pem')) }
  } finally {
    dir.remove()
  }
}
