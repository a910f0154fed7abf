import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { tempDir } from './temp-dir.js'

/**
 * A self-signed certificate made by `openssl` for this run (nothing committed): a P-256 key and a
 * certificate for `cn`, valid one day, with 127.0.0.1 as its IP subject name. With `passphrase` the
 * key is encrypted with it (PKCS#8, AES-256), as a client certificate's key usually is.
 *
 * @example
 * const server = selfSignedCertificate(); const client = selfSignedCertificate({ cn: 'sluice', passphrase: 'pw' })
 */
export function selfSignedCertificate(options: { cn?: string; passphrase?: string } = {}): {
  key: Buffer
  cert: Buffer
} {
  const dir = tempDir('sluice-tls-')
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
        dir.file('key.pem'),
        '-out',
        dir.file('cert.pem'),
        '-days',
        '1',
        '-subj',
        `/CN=${cn}`,
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
