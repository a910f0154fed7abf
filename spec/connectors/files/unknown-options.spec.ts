import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { CsvFileSink } from '../../../lib/connectors/files/csv-file-sink.js'
import { DirectoryMonitorSource } from '../../../lib/connectors/files/directory-monitor-source.js'
import { TextFileSink } from '../../../lib/connectors/files/text-file-sink.js'
import { TextFileSource } from '../../../lib/connectors/files/text-file-source.js'
import { PrintSink } from '../../../lib/connectors/print/print-sink.js'
import { configError } from '../../support/config-error.js'

test('a misspelt option of a file or print connector fails, naming it and suggesting the known key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-options-'))
  try {
    const file = join(dir, 'in.txt')
    writeFileSync(file, 'a\n')
    const cases: Array<[() => unknown, string, string]> = [
      [() => new TextFileSource(file, { bufferSise: 10 } as never), 'readTextFile.bufferSise', 'bufferSize'],
      [() => new DirectoryMonitorSource(dir, { intervalMS: 10 } as never), 'monitorDirectory.intervalMS', 'intervalMs'],
      [
        () => new TextFileSink(join(dir, 'o'), { writemode: 'overwrite' } as never),
        'textFileSink.writemode',
        'writeMode',
      ],
      [
        () => new CsvFileSink(join(dir, 'c'), { fieldDelimeter: ';' } as never),
        'csvFileSink.fieldDelimeter',
        'fieldDelimiter',
      ],
      [() => new PrintSink({ prefx: 'p' } as never), 'printSink.prefx', 'prefix'],
    ]
    for (const [build, option, suggestion] of cases) {
      const error = configError(build)
      assert.is(error.option, option)
      assert.match(error.message, `did you mean ${suggestion}?`)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
