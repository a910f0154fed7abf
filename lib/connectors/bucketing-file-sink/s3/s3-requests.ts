import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3'
import { ConnectorError, messageOf } from '../../../errors.js'
import { backoffDelay } from '../../../util/backoff.js'
import { REDACTED } from '../../../util/redact.js'
import { optionalDependency } from '../../../util/optional-dependency.js'
import type { S3WriterSettings } from './s3-options.js'

const sdk = await optionalDependency<typeof import('@aws-sdk/client-s3')>('@aws-sdk/client-s3')
const smithy = await optionalDependency<typeof import('@smithy/node-http-handler')>('@smithy/node-http-handler')

/**
 * The SDK module, for its command classes; a MissingPackageError when @aws-sdk/client-s3 is not installed.
 *
 * @example
 * const { UploadPartCommand } = s3Sdk('s3Writer')
 */
export function s3Sdk(usedBy: string): typeof import('@aws-sdk/client-s3') {
  return sdk.get(usedBy)
}

/**
 * A request the store answered definitively: not retried, handled by the caller (a missing upload or key).
 *
 * @example
 * try { await requests.send('HeadObject', head) } catch (error) { if (!isNotFound(error)) throw error }
 */
export function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } } | null
  return (
    e?.name === 'NoSuchUpload' ||
    e?.name === 'NoSuchKey' ||
    e?.name === 'NotFound' ||
    e?.$metadata?.httpStatusCode === 404
  )
}

/**
 * The S3 client of an `s3Writer` and its retries: every request is sent with the writer's retry
 * schedule (the SDK's own retries are off, so `retry.maxRetries` is the one count), and once the retries
 * are used up it fails with ConnectorError 'ERR_CONNECT' naming the bucket, the endpoint and the
 * request. A "not found" answer is not retried (see {@link isNotFound}). The configured credentials are
 * cut out of every message, the cause's included.
 *
 * @example
 * const requests = new S3Requests(resolveS3Options({ bucket: 'archive' }))
 * await requests.send('HeadObject', new (s3Sdk('s3Writer').HeadObjectCommand)({ Bucket: 'archive', Key: 'a' }))
 */
export class S3Requests {
  readonly client: S3Client
  /** `s3://bucket (endpoint …)`, for messages. */
  readonly target: string
  private readonly secrets: string[]

  constructor(readonly settings: S3WriterSettings) {
    const { S3Client } = sdk.get('s3Writer')
    const config: S3ClientConfig = {
      maxAttempts: 1,
      forcePathStyle: settings.forcePathStyle,
      // A stream or chunked body signed with a trailing checksum is stored as its framing by some
      // S3-compatible stores; checksums are sent where S3 requires them.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    }
    if (settings.region !== undefined) config.region = settings.region
    if (settings.endpoint !== undefined) config.endpoint = settings.endpoint
    if (settings.credentials !== undefined) config.credentials = { ...settings.credentials }
    if (settings.endpoint?.startsWith('http://')) config.requestHandler = new (smithy.get('s3Writer').NodeHttpHandler)()
    this.client = new S3Client(config)
    this.target = `s3://${settings.bucket} (${settings.endpoint === undefined ? `region ${settings.region ?? 'from the SDK chain'}` : `endpoint ${settings.endpoint.replace(/\/\/[^/@]*@/, '//')}`})`
    const c = settings.credentials
    this.secrets =
      c === undefined ? [] : [c.accessKeyId, c.secretAccessKey, c.sessionToken ?? ''].filter((s) => s !== '')
  }

  /** Sends `command`, retrying as the settings say; `what` names the request in the error. */
  async send<O>(what: string, command: unknown): Promise<O> {
    const schedule = this.settings.retry
    for (let attempt = 0; ; attempt++) {
      try {
        return (await this.client.send(command as Parameters<S3Client['send']>[0])) as O
      } catch (error) {
        if (isNotFound(error)) throw error
        if (attempt >= schedule.maxRetries) {
          const reason = this.redact(`${(error as Error)?.name ?? 'Error'}: ${messageOf(error)}`)
          const cause = new Error(reason)
          throw new ConnectorError(
            'ERR_CONNECT',
            `bucketingFileSink on ${this.target}: ${what} failed after ${attempt + 1} attempt(s): ${reason}`,
            { cause, retriable: true },
          )
        }
        await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt, schedule)))
      }
    }
  }

  /** `text` without the configured credentials. */
  redact(text: string): string {
    let out = text
    for (const secret of this.secrets) out = out.split(secret).join(REDACTED)
    return out
  }

  /** Closes the client's connections. */
  destroy(): void {
    this.client.destroy()
  }
}
