import { existsSync } from 'node:fs'
import { mkdir, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import puppeteer from 'puppeteer-core'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createLogger } from '../../lib/logging.js'
import { JobServer } from '../../lib/server/job-server.js'
import { http } from '../support/http.js'
import { tickingJob } from '../support/running-job.js'

/** Debian's chromium, installed by scripts/services.d/70-chromium.sh. */
const CHROMIUM = '/usr/bin/chromium'
/** The README's screenshot is refreshed with SLUICE_UPDATE_SCREENSHOT=1; otherwise it goes to the temp dir. */
const SCREENSHOT =
  process.env.SLUICE_UPDATE_SCREENSHOT === '1'
    ? join(dirname(fileURLToPath(import.meta.url)), '../../docs/images/dashboard.png')
    : join(tmpdir(), 'sluice-dashboard.png')

test('the dashboard page is self-contained: no script, style or font from elsewhere', async () => {
  const server = await JobServer.start({ token: 't', logger: createLogger({ level: 'silent' }) })
  try {
    const page = await http(server.url, '/')
    assert.is(page.status, 200)
    assert.match(String(page.headers['content-type']), /text\/html/)
    assert.not.match(page.text, /(src|href)=["']?(https?:)?\/\//)
    assert.not.match(page.text, /@import|url\((?!#)/)
    assert.ok(page.text.length < 20_000, `${page.text.length} bytes`)
  } finally {
    await server.close()
  }
})

test('in headless Chromium the dashboard shows the job graph, counts that grow, and a checkpoint', async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run bash scripts/services.sh 70-chromium`)
  const server = await JobServer.start({ token: 'dash-token', logger: createLogger({ level: 'silent' }) })
  const job = tickingJob(server, 'dashboard demo')
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  })
  try {
    await job.running
    const page = await browser.newPage()
    await page.setViewport({ width: 1100, height: 900 })
    const outside: string[] = []
    page.on('request', (r) => {
      if (!r.url().startsWith(server.url)) outside.push(r.url())
    })
    await page.goto(`${server.url}/#token=dash-token`)
    await page.waitForSelector('[data-testid=vertex]', { timeout: 10_000 })
    const vertices = await page.$$eval('[data-testid=vertex]', (gs) => gs.map((g) => g.textContent ?? ''))
    assert.is(vertices.length, 3)
    const text = vertices.join(' ')
    for (const name of ['ticks', 'map', 'reduce']) assert.match(text, name)
    // each vertex is coloured by its busiest subtask's busy time (blue idle … red busy), hatched when backpressured
    const colours = await page.$$eval('[data-testid=vertex]', (gs) =>
      gs.map((g) => ({ busy: g.getAttribute('data-busy'), fill: g.querySelector('rect')?.getAttribute('fill') })),
    )
    for (const { busy, fill } of colours) {
      assert.ok(Number(busy) >= 0 && Number(busy) <= 1000, `data-busy ${busy}`)
      assert.match(String(fill), /^hsl\(\d+,/)
    }
    assert.match(text, /busy \d+% · backpressured \d+%/)
    const count = () => page.$eval('[data-testid=records-out]', (b) => Number(b.textContent))
    const first = await count()
    // expressions run in the page (strings: the spec is type-checked without the DOM library)
    const inPage = (expression: string) => page.waitForFunction(expression, { timeout: 10_000 })
    await inPage(`Number(document.querySelector('[data-testid=records-out]').textContent) > ${first}`)
    assert.ok((await count()) > first)
    await inPage(`Number(document.querySelector('[data-testid=checkpoint-count]').textContent) > 0`)
    await inPage(`document.querySelectorAll('#chart rect').length > 1`)
    await inPage(`document.getElementById('rate').textContent !== '0'`)
    assert.equal(outside, [], 'the page loads nothing from elsewhere')
    await mkdir(dirname(SCREENSHOT), { recursive: true })
    await page.screenshot({ path: SCREENSHOT as `${string}.png`, fullPage: true })
    assert.ok((await stat(SCREENSHOT)).size > 5_000)
    console.log(`dashboard screenshot: ${SCREENSHOT}`)
  } finally {
    await browser.close()
    await job.cancel()
    await server.close()
  }
})

test.run()
