// The whole page: no build step and no framework, so the package ships as plain files. Everything
// from the broker (topics, reasons, event bodies) is written with textContent, never as HTML.
export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Switchyard</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 24px; color: #1d2330; }
  h1 { font-size: 18px; } h2 { font-size: 16px; margin-top: 28px; }
  table { border-collapse: collapse; margin: 8px 0; }
  th, td { border-bottom: 1px solid #dde; padding: 4px 10px; text-align: left; vertical-align: top; }
  td.n { text-align: right; font-variant-numeric: tabular-nums; }
  .OK { color: #137333; } .WARN { color: #b06000; } .STALL, .STOP, .error { color: #c5221f; font-weight: 600; }
  pre { background: #f4f5f8; padding: 8px; max-width: 900px; overflow: auto; }
  button { margin-right: 8px; }
  #live { color: #667; font-size: 12px; }
</style>
</head>
<body>
<h1>Switchyard <span id="live">connecting…</span></h1>
<table data-testid="groups">
  <thead><tr><th>topic</th><th>group</th><th>status</th><th>backlog</th><th>in flight</th>
  <th>oldest age</th><th>dead letters</th><th></th></tr></thead>
  <tbody></tbody>
</table>
<section id="dlq" hidden>
  <h2>Dead letters of <span id="dlq-name"></span></h2>
  <div><button id="dry-run">Dry run redrive</button><button id="redrive">Redrive</button><button id="refresh">Refresh</button></div>
  <pre id="report" data-testid="report" hidden></pre>
  <h3>By reason and type</h3>
  <table data-testid="dlq-groups"><thead></thead><tbody></tbody></table>
  <h3>Events</h3>
  <table data-testid="dlq-events"><thead><tr><th>id</th><th>type</th><th>reason</th><th></th></tr></thead><tbody></tbody></table>
  <pre id="event" data-testid="event" hidden></pre>
</section>
<script>
const $ = (s) => document.querySelector(s);
const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; };
const num = (v) => v === null || v === undefined ? '—' : String(v);
const age = (ms) => ms === null || ms === undefined ? '—' : ms < 1000 ? ms + ' ms' : (ms / 1000).toFixed(1) + ' s';
let open = null;

function renderGroups(rows) {
  const body = $('[data-testid=groups] tbody');
  body.replaceChildren();
  for (const row of rows) {
    const tr = el('tr');
    tr.dataset.topic = row.topic; tr.dataset.group = row.group;
    tr.append(el('td', row.topic), el('td', row.group));
    if (row.error) {
      const td = el('td', row.error, 'error'); td.colSpan = 5; tr.append(td);
    } else {
      const i = row.inspection;
      const status = el('td', i.status, i.status); status.dataset.testid = 'status';
      status.title = Object.entries(i.definitions || {}).map(([k, v]) => k + ': ' + v).join('\\n');
      const dl = el('td', num(i.deadLetters), 'n'); dl.dataset.testid = 'dead-letters';
      const backlog = el('td', num(i.backlog), 'n'); backlog.dataset.testid = 'backlog';
      tr.append(status, backlog, el('td', num(i.inFlight), 'n'), el('td', age(i.oldestAgeMs), 'n'), dl);
    }
    const button = el('button', 'dead letters');
    button.onclick = () => showDlq(row.topic, row.group);
    const td = el('td'); td.append(button); tr.append(td);
    body.append(tr);
  }
}

function table(selector, items) {
  const t = $(selector);
  const keys = [...new Set(items.flatMap((x) => Object.keys(x)))];
  const head = el('tr'); for (const k of keys) head.append(el('th', k));
  t.tHead.replaceChildren(head);
  t.tBodies[0].replaceChildren(...items.map((x) => {
    const tr = el('tr');
    for (const k of keys) tr.append(el('td', typeof x[k] === 'object' && x[k] !== null ? JSON.stringify(x[k]) : num(x[k])));
    return tr;
  }));
}

const query = () => '?topic=' + encodeURIComponent(open.topic) + '&group=' + encodeURIComponent(open.group);

async function showDlq(topic, group) {
  open = { topic, group };
  $('#dlq').hidden = false;
  $('#dlq-name').textContent = topic + ' / ' + group;
  $('#event').hidden = true;
  const res = await fetch('/api/dlq' + query());
  const data = await res.json();
  if (!res.ok) { $('#report').hidden = false; $('#report').textContent = data.error; return; }
  table('[data-testid=dlq-groups]', Array.isArray(data.groups) ? data.groups : [data.groups]);
  const events = Array.isArray(data.events) ? data.events : [];
  const body = $('[data-testid=dlq-events] tbody');
  body.replaceChildren(...events.map((entry) => {
    const e = entry.event || entry;
    const reason = entry.reason ?? e.deadletterreason ?? '';
    const tr = el('tr');
    const show = el('button', 'inspect');
    show.onclick = () => { $('#event').hidden = false; $('#event').textContent = JSON.stringify(entry, null, 2); };
    const td = el('td'); td.append(show);
    tr.append(el('td', e.id ?? ''), el('td', e.type ?? ''), el('td', String(reason)), td);
    return tr;
  }));
}

async function redrive(dryRun) {
  const res = await fetch('/api/dlq/redrive' + query(), {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ dryRun }),
  });
  $('#report').hidden = false;
  $('#report').textContent = (dryRun ? 'Dry run: ' : 'Redrive: ') + JSON.stringify(await res.json(), null, 2);
  if (!dryRun) await showDlq(open.topic, open.group);
}
$('#dry-run').onclick = () => redrive(true);
$('#redrive').onclick = () => redrive(false);
$('#refresh').onclick = () => showDlq(open.topic, open.group);

const live = new EventSource('/api/stream');
live.onmessage = (m) => { renderGroups(JSON.parse(m.data)); $('#live').textContent = 'live · ' + new Date().toLocaleTimeString(); };
live.onerror = () => { $('#live').textContent = 'reconnecting…'; };
</script>
</body>
</html>
`;
