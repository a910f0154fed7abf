import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { StatusLine } from '../../lib/cli/status-line.js'
import { createLogger } from '../../lib/logging.js'
import { JobServer } from '../../lib/server/job-server.js'
import { tickingJob } from '../support/running-job.js'
import { waitFor } from '../support/wait-for.js'

test('the status line of a running job shows records/s into its sinks, backpressure and the last checkpoint', async () => {
  const server = await JobServer.start({ token: 't', logger: createLogger({ level: 'silent' }) })
  const job = tickingJob(server, 'status')
  try {
    await job.running
    const line = new StatusLine(job)
    assert.match(line.render(), /^running · 0 records\/s · backpressure \d+% · /)
    let text = ''
    await waitFor(
      () => {
        text = line.render()
        return /[1-9]\d* records\/s/.test(text) && /checkpoint #\d+ \d+ s ago/.test(text)
      },
      { timeoutMs: 10_000, intervalMs: 100, description: () => `status line: ${text}` },
    )
    assert.match(text, /restarts 0$/)
  } finally {
    await job.cancel()
    await server.close()
  }
})

test.run()
