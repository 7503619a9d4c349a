// deepsweep dashboard: a single page over the read-only JSON API (/api/).
//
// Views by URL hash: #/ sweeps, #/sweep/ID, #/trial/ID, #/workers. The open
// view polls its API every POLL_MS (polling, not server-sent events: a
// request per second per open page is cheap for the server's thread pool,
// survives proxies and server restarts without reconnect logic, and keeps
// every endpoint a plain GET). Nothing from the server is ever inserted as
// HTML: text goes in through textContent, and the server's
// Content-Security-Policy forbids inline scripts anyway.
'use strict';

const POLL_MS = 1000;
const PAGE = 50;
let timer = null;
let generation = 0;  // bumps on navigation; stale polls drop their answers
const charts = new Map();  // canvas id -> Chart

// --- DOM helpers (text only) -------------------------------------------------
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    node.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return node;
}
function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
function fmt(x, digits = 4) {
  return x === null || x === undefined ? '-' : Number(x).toPrecision(digits);
}
function pct(x) { return x === null || x === undefined ? '-' : (100 * x).toFixed(2) + '%'; }
function duration(seconds) {
  if (seconds === null || seconds === undefined) return 'unknown';
  let s = Math.max(0, Math.round(seconds));
  if (s < 60) return s + 's';
  if (s < 3600) return Math.floor(s / 60) + 'm' + String(s % 60).padStart(2, '0') + 's';
  if (s < 86400) return Math.floor(s / 3600) + 'h' + String(Math.floor(s % 3600 / 60)).padStart(2, '0') + 'm';
  return Math.floor(s / 86400) + 'd' + String(Math.floor(s % 86400 / 3600)).padStart(2, '0') + 'h';
}
function table(headers, rows) {
  const t = el('table', {}, el('thead', {}, el('tr', {}, ...headers.map(h => el('th', { text: h })))));
  const body = el('tbody');
  for (const r of rows) body.append(r);
  t.append(body);
  return t;
}
function cell(text, cls) { return el('td', cls ? { class: cls, text: String(text) } : { text: String(text) }); }
function link(href, text) { return el('a', { href, text: String(text) }); }

async function getJson(path) {
  // no-cache: the browser keeps the answer and revalidates it with its ETag,
  // so an unchanged page costs a bodiless 304 (web/page_cache.h).
  const res = await fetch(path, { credentials: 'same-origin', cache: 'no-cache' });
  if (res.status === 401) { window.location.href = '/login'; throw new Error('sign in needed'); }
  const body = await res.json();
  if (!res.ok) throw new Error(body.error || res.statusText);
  return body;
}
function setStatus(text, isError) {
  const s = document.getElementById('status');
  s.textContent = text;
  s.className = isError ? 'status error' : 'status';
}

// --- charts --------------------------------------------------------------------
const PALETTE = ['#1e88e5', '#e53935', '#43a047', '#fb8c00', '#8e24aa', '#00897b', '#6d4c41',
                 '#3949ab', '#c0ca33', '#d81b60'];
function color(i, alpha) {
  const c = PALETTE[i % PALETTE.length];
  if (alpha === undefined) return c;
  const n = parseInt(c.slice(1), 16);
  return `rgba(${n >> 16},${(n >> 8) & 255},${n & 255},${alpha})`;
}
// Creates or updates the line chart on canvas `id` with `datasets` of {x, y}
// points. Updating in place keeps the page still while it polls.
function lineChart(container, id, title, datasets, opts = {}) {
  let chart = charts.get(id);
  if (chart && document.getElementById(id)) {
    chart.data.datasets = datasets;
    chart.update('none');
    return chart;
  }
  const canvas = el('canvas', { id });
  container.append(el('div', { class: 'chart' }, canvas));
  chart = new Chart(canvas, {
    type: 'line',
    data: { datasets },
    options: {
      animation: false, maintainAspectRatio: false, parsing: false, normalized: true,
      plugins: { title: { display: true, text: title }, legend: { labels: { boxWidth: 12 } } },
      scales: {
        x: { type: 'linear', title: { display: true, text: opts.xLabel || 'updates' } },
        y: { type: opts.logY ? 'logarithmic' : 'linear', min: opts.yMin, max: opts.yMax,
             title: { display: !!opts.yLabel, text: opts.yLabel || '' } },
      },
      elements: { point: { radius: 2 } },
    },
  });
  charts.set(id, chart);
  return chart;
}
function dropCharts() {
  for (const c of charts.values()) c.destroy();
  charts.clear();
}

