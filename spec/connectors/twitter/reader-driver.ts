import type { Logger } from '../../../lib/logging.js'
import { MetricGroup } from '../../../lib/runtime/metric-group.js'
import type { DeadLetter } from '../../../lib/runtime/output-tag.js'
import type { InputStatus } from '../../../lib/runtime/source.js'
import { type ProcessingTimeService, systemProcessingTime } from '../../../lib/time/processing-time.js'
import type { TweetRecord, TwitterSourceState } from '../../../lib/connectors/twitter/index.js'
import { TwitterSource, type TwitterSourceOptions } from '../../../lib/connectors/twitter/index.js'
import type { TwitterReader } from '../../../lib/connectors/twitter/reader.js'

/**
 * Drives a Twitter reader as the runtime does (poll while records come, wait on `isAvailable`),
 * keeping what it emitted, its dead letters, its log lines and the error it failed with.
 *
 * @example
 * const d = TweetDriver.start({ bearerToken: x.token, baseUrl: x.baseUrl, stream: 'sample' })
 * await waitFor(() => d.records.length === 10)
 */
export class TweetDriver {
  readonly records: TweetRecord[] = []
  readonly timestamps: Array<number | undefined> = []
  readonly letters: DeadLetter[] = []
  readonly logs: string[] = []
  readonly metrics = new MetricGroup('twitter')
  failure: unknown
  readonly reader: TwitterReader
  private stopped = false
  private readonly loop: Promise<void>

  private constructor(
    options: TwitterSourceOptions,
    restored: TwitterSourceState[] | undefined,
    processingTime: ProcessingTimeService,
  ) {
    const log = (level: string) => (message: string, fields?: Record<string, unknown>) =>
      void this.logs.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`)
    const logger: Logger = {
      debug: log('debug'),
      info: log('info'),
      warn: log('warn'),
      error: log('error'),
      child: () => logger,
    }
    this.reader = new TwitterSource(options).createReader(
      {
        subtask: 0,
        parallelism: 1,
        processingTime,
        logger,
        metrics: this.metrics,
        deadLetter: (letter) => void this.letters.push(letter),
      },
      restored,
    )
    this.reader.start()
    this.loop = this.run()
  }

  /** Builds the source and starts its reader (on `processingTime`: a ManualClock drives its timers). */
  static start(
    options: TwitterSourceOptions,
    restored?: TwitterSourceState[],
    processingTime: ProcessingTimeService = systemProcessingTime,
  ): TweetDriver {
    return new TweetDriver(options, restored, processingTime)
  }

  /** Tweet ids emitted, in order. */
  get ids(): string[] {
    return this.records.map((r) => r.tweet.id)
  }

  metric(name: string): number {
    return this.metrics.value(name) ?? 0
  }

  async close(): Promise<void> {
    this.stopped = true
    this.reader.close()
    await this.loop
  }

  private async run(): Promise<void> {
    const output = {
      collect: (value: TweetRecord, timestamp?: number) => {
        this.records.push(value)
        this.timestamps.push(timestamp)
      },
      emitWatermark: () => {},
      markIdle: () => {},
    }
    while (!this.stopped) {
      let status: InputStatus
      try {
        status = this.reader.pollNext(output)
      } catch (error) {
        this.failure = error
        return
      }
      if (status === 'nothing-available')
        await Promise.race([this.reader.isAvailable(), new Promise((resolve) => setTimeout(resolve, 20))])
      else if (this.records.length % 256 === 0) await new Promise((resolve) => setImmediate(resolve))
    }
  }
}
