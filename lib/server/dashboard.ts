/**
 * The web dashboard the job server answers at `/`: one self-contained page (no CDN, no build step)
 * that polls the REST API every second. It lists the jobs; for the selected one it draws the job
 * graph (each vertex with records/s, coloured as Flink's by its busiest subtask's busy time, from blue
 * when idle to red when busy all the time, and hatched when backpressured), a chart of checkpoint durations and
 * sizes, the exceptions and the watermarks. With a token, open it as `/#token=<token>`: the token
 * stays in the browser (a fragment is never sent) and goes out only as the Authorization header.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>sluice</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px system-ui,sans-serif;margin:0;color:#1d2330;background:#f5f6f8}
header{background:#1d2330;color:#fff;padding:8px 16px;display:flex;gap:16px;align-items:baseline}
header b{font-size:18px}main{display:grid;grid-template-columns:240px 1fr;gap:16px;padding:16px}
section{background:#fff;border-radius:6px;padding:12px;margin-bottom:16px;box-shadow:0 1px 2px #0002}
h2{font-size:14px;margin:0 0 8px;text-transform:uppercase;color:#5a6170}
ul{list-style:none;margin:0;padding:0}li.job{padding:6px;border-radius:4px;cursor:pointer}
li.job.sel{background:#e3e8f4}.st{font-size:12px;color:#5a6170}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:3px 6px;border-bottom:1px solid #eee}
pre{white-space:pre-wrap;font-size:12px;background:#fafafa;padding:6px;max-height:200px;overflow:auto}
.kpi{display:flex;gap:24px}.kpi div b{display:block;font-size:20px}#err{color:#b00020}
</style></head><body>
<header><b>sluice</b><span id="err"></span></header>
<main><div><section><h2>Jobs</h2><ul id="jobs"></ul></section></div>
<div id="job" hidden>
<section><h2 id="title"></h2><div class="kpi">
<div>records out<b data-testid="records-out" id="recordsOut">0</b></div>
<div>records/s<b id="rate">0</b></div><div>restarts<b id="restarts">0</b></div>
<div>checkpoints<b data-testid="checkpoint-count" id="cpCount">0</b></div>
<div>last checkpoint<b id="cpLast">–</b></div></div></section>
<section><h2>Job graph</h2><svg id="graph" width="100%" height="160"></svg></section>
<section><h2>Checkpoints (duration ms ━, size KiB ▮)</h2><svg id="chart" width="100%" height="120"></svg></section>
<section><h2>Watermarks</h2><table id="wm"></table></section>
<section><h2>Exceptions</h2><div id="exc">none</div></section>
</div></main>
<script>
const token = new URLSearchParams(location.hash.slice(1)).get('token')
const headers = token ? { authorization: 'Bearer ' + token } : {}
let selected = null
const $ = (id) => document.getElementById(id)
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c])
const fmt = (n) => n >= 1e6 ? (n / 1e6).toFixed(1) + 'M' : n >= 1e3 ? (n / 1e3).toFixed(1) + 'k' : String(Math.round(n))
// Flink's colours: hue from blue (idle) to red (busy all the time); black hatching, as dense as the backpressure
const busyColour = (msPerSecond) => 'hsl(' + Math.round(210 * (1 - Math.min(1, msPerSecond / 1000))) + ',70%,82%)'
const hatchOpacity = { ok: 0, low: 0.12, high: 0.25 }
async function get(path) {
  const r = await fetch(path, { headers })
  const body = await r.json()
  if (!r.ok) throw new Error((body.error && body.error.code) + ': ' + (body.error && body.error.message))
  return body
}
function drawGraph(job) {
  const depth = new Map()
  for (const v of job.vertices) depth.set(v.id, 0)
  for (let i = 0; i < job.vertices.length; i++)
    for (const e of job.edges) depth.set(e.target, Math.max(depth.get(e.target), depth.get(e.source) + 1))
  const rows = new Map(), pos = new Map(), W = 200, H = 56
  for (const v of job.vertices) { const d = depth.get(v.id), r = rows.get(d) || 0; rows.set(d, r + 1); pos.set(v.id, [10 + d * (W + 50), 10 + r * (H + 14)]) }
  let svg = '<defs><marker id="a" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0 0L10 5L0 10z"/></marker>' +
    '<pattern id="hatch" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="3" height="8" fill="#000"/></pattern></defs>'
  for (const e of job.edges) { const [x1, y1] = pos.get(e.source), [x2, y2] = pos.get(e.target)
    svg += '<line x1="' + (x1 + W) + '" y1="' + (y1 + H / 2) + '" x2="' + x2 + '" y2="' + (y2 + H / 2) + '" stroke="#666" marker-end="url(#a)"><title>' + esc(e.partitioning) + '</title></line>' }
  for (const v of job.vertices) { const [x, y] = pos.get(v.id), m = v.metrics
    svg += '<g data-testid="vertex" data-busy="' + Math.round(m.maxBusyTimeMsPerSecond) + '" data-backpressured="' + Math.round(m.maxBackPressuredTimeMsPerSecond) + '" data-level="' + m.backpressureLevel + '">' +
      '<rect x="' + x + '" y="' + y + '" width="' + W + '" height="' + H + '" rx="6" fill="' + busyColour(m.maxBusyTimeMsPerSecond) + '" stroke="#888"/>' +
      '<rect x="' + x + '" y="' + y + '" width="' + W + '" height="' + H + '" rx="6" fill="url(#hatch)" opacity="' + hatchOpacity[m.backpressureLevel] + '"/>' +
      '<text x="' + (x + 8) + '" y="' + (y + 18) + '" font-weight="bold">' + esc(v.name.length > 24 ? v.name.slice(0, 23) + '…' : v.name) + '</text>' +
      '<text x="' + (x + 8) + '" y="' + (y + 36) + '">×' + v.parallelism + ' · ' + fmt(m.recordsOutPerSecond || m.recordsInPerSecond) + ' rec/s</text>' +
      '<text x="' + (x + 8) + '" y="' + (y + 50) + '" font-size="11">busy ' + Math.round(m.maxBusyTimeMsPerSecond / 10) + '% · backpressured ' + Math.round(m.backpressureRatio * 100) + '% · ' + esc(v.status) + '</text>' +
      '<title>' + esc(v.operators.join(', ')) + '</title></g>' }
  const g = $('graph'); g.innerHTML = svg; g.setAttribute('height', String(30 + Math.max(...rows.values()) * (H + 14)))
}
function drawChart(history) {
  const done = history.filter((c) => c.status === 'completed').slice(-60)
  const w = $('chart').clientWidth || 600, h = 110, n = Math.max(done.length, 2)
  const maxD = Math.max(1, ...done.map((c) => c.durationMs)), maxB = Math.max(1, ...done.map((c) => c.bytes))
  let svg = ''
  done.forEach((c, i) => { const bh = (c.bytes / maxB) * (h - 10); svg += '<rect x="' + (i * w / n) + '" y="' + (h - bh) + '" width="' + Math.max(1, w / n - 2) + '" height="' + bh + '" fill="#c9d6f0"><title>#' + c.id + ' ' + (c.bytes / 1024).toFixed(1) + ' KiB</title></rect>' })
  const pts = done.map((c, i) => (i * w / n + w / n / 2) + ',' + (h - (c.durationMs / maxD) * (h - 10))).join(' ')
  svg += '<polyline points="' + pts + '" fill="none" stroke="#1d2330" stroke-width="2"/>'
  svg += '<text x="4" y="12" font-size="11">max ' + maxD + ' ms · ' + (maxB / 1024).toFixed(1) + ' KiB</text>'
  $('chart').innerHTML = svg
}
async function refresh() {
  try {
    const { jobs } = await get('/jobs')
    if (selected === null && jobs.length > 0) selected = jobs[jobs.length - 1].id
    $('jobs').innerHTML = jobs.map((j) => '<li class="job' + (j.id === selected ? ' sel' : '') + '" data-id="' + esc(j.id) + '">' + esc(j.name) + '<div class="st">' + esc(j.status) + ' · ' + Math.round(j.duration / 1000) + ' s</div></li>').join('')
    if (selected === null) return
    const [job, cps, wms, exc] = await Promise.all(['', '/checkpoints', '/watermarks', '/exceptions'].map((p) => get('/jobs/' + encodeURIComponent(selected) + p)))
    $('job').hidden = false
    $('title').textContent = job.name + ' — ' + job.status
    const sinks = job.vertices.filter((v) => !job.edges.some((e) => e.source === v.id))
    const sources = job.vertices.filter((v) => !job.edges.some((e) => e.target === v.id))
    $('recordsOut').textContent = String(sources.reduce((n, v) => n + v.metrics.recordsOut, 0))
    $('rate').textContent = fmt(sinks.reduce((n, v) => n + v.metrics.recordsInPerSecond, 0))
    $('restarts').textContent = String(job.restarts)
    $('cpCount').textContent = String(cps.counts.completed)
    $('cpLast').textContent = cps.latest ? '#' + cps.latest.id + ', ' + cps.latest.durationMs + ' ms, ' + Math.round(cps.latest.ageMs / 1000) + ' s ago' : '–'
    drawGraph(job); drawChart(cps.history)
    $('wm').innerHTML = '<tr><th>vertex</th><th>subtask</th><th>watermark</th><th>lag</th></tr>' + wms.vertices.flatMap((v) => v.subtasks.map((s) => '<tr><td>' + esc(v.name) + '</td><td>' + s.subtask + '</td><td>' + (s.watermark === null ? '–' : new Date(s.watermark).toISOString()) + '</td><td>' + (s.lagMs === null ? '–' : s.lagMs + ' ms') + '</td></tr>')).join('')
    $('exc').innerHTML = exc.exceptions.length === 0 ? 'none' : exc.exceptions.map((e) => '<div><b>' + new Date(e.time).toISOString() + (e.restarted ? ' (restarted)' : '') + '</b><pre>' + esc(chain(e.error)) + '</pre></div>').join('')
    $('err').textContent = ''
  } catch (e) { $('err').textContent = String(e.message || e) }
}
const chain = (e) => (e.stack || e.name + ': ' + e.message) + (e.cause ? '\\nCaused by: ' + chain(e.cause) : '')
$('jobs').addEventListener('click', (ev) => { const li = ev.target.closest('li.job'); if (li) { selected = li.dataset.id; refresh() } })
refresh(); setInterval(refresh, 1000)
</script></body></html>
`
