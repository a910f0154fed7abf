import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { serverClasspath } from '../../support/jvm-server.js'
import { NiFiTestCluster } from '../../support/nifi-s2s-server.js'

// NiFi's own Java site-to-site client (org.apache.nifi:nifi-site-to-site-client 1.28, HTTP transport,
// resolved by servers/nifi-client/pom.xml) against the loopback server: it proves the server speaks
// NiFi's protocol — discovery, port names, transactions both ways, StandardFlowFileCodec framing and
// the CRC32 confirmation — so what the connector's tests show against the server holds for NiFi.

const CLIENT = join(import.meta.dirname, '../../support/nifi-java-client/Client.java')

test("NiFi's Java site-to-site client sends to and receives from the test server", async () => {
  const classpath = await serverClasspath('nifi-client')
  const nifi = await NiFiTestCluster.start({ nodes: 1, inputPorts: ['from-java'], outputPorts: ['to-java'] })
  try {
    nifi.enqueue(
      'to-java',
      [1, 2, 3].map((i) => ({ attributes: { n: String(i) }, content: Buffer.from(`node-${i}`) })),
    )
    const uuids = nifi.port('to-java').queue.map((f) => f.attributes.uuid)
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        'java',
        ['-Xmx256m', '-XX:TieredStopAtLevel=1', '-cp', classpath, CLIENT, nifi.url, 'from-java', '5', 'to-java'],
        { timeout: 120_000 },
        (error, stdout, stderr) =>
          error ? reject(new Error(`${error.message}\n${stderr.slice(-2000)}`)) : resolve(stdout),
      ),
    )
    // Java → server: the FlowFiles arrived in one committed transaction, CRC32 confirmed.
    assert.match(out, /^sent 5$/m)
    assert.equal(
      nifi.received('from-java').map((f) => `${f.attributes.seq}:${f.content.toString()}`),
      ['0:java-0', '1:java-1', '2:java-2', '3:java-3', '4:java-4'],
    )
    // server → Java: every queued FlowFile with its uuid, the transaction confirmed with the Java CRC32.
    assert.equal(
      out.split('\n').filter((l) => l.startsWith('got ')),
      uuids.map((u, i) => `got ${u} node-${i + 1}`),
    )
    assert.match(out, /^received 3$/m)
    assert.is(nifi.queued('to-java'), 0)
    assert.is(nifi.counts.badChecksums, 0)
    assert.is(nifi.counts.transactionsCommitted, 2)
  } finally {
    await nifi.stop()
  }
})

test.run()
