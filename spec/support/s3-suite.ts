import { S3Client } from '@aws-sdk/client-s3'
import type { Test } from 'uvu'
import { type S3Server, startS3Server } from './s3-server.js'

/** The S3 test server of one uvu suite, and a raw SDK client of it (to read back what a sink wrote). */
export interface SuiteS3 {
  /** Read inside tests: the server starts before the suite's first test. */
  readonly server: S3Server
  readonly client: S3Client
}

/**
 * One S3 test server (s3rver with the multipart extension of s3-server.ts) with `buckets` for `suite`:
 * started before its first test with a raw client, both stopped after its last. What every S3 spec of
 * the bucketing file sink set up by hand.
 *
 * @example
 * const S3 = suite('bucketing file sink on S3')
 * const s3 = s3ForSuite(S3, ['archive'])
 * S3('writes', async () => { s3Writer({ bucket: 'archive', endpoint: s3.server.endpoint }); await s3.client.send(list) })
 */
export function s3ForSuite(suite: Test, buckets: readonly string[]): SuiteS3 {
  let server: S3Server | undefined
  let client: S3Client | undefined
  suite.before(async () => {
    server = await startS3Server(buckets)
    client = new S3Client(server.clientConfig)
  })
  suite.after(async () => {
    client?.destroy()
    await server?.stop()
  })
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('s3ForSuite: the S3 server starts before the suite’s first test')
    return value
  }
  return {
    get server() {
      return started(server)
    },
    get client() {
      return started(client)
    },
  }
}