// --- views ----------------------------------------------------------------------
function progressCells(s) {
  const bar = el('progress', { max: '1', value: String(s.fraction) });
  return [
    el('td', {}, bar, ' ' + (100 * s.fraction).toFixed(1) + '%'),
    cell(`${s.counts.done}/${s.counts.total}`, 'num'),
    cell(`succeeded ${s.counts.succeeded}, diverged ${s.counts.diverged}, failed ${s.counts.failed}, ` +
         `cancelled ${s.counts.cancelled}, pruned ${s.counts.pruned}, leased ${s.counts.leased}, ` +
         `pending ${s.counts.pending}`),
    cell(s.trials_per_hour === null ? '-' : s.trials_per_hour.toFixed(1) + '/h', 'num'),
    cell(s.state === 'active' ? duration(s.eta_seconds) : s.state),
  ];
}

async function sweepsView(view, gen) {
  const sweeps = await getJson('/api/sweeps');
  if (gen !== generation) return;
  clear(view);
  view.append(el('h1', { text: 'Sweeps' }));
  if (sweeps.length === 0) { view.append(el('p', { class: 'muted', text: 'No sweeps yet.' })); return; }
  const rows = sweeps.map(s => el('tr', { 'data-sweep': String(s.id) },
    cell(s.id, 'num'), el('td', { class: 'sweep-name' }, link(`#/sweep/${s.id}`, s.name)), cell(s.state),
    ...progressCells(s)));
  view.append(table(['id', 'name', 'state', 'progress', 'done', 'by state', 'throughput', 'ETA'], rows));
}

const sweepState = { selected: new Set(), offset: 0, stateFilter: '' };

