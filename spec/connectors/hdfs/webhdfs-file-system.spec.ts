import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ConfigError, ConnectorError } from '../../../lib/errors.js'
import { validLengthPath, webHdfs, WebHdfsError, type WebHdfsOptions } from '../../../lib/connectors/hdfs/index.js'
import { freePort } from '../../support/brokers.js'
import { type HdfsServer, startHdfs } from '../../support/hdfs-server.js'
import { WebHdfsProxy } from '../../support/webhdfs-proxy.js'

/**
 * The WebHDFS file system against a real HDFS (a MiniDFSCluster with WebHDFS, servers/hdfs): every
 * FileSystem operation, the two-step CREATE/APPEND, TRUNCATE, DataNode and NameNode restarts; and,
 * through spec/support/webhdfs-proxy.ts, what a minicluster cannot show on demand: an answer lost after
 * the DataNode appended, an append cut short, a server without TRUNCATE, a standby NameNode.
 */
const Fs = suite('webhdfs file system')
let hdfs: HdfsServer
let proxy: WebHdfsProxy

Fs.before(async () => {
  hdfs = await startHdfs()
  proxy = await WebHdfsProxy.start(hdfs.webHdfsUrl)
})
Fs.after(async () => {
  await proxy?.stop()
  await hdfs?.stop()
})

const fileSystem = (options: Partial<WebHdfsOptions> = {}) =>
  webHdfs({
    url: hdfs.webHdfsUrl,
    user: hdfs.superuser,
    ...options,
    retry: { initialDelayMs: 20, maxDelayMs: 200, ...options.retry },
  })
const text = async (fs: ReturnType<typeof fileSystem>, path: string) => Buffer.from(await fs.read(path)).toString()
const rejection = async (promise: Promise<unknown>): Promise<Error> => {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a rejection')
}

Fs(
  'create, write, sync, close: the bytes are in HDFS; create refuses an existing file, overwrite and append do not',
  async () => {
    const fs = fileSystem({ appendBufferBytes: 8 })
    await fs.mkdirs('/ops/create')
    const file = await fs.create('/ops/create/a')
    await file.write(Buffer.from('hello '))
    await file.write(Buffer.from('world\n')) // over 8 bytes held: appended now
    assert.is(await text(fs, '/ops/create/a'), 'hello world\n')
    await file.write(Buffer.from('x'))
    await file.sync()
    assert.is(await text(fs, '/ops/create/a'), 'hello world\nx', 'sync appended what was held')
    await file.write(Buffer.from('y'))
    await file.close()
    assert.is(await text(fs, '/ops/create/a'), 'hello world\nxy')
    const refused = await rejection(fs.create('/ops/create/a'))
    assert.instance(refused, WebHdfsError)
    assert.is((refused as WebHdfsError).exception, 'FileAlreadyExistsException')
    const again = await fs.create('/ops/create/a', { mode: 'append' })
    await again.write(Buffer.from('z'))
    await again.close()
    assert.is(await text(fs, '/ops/create/a'), 'hello world\nxyz')
    const over = await fs.create('/ops/create/a', { mode: 'overwrite' })
    await over.write(Buffer.from('new'))
    await over.close()
    assert.is(await text(fs, '/ops/create/a'), 'new')
  },
)

Fs('CREATE and APPEND are two-step: the NameNode redirects, the data goes to the DataNode', async () => {
  const fs = fileSystem({ url: proxy.url })
  proxy.requests.length = 0
  const file = await fs.create('/ops/two-step')
  await file.write(Buffer.from('data'))
  await file.close()
  const steps = proxy.requests.map((r) => r.replace(/\?.*op=(\w+).*/, ' $1').replace(/ \/[^ ]*/, ''))
  assert.equal(steps, ['PUT namenode CREATE', 'PUT datanode CREATE', 'POST namenode APPEND', 'POST datanode APPEND'])
  assert.ok(proxy.requests.every((r) => r.includes(`user.name=${hdfs.superuser}`)))
})

