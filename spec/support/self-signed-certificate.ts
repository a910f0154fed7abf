import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { tempDir } from './temp-dir.js'

/**
 * A self-signed certificate for 127.0.0.1, made by `openssl` for this run (nothing committed): the
 * server's `key` and `cert`, and the `cert` a client trusts as its `ca`.
 *
 * @example
 * const { key, cert } = selfSignedCertificate()
 * new TcpServerSource({ tls: { key, cert } })
 */
export function selfSignedCertificate(): { key: Buffer; cert: Buffer } {
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
        '/CN=127.0.0.1',
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
