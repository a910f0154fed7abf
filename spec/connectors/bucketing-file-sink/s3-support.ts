import {
  AbortMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3'
import type { S3Server } from '../../support/s3-server.js'

/** Every key in `bucket` under `prefix`, sorted. */
export async function listKeys(client: S3Client, bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = []
  let token: string | undefined
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    )
    for (const o of page.Contents ?? []) keys.push(o.Key!)
    token = page.IsTruncated ? page.NextContinuationToken : undefined
  } while (token !== undefined)
  return keys.sort()
}

/** The bytes of an object. */
export async function readObject(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
  return Buffer.from(await got.Body!.transformToByteArray())
}

/** Keys whose last segment is hidden (a dot-name: the sink's temporary objects). */
export function hiddenKeys(keys: readonly string[]): string[] {
  return keys.filter((k) => k.split('/').pop()!.startsWith('.'))
}

/** Deletes every object and aborts every upload of `bucket` (between tests sharing one server). */
export async function emptyBucket(s3: S3Server, client: S3Client, bucket: string): Promise<void> {
  for (const u of await s3.uploads(bucket))
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.key, UploadId: u.uploadId }))
  const keys = await listKeys(client, bucket)
  if (keys.length > 0)
    await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } }))
}