async function sweepView(view, gen, id) {
  const [detail, trials] = await Promise.all([
    getJson(`/api/sweeps/${id}`),
    getJson(`/api/sweeps/${id}/trials?offset=${sweepState.offset}&limit=${PAGE}` +
            (sweepState.stateFilter ? `&state=${sweepState.stateFilter}` : '')),
  ]);
  if (sweepState.selected.size === 0) {
    const best = detail.configs.find(c => c.best) || detail.configs[0];
    if (best) sweepState.selected.add(best.first_trial);
  }
  const curves = await Promise.all([...sweepState.selected].map(
    t => getJson(`/api/sweeps/${id}/curves?config=${t}`)));
  if (gen !== generation) return;

  let skeleton = document.getElementById('sweep-skeleton');
  if (!skeleton || skeleton.dataset.sweep !== String(id)) {
    dropCharts();
    clear(view);
    skeleton = el('div', { id: 'sweep-skeleton' });
    skeleton.dataset.sweep = String(id);
    skeleton.append(el('h1', { id: 'sweep-title' }), el('div', { id: 'sweep-progress' }),
      el('h2', { text: 'Configurations (final test error across seeds)' }), el('div', { id: 'sweep-configs' }),
      el('h2', { text: 'Learning curves of the checked configurations (mean and 95% CI across seeds)' }),
      el('div', { id: 'sweep-curves', class: 'charts' }),
      el('h2', { text: 'Table 1: test error, best configuration per cell by validation error' }),
      el('div', { id: 'sweep-table1' }), el('h2', { text: 'Trials' }), el('div', { id: 'sweep-trials' }));
    view.append(skeleton);
  }
  const s = detail.sweep;
  document.getElementById('sweep-title').textContent = `Sweep ${s.id}: ${s.name}`;
  const prog = document.getElementById('sweep-progress');
  clear(prog);
  prog.append(table(['state', 'progress', 'done', 'by state', 'throughput', 'ETA'],
                    [el('tr', { id: 'sweep-progress-row' }, cell(s.state), ...progressCells(s))]));

  // Configurations.
  const configs = document.getElementById('sweep-configs');
  clear(configs);
  const confRows = detail.configs.map(c => {
    const box = el('input', { type: 'checkbox', 'data-config': String(c.first_trial) });
    box.checked = sweepState.selected.has(c.first_trial);
    box.addEventListener('change', () => {
      if (box.checked) sweepState.selected.add(c.first_trial); else sweepState.selected.delete(c.first_trial);
      refresh();
    });
    const ci = c.ci_half === null ? '' : ' ± ' + pct(c.ci_half);
    return el('tr', { class: c.best ? 'best' : '' }, el('td', {}, box),
      cell((c.best ? '★ ' : '') + c.label), cell(c.n, 'num'),
      cell(c.mean === null ? '-' : pct(c.mean) + ci, 'num'),
      cell(pct(c.mean_validation_error), 'num'),
      cell(c.counts.diverged, 'num'), cell(c.counts.pruned, 'num'),
      cell(c.counts.failed, 'num'), cell(`${c.counts.done}/${c.counts.total}`, 'num'));
  });
  configs.append(table(['plot', 'configuration', 'n', 'test error (mean ± CI)', 'validation error',
                        'diverged', 'pruned', 'failed', 'done'], confRows));

  // Curves: a mean line and a CI band (two bounds filled between) per configuration.
  const curveBox = document.getElementById('sweep-curves');
  for (const [kind, title] of [['test', 'test error'], ['validation', 'validation error']]) {
    const datasets = [];
    curves.forEach((curve, i) => {
      const label = (detail.configs.find(c => c.first_trial === curve.first_trial) || {}).label || curve.first_trial;
      const pts = curve.steps.filter(p => p[kind + '_mean'] !== null);
      const half = p => p[kind + '_ci_half'] === null ? 0 : p[kind + '_ci_half'];
      datasets.push({ label: String(label), data: pts.map(p => ({ x: p.step, y: p[kind + '_mean'] })),
                      borderColor: color(i), backgroundColor: color(i), fill: false });
      datasets.push({ label: '', data: pts.map(p => ({ x: p.step, y: p[kind + '_mean'] - half(p) })),
                      borderColor: color(i, 0.2), pointRadius: 0, fill: false });
      datasets.push({ label: '', data: pts.map(p => ({ x: p.step, y: p[kind + '_mean'] + half(p) })),
                      borderColor: color(i, 0.2), backgroundColor: color(i, 0.15), pointRadius: 0, fill: '-1' });
    });
    const chart = lineChart(curveBox, `curve-${kind}`, title, datasets, { yLabel: 'error', yMin: 0, yMax: 1 });
    chart.options.plugins.legend.labels.filter = item => item.text !== '';
  }

  // Table 1.
  const t1 = document.getElementById('sweep-table1');
  clear(t1);
  const datasets = detail.table1.datasets;
  t1.append(table(['activation', 'init', ...datasets], detail.table1.rows.map(r => el('tr', {},
    cell(r.activation), cell(r.init), ...datasets.map(d => {
      const c = r.cells[d];
      if (!c) return cell('-');
      return cell(pct(c.mean) + (c.ci_half === null ? '' : ' ± ' + pct(c.ci_half)) +
                  (c.selected ? ` (${c.selected})` : ''), 'num');
    })))));

  // Trials, one page at a time.
  const tr = document.getElementById('sweep-trials');
  clear(tr);
  const filter = el('select', {}, ...['', 'pending', 'leased', 'succeeded', 'diverged', 'failed', 'cancelled', 'pruned']
    .map(v => el('option', { value: v, text: v || 'all states' })));
  filter.value = sweepState.stateFilter;
  filter.addEventListener('change', () => { sweepState.stateFilter = filter.value; sweepState.offset = 0; refresh(); });
  const first = trials.total === 0 ? 0 : trials.offset + 1;
  const last = trials.offset + trials.trials.length;
  const prev = el('button', { text: 'previous', onclick: () => { sweepState.offset = Math.max(0, sweepState.offset - PAGE); refresh(); } });
  const next = el('button', { text: 'next', onclick: () => { sweepState.offset += PAGE; refresh(); } });
  prev.disabled = trials.offset === 0;
  next.disabled = last >= trials.total;
  tr.append(el('div', { class: 'controls pager' }, filter, ' ', prev, next,
                el('span', { id: 'trials-range', text: ` trials ${first}-${last} of ${trials.total}` })));
  tr.append(table(['trial', 'configuration', 'seed', 'state', 'steps', 'test error', 'validation error', 'worker', 'reason'],
    trials.trials.map(t => el('tr', {}, el('td', {}, link(`#/trial/${t.id}`, t.id)), cell(t.label),
      cell(t.seed_index, 'num'), cell(t.state), cell(`${t.steps_done}/${t.updates}`, 'num'),
      cell(pct(t.final_test_error), 'num'), cell(pct(t.final_validation_error), 'num'),
      cell(t.worker_id), cell(t.reason)))));
}

