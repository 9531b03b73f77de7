// examples/console/console.js: the operator console page (admins only): live charts drawn here as
// SVG from /api/console/stats, the session search with a detail panel and a kick button, and a
// toast or system message to a session, user, channel or everyone with the recipients counted
// before it is sent, and the audit list of the operators' recent actions. Every write goes through
// postJson, so it carries the CSRF token.
import { postJson, startPage, timeElement } from '/app/site/site.js';

const API = '/api/console/';
const $ = (id) => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';
const COLORS = { delivered: '#047857', gone: '#b45309', failed: '#b91c1c', line: '#1d4ed8' };
let me = null;
let filters = new URLSearchParams({ connected: 'yes' });
let nextAfter = null;
let selected = null; // the connection id shown in the detail panel

async function getJson(url) {
  const res = await fetch(url, { credentials: 'same-origin' });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw Object.assign(new Error(data.error ?? `${url}: ${res.status}`), { status: res.status });
  return data;
}

function svgEl(name, attrs) {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

// lineChart: one polyline per series on a shared y scale from 0 to the largest value, newest on
// the right; the scale's top is written in the corner. data-points says how many samples it has.
// A null value (a count taken while nobody watched the console) breaks the line: a gap, not a dip.
function lineChart(svg, series) {
  const [w, h, pad] = [300, 120, 14];
  const n = Math.max(0, ...series.map((s) => s.values.length));
  const max = Math.max(1, ...series.flatMap((s) => s.values.filter((v) => v !== null)));
  const x = (i) => (n <= 1 ? w - pad : pad + ((w - 2 * pad) * i) / (n - 1));
  const y = (v) => h - pad - ((h - 2 * pad) * v) / max;
  const parts = [
    svgEl('line', { x1: pad, y1: h - pad, x2: w - pad, y2: h - pad, stroke: '#9ca3af', 'stroke-width': 1 }),
    svgEl('line', { x1: pad, y1: pad, x2: w - pad, y2: pad, stroke: '#e5e7eb', 'stroke-width': 1 }),
  ];
  const top = svgEl('text', { x: pad, y: pad - 3, 'font-size': 10, fill: '#4b5563' });
  top.textContent = Number.isInteger(max) ? String(max) : max.toFixed(1);
  parts.push(top);
  for (const s of series) {
    let run = [];
    const flush = () => {
      if (run.length) {
        parts.push(svgEl('polyline', { points: run.join(' '), fill: 'none', stroke: s.color, 'stroke-width': 2, 'data-series': s.name }));
      }
      run = [];
    };
    s.values.forEach((v, i) => {
      if (v === null) flush();
      else run.push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`);
    });
    flush();
  }
  svg.replaceChildren(...parts);
  svg.dataset.points = String(n);
}

const last = (a) => (a.length && a[a.length - 1] !== null ? a[a.length - 1] : 0);
const rate = (v) => (v >= 10 ? v.toFixed(0) : v.toFixed(1));

async function refreshStats() {
  const s = await getJson(`${API}stats`);
  lineChart($('chart-connections'), [{ name: 'connected', values: s.connected, color: COLORS.line }]);
  lineChart($('chart-messages'), [{ name: 'messages', values: s.messages_per_s, color: COLORS.line }]);
  lineChart($('chart-deliveries'), [
    { name: 'delivered', values: s.delivered_per_s, color: COLORS.delivered },
    { name: 'gone', values: s.gone_per_s, color: COLORS.gone },
    { name: 'failed', values: s.failed_per_s, color: COLORS.failed },
  ]);
  $('now-connected').textContent = `· ${last(s.connected)}`;
  $('now-messages').textContent = `· ${rate(last(s.messages_per_s))}/s`;
  const t = s.totals ?? {};
  $('legend-deliveries').replaceChildren(
    ...['delivered', 'gone', 'failed'].map((k) => {
      const li = document.createElement('li');
      li.append(Object.assign(document.createElement('i'), { style: `background:${COLORS[k]}` }), `${k} ${rate(last(s[`${k}_per_s`]))}/s (${t[k] ?? 0} total)`);
      return li;
    }),
  );
  const rates = s.channel_messages_per_s ?? {};
  $('channels').replaceChildren(
    ...Object.entries(s.channels).map(([name, values]) => {
      const tr = document.createElement('tr');
      tr.dataset.channel = name;
      const spark = svgEl('svg', { viewBox: '0 0 300 120', width: 90, height: 24, 'aria-hidden': 'true' });
      lineChart(spark, [{ name, values, color: COLORS.line }]);
      const sent = rates[name] ?? [];
      const rateSpark = svgEl('svg', { viewBox: '0 0 300 120', width: 90, height: 24, 'aria-hidden': 'true' });
      lineChart(rateSpark, [{ name: `${name} messages`, values: sent, color: COLORS.delivered }]);
      const cells = [name, String(last(values)), spark, `${rate(last(sent))}/s`, rateSpark].map((c) => {
        const td = document.createElement('td');
        td.append(c);
        return td;
      });
      tr.append(...cells);
      return tr;
    }),
  );
}

function age(seconds) {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

function sessionRow(s) {
  const tr = document.createElement('tr');
  tr.dataset.connectionId = s.connection_id;
  if (s.connection_id === selected) tr.className = 'selected';
  const show = Object.assign(document.createElement('button'), { type: 'button', className: 'secondary', textContent: 'Details' });
  show.setAttribute('aria-label', `Details of session ${s.id} (${s.username ?? 'anonymous'})`);
  show.onclick = () => showDetail(s.id, true);
  const cells = [String(s.id), s.username ?? 'anonymous', s.channels.join(', '), age(s.age_s), String(s.request_count),
    s.connected ? 'connected' : 'disconnected', show];
  for (const c of cells) {
    const td = document.createElement('td');
    td.append(c);
    tr.append(td);
  }
  return tr;
}

// loadSessions: the first page for the filters (replacing the table) or, with `more`, the next.
// Keyboard focus on a row's button survives the refresh.
async function loadSessions(more = false) {
  const q = new URLSearchParams(filters);
  if (more && nextAfter !== null) q.set('after', String(nextAfter));
  let data;
  try {
    data = await getJson(`${API}sessions?${q}`);
  } catch (err) {
    $('sessions-status').textContent = `Search failed: ${err.message}`;
    return;
  }
  const focusedId = document.activeElement?.closest?.('#sessions tr')?.dataset.connectionId;
  const rows = data.sessions.map(sessionRow);
  if (more) $('sessions').append(...rows);
  else $('sessions').replaceChildren(...rows);
  if (focusedId) $('sessions').querySelector(`tr[data-connection-id="${CSS.escape(focusedId)}"] button`)?.focus();
  nextAfter = data.next_after;
  $('more').hidden = nextAfter === null;
  const shown = $('sessions').children.length;
  $('sessions-status').textContent = `${shown} session${shown === 1 ? '' : 's'} shown${nextAfter === null ? '' : ' (more to load)'}`;
}

async function showDetail(id, focus) {
  let s;
  try {
    s = await getJson(`${API}sessions/${id}`);
  } catch (err) {
    $('console-error').textContent = `Session ${id}: ${err.message}`;
    return;
  }
  selected = s.connection_id;
  for (const tr of $('sessions').children) tr.classList.toggle('selected', tr.dataset.connectionId === selected);
  const when = (ms) => new Date(ms).toLocaleString();
  const items = [
    ['Session', `#${s.id}`], ['Connection id', s.connection_id], ['User', s.username ?? 'anonymous'],
    ['Channels', s.channels.join(', ') || 'none'], ['State', s.connected ? 'connected' : 'disconnected'],
    ['Requests', String(s.request_count)], ['Connected at', when(s.created_at)], ['Last request', when(s.last_seen_at)],
    ['Last change', when(s.updated_at)], ['Age', age(s.age_s)], ['Gateway', s.gateway === null ? 'unknown' : `#${s.gateway}`],
  ];
  $('detail').replaceChildren(...items.flatMap(([k, v]) => [
    Object.assign(document.createElement('dt'), { textContent: k }),
    Object.assign(document.createElement('dd'), { textContent: v }),
  ]));
  $('detail').dataset.connectionId = s.connection_id;
  $('detail-title').textContent = `Session #${s.id} (${s.username ?? 'anonymous'})`;
  $('kick').disabled = !s.connected;
  $('kick-result').textContent = '';
  $('detail-card').hidden = false;
  if (focus) $('detail-title').focus();
}

async function kick() {
  if (!selected || !confirm(`Close connection ${selected}? The page behind it will reconnect only if it retries.`)) return;
  const res = await postJson(`${API}kick`, { connection_id: selected }, me);
  if (!res.ok) {
    $('kick-result').textContent = `Not kicked: ${res.data.error ?? res.status}`;
    return;
  }
  $('kick-result').textContent = res.data.kicked ? `Kicked ${selected}.` : `${selected} was already gone; marked disconnected.`;
  $('kick').disabled = true;
  await Promise.all([loadSessions(), loadAudit()]);
}

function sendBody() {
  const f = new FormData($('send'));
  return Object.fromEntries(['target', 'value', 'kind', 'level', 'title', 'message'].map((k) => [k, String(f.get(k) ?? '')]));
}

// preview: how many connected sessions the form's target reaches now (asked again as it changes).
let previewSeq = 0;
async function preview() {
  const seq = ++previewSeq;
  const { target, value } = sendBody();
  $('send').elements.value.disabled = target === 'everyone';
  // A toast needs a title; a system banner has none.
  $('send').elements.title.required = $('send').elements.kind.value === 'toast';
  if (target !== 'everyone' && value === '') {
    $('preview').textContent = '—';
    return;
  }
  const res = await postJson(`${API}preview`, { target, value }, me);
  if (seq !== previewSeq) return; // a newer question is on its way
  $('preview').textContent = res.ok ? String(res.data.recipients) : res.data.error ?? String(res.status);
  $('preview').dataset.recipients = res.ok ? String(res.data.recipients) : '';
}

async function send(e) {
  e.preventDefault();
  const button = e.target.querySelector('button[type=submit]');
  button.disabled = true;
  $('send-result').textContent = 'Sending…';
  const res = await postJson(`${API}send`, sendBody(), me);
  button.disabled = false;
  if (!res.ok) {
    $('send-result').textContent = `Not sent: ${res.data.error ?? res.status}`;
    await loadAudit();
    return;
  }
  const r = res.data;
  const failures = r.failures.map((f) => `${f.connection_id}: ${f.reason}`).join('; ');
  $('send-result').textContent = `Delivery report: ${r.delivered} delivered, ${r.gone} gone, ${r.failed} failed, ` +
    `${r.retries} retries (of ${r.recipients} recipients)${failures ? ` — ${failures}` : ''}.`;
  $('send-result').dataset.delivered = String(r.delivered);
  await loadAudit();
}

// summary: one line for what an action did, from the answer the console gave.
function summary(a) {
  const o = a.outcome ?? {};
  if (a.status !== 200) return `refused (${a.status}): ${o.error ?? ''}`;
  if (a.action === 'kick') return o.kicked ? 'closed' : 'already gone';
  return `${o.delivered} delivered, ${o.gone} gone, ${o.failed} failed`;
}

// loadAudit: the console's recent writes, newest first (who, when, what, to whom, outcome).
async function loadAudit() {
  const { actions } = await getJson(`${API}audit`);
  $('audit').replaceChildren(
    ...actions.map((a) => {
      const tr = document.createElement('tr');
      const what = a.action === 'send' ? `${a.request.kind ?? 'toast'}: ${a.request.message ?? ''}` : 'kick';
      const cells = [timeElement(new Date(a.at).toISOString()), a.actor || 'unknown', what,
        a.target === 'everyone' ? 'everyone' : `${a.target} ${a.value}`, summary(a)];
      for (const c of cells) {
        const td = document.createElement('td');
        td.append(c);
        tr.append(td);
      }
      return tr;
    }),
  );
  $('audit-status').textContent = actions.length ? '' : 'No actions yet.';
}

startPage({
  channel: 'console',
  async setup(client, who) {
    me = who;
    if (!who.permissions.includes('admin')) {
      $('console-error').textContent = 'The operator console is for admins only.';
      for (const s of document.querySelectorAll('main section')) s.hidden = true;
      return;
    }
    $('filters').onsubmit = (e) => {
      e.preventDefault();
      const f = new FormData(e.target);
      filters = new URLSearchParams([...f.entries()].filter(([, v]) => v !== ''));
      loadSessions();
    };
    $('more').onclick = () => loadSessions(true);
    $('kick').onclick = kick;
    $('message-session').onclick = () => {
      $('send').elements.target.value = 'session';
      $('send').elements.value.value = selected;
      preview();
      $('send').elements.message.focus();
    };
    $('send').onsubmit = send;
    for (const name of ['target', 'value']) $('send').elements[name].addEventListener('input', preview);
    for (const name of ['target', 'kind']) $('send').elements[name].addEventListener('change', preview);
    await Promise.all([loadSessions(), refreshStats().catch(() => {}), preview(), loadAudit()]);
    // Charts every second, the session list and the recipients count every three: live, but the
    // table does not churn under the keyboard.
    setInterval(() => refreshStats().catch((err) => ($('console-error').textContent = `Stats: ${err.message}`)), 1000);
    setInterval(() => {
      if (!$('more').hidden) return; // the operator is paging; keep what they loaded
      loadSessions();
      preview();
    }, 3000);
  },
});
