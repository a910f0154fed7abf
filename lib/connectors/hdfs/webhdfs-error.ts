import { ConnectorError } from '../../errors.js'

/**
 * An operation the WebHDFS server refused: `exception` is the Java exception it named in its
 * `RemoteException` answer ('FileNotFoundException', 'FileAlreadyExistsException', …), or 'HTTP <status>'
 * when it named none. Code 'ERR_HDFS'. `afterAmbiguousAttempt` says an earlier attempt of the same call
 * failed without an answer, so it may have been done: a refused CREATE or RENAME then may be the echo
 * of that attempt's success.
 *
 * @example
 * try { await client.call('MKDIRS', '/a') } catch (e) { if (e instanceof WebHdfsError && e.exception === 'AccessControlException') … }
 */
export class WebHdfsError extends ConnectorError {
  constructor(
    message: string,
    readonly exception: string,
    readonly status: number,
    readonly afterAmbiguousAttempt: boolean,
  ) {
    super('ERR_HDFS', message, { retriable: false })
  }
}