const trialState = { quantity: 'activation', checkpoint: -1 };

async function trialView(view, gen, id) {
  const data = await getJson(`/api/trials/${id}/checkpoints`);
  if (gen !== generation) return;
  let skeleton = document.getElementById('trial-skeleton');
  if (!skeleton || skeleton.dataset.trial !== String(id)) {
    dropCharts();
    clear(view);
    skeleton = el('div', { id: 'trial-skeleton' });
    skeleton.dataset.trial = String(id);
    const quantity = el('select', { id: 'hist-quantity' },
      ...['activation', 'backprop_grad', 'weight_grad'].map(q => el('option', { value: q, text: q })));
    quantity.value = trialState.quantity;
    quantity.addEventListener('change', () => { trialState.quantity = quantity.value; refresh(); });
    const slider = el('input', { id: 'hist-step', type: 'range', min: '0', max: '0', value: '0' });
    slider.addEventListener('input', () => { trialState.checkpoint = Number(slider.value); refresh(); });
    skeleton.append(el('h1', { id: 'trial-title' }), el('p', { id: 'trial-meta' }),
      el('p', { id: 'diagnosis', class: 'diagnosis' }),
      el('div', { id: 'trial-charts', class: 'charts' }),
      el('h2', { text: 'Histograms per layer (Fig. 6-8 style)' }),
      el('div', { class: 'controls' }, quantity, ' at checkpoint ', slider, el('span', { id: 'hist-step-label' })),
      el('div', { id: 'trial-hist', class: 'charts' }));
    view.append(skeleton);
    trialState.checkpoint = -1;
  }
  const t = data.trial;
  document.getElementById('trial-title').textContent = `Trial ${t.id}: ${t.label}`;
  document.getElementById('trial-meta').textContent =
    `sweep ${t.sweep_id}, ${t.state}, attempt ${t.attempt}, ${t.steps_done}/${t.updates} updates` +
    (t.worker_id ? `, worker ${t.worker_id}` : '') + (t.reason ? `, ${t.reason}` : '');
  const diag = document.getElementById('diagnosis');
  diag.textContent = data.diagnosis.line;
  diag.className = data.diagnosis.findings.length === 0 ? 'diagnosis ok' : 'diagnosis';
  diag.dataset.kinds = data.diagnosis.findings.map(f => f.kind).join(' ');

  const cps = data.checkpoints;
  const layers = [...new Set(cps.flatMap(c => c.layers.map(l => l.layer)))].sort((a, b) => a - b);
  const stat = (c, layer, q) => c.layers.find(l => l.layer === layer && l.quantity === q);
  const series = (q, field) => layers.map((layer, i) => ({
    label: `layer ${layer}`, borderColor: color(i), backgroundColor: color(i), fill: false,
    data: cps.map(c => { const s = stat(c, layer, q); return s && s[field] !== null ? { x: c.step, y: s[field] } : null; })
      .filter(p => p !== null),
  }));
  const box = document.getElementById('trial-charts');
  lineChart(box, 'trial-error', 'test and validation error', [
    { label: 'test error', data: cps.map(c => ({ x: c.step, y: c.test_error })), borderColor: color(0), backgroundColor: color(0) },
    { label: 'validation error', data: cps.map(c => ({ x: c.step, y: c.validation_error })), borderColor: color(1), backgroundColor: color(1) },
  ], { yLabel: 'error', yMin: 0, yMax: 1 });
  // Fig. 3-4: mean (solid) and 98th percentile (dashed) of each layer's activations.
  const meanP98 = [];
  layers.forEach((layer, i) => {
    const pts = f => cps.map(c => { const s = stat(c, layer, 'activation'); return s ? { x: c.step, y: s[f] } : null; }).filter(p => p);
    meanP98.push({ label: `layer ${layer} mean`, data: pts('mean'), borderColor: color(i), backgroundColor: color(i) });
    meanP98.push({ label: `layer ${layer} p98`, data: pts('p98'), borderColor: color(i), backgroundColor: color(i), borderDash: [6, 4] });
  });
  lineChart(box, 'layer-activation', 'activation mean (solid) and 98th percentile (dashed)', meanP98);
  lineChart(box, 'layer-saturation', 'saturated fraction of units', series('activation', 'saturated_fraction'),
            { yMin: 0, yMax: 1 });
  lineChart(box, 'layer-backprop', 'back-propagated gradient std', series('backprop_grad', 'std'), { logY: true });
  lineChart(box, 'layer-weightgrad', 'weight gradient std', series('weight_grad', 'std'), { logY: true });
  lineChart(box, 'layer-jacobian', 'Jacobian mean singular value', series('activation', 'jacobian_sv_mean'));

  // Histograms of one checkpoint, one line per layer (normalized counts at bin centers).
  const slider = document.getElementById('hist-step');
  slider.max = String(Math.max(0, cps.length - 1));
  const index = trialState.checkpoint < 0 || trialState.checkpoint >= cps.length ? cps.length - 1 : trialState.checkpoint;
  slider.value = String(Math.max(0, index));
  const hist = [];
  if (index >= 0) {
    const c = cps[index];
    document.getElementById('hist-step-label').textContent = ` step ${c.step}`;
    layers.forEach((layer, i) => {
      const s = stat(c, layer, trialState.quantity);
      if (!s || s.histogram.length === 0) return;
      const width = (s.hist_hi - s.hist_lo) / s.histogram.length;
      hist.push({ label: `layer ${layer}`, borderColor: color(i), backgroundColor: color(i), pointRadius: 0,
                  data: s.histogram.map((v, b) => ({ x: s.hist_lo + (b + 0.5) * width, y: v })) });
    });
  }
  lineChart(document.getElementById('trial-hist'), 'layer-histogram', `${trialState.quantity} histogram`, hist,
            { xLabel: 'value', yLabel: 'fraction' });
}

