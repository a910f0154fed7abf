import { ConfigError } from '../../errors.js'

/** Options of {@link OutputFileConfig}. */
export interface OutputFileConfigOptions {
  /** Start of every part file name; default 'part'. */
  partPrefix?: string
  /** End of every part file name ('.json', '.csv.gz'); default ''. */
  partSuffix?: string
}

/** What a part file name says. */
export interface ParsedPartName {
  readonly subtask: number
  readonly counter: number
  /** The hidden name of a part still being written or waiting for its checkpoint. */
  readonly inProgress: boolean
}

/**
 * How part files are named (Flink's OutputFileConfig and its naming): a finished part is
 * `<partPrefix>-<subtask>-<counter><partSuffix>`; while written and until its checkpoint completes it is
 * the hidden `.<finished name>.inprogress.<uuid>`, which tools that skip dot-files (Hive, Spark, Flink's
 * own file source) do not read. The counter is per subtask, across buckets, and continues after a
 * restore, so names never repeat.
 *
 * @example
 * const names = new OutputFileConfig({ partPrefix: 'events', partSuffix: '.json' })
 * names.partName(1, 7)                       // 'events-1-7.json'
 * names.inProgressName('events-1-7.json', id) // '.events-1-7.json.inprogress.<id>'
 */
export class OutputFileConfig {
  readonly partPrefix: string
  readonly partSuffix: string
  private readonly pattern: RegExp

  constructor(options: OutputFileConfigOptions = {}) {
    if (options === null || typeof options !== 'object')
      throw new ConfigError('bucketingFileSink.outputFileConfig', options, 'an options object')
    this.partPrefix = options.partPrefix ?? 'part'
    this.partSuffix = options.partSuffix ?? ''
    if (typeof this.partPrefix !== 'string' || this.partPrefix === '' || /[/\\\0]/.test(this.partPrefix)) {
      throw new ConfigError(
        'bucketingFileSink.outputFileConfig.partPrefix',
        options.partPrefix,
        "a non-empty file name part without '/', '\\' or NUL",
      )
    }
    if (typeof this.partSuffix !== 'string' || /[/\\\0]/.test(this.partSuffix)) {
      throw new ConfigError(
        'bucketingFileSink.outputFileConfig.partSuffix',
        options.partSuffix,
        "a file name part without '/', '\\' or NUL",
      )
    }
    this.pattern = new RegExp(
      `^(\\.)?${escapeRegExp(this.partPrefix)}-(\\d+)-(\\d+)${escapeRegExp(this.partSuffix)}(\\.inprogress\\.[0-9a-f-]{36})?$`,
    )
  }

  /** The finished name of part `counter` of `subtask`. */
  partName(subtask: number, counter: number): string {
    return `${this.partPrefix}-${subtask}-${counter}${this.partSuffix}`
  }

  /** The hidden name a part has until its checkpoint completes. */
  inProgressName(partName: string, uuid: string): string {
    return `.${partName}.inprogress.${uuid}`
  }

  /** The subtask and counter of a file name written with this config; undefined for any other name. */
  parse(fileName: string): ParsedPartName | undefined {
    const m = this.pattern.exec(fileName)
    if (m === null) return undefined
    const hidden = m[1] !== undefined
    const inProgress = m[4] !== undefined
    if (hidden !== inProgress) return undefined
    return { subtask: Number(m[2]), counter: Number(m[3]), inProgress }
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
