/** What a rolling policy sees of the part file being written in a bucket. */
export interface PartFileInfo {
  readonly bucketId: string
  /** Processing time when the part received its first record. */
  readonly creationTime: number
  /** Processing time of the part's last record. */
  readonly lastUpdateTime: number
  /**
   * Bytes the encoder produced for the part so far (before compression), header included. Strings not
   * yet encoded (at most the sink's `writeBufferBytes` of them) count by their length, which is their
   * UTF-8 size for ASCII text and less for other text.
   */
  readonly size: number
}

/**
 * Decides when the in-progress part file of a bucket is closed and a new one started (Flink's
 * RollingPolicy). The bucketing file sink additionally closes every open part on each checkpoint, so a
 * policy only says when to roll *between* checkpoints. Called on every record: keep it cheap.
 *
 * @example
 * const everyThousandLines: RollingPolicy = { name: 'lines', rollsOnProcessingTime: false,
 *   shouldRollOnEvent: (part) => part.size >= 64_000, shouldRollOnProcessingTime: () => false }
 */
export interface RollingPolicy {
  readonly name: string
  /** Before a record is written to `part`: true closes `part` and writes the record to a new one. */
  shouldRollOnEvent(part: PartFileInfo, value: unknown): boolean
  /** On a write, and on the sink's periodic bucket check: true closes `part`. */
  shouldRollOnProcessingTime(part: PartFileInfo, now: number): boolean
  /** False when `shouldRollOnProcessingTime` never says yes: the sink then sets no check timer. */
  readonly rollsOnProcessingTime: boolean
}