async function workersView(view, gen) {
  const workers = await getJson('/api/workers');
  if (gen !== generation) return;
  clear(view);
  view.append(el('h1', { text: 'Workers' }));
  view.append(table(['worker', 'alive', 'host', 'pid', 'cores', 'version', 'training', 'last heartbeat'],
    workers.map(w => el('tr', {}, cell(w.worker_id), cell(w.alive ? 'yes' : 'no'), cell(w.host), cell(w.pid, 'num'),
      cell(w.cores, 'num'), cell(w.version),
      w.current_trial === null ? cell('-') : el('td', {}, link(`#/trial/${w.current_trial}`, `trial ${w.current_trial}`)),
      cell(`${duration(w.seconds_since_seen)} ago`)))));
}

// --- routing and polling -------------------------------------------------------------
async function refresh() {
  const gen = generation;
  const view = document.getElementById('view');
  const hash = window.location.hash || '#/';
  let m;
  try {
    if ((m = hash.match(/^#\/sweep\/(\d+)$/))) await sweepView(view, gen, Number(m[1]));
    else if ((m = hash.match(/^#\/trial\/(\d+)$/))) await trialView(view, gen, Number(m[1]));
    else if (hash === '#/workers') await workersView(view, gen);
    else await sweepsView(view, gen);
    if (gen === generation) setStatus('updated ' + new Date().toLocaleTimeString(), false);
  } catch (e) {
    if (gen === generation) setStatus('error: ' + e.message, true);
  }
}

function poll() {
  clearTimeout(timer);
  const gen = generation;
  refresh().finally(() => { if (gen === generation) timer = setTimeout(poll, POLL_MS); });
}

window.addEventListener('hashchange', () => {
  generation++;
  dropCharts();
  clear(document.getElementById('view'));
  sweepState.selected.clear();
  sweepState.offset = 0;
  sweepState.stateFilter = '';
  poll();
});
poll();
