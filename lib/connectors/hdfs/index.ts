import { type WebHdfsOptions, webHdfsSettings } from './options.js'
import { WebHdfsFileSystem } from './webhdfs-file-system.js'

export type { WebHdfsOptions, WebHdfsSettings } from './options.js'
export { webHdfsSettings } from './options.js'
export { WebHdfsClient, type WebHdfsCall, type WebHdfsOp } from './webhdfs-client.js'
export { WebHdfsError } from './webhdfs-error.js'
export { validLengthPath, WebHdfsFileSystem } from './webhdfs-file-system.js'

/**
 * HDFS over WebHDFS as the bucketing file sink's store; options are checked here, when the job is
 * built. No JVM and no npm dependency: the REST API on node:http.
 *
 * @example
 * bucketingFileSink('/data/events', {
 *   fileSystem: webHdfs({ url: 'http://namenode:9870', user: 'etl', retry: { maxRetries: 3 } }),
 *   encoder: jsonLines(),
 * })
 */
export function webHdfs(options: WebHdfsOptions): WebHdfsFileSystem {
  return new WebHdfsFileSystem(webHdfsSettings(options))
}