Fs('rename, exists, list, delete, mkdirs', async () => {
  const fs = fileSystem()
  await fs.mkdirs('/ops/ns/b/c')
  await fs.mkdirs('/ops/ns/b/c') // exists: no error
  await (await fs.create('/ops/ns/b/.f.inprogress')).close()
  assert.ok(await fs.exists('/ops/ns/b/.f.inprogress'))
  await fs.rename('/ops/ns/b/.f.inprogress', '/ops/ns/b/f')
  assert.not.ok(await fs.exists('/ops/ns/b/.f.inprogress'))
  assert.ok(await fs.exists('/ops/ns/b/f'))
  const entries = (await fs.list('/ops/ns/b')).sort((a, b) => a.name.localeCompare(b.name))
  assert.equal(entries, [
    { name: 'c', path: '/ops/ns/b/c', isDirectory: true },
    { name: 'f', path: '/ops/ns/b/f', isDirectory: false },
  ])
  assert.equal(await fs.list('/ops/ns/missing'), [], 'a missing directory lists empty')
  await (await fs.create('/ops/ns/b/g')).close()
  const refused = await rejection(fs.rename('/ops/ns/b/g', '/ops/ns/b/f'))
  assert.is((refused as ConnectorError).code, 'ERR_HDFS', 'rename does not replace an existing target')
  assert.ok(await fs.delete('/ops/ns/b/f'))
  assert.not.ok(await fs.delete('/ops/ns/b/f'), 'deleting a missing path answers false')
  assert.ok(await fs.delete('/ops/ns', { recursive: true }))
  assert.not.ok(await fs.exists('/ops/ns/b/c'))
  assert.is(fs.join('/ops', 'a', 'b'), '/ops/a/b')
  assert.is(fs.name, `webhdfs://${new URL(hdfs.webHdfsUrl).host}`)
})

Fs('truncate cuts the file (block recovery included) and the file can be appended to again', async () => {
  const fs = fileSystem({ retry: { maxRetries: 20 } })
  const file = await fs.create('/ops/truncate')
  await file.write(Buffer.from('0123456789'))
  await file.close()
  assert.is(await fs.truncate('/ops/truncate', 4), 'truncated')
  assert.is(await text(fs, '/ops/truncate'), '0123', 'after truncate')
  const more = await fs.create('/ops/truncate', { mode: 'append' })
  await more.write(Buffer.from('xy'))
  await more.close()
  assert.is(await text(fs, '/ops/truncate'), '0123xy')
})

Fs('a server without TRUNCATE: a valid-length file is written beside the file, as BucketingSink did', async () => {
  const fs = fileSystem({ url: proxy.url })
  const file = await fs.create('/ops/valid-length')
  await file.write(Buffer.from('0123456789'))
  await file.close()
  proxy.inject('TRUNCATE', 'namenode', {
    kind: 'answer',
    status: 400,
    exception: 'IllegalArgumentException',
    message: 'Invalid value for webhdfs parameter "op": No enum constant TRUNCATE',
  })
  assert.is(await fs.truncate('/ops/valid-length', 6), 'valid-length')
  assert.is(validLengthPath('/ops/valid-length'), '/ops/_valid-length.valid-length')
  assert.is(await text(fs, '/ops/_valid-length.valid-length'), '6')
  assert.is(await text(fs, '/ops/valid-length'), '0123456789', 'the file itself is untouched')
})

Fs('an APPEND whose answer is lost after the DataNode appended is not sent again', async () => {
  const fs = fileSystem({ url: proxy.url })
  const file = await fs.create('/ops/lost-answer')
  await file.write(Buffer.from('first;'))
  await file.sync()
  proxy.inject('APPEND', 'datanode', { kind: 'lose-answer' })
  await file.write(Buffer.from('second;'))
  await file.sync()
  await file.write(Buffer.from('third'))
  await file.close()
  assert.is(proxy.pendingFaults, 0)
  assert.is(await text(fs, '/ops/lost-answer'), 'first;second;third')
})

Fs('an APPEND cut short is truncated back and sent again: no byte lost or doubled', async () => {
  const fs = fileSystem({ url: proxy.url, retry: { maxRetries: 20 } })
  const file = await fs.create('/ops/cut')
  await file.write(Buffer.from('first;'))
  await file.sync()
  proxy.inject('APPEND', 'datanode', { kind: 'cut-data', bytes: 3 })
  await file.write(Buffer.from('second;'))
  await file.close()
  assert.is(proxy.pendingFaults, 0)
  assert.is(await text(fs, '/ops/cut'), 'first;second;')
})

