import {
  ElasticsearchSink,
  type ElasticsearchSinkOptions,
  type ElasticsearchSinkWriter,
} from '../../../lib/connectors/elasticsearch/index.js'
import { MetricGroup } from '../../../lib/runtime/metric-group.js'
import type { DeadLetter } from '../../../lib/runtime/output-tag.js'
import { systemProcessingTime } from '../../../lib/time/processing-time.js'

/**
 * The writer of an Elasticsearch sink as subtask 0 of 1 on the system clock, with its metrics; dead
 * letters are pushed to `letters`.
 *
 * @example
 * const { writer, metrics } = sinkWriter({ nodes: es.url, emitter: (e) => ({ type: 'index', index: 'a', document: e }) })
 */
export function sinkWriter<T>(
  options: ElasticsearchSinkOptions<T>,
  letters: DeadLetter[] = [],
): { writer: ElasticsearchSinkWriter<T>; metrics: MetricGroup } {
  const metrics = new MetricGroup('elasticsearch')
  const writer = new ElasticsearchSink<T>(options).createWriter({
    subtask: 0,
    parallelism: 1,
    processingTime: systemProcessingTime,
    metrics,
    deadLetter: (letter) => letters.push(letter),
  })
  return { writer, metrics }
}
