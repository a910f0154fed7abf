import type { ConnectionOptions } from 'node:tls'
import { ConfigError } from '../../errors.js'
import { booleanOption, nonEmptyString, optionKeys, optionsObject } from '../../util/options.js'

/** PEM text or its bytes. */
export type Pem = string | Buffer

/**
 * TLS settings of a connector's client connections, handed to Node's `tls.connect`: the CA that signed
 * a private cluster's certificates, a client certificate, and whether the server must prove who it is.
 */
export interface ClientTls {
  /** Certificates to trust besides Node's bundle (a self-signed cluster's CA). */
  readonly ca?: Pem | readonly Pem[]
  /** A client certificate (mutual TLS), with its `key`. */
  readonly cert?: Pem
  readonly key?: Pem
  /** The password of an encrypted `key`. */
  readonly passphrase?: string
  /** Default true: a certificate the CAs do not vouch for is refused. false accepts any (tests only). */
  readonly rejectUnauthorized?: boolean
  /** The name the certificate must carry when it differs from the host connected to. */
  readonly servername?: string
}

const CLIENT_TLS_OPTIONS = optionKeys<ClientTls>({
  ca: true,
  cert: true,
  key: true,
  passphrase: true,
  rejectUnauthorized: true,
  servername: true,
})

/**
 * Validates a `tls` option (each bad value named by its path, certificate and key contents never
 * printed) into options for `tls.connect`, with `rejectUnauthorized` true unless set to false: some
 * clients (cassandra-driver) default it to false, a connector never does.
 *
 * @example
 * clientTlsSettings('cassandraSink.tls', { ca: readFileSync('ca.pem') })
 * // { ca: <Buffer …>, rejectUnauthorized: true }
 */
export function clientTlsSettings(path: string, tls: ClientTls): ConnectionOptions {
  const t = optionsObject(path, tls, CLIENT_TLS_OPTIONS)
  const pem = (key: string, value: unknown) => {
    if (typeof value !== 'string' && !Buffer.isBuffer(value))
      throw new ConfigError(`${path}.${key}`, '(hidden)', 'PEM text or a Buffer')
  }
  if (Array.isArray(t.ca)) t.ca.forEach((ca: unknown, i: number) => void pem(`ca[${i}]`, ca))
  else if (t.ca !== undefined) pem('ca', t.ca)
  if (t.cert !== undefined) pem('cert', t.cert)
  if (t.key !== undefined) pem('key', t.key)
  if ((t.cert === undefined) !== (t.key === undefined))
    throw new ConfigError(`${path}.${t.cert === undefined ? 'cert' : 'key'}`, undefined, 'cert and key together')
  if (t.passphrase !== undefined && typeof t.passphrase !== 'string')
    throw new ConfigError(`${path}.passphrase`, '(hidden)', 'a string')
  return Object.freeze({
    ...(t.ca === undefined ? {} : { ca: Array.isArray(t.ca) ? [...t.ca] : (t.ca as Pem) }),
    ...(t.cert === undefined ? {} : { cert: t.cert, key: t.key }),
    ...(t.passphrase === undefined ? {} : { passphrase: t.passphrase }),
    ...(t.servername === undefined ? {} : { servername: nonEmptyString(`${path}.servername`, t.servername) }),
    rejectUnauthorized: booleanOption(`${path}.rejectUnauthorized`, t.rejectUnauthorized, true),
  })
}
