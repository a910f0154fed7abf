import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readdir, readFile, rm, stat } from 'node:fs/promises'
import { type IncomingMessage, type Server, type ServerResponse, createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { type TempDir, tempDir } from './temp-dir.js'
import { coordinatorOnly, passValue, replayedTest } from './worker-pass/pass-context.js'

/**
 * s3rver (npm, in process) behind a loopback proxy that adds what s3rver lacks of S3's multipart API,
 * over s3rver's own store, per S3's documented XML:
 * - ListMultipartUploads (`GET /bucket?uploads`, with prefix, key-marker, upload-id-marker, max-uploads);
 * - ListParts (`GET /bucket/key?uploadId=`, with part-number-marker, max-parts);
 * - AbortMultipartUpload (`DELETE /bucket/key?uploadId=`: 204; the parts are gone);
 * - NoSuchUpload (404) for UploadPart, CompleteMultipartUpload, ListParts and Abort of an upload that
 *   does not exist (s3rver answers 500, or recreates the upload's directory on UploadPart);
 * - CompleteMultipartUpload checks as S3 does: each listed part exists with that ETag (else 400
 *   InvalidPart), the parts in ascending order (InvalidPartOrder), every part but the last ≥ 5 MiB
 *   (EntityTooSmall).
 * Everything else goes to s3rver unchanged (its SigV4 check included: the proxy keeps the Host header).
 * The added routes do not check signatures.
 *
 * @example
 * const s3 = await startS3Server(['archive']); try { new S3Client(s3.clientConfig) } finally { await s3.stop() }
 */
export interface S3Server {
  /** The proxy's URL: what clients use. */
  readonly endpoint: string
  /** The S3Client configuration s3rver accepts (its fixed key pair, path style, checksums when required). */
  readonly clientConfig: {
    endpoint: string
    region: string
    forcePathStyle: true
    credentials: { accessKeyId: string; secretAccessKey: string }
    requestChecksumCalculation: 'WHEN_REQUIRED'
    responseChecksumValidation: 'WHEN_REQUIRED'
  }
  /** The keys of the multipart uploads in progress in `bucket`. */
  uploads(bucket: string): Promise<Array<{ key: string; uploadId: string }>>
  /** Requests seen by the proxy, as `METHOD subresource` (`POST uploadId`, `GET uploads`), in order. */
  readonly requests: string[]
  stop(): Promise<void>
  /**
   * Lets the process exit while the servers run (a benchmark has no teardown): their listening and
   * connection sockets no longer hold the event loop, and the store's directory is removed on exit.
   */
  unref(): void
}

interface S3rverInstance {
  run(): Promise<AddressInfo>
  close(): Promise<void>
  readonly httpServer?: Server
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance

const MIN_PART = 5 * 1024 * 1024
const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/'

/**
 * Starts s3rver with `buckets` and the proxy, both on free loopback ports. In a worker of the
 * worker-executor test pass replaying a test, the server is the coordinator's: the worker gets its
 * proxy's port (`passValue`) and starts nothing, and what the test asks of the server runs on the
 * coordinator only.
 *
 * @example
 * const s3 = await startS3Server(['archive'])
 */
export async function startS3Server(buckets: readonly string[]): Promise<S3Server> {
  // the proxy's port, in a slot taken at the call (so that concurrent calls keep their order in a replaying worker)
  const port = new Int32Array(passValue(() => new SharedArrayBuffer(4)))
  const dir: TempDir = tempDir('sluice-s3rver-')
  if (replayedTest() !== undefined) return coordinatorsServer(Atomics.load(port, 0))
  const S3rver = createRequire(import.meta.url)('s3rver') as S3rverClass
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory: dir.path,
    silent: true,
    resetOnClose: true,
    configureBuckets: buckets.map((name) => ({ name })),
  })
  const { port: backendPort } = await s3rver.run()
  const requests: string[] = []
  const uploadsDir = (bucket: string) => join(dir.path, bucket, '._S3rver_uploads')
  const uploadDir = (bucket: string, uploadId: string) =>
    join(uploadsDir(bucket), uploadId.replace(/[^0-9a-zA-Z_-]/g, ''))

  const listUploads = async (bucket: string) => {
    const ids = existsSync(uploadsDir(bucket)) ? await readdir(uploadsDir(bucket)) : []
    const uploads: Array<{ key: string; uploadId: string; initiated: Date }> = []
    for (const uploadId of ids) {
      const keyFile = join(uploadDir(bucket, uploadId), 'key')
      if (!existsSync(keyFile)) continue
      const [key, info] = await Promise.all([readFile(keyFile, 'utf8'), stat(keyFile)])
      uploads.push({ key, uploadId, initiated: info.mtime })
    }
    return uploads.sort((a, b) => (a.key === b.key ? cmp(a.uploadId, b.uploadId) : cmp(a.key, b.key)))
  }

  const listParts = async (bucket: string, uploadId: string) => {
    const directory = uploadDir(bucket, uploadId)
    const entries = await readdir(directory)
    // a part whose upload is still being received has no .md5 yet: S3 lists it only once stored
    const names = entries.filter((n) => /^\d+$/.test(n) && entries.includes(`${n}.md5`))
    const parts = await Promise.all(
      names.map(async (n) => {
        const [md5, info] = await Promise.all([readFile(join(directory, `${n}.md5`), 'utf8'), stat(join(directory, n))])
        return { partNumber: Number(n), etag: md5.trim(), size: info.size, lastModified: info.mtime }
      }),
    )
    return parts.sort((a, b) => a.partNumber - b.partNumber)
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const [, bucket = '', ...keyParts] = url.pathname.split('/')
    const key = decodeURIComponent(keyParts.join('/'))
    const q = url.searchParams
    const sub = q.has('uploads') ? 'uploads' : q.has('uploadId') ? 'uploadId' : ''
    requests.push(`${req.method} ${sub}`.trim())
    if (req.method === 'GET' && key === '' && q.has('uploads')) {
      const prefix = q.get('prefix') ?? ''
      const keyMarker = q.get('key-marker') ?? ''
      const idMarker = q.get('upload-id-marker') ?? ''
      const max = Number(q.get('max-uploads') ?? 1000)
      const all = (await listUploads(bucket)).filter(
        (u) =>
          u.key.startsWith(prefix) &&
          (keyMarker === '' || u.key > keyMarker || (idMarker !== '' && u.key === keyMarker && u.uploadId > idMarker)),
      )
      const page = all.slice(0, max)
      const truncated = all.length > page.length
      const last = page[page.length - 1]
      xml(
        res,
        200,
        `<ListMultipartUploadsResult xmlns="${XMLNS}"><Bucket>${esc(bucket)}</Bucket><KeyMarker>${esc(keyMarker)}</KeyMarker><UploadIdMarker>${esc(idMarker)}</UploadIdMarker><NextKeyMarker>${esc(last?.key ?? '')}</NextKeyMarker><NextUploadIdMarker>${esc(last?.uploadId ?? '')}</NextUploadIdMarker><Prefix>${esc(prefix)}</Prefix><MaxUploads>${max}</MaxUploads><IsTruncated>${truncated}</IsTruncated>${page
          .map(
            (u) =>
              `<Upload><Key>${esc(u.key)}</Key><UploadId>${esc(u.uploadId)}</UploadId><Initiator><ID>S3RVER</ID><DisplayName>S3rver</DisplayName></Initiator><Owner><ID>S3RVER</ID><DisplayName>S3rver</DisplayName></Owner><StorageClass>STANDARD</StorageClass><Initiated>${u.initiated.toISOString()}</Initiated></Upload>`,
          )
          .join('')}</ListMultipartUploadsResult>`,
      )
      return true
    }
    if (!q.has('uploadId') || key === '') return false
    const uploadId = q.get('uploadId') ?? ''
    const directory = uploadDir(bucket, uploadId)
    if (!existsSync(join(directory, 'key'))) {
      await drain(req)
      xml(
        res,
        404,
        `<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.</Message><UploadId>${esc(uploadId)}</UploadId></Error>`,
      )
      return true
    }
    if (req.method === 'DELETE') {
      await rm(directory, { recursive: true, force: true })
      res.writeHead(204).end()
      return true
    }
    if (req.method === 'GET') {
      const marker = Number(q.get('part-number-marker') ?? 0)
      const max = Number(q.get('max-parts') ?? 1000)
      const all = (await listParts(bucket, uploadId)).filter((p) => p.partNumber > marker)
      const page = all.slice(0, max)
      const truncated = all.length > page.length
      xml(
        res,
        200,
        `<ListPartsResult xmlns="${XMLNS}"><Bucket>${esc(bucket)}</Bucket><Key>${esc(key)}</Key><UploadId>${esc(uploadId)}</UploadId><PartNumberMarker>${marker}</PartNumberMarker><NextPartNumberMarker>${page[page.length - 1]?.partNumber ?? marker}</NextPartNumberMarker><MaxParts>${max}</MaxParts><IsTruncated>${truncated}</IsTruncated><StorageClass>STANDARD</StorageClass>${page
          .map(
            (p) =>
              `<Part><PartNumber>${p.partNumber}</PartNumber><LastModified>${p.lastModified.toISOString()}</LastModified><ETag>"${p.etag}"</ETag><Size>${p.size}</Size></Part>`,
          )
          .join('')}</ListPartsResult>`,
      )
      return true
    }
    if (req.method === 'POST') {
      const body = await drain(req)
      const listed = [...body.toString('utf8').matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map((m) => ({
        partNumber: Number(/<PartNumber>(\d+)<\/PartNumber>/.exec(m[1]!)?.[1]),
        etag: (/<ETag>([\s\S]*?)<\/ETag>/.exec(m[1]!)?.[1] ?? '').replace(/&quot;|"/g, ''),
      }))
      const stored = new Map((await listParts(bucket, uploadId)).map((p) => [p.partNumber, p]))
      const error = completeError(listed, stored)
      if (error !== undefined) {
        xml(res, 400, `<Error><Code>${error[0]}</Code><Message>${esc(error[1])}</Message></Error>`)
        return true
      }
      forward(req, res, body)
      return true
    }
    return false
  }

  // Requests on one upload (UploadPart, Complete, Abort) run one at a time, each until its answer is
  // out: s3rver reads a completing upload's part files from disk, and an Abort removing them meanwhile
  // would crash it. S3 gives either order's outcome (completed, or NoSuchUpload), as this does.
  const uploadLocks = new Map<string, Promise<void>>()
  const onUpload = (uploadId: string, run: () => Promise<void>): void => {
    const previous = uploadLocks.get(uploadId) ?? Promise.resolve()
    const next = previous.then(run, run)
    uploadLocks.set(uploadId, next)
    void next.finally(() => {
      if (uploadLocks.get(uploadId) === next) uploadLocks.delete(uploadId)
    })
  }

  const forward = (req: IncomingMessage, res: ServerResponse, body?: Buffer) => {
    const upstream = request(
      { host: '127.0.0.1', port: backendPort, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      },
    )
    upstream.on('error', (error) => res.destroy(error))
    if (body === undefined) req.pipe(upstream)
    else upstream.end(body)
  }

  const serve = (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const answered = new Promise<void>((resolve) => res.once('close', () => resolve()))
    handle(req, res).then(
      (handled) => {
        if (!handled) forward(req, res)
      },
      (error: unknown) =>
        xml(res, 500, `<Error><Code>InternalError</Code><Message>${esc(String(error))}</Message></Error>`),
    )
    return answered
  }
  const proxy: Server = createServer((req, res) => {
    const uploadId = new URL(req.url ?? '/', 'http://localhost').searchParams.get('uploadId')
    if (uploadId === null || req.method === 'GET') void serve(req, res)
    else onUpload(uploadId, () => serve(req, res))
  })
  let unrefd = false
  for (const server of [proxy, s3rver.httpServer])
    server?.on('connection', (socket) => {
      if (unrefd) socket.unref()
    })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  Atomics.store(port, 0, (proxy.address() as AddressInfo).port)
  const endpoint = `http://127.0.0.1:${Atomics.load(port, 0)}`
  return {
    endpoint,
    clientConfig: clientConfig(endpoint),
    uploads: async (bucket) => (await listUploads(bucket)).map(({ key, uploadId }) => ({ key, uploadId })),
    requests,
    unref: () => {
      unrefd = true
      proxy.unref()
      s3rver.httpServer?.unref()
      process.once('exit', () => dir.remove())
    },
    stop: async () => {
      proxy.closeAllConnections()
      await new Promise<void>((resolve) => proxy.close(() => resolve()))
      await s3rver.close()
      dir.remove()
    },
  }
}

function clientConfig(endpoint: string): S3Server['clientConfig'] {
  return {
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  }
}

/** A replaying worker's view of the coordinator's server on `port`: it starts and stops nothing. */
function coordinatorsServer(port: number): S3Server {
  const endpoint = `http://127.0.0.1:${port}`
  return {
    endpoint,
    clientConfig: clientConfig(endpoint),
    uploads: () => coordinatorOnly(() => Promise.reject(new Error('no S3 server in a worker')), []),
    requests: [],
    unref: () => {},
    stop: async () => {},
  }
}

/** S3's checks of a CompleteMultipartUpload's part list: [code, message] of the first that fails. */
function completeError(
  listed: Array<{ partNumber: number; etag: string }>,
  stored: Map<number, { etag: string; size: number }>,
): [string, string] | undefined {
  if (listed.length === 0) return ['MalformedXML', 'The XML you provided was not well-formed.']
  for (let i = 0; i < listed.length; i++) {
    const part = listed[i]!
    if (i > 0 && part.partNumber <= listed[i - 1]!.partNumber)
      return ['InvalidPartOrder', 'The list of parts was not in ascending order.']
    const have = stored.get(part.partNumber)
    if (have === undefined || have.etag !== part.etag)
      return ['InvalidPart', `Part ${part.partNumber} could not be found or its entity tag did not match.`]
    if (i < listed.length - 1 && have.size < MIN_PART)
      return ['EntityTooSmall', `Part ${part.partNumber} is smaller than the minimum allowed object size.`]
  }
  return undefined
}

function xml(res: ServerResponse, status: number, body: string): void {
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n${body}`
  res.writeHead(status, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(text),
    'x-amz-request-id': createHash('md5').update(text).digest('hex').slice(0, 16),
  })
  res.end(text)
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

async function drain(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}
