import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { MetricsRegistry, SubtaskMetrics } from '../../lib/runtime/job-metrics.js'
import { MetricGroup } from '../../lib/runtime/metric-group.js'
import { OperatorMetrics } from '../../lib/runtime/operator-metrics.js'
import { MirroredSubtaskMetrics, reportMetrics } from '../../lib/runtime/workers/worker-metrics.js'

/**
 * What a worker thread reports of its subtasks reaches the coordinator's metrics: here the connectors'
 * metric groups (a sink writer's counters and gauges), which `job.metrics().connectors` shows on both
 * executors.
 */
const WorkerMetrics = suite('worker metrics')

WorkerMetrics("a worker's report carries its connectors' counters and gauges to the coordinator's snapshot", () => {
  const inWorker = new SubtaskMetrics('sink', 1, [new OperatorMetrics('sink', 1)], 8, 16)
  const group = new MetricGroup('activemqSink')
  let connections = 1
  group.counter('sent').inc(40)
  group.gauge('connections', () => connections)
  inWorker.connectorGroups = [{ operator: 'sink', group }]

  // a report crosses the thread as a structured clone
  const registry = new MetricsRegistry(0)
  const mirror = new MirroredSubtaskMetrics(structuredClone(reportMetrics(new Map([['k', inWorker]])))[0]!)
  registry.subtasks.push(mirror)
  const expected = { connector: 'activemqSink', operator: 'sink', vertex: 'sink', subtask: 1 }
  assert.equal(registry.snapshot().connectors, [{ ...expected, counters: { sent: 40 }, gauges: { connections: 1 } }])

  // a newer report replaces the values
  connections = 2
  group.counter('sent').inc(2)
  mirror.update(structuredClone(reportMetrics(new Map([['k', inWorker]])))[0]!)
  assert.equal(registry.snapshot().connectors, [{ ...expected, counters: { sent: 42 }, gauges: { connections: 2 } }])
})

WorkerMetrics.run()
