// Sentra dashboard: fetches the daemon's JSON API every 10 s and draws the page.
// Plain ES2017, no framework, no build step, nothing from outside the daemon.
// Every string from the API goes into the page as text (textContent / text nodes), never as markup.
'use strict';
(function () {
  const REFRESH_MS = 10000;
  // `?date=YYYY-MM-DD` shows that day's production instead of today's (e.g. a replayed day).
  const DAY = (function () {
    const d = new URLSearchParams(location.search).get('date');
    return d && /^\d{4}-\d{2}-\d{2}$/.test(d) ? d : null;
  })();
  const enc = encodeURIComponent;
  // `?lang=en|id` picks the page's language; else the browser's, else the sentra's (the daemon decides).
  const LANG = (function () {
    const l = new URLSearchParams(location.search).get('lang');
    return l === 'en' || l === 'id' ? l : null;
  })();
  // The page's words (/strings.json, the catalogue's `ui.` keys) and its number and date locale.
  let WORDS = {};
  let LOCALE = 'en-GB';
  // The text of `key` with each {name} filled from `args`.
  function t(key, args) {
    const text = WORDS[key] != null ? WORDS[key] : key;
    return text.replace(/\{(\w+)\}/g, (m, name) => (args && args[name] != null ? String(args[name]) : m));
  }
  const withDay = (url) => (DAY ? url + (url.includes('?') ? '&' : '?') + 'date=' + DAY : url);
  // Only what the page draws is fetched: the summaries of the sentra and of the usual
  // production, the selected craftsman's full rows (his hours chart and extra figures) and
  // each opened workshop's looms.
  // The one rule for the looms: a sentra of at most FULL_SENTRA_MAX_LOOMS looms is fetched
  // whole (/api/v1/sentra, every loom a tile, as always); a larger one as the summary (each
  // workshop's counts, the looms not running) plus the full loom list of each workshop the
  // user opened. The latest sentra answer decides: the summary's loom_counts added up, or the
  // full answer's looms; the first round asks for the summary and fetches the whole at once
  // when the sentra turns out small.
  const FULL_SENTRA_MAX_LOOMS = 400;
  const API = {
    sentraFull: 'api/v1/sentra',
    sentraSummary: 'api/v1/sentra?view=summary',
    workshop: (id) => 'api/v1/sentra?view=summary&workshop=' + enc(id),
    usual: withDay('api/v1/production/usual?view=summary'),
    usualOne: (id) => withDay('api/v1/production/usual?craftsman=' + enc(id)),
    productionOne: (id) => withDay('api/v1/production?craftsman=' + enc(id)),
    alerts: 'api/v1/alerts',
    status: 'api/v1/status',
    orders: 'api/v1/orders',
    me: 'api/v1/me',
    strings: 'strings.json' + (LANG ? '?lang=' + LANG : ''),
  };
  const SEVERITY_RANK = { critical: 0, warning: 1, info: 2 };
  const STATES = ['run', 'stop', 'fault', 'unknown', 'off'];
  const stateLabel = (st) => t('ui.state.' + st);
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const body = document.body;
  const $ = (id) => document.getElementById(id);

  // Test hook: every uncaught error or rejection is counted into data-errors.
  let errorCount = 0;
  function reportError(what) {
    errorCount += 1;
    body.dataset.errors = String(errorCount);
    console.error('sentra dashboard:', what);
  }
  window.addEventListener('error', (e) => reportError(e.error || e.message));
  window.addEventListener('unhandledrejection', (e) => reportError(e.reason));
  body.dataset.errors = '0';

  const state = {
    data: {},          // last good answer of each endpoint
    failed: [],        // endpoints that failed in the last round
    okAt: null,        // Date.now() of the last round where everything answered
    skewMs: 0,         // daemon clock minus browser clock, from sentra.now
    offsetMin: 0,      // the sentra's UTC offset, from sentra.now
    selected: undefined, // craftsman whose hours chart is open; undefined = the first one
    full: false,       // fetch the whole sentra (a small one), not the summary
    open: new Set(),   // workshops whose every loom the user asked to see (large sentra)
    wsLooms: new Map(), // workshop id -> its looms, for the open ones
    timer: null,
    busy: false,
    leaving: false,    // navigating to the login form
  };

  // ---- small helpers -------------------------------------------------------------------

  function append(el, kids) {
    for (const k of kids) {
      if (k == null || k === false) continue;
      if (Array.isArray(k)) append(el, k);
      else el.appendChild(k instanceof Node ? k : document.createTextNode(String(k)));
    }
    return el;
  }
  // h('div', {class: 'x', data: {craftsman: id}, onclick: fn}, 'text', child, [children])
  function h(tag, props, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v == null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'data') Object.assign(el.dataset, v);
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    return append(el, kids);
  }
  function svg(tag, attrs, ...kids) {
    const el = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v != null) el.setAttribute(k, String(v));
    return append(el, kids);
  }
  const byId = (list, key) => new Map((list || []).map((x) => [x[key || 'id'], x]));
  const num = (v, digits) => (v == null || !isFinite(v) ? '–' :
    Number(v).toLocaleString(LOCALE, { maximumFractionDigits: digits == null ? 1 : digits }));
  const rupiah = (v) => 'Rp\u00a0' + Number(v).toLocaleString(LOCALE, { maximumFractionDigits: 0 });
  // A local date YYYY-MM-DD as the page's language writes it.
  const longDate = (ymd) => (/^\d{4}-\d{2}-\d{2}$/.test(ymd || '') ? new Date(ymd + 'T00:00:00Z').toLocaleDateString(LOCALE,
    { timeZone: 'UTC', weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' }) : (ymd || '–'));
  // An RFC 3339 time as the sentra's wall clock: its date and hour:minute.
  const dateTime = (s) => (s ? longDate(s.slice(0, 10)) + ' ' + s.slice(11, 16) : '–');
  const pct = (v, max) => (max > 0 ? Math.max(0, Math.min(100, (100 * v) / max)) : 0).toFixed(2) + '%';

  // Times: the API speaks RFC 3339 with the sentra's offset; the page shows the sentra's wall
  // clock whatever the browser's time zone, and measures "ago" on the daemon's clock.
  const daemonNow = () => Date.now() + state.skewMs;
  function offsetOf(s) {
    const m = /([+-])(\d\d):?(\d\d)$/.exec(s || '');
    return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
  }
  const wall = (ms) => new Date(ms + state.offsetMin * 60000).toISOString(); // sentra-local, "Z" is a lie
  function absTime(s) {
    if (!s) return '–';
    const today = state.data.sentra && state.data.sentra.today;
    return s.slice(0, 10) === today ? s.slice(11, 19) : s.slice(0, 10) + ' ' + s.slice(11, 16);
  }
  // How long ago `s` was: null when unknown, 'now' under 5 s, else words.
  function duration(s) {
    const ms = Date.parse(s || '');
    if (isNaN(ms)) return null;
    const sec = Math.round((daemonNow() - ms) / 1000);
    if (sec < 5) return 'now';
    if (sec < 60) return t('ui.dur.seconds', { n: sec });
    const min = Math.floor(sec / 60);
    if (min < 60) return t('ui.dur.minutes', { n: min });
    const hr = Math.floor(min / 60);
    if (hr < 10 && min % 60) return t('ui.dur.hours_minutes', { h: hr, m: min % 60 });
    if (hr < 48) return t('ui.dur.hours', { n: hr });
    return t('ui.dur.days', { n: Math.floor(hr / 24) });
  }
  function ago(s) {
    const d = duration(s);
    return d == null ? '–' : d === 'now' ? t('ui.ago.now') : t('ui.ago', { d });
  }
  function since(s) {
    const d = duration(s);
    return d == null ? '–' : d === 'now' ? t('ui.dur.now') : d;
  }

  // ---- fetching ------------------------------------------------------------------------

  async function getJSON(url) {
    const res = await fetch(url, { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } });
    if (res.status === 401) {
      state.leaving = true;
      location.assign('login');
      throw new Error('not logged in');
    }
    if (!res.ok) throw Object.assign(new Error('HTTP ' + res.status), { status: res.status });
    return res.json();
  }

  const isFull = (s) => Array.isArray(s.devices);
  function loomTotal(s) {
    if (isFull(s)) return (s.looms || []).length;
    let n = 0;
    for (const w of s.workshops || []) for (const v of Object.values(w.loom_counts || {})) n += v;
    return n;
  }
  const wantFull = (s) => loomTotal(s) <= FULL_SENTRA_MAX_LOOMS;

  const detailRequests = (id) => [['usualOne', API.usualOne(id)], ['productionOne', API.productionOne(id)]];
  // The requests of one refresh: [key, url] pairs.
  function requests() {
    const list = [['sentra', state.full ? API.sentraFull : API.sentraSummary], ['usual', API.usual],
      ['alerts', API.alerts], ['status', API.status], ['orders', API.orders]];
    if (state.selected) list.push(...detailRequests(state.selected));
    if (!state.full) for (const id of state.open) list.push(['ws:' + id, API.workshop(id)]);
    return list;
  }

  // Fetches [key, url] pairs at once and keeps each good answer; returns the failures. A 404
  // (a craftsman or workshop no longer configured) forgets what asked for it.
  async function fetchAll(list) {
    const results = await Promise.all(list.map(([, url]) => getJSON(url).then(
      (v) => ({ ok: true, v }), (e) => ({ ok: false, e }))));
    const failed = [];
    results.forEach((r, i) => {
      const key = list[i][0];
      const ws = key.startsWith('ws:') ? key.slice(3) : null;
      if (r.ok) {
        if (ws == null) state.data[key] = r.v;
        else if (state.open.has(ws)) state.wsLooms.set(ws, r.v.looms || []);
      } else if (r.e && r.e.status === 404) {
        if (ws == null) delete state.data[key];
        else { state.open.delete(ws); state.wsLooms.delete(ws); }
      } else {
        failed.push(key + ' (' + (r.e && r.e.message ? r.e.message : r.e) + ')');
      }
    });
    return failed;
  }

  async function refresh() {
    clearTimeout(state.timer);
    if (state.busy) return;
    state.busy = true;
    const asked = state.selected; // whose rows this round fetches
    let failed = await fetchAll(requests());
    const sentraOK = !failed.some((f) => f.startsWith('sentra '));
    if (sentraOK && state.data.sentra && wantFull(state.data.sentra) !== state.full) {
      state.full = !state.full;
      if (state.full) failed = failed.concat(await fetchAll([['sentra', API.sentraFull]]));
    }
    state.busy = false;
    if (state.leaving) return;
    state.failed = failed;
    if (sentraOK && state.data.sentra && state.data.sentra.now) {
      state.skewMs = Date.parse(state.data.sentra.now) - Date.now();
      state.offsetMin = offsetOf(state.data.sentra.now);
    }
    if (state.failed.length === 0) state.okAt = Date.now();
    try {
      render();
      if (state.failed.length === 0) body.dataset.state = 'ready';
    } catch (e) {
      reportError(e);
    }
    // The first round's render picks the first craftsman: his rows come at once.
    if (state.selected && state.selected !== asked) loadDetail();
    state.timer = setTimeout(refresh, REFRESH_MS);
  }

  // The selected craftsman's full rows: his hours chart and extra figures.
  const detailRow = (key, id) => ((state.data[key] || {}).craftsmen || []).find((c) => c.craftsman === id);
  async function loadDetail() {
    const id = state.selected;
    if (!id) return;
    const failed = await fetchAll(detailRequests(id));
    if (state.leaving || id !== state.selected || failed.length) return; // the next refresh says it is stale
    try {
      renderProduction();
    } catch (e) {
      reportError(e);
    }
  }

  async function toggleWorkshop(id) {
    if (state.open.has(id)) {
      state.open.delete(id);
      state.wsLooms.delete(id);
      renderLooms();
      return;
    }
    state.open.add(id);
    renderLooms();
    await fetchAll([['ws:' + id, API.workshop(id)]]);
    if (!state.leaving && state.data.sentra) renderLooms();
  }

  // ---- rendering -----------------------------------------------------------------------

  function render() {
    const d = state.data;
    renderHeader();
    if (d.sentra || d.usual) renderProduction();
    if (d.sentra) renderLooms();
    if (d.sentra) renderUtilities();
    if (d.alerts) renderAlerts();
    renderOrders();
  }

  // Open orders: progress, the estimate of when each is done, and each craftsman's share.
  function renderOrders() {
    const orders = ((state.data.orders || {}).orders || []).filter((o) => o.status === 'open');
    $('orders').hidden = !state.data.orders;
    $('orders-body').replaceChildren(...(orders.length ? orders.map((o) => {
      const shares = o.shares || [];
      return h('article', { class: 'order' + (o.behind ? ' behind' : ''), data: { order: o.id } },
        h('h3', null, o.title ? o.title + ' · ' : '', o.product_name, ' ', h('span', { class: 'dim' }, o.id),
          o.behind ? h('span', { class: 'pill sev-warning' }, t('ui.orders.behind')) : null),
        h('div', { class: 'cbar', 'aria-hidden': 'true' }, h('span', { class: 'bpcs', style: 'width:' + pct(o.made, o.wanted) })),
        h('p', null, t('ui.orders.progress', { made: num(o.made, 1), wanted: num(o.wanted, 0) }), ' · ',
          t('ui.orders.due', { date: longDate(o.due) }), ' · ',
          o.eta ? t('ui.orders.eta', { date: dateTime(o.eta) }) : t('ui.orders.no_eta')),
        shares.length ? h('table', { class: 'shares' },
          h('thead', null, h('tr', null, h('th', null, t('ui.orders.craftsman')), h('th', null, t('ui.orders.suggested')),
            h('th', null, t('ui.orders.assigned')), h('th', null, t('ui.orders.made')))),
          h('tbody', null, shares.map((c) => h('tr', { data: { craftsman: c.craftsman } },
            h('td', null, c.name), h('td', null, num(c.suggested, 0)), h('td', null, num(c.assigned, 0)),
            h('td', null, num(c.made, 1)))))) : null);
    }) : [h('p', { class: 'calm' }, t('ui.orders.none'))]));
  }

  // ---- a craftsman's own view (his personal link) ---------------------------------------

  async function refreshMe() {
    clearTimeout(state.timer);
    try {
      state.me = await getJSON(API.me);
      state.failed = [];
      state.okAt = Date.now();
      renderMe();
      body.dataset.state = 'ready';
    } catch (e) {
      state.failed = ['me (' + (e && e.message ? e.message : e) + ')'];
    }
    renderHeader();
    state.timer = setTimeout(refreshMe, REFRESH_MS);
  }

  // Only what /api/v1/me gives: his numbers, never another craftsman's.
  function renderMe() {
    const me = state.me;
    $('sentra-name').textContent = t('ui.me.hello', { name: me.name });
    document.title = me.name + ' · Sentra';
    const d = me.today;
    $('me-today-body').replaceChildren(
      h('p', { class: 'big' }, t('ui.me.pieces_today', { pieces: num(d.pieces, 1) })),
      h('p', { class: 'dim' }, longDate(d.date), ' · ', d.usual_so_far == null ? t('ui.me.no_usual')
        : t('ui.me.usual', { so_far: num(d.usual_so_far), day: num(d.usual_day) })));
    $('me-looms-body').replaceChildren(...me.looms.map((l) => {
      const st = STATES.includes(l.state) ? l.state : 'unknown';
      return h('div', { class: 'loom st-' + st, data: { loom: l.loom } },
        h('span', { class: 'lhead' }, h('span', { class: 'lid' }, l.loom), h('span', { class: 'lstate' }, stateLabel(st))),
        h('span', { class: 'lwho' }, t('ui.me.loom_line', { pieces: num(l.pieces_today, 1) })));
    }));
    $('me-orders-body').replaceChildren(...(me.orders.length ? me.orders.map((o) =>
      h('article', { class: 'order', data: { order: o.id } },
        h('h3', null, o.title ? o.title + ' · ' : '', o.product_name),
        h('div', { class: 'cbar', 'aria-hidden': 'true' }, h('span', { class: 'bpcs', style: 'width:' + pct(o.made, o.assigned) })),
        h('p', null, t('ui.me.share', { assigned: num(o.assigned, 0), made: num(o.made, 1) }), ' · ',
          t('ui.orders.due', { date: longDate(o.due) }), ' · ',
          o.eta ? t('ui.orders.eta', { date: dateTime(o.eta) }) : t('ui.orders.no_eta'))))
      : [h('p', { class: 'calm' }, t('ui.me.no_orders'))]));
    const p = me.pay_month;
    $('me-pay-body').replaceChildren(h('p', { class: 'big' }, t('ui.me.pay_line',
      { from: longDate(p.from), to: longDate(p.to), pieces: num(p.pieces, 1), amount: rupiah(p.amount) })));
  }

  // The words first; then a personal link's own view, else the whole sentra.
  async function start() {
    try {
      const words = await getJSON(API.strings);
      WORDS = words.strings || {};
      LOCALE = words.language === 'id' ? 'id-ID' : 'en-GB';
      document.documentElement.lang = words.language;
    } catch (e) {
      reportError(e);
    }
    // The daemon serves the page marked data-view="own" to a personal link.
    if (body.dataset.view === 'own') {
      $('sentra-view').remove(); // nothing of the whole sentra stays in his page
      $('own-view').hidden = false;
      $('health').replaceChildren();
      state.me = {};
      refreshMe();
      return;
    }
    $('own-view').remove();
    if (DAY) dayHeading();
    refresh();
  }

  function renderHeader() {
    if (state.me) return renderOwnHeader();
    const { sentra, status, alerts } = state.data;
    const name = (sentra && sentra.name) || (status && status.name) || 'Sentra';
    $('sentra-name').textContent = name;
    document.title = name + ' · Sentra';
    const parts = [];
    if (status) {
      const m = status.mqtt || {};
      const mqtt = !m.connected ? ['bad', t('ui.health.mqtt_down')] : !m.subscribed ? ['warn', t('ui.health.mqtt_unsubscribed')]
        : ['ok', t('ui.health.mqtt_ok')];
      parts.push(h('span', { class: mqtt[0] }, mqtt[1]));
      const r = status.readings || {};
      parts.push(h('span', null, t('ui.health.readings', { n: num(r.accepted, 0) })));
      parts.push(h('span', { class: r.rejected_total ? 'warn' : null }, t('ui.health.rejected', { n: num(r.rejected_total, 0) })));
      for (const p of status.plugins || []) if (!p.up) parts.push(h('span', { class: 'bad' }, t('ui.health.plugin_down', { name: p.name })));
      if (status.queue && status.queue.depth > status.queue.capacity / 2) {
        parts.push(h('span', { class: 'warn' }, t('ui.health.queue', { n: num(status.queue.depth, 0) })));
      }
    }
    const firing = alerts ? alerts.firing.length : status ? status.alerts_firing : null;
    if (firing != null) {
      parts.push(h('a', { href: '#alerts', class: firing ? 'bad' : 'ok' },
        firing ? (firing === 1 ? t('ui.health.alerts_one') : t('ui.health.alerts_many', { n: num(firing, 0) })) : t('ui.health.no_alerts')));
    }
    if (status && status.version) parts.push(h('span', { class: 'dim' }, 'v' + status.version));
    $('health').replaceChildren(...parts.flatMap((p, i) => (i ? [' · ', p] : [p])));

    const banner = $('banner');
    if (state.failed.length) {
      banner.hidden = false;
      banner.replaceChildren(h('strong', null, t('ui.stale.title')), ' ',
        state.okAt ? t('ui.stale.showing', { time: wall(state.okAt + state.skewMs).slice(11, 19) }) : t('ui.stale.no_data'), ' ',
        h('small', null, t('ui.stale.failed', { what: state.failed.join(', ') })));
      body.dataset.stale = 'true';
    } else {
      banner.hidden = true;
      delete body.dataset.stale;
    }
    tick();
  }

  // A personal link's header: the banner when stale, and when it was updated.
  function renderOwnHeader() {
    const banner = $('banner');
    banner.hidden = !state.failed.length;
    if (state.failed.length) {
      banner.replaceChildren(h('strong', null, t('ui.stale.title')), ' ', h('small', null, t('ui.stale.failed', { what: state.failed.join(', ') })));
    }
    tick();
  }

  // The clock and "updated … ago" move every second between refreshes.
  function tick() {
    if (state.data.sentra) {
      const now = daemonNow();
      const date = new Date(now + state.offsetMin * 60000).toLocaleDateString(LOCALE,
        { timeZone: 'UTC', weekday: 'short', day: 'numeric', month: 'short' });
      $('clock').textContent = date + ' ' + wall(now).slice(11, 16);
    }
    $('updated').textContent = state.okAt ? t('ui.updated', { ago: ago(new Date(state.okAt + state.skewMs).toISOString()) }) : '';
  }

  function groupByWorkshop(items) {
    const groups = new Map(((state.data.sentra || {}).workshops || []).map((w) => [w.id, { ws: w, items: [] }]));
    for (const it of items) {
      if (!groups.has(it.workshop)) groups.set(it.workshop, { ws: { id: it.workshop, name: it.workshop }, items: [] });
      groups.get(it.workshop).items.push(it);
    }
    return [...groups.values()];
  }

  function renderProduction() {
    const { sentra, usual } = state.data;
    const usualBy = byId(usual && usual.craftsmen, 'craftsman');
    const people = sentra && sentra.craftsmen ? sentra.craftsmen
      : ((usual && usual.craftsmen) || []).map((c) => ({ id: c.craftsman, name: c.name, workshop: c.workshop }));
    const rows = people.map((c) => {
      const u = usualBy.get(c.id) || {};
      const p = detailRow('productionOne', c.id) || {};
      return { id: c.id, name: c.name || u.name || c.id, workshop: c.workshop,
        pieces: u.pieces_today != null ? u.pieces_today : p.pieces || 0,
        soFar: u.usual_so_far, day: u.usual_day, prod: p };
    });
    let max = 1;
    for (const r of rows) max = Math.max(max, r.pieces, r.soFar || 0, r.day || 0);
    if (state.selected === undefined && rows.length) state.selected = rows[0].id;

    const out = [];
    for (const g of groupByWorkshop(rows)) {
      const total = g.items.reduce((s, r) => s + r.pieces, 0);
      out.push(h('h3', null, g.ws.name, ' ',
        h('span', { class: 'dim' }, t('ui.pcs', { n: num(total, 1) }) + (g.ws.in_shift === false ? ' · ' + t('ui.off_shift') : ''))));
      for (const r of g.items) {
        const open = state.selected === r.id;
        const below = r.soFar != null && r.soFar >= 1 && r.pieces < 0.5 * r.soFar;
        const noUsual = r.soFar == null && r.day == null;
        out.push(h('button', {
          type: 'button', class: 'crow' + (open ? ' open' : ''), data: { craftsman: r.id }, 'aria-expanded': String(open),
          onclick: () => {
            state.selected = open ? null : r.id;
            renderProduction();
            if (!open) loadDetail();
          },
        },
        h('span', { class: 'cname' }, r.name),
        h('span', { class: 'cnum' }, h('b', null, t('ui.pcs', { n: num(r.pieces, 1) }))),
        h('span', { class: 'cbar', 'aria-hidden': 'true' },
          r.day != null ? h('span', { class: 'bday', style: 'width:' + pct(r.day, max) }) : null,
          h('span', { class: 'bpcs' + (below ? ' below' : ''), style: 'width:' + pct(r.pieces, max) }),
          r.soFar != null ? h('span', { class: 'bnow', style: 'left:' + pct(r.soFar, max) }) : null),
        h('span', { class: 'cusual' + (noUsual ? ' dim' : '') }, noUsual ? t('ui.usual.none')
          : t('ui.usual.line', { so_far: num(r.soFar), day: num(r.day) }))));
        if (open) out.push(hoursChart(r));
      }
    }
    if (!rows.length) out.push(h('p', { class: 'calm' }, t('ui.no_craftsmen')));
    const focused = document.activeElement && document.activeElement.dataset.craftsman;
    $('production-body').replaceChildren(...out);
    if (focused) { // a re-render must not take the keyboard user's place away
      const el = document.querySelector('[data-craftsman="' + CSS.escape(focused) + '"]');
      if (el) el.focus({ preventScroll: true });
    }
  }

  // Pieces per local hour today (solid) against the usual per hour (faint, wider, behind).
  function hoursChart(r) {
    const u = detailRow('usualOne', r.id);
    if (!u) return h('div', { class: 'hours', data: { hoursOf: r.id } }, h('div', { class: 'hcap' }, t('ui.hours.loading')));
    const hours = u.hours || new Array(24).fill(0);
    const usualHours = u.usual_hours;
    const top = Math.max(1, ...hours, ...(usualHours || []));
    const W = 240, H = 64, base = H - 2;
    // The hour now is marked only on today's chart.
    const today = state.data.sentra && (!DAY || DAY === state.data.sentra.today);
    const nowHour = today ? Number(wall(daemonNow()).slice(11, 13)) : -1;
    const y = (v) => base - (v / top) * (base - 8);
    const g = [];
    g.push(svg('line', { x1: 0, x2: W, y1: base, y2: base, class: 'axis' }));
    if (nowHour >= 0) g.push(svg('rect', { x: nowHour * 10, y: 0, width: 10, height: base, class: 'nowcol' }));
    for (let i = 0; i < 24; i++) {
      const u = usualHours ? usualHours[i] : null;
      const hh = String(i).padStart(2, '0');
      const tip = u != null ? t('ui.hours.tip_usual', { hour: hh, pieces: num(hours[i]), usual: num(u) })
        : t('ui.hours.tip', { hour: hh, pieces: num(hours[i]) });
      g.push(svg('g', null, svg('title', null, tip),
        u ? svg('rect', { x: i * 10 + 0.5, y: y(u), width: 9, height: base - y(u), class: 'husual' }) : null,
        hours[i] ? svg('rect', { x: i * 10 + 2.5, y: y(hours[i]), width: 5, height: base - y(hours[i]), class: 'hpcs' }) : null,
        svg('rect', { x: i * 10, y: 0, width: 10, height: base, fill: 'transparent' })));
    }
    const labels = [0, 6, 12, 18, 23].map((i) => h('span', { style: 'left:' + pct(i * 10 + 5, W) }, String(i).padStart(2, '0')));
    const what = DAY ? t('ui.hours.on_day', { day: DAY }) : t('ui.hours.today');
    return h('div', { class: 'hours', data: { hoursOf: r.id } },
      h('div', { class: 'hcap' }, what, ' ', usualHours ? t('ui.hours.vs_usual') : t('ui.hours.no_usual'), ' · ',
        t('ui.hours.top', { n: num(top) })),
      svg('svg', { viewBox: '0 0 ' + W + ' ' + H, preserveAspectRatio: 'none', role: 'img',
        'aria-label': t('ui.hours.aria', { what, name: r.name }) }, ...g),
      h('div', { class: 'hlabels' }, labels),
      extraFigures(detailRow('productionOne', r.id)));
  }

  function extraFigures(p) {
    if (!p || p.craftsman == null) return null;
    const bits = [];
    if (p.utilisation != null) bits.push(t('ui.fig.utilisation', { n: num(p.utilisation * 100, 0) }));
    bits.push(t('ui.fig.run', { n: num(p.run_seconds / 3600, 1) }), t('ui.fig.picks', { n: num(p.picks, 0) }));
    if (p.kwh_per_piece != null) bits.push(t('ui.fig.kwh_per_piece', { n: num(p.kwh_per_piece, 2) }));
    if (p.litres_per_piece != null) bits.push(t('ui.fig.litres_per_piece', { n: num(p.litres_per_piece, 1) }));
    return h('div', { class: 'hfig dim' }, bits.join(' · '));
  }

  // The looms drawn as tiles: every one of a whole sentra; of a summary the ones not running,
  // and every loom of each workshop opened.
  function loomsToDraw(sentra) {
    if (isFull(sentra)) return sentra.looms || [];
    const whole = (id) => state.open.has(id) && state.wsLooms.has(id);
    const shown = (sentra.looms || []).filter((l) => !whole(l.workshop));
    for (const [id, list] of state.wsLooms) if (whole(id)) shown.push(...list);
    return shown;
  }

  function renderLooms() {
    const { sentra } = state.data;
    const names = byId(sentra.craftsmen);
    const idleOnly = $('looms-idle').checked;
    const summary = !isFull(sentra);
    const out = [];
    for (const g of groupByWorkshop(loomsToDraw(sentra))) {
      const count = { run: 0, stop: 0, fault: 0, unknown: 0, off: 0 };
      const tiles = g.items.map((l) => {
        const st = l.online === false ? 'off' : STATES.includes(l.state) ? l.state : 'unknown';
        count[st] += 1;
        if (idleOnly && st === 'run') return null;
        const who = l.craftsman ? (names.get(l.craftsman) || { name: l.craftsman }).name : t('ui.loom.no_craftsman');
        const when = st === 'off' ? (l.last_heard ? t('ui.loom.heard', { ago: ago(l.last_heard) }) : t('ui.loom.never_heard'))
          : l.since ? t('ui.loom.for', { d: since(l.since) }) : '';
        return h('div', { class: 'loom st-' + st, data: { loom: l.id },
          title: l.since ? t('ui.loom.since', { state: stateLabel(st), at: absTime(l.since) }) : null },
        h('span', { class: 'lhead' }, h('span', { class: 'lid' }, l.id), h('span', { class: 'lstate' }, stateLabel(st))),
        h('span', { class: 'lwho' }, who), h('span', { class: 'lwhen' }, when));
      });
      const counts = summary ? g.ws.loom_counts || {} : count;
      if (!Object.values(counts).some((n) => n > 0)) continue;
      // A summary lists at most so many looms not running: say how many more the workshop has.
      const notRunning = summary ? ['stop', 'fault', 'unknown', 'off'].reduce((s, k) => s + (counts[k] || 0), 0) : 0;
      const drawn = g.items.filter((l) => !(l.online !== false && l.state === 'run')).length;
      const more = summary && !state.open.has(g.ws.id) && notRunning > drawn
        ? h('p', { class: 'dim' }, t('ui.looms.more', { n: num(notRunning - drawn, 0) })) : null;
      const chips = STATES.filter((k) => counts[k])
        .map((k) => h('span', { class: 'chip st-' + k }, num(counts[k], 0) + ' ' + stateLabel(k)));
      if (summary) { // a large sentra: the header opens and closes the workshop's every loom
        const open = state.open.has(g.ws.id);
        out.push(h('h3', null, h('button', { type: 'button', class: 'wsbtn' + (open ? ' open' : ''), 'aria-expanded': String(open),
          data: { openWs: g.ws.id }, onclick: () => toggleWorkshop(g.ws.id) }, g.ws.name, ' ', chips)));
      } else {
        out.push(h('h3', null, g.ws.name, ' ', chips));
      }
      out.push(h('div', { class: 'tiles' }, tiles));
      if (more) out.push(more);
    }
    if (!out.length) out.push(h('p', { class: 'calm' }, t('ui.looms.none')));
    else if (idleOnly && !out.some((el) => el.className === 'tiles' && el.firstChild)) {
      out.unshift(h('p', { class: 'calm' }, t('ui.looms.all_running')));
    }
    const focused = document.activeElement && document.activeElement.dataset.openWs;
    $('looms-body').replaceChildren(...out);
    if (focused) {
      const el = document.querySelector('[data-open-ws="' + CSS.escape(focused) + '"]');
      if (el) el.focus({ preventScroll: true });
    }
  }

  function statusPill(s) {
    const st = ['ok', 'alert', 'offline', 'none'].includes(s) ? s : 'none';
    return h('span', { class: 'pill s-' + st }, t('ui.util.' + st));
  }

  function tankGauge(p, status) {
    if (p == null) return null;
    const v = Math.max(0, Math.min(100, p));
    return svg('svg', { class: 'tank', viewBox: '0 0 100 10', preserveAspectRatio: 'none', 'aria-hidden': 'true' },
      svg('rect', { x: 0, y: 0, width: 100, height: 10, rx: 2, class: 'ttrack' }),
      svg('rect', { x: 0, y: 0, width: v, height: 10, rx: 2, class: 'tfill' + (status === 'alert' || v < 15 ? ' low' : '') }));
  }

  // Only the rules firing on the workshop's meters belong on its power and water card.
  function meterAlerts(w) {
    const rules = [...((w.power && w.power.alerts) || []), ...((w.water && w.water.alerts) || [])];
    return [...new Set(rules)].sort();
  }

  function renderUtilities() {
    const cards = (state.data.sentra.workshops || []).map((w) => {
      const pw = w.power || {}, wt = w.water || {};
      return h('div', { class: 'card', data: { workshop: w.id } },
        h('h3', null, w.name || w.id),
        h('div', { class: 'util' }, h('span', { class: 'ulbl' }, t('ui.util.power')), statusPill(pw.status),
          h('span', { class: 'uval' }, num(pw.voltage) + ' V · ' + num(pw.watts, 0) + ' W')),
        h('div', { class: 'util' }, h('span', { class: 'ulbl' }, t('ui.util.water')), statusPill(wt.status),
          h('span', { class: 'uval' }, num(wt.flow_lpm) + ' L/min')),
        h('div', { class: 'util tankrow' }, h('span', { class: 'ulbl' }, t('ui.util.tank')),
          tankGauge(wt.tank_percent, wt.status) || h('span', { class: 'dim' }, t('ui.util.no_reading')),
          h('span', { class: 'uval' }, wt.tank_percent == null ? '' : num(wt.tank_percent) + ' %')),
        meterAlerts(w).length ? h('div', { class: 'ualerts' }, meterAlerts(w).map((a) => h('span', { class: 'chip' }, a))) : null);
    });
    $('utilities-body').replaceChildren(...cards);
  }

  function labelChips(labels) {
    return h('ul', { class: 'labels' }, Object.keys(labels || {}).sort()
      .map((k) => h('li', null, k + '=' + labels[k])));
  }

  function renderAlerts() {
    const { firing, recent } = state.data.alerts;
    const sorted = (firing || []).slice().sort((a, b) => (SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity])
      || String(b.started).localeCompare(String(a.started)));
    $('h-alerts').textContent = sorted.length ? t('ui.alerts.title_count', { n: num(sorted.length, 0) }) : t('ui.alerts.title');
    $('alerts-body').replaceChildren(...(sorted.length ? sorted.map((a) =>
      h('article', { class: 'alert sev-' + a.severity, data: { alertId: a.id, rule: a.rule } },
        h('div', { class: 'ahead' }, h('span', { class: 'pill sev' }, t('ui.severity.' + a.severity)), ' ', h('strong', null, a.rule),
          h('span', { class: 'when', title: a.started }, t('ui.alerts.since', { ago: since(a.started), at: absTime(a.started) }))),
        h('p', { class: 'summary' }, a.summary), labelChips(a.labels)))
      : [h('p', { class: 'calm' }, t('ui.alerts.none'))]));
    const events = (recent || []).slice().reverse();
    $('recent-summary').textContent = t('ui.alerts.recent_count', { n: num(events.length, 0) });
    $('recent-body').replaceChildren(...events.map((e) =>
      h('li', { class: 'ev-' + e.status, data: { seq: e.seq } },
        h('span', { class: 'when' }, absTime(e.ts)), ' ',
        h('span', { class: 'pill ' + (e.status === 'firing' ? 'sev-' + e.severity : 's-resolved') }, t('ui.event.' + e.status)), ' ',
        h('strong', null, e.rule), ' ', h('span', null, e.summary))));
  }

  // ---- start ---------------------------------------------------------------------------

  $('looms-idle').addEventListener('change', () => { if (state.data.sentra) renderLooms(); });
  setInterval(tick, 1000);
  function dayHeading() {
    $('h-production').replaceChildren(t('ui.production.on_day', { day: DAY }) + ' ',
      h('a', { href: './', class: 'dim' }, t('ui.production.today_link')));
  }
  document.addEventListener('visibilitychange', () => { if (!document.hidden) (state.me ? refreshMe : refresh)(); });
  start();
})();
