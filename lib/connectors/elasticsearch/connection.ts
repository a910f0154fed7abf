import type { Client, ClientOptions } from '@elastic/elasticsearch'
import { messageOf } from '../../errors.js'
import type { ProcessingTimeService } from '../../time/processing-time.js'
import { optionalDependency } from '../../util/optional-dependency.js'
import { redactText } from '../../util/redact.js'
import { connectWithRetry } from '../base/connect-retry.js'
import type { ElasticsearchConnectionSettings } from './options.js'

const elasticsearch = await optionalDependency<typeof import('@elastic/elasticsearch')>('@elastic/elasticsearch')

/**
 * Fails when `@elastic/elasticsearch` is not installed: the sink calls it when it is built.
 *
 * @example
 * checkElasticsearchClient('elasticsearchSink')
 */
export function checkElasticsearchClient(usedBy: string): void {
  elasticsearch.check(usedBy)
}

/**
 * The nodes as they may appear in a message: without user info.
 *
 * @example
 * describeNodes(['http://u:p@es:9200']) // 'http://es:9200'
 */
export function describeNodes(nodes: readonly string[]): string {
  return nodes
    .map((node) => {
      const url = new URL(node)
      url.username = ''
      url.password = ''
      return url.origin + (url.pathname === '/' ? '' : url.pathname)
    })
    .join(', ')
}

/**
 * A client for the settings: the client's own retries off (the sink retries, resending only failed
 * items), sniffing only when asked for, credentials removed from the metadata of the client's errors.
 *
 * @example
 * const client = elasticsearchClient(settings.connection)
 */
export function elasticsearchClient(settings: ElasticsearchConnectionSettings): Client {
  const { Client } = elasticsearch.get('elasticsearchSink')
  const options: ClientOptions = {
    nodes: [...settings.nodes],
    requestTimeout: settings.requestTimeoutMs,
    maxRetries: 0,
    sniffOnStart: settings.sniffing,
    sniffOnConnectionFault: settings.sniffing,
    redaction: { type: 'remove' },
    ...(settings.auth === undefined ? {} : { auth: settings.auth as ClientOptions['auth'] }),
    ...(settings.tls === undefined ? {} : { tls: settings.tls as ClientOptions['tls'] }),
  }
  return new Client(options)
}

/**
 * Asks the cluster who it is (`GET /`, which also checks that it is Elasticsearch) until it answers,
 * with the connection retries; then ConnectorError 'ERR_CONNECT' naming the nodes without credentials.
 *
 * @example
 * await connectElasticsearch(client, settings.connection, context.processingTime, () => closed)
 */
export async function connectElasticsearch(
  client: Client,
  settings: ElasticsearchConnectionSettings,
  clock: ProcessingTimeService,
  closed: () => boolean,
): Promise<void> {
  await connectWithRetry(
    async () => {
      try {
        await client.info(undefined, { requestTimeout: settings.retry.connectTimeoutMs })
      } catch (error) {
        // The client's error carries the request (headers included) in its metadata: keep only the text.
        throw new Error(redactText(messageOf(error)))
      }
    },
    settings.retry,
    { target: `elasticsearch sink: nodes ${describeNodes(settings.nodes)}`, clock, closed },
  )
}