Fs('a reset connection is retried; a standby NameNode is passed over for the next URL', async () => {
  const fs = fileSystem({ url: [proxy.url, hdfs.webHdfsUrl] })
  proxy.inject('MKDIRS', 'namenode', { kind: 'reset' })
  await fs.mkdirs('/ops/retried')
  assert.ok(await fileSystem().exists('/ops/retried'))
  const standby = fileSystem({ url: [proxy.url, hdfs.webHdfsUrl] })
  proxy.inject('GETFILESTATUS', 'namenode', {
    kind: 'answer',
    status: 403,
    exception: 'StandbyException',
    message: 'Operation category READ is not supported in state standby',
  })
  assert.ok(await standby.exists('/ops/retried'))
  assert.is(standby.client.url, hdfs.webHdfsUrl, 'the standby was left for the other NameNode')
})

Fs('unreachable: ERR_CONNECT after the configured retries, the delegation token never in the message', async () => {
  const port = await freePort()
  const fs = webHdfs({
    url: `http://127.0.0.1:${port}`,
    delegationToken: 'TOKEN-s3cr3t',
    retry: { maxRetries: 2, initialDelayMs: 5 },
  })
  const error = await rejection(fs.mkdirs('/x'))
  assert.instance(error, ConnectorError)
  assert.is((error as ConnectorError).code, 'ERR_CONNECT')
  assert.match(error.message, /after 3 attempts/)
  assert.not.match(error.message, /s3cr3t/)
  // A refused credential fails at once, the token not echoed either.
  const refusing = webHdfs({ url: proxy.url, delegationToken: 'TOKEN-s3cr3t', retry: { maxRetries: 5 } })
  proxy.inject('MKDIRS', 'namenode', {
    kind: 'answer',
    status: 401,
    exception: 'SecurityException',
    message: 'Failed to obtain user group information: token (delegation=TOKEN-s3cr3t) is expired',
  })
  const refused = await rejection(refusing.mkdirs('/x'))
  assert.is((refused as ConnectorError).code, 'ERR_CONNECT')
  assert.match(refused.message, /credential refused/)
  assert.not.match(refused.message, /s3cr3t/)
  assert.is(proxy.pendingFaults, 0)
})

Fs('bad options fail when built, naming the option', () => {
  const thrown = (options: unknown) => {
    try {
      webHdfs(options as WebHdfsOptions)
    } catch (error) {
      assert.instance(error, ConfigError)
      return (error as ConfigError).option
    }
    throw new Error('no ConfigError')
  }
  assert.is(thrown({}), 'webHdfs.url')
  assert.is(thrown({ url: 'webhdfs://nn:9870' }), 'webHdfs.url')
  assert.is(thrown({ url: ['http://a:1', ''] }), 'webHdfs.url[1]')
  assert.is(thrown({ url: 'http://u:p@nn:9870' }), 'webHdfs.url')
  assert.is(thrown({ url: 'http://nn:9870', usr: 'x' }), 'webHdfs.usr')
  assert.is(thrown({ url: 'http://nn:9870', retry: { maxDelayMs: -1 } }), 'webHdfs.retry.maxDelayMs')
  assert.is(thrown({ url: 'http://nn:9870', appendBufferBytes: 0 }), 'webHdfs.appendBufferBytes')
  try {
    webHdfs({ url: 'http://nn:9870', usr: 'x' } as unknown as WebHdfsOptions)
  } catch (error) {
    assert.match((error as Error).message, /did you mean user\?/)
  }
})

Fs('a DataNode restart and a NameNode restart between appends: the file goes on, nothing lost or doubled', async () => {
  const fs = fileSystem({ retry: { maxRetries: 30, maxDelayMs: 500 } })
  const file = await fs.create('/ops/restarts')
  await file.write(Buffer.from('a;'))
  await file.sync()
  await hdfs.restartDataNode()
  await file.write(Buffer.from('b;'))
  await file.sync()
  await hdfs.restartNameNode()
  await file.write(Buffer.from('c'))
  await file.close()
  assert.is(await text(fs, '/ops/restarts'), 'a;b;c')
})

Fs.run()
