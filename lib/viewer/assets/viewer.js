/* traceindex trace viewer. Served at GET / (talks to /v1), or inlined into a self-contained report
   (renderTraceReport / renderScanReport) with its data in #traceindex-data: then it filters the embedded spans. */
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var embedded = document.getElementById('traceindex-data');
  var report = embedded ? JSON.parse(embedded.textContent) : null;
  var state = {
    indexes: [], index: null, token: sessionStorage.getItem('traceindex-token') || '',
    text: '', result: null, selected: -1, item: 0,
  };

  // ---- colour scale: BCI relative to the spans shown, light amber → deep magenta ----
  var STOPS = [[255, 236, 170], [255, 196, 110], [250, 140, 90], [226, 84, 118], [150, 52, 150]];
  function ramp(t) {
    t = Math.max(0, Math.min(1, t)) * (STOPS.length - 1);
    var i = Math.min(STOPS.length - 2, Math.floor(t)), f = t - i, a = STOPS[i], b = STOPS[i + 1];
    return [0, 1, 2].map(function (k) { return Math.round(a[k] + (b[k] - a[k]) * f); });
  }
  function rgb(c, alpha) { return 'rgba(' + c[0] + ',' + c[1] + ',' + c[2] + ',' + (alpha == null ? 1 : alpha) + ')'; }
  function fmt(x, d) { return x == null || !isFinite(x) ? '–' : Number(x).toLocaleString(undefined, { maximumFractionDigits: d == null ? 2 : d }); }
  function esc(s) { return String(s).replace(/[&<>"]/g, function (c) { return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]; }); }
  function num(id) { var v = $(id).value.trim(); if (v === '') return undefined; var n = Number(v); return isFinite(n) ? n : undefined; }

  // ---- API ----
  function api(path, body) {
    var headers = { 'content-type': 'application/json' };
    if (state.token) headers.authorization = 'Bearer ' + state.token;
    return fetch(path, body === undefined ? { headers: headers } : { method: 'POST', headers: headers, body: JSON.stringify(body) })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (j) {
          if (r.status === 401) { $('auth').hidden = false; }
          if (!r.ok) throw new Error((j.error && (j.error.message || j.error)) || ('HTTP ' + r.status));
          return j;
        });
      });
  }

  // ---- spans in view: the filters the controls set (in a report they apply to the embedded spans) ----
  function visibleSpans() {
    if (!state.result) return [];
    var minLen = num('minLength'), maxCount = num('maxCount');
    return state.result.spans.map(function (s, i) { s.i = i; return s; }).filter(function (s) {
      if (!report) return true;  // the server already applied them
      return (minLen === undefined || s.end - s.start >= minLen) && (maxCount === undefined || s.count <= maxCount);
    });
  }

  function render() {
    var out = $('rendered'), tau = num('tau'), spans = visibleSpans(), text = state.text;
    $('docs').innerHTML = '<p class="muted empty">Click a highlighted span to see the training documents it was found in.</p>';
    state.selected = -1;
    if (!state.result) { out.textContent = ''; return; }
    var placed = spans.filter(function (s) { return s.textStart != null; });
    var lo = Infinity, hi = -Infinity;
    spans.forEach(function (s) { lo = Math.min(lo, s.bci); hi = Math.max(hi, s.bci); });
    var color = function (b) { return ramp(hi > lo ? (b - lo) / (hi - lo) : 0.5); };
    state.color = color;
    // Segments between every span boundary; each knows the spans covering it.
    var cuts = [0, text.length];
    placed.forEach(function (s) { cuts.push(s.textStart, s.textEnd); });
    cuts = Array.from(new Set(cuts)).sort(function (a, b) { return a - b; });
    var html = '';
    for (var k = 0; k + 1 < cuts.length; k++) {
      var a = cuts[k], b = cuts[k + 1], piece = text.slice(a, b);
      var cover = placed.filter(function (s) { return s.textStart <= a && s.textEnd >= b; });
      if (cover.length === 0) { html += esc(piece); continue; }
      var top = cover.reduce(function (m, s) { return s.bci > m.bci ? s : m; });
      var c = color(top.bci), dark = (c[0] * 0.299 + c[1] * 0.587 + c[2] * 0.114) < 150;
      var refused = tau !== undefined && cover.some(function (s) { return s.bci > tau; });
      html += '<mark class="seg' + (cover.length > 1 ? ' depth' + Math.min(3, cover.length) : '') + (dark ? ' dark' : '') + (refused ? ' refused' : '') +
        '" style="background:' + rgb(c, 0.92) + '" data-spans="' + cover.map(function (s) { return s.i; }).join(',') + '">' + esc(piece) + '</mark>';
    }
    out.innerHTML = html;
    // Summary, legend, table.
    var over = tau === undefined ? [] : spans.filter(function (s) { return s.bci > tau; });
    var maxBci = spans.reduce(function (m, s) { return Math.max(m, s.bci); }, 0);
    $('summary').innerHTML = '<b>' + spans.length + '</b> span' + (spans.length === 1 ? '' : 's') + ' in <b>' + fmt(state.result.tokens, 0) +
      '</b> tokens · max BCI <b>' + fmt(maxBci) + '</b>' +
      (tau === undefined ? '' : over.length ? '<span class="badge refuse">TraceShield would refuse: ' + over.length + ' span' + (over.length === 1 ? '' : 's') + ' above τ = ' + fmt(tau) + '</span>'
        : '<span class="badge ok">passes τ = ' + fmt(tau) + '</span>');
    var legend = $('legend');
    legend.hidden = spans.length === 0;
    var grad = 'linear-gradient(90deg,' + [0, 0.25, 0.5, 0.75, 1].map(function (t) { return rgb(ramp(t)); }).join(',') + ')';
    legend.innerHTML = '<span>BCI</span><span class="num">' + fmt(lo === Infinity ? 0 : lo, 1) + '</span><span class="ramp" style="background:' + grad + '"></span><span class="num">' +
      fmt(hi === -Infinity ? 0 : hi, 1) + '</span>' + (tau === undefined ? '' : '<span class="refused-key"><i>text</i>above τ</span>');
    var rows = spans.map(function (s) {
      return '<tr data-i="' + s.i + '" data-start="' + s.start + '" data-end="' + s.end + '"><td class="num">' + (s.i + 1) + '</td><td><span class="swatch" style="background:' + rgb(color(s.bci)) + '"></span>' +
        esc(s.text != null ? s.text : '[' + s.start + ', ' + s.end + ')') + '</td><td class="num">' + (s.end - s.start) + '</td><td class="num">' + fmt(s.count, 0) + '</td><td class="num">' + fmt(s.bci) + '</td></tr>';
    }).join('');
    $('span-rows').innerHTML = rows;
    $('span-table-wrap').hidden = spans.length === 0;
    if (placed.length < spans.length && spans.length) $('span-table-wrap').open = true;
  }

  function spansAt(el) {
    var list = el && el.getAttribute('data-spans');
    return list ? list.split(',').map(function (i) { return state.result.spans[+i]; }) : [];
  }

  function tipHtml(spans) {
    var tau = num('tau');
    return spans.map(function (s) {
      return '<div class="t-text">' + esc(s.text != null ? s.text : '[' + s.start + ', ' + s.end + ')') + '</div><table>' +
        '<tr><td>count</td><td>' + fmt(s.count, 0) + '</td></tr><tr><td>BCI</td><td>' + fmt(s.bci) + '</td></tr>' +
        '<tr><td>density</td><td>' + fmt(s.scores.density) + '</td></tr><tr><td>max token</td><td>' + fmt(s.scores.maxToken) + '</td></tr>' +
        '<tr><td>KL</td><td>' + fmt(s.scores.kl) + '</td></tr><tr><td>count surprisal</td><td>' + fmt(s.scores.countSurprisal) + '</td></tr>' +
        '<tr><td>tokens</td><td>' + (s.end - s.start) + ' [' + s.start + ', ' + s.end + ')</td></tr></table>' +
        (tau !== undefined && s.bci > tau ? '<div class="t-ref">above τ: TraceShield would refuse</div>' : '');
    }).join('<hr style="border:0;border-top:1px solid #2c3550;margin:6px 0">');
  }

  /** The snippet with the match marked: exact for UTF-8 byte tokens, else by finding the span's text. */
  function snippetHtml(d, span) {
    var sn = d.snippet, at = d.position.token - sn.start, len = span.end - span.start;
    var bytes = state.index && state.index.info.tokenizer.name === 'bytes';
    if (bytes && sn.tokens) {
      var dec = new TextDecoder('utf-8'), t = Uint8Array.from(sn.tokens);
      return esc(dec.decode(t.subarray(0, at)).replace(/^\uFFFD+/, '')) + '<mark>' + esc(dec.decode(t.subarray(at, at + len))) + '</mark>' +
        esc(dec.decode(t.subarray(at + len)).replace(/\uFFFD+$/, ''));
    }
    var text = sn.text;
    if (text == null) return esc((sn.tokens || []).join(' '));
    var i = span.text ? text.indexOf(span.text) : -1;
    if (i < 0) return esc(text);
    return esc(text.slice(0, i)) + '<mark>' + esc(span.text) + '</mark>' + esc(text.slice(i + span.text.length));
  }

  function select(span) {
    state.selected = span.i;
    document.querySelectorAll('.seg.sel').forEach(function (e) { e.classList.remove('sel'); });
    document.querySelectorAll('.seg').forEach(function (e) {
      if (e.getAttribute('data-spans').split(',').indexOf(String(span.i)) >= 0) e.classList.add('sel');
    });
    var tau = num('tau');
    var head = '<div class="span-head"><div class="quote">' + esc(span.text != null ? span.text : '[' + span.start + ', ' + span.end + ')') + '</div><div class="stats">' +
      '<div class="stat">count<b>' + fmt(span.count, 0) + '</b></div><div class="stat">BCI<b>' + fmt(span.bci) + '</b></div><div class="stat">tokens<b>' + (span.end - span.start) + '</b></div>' +
      '<div class="stat">density<b>' + fmt(span.scores.density) + '</b></div><div class="stat">KL<b>' + fmt(span.scores.kl) + '</b></div><div class="stat">' +
      (tau !== undefined && span.bci > tau ? '<span style="color:var(--refuse)">above τ</span><b style="color:var(--refuse)">refuse</b>' : 'count surprisal<b>' + fmt(span.scores.countSurprisal) + '</b>') + '</div></div></div>';
    var docs = span.documents.length === 0 ? '<p class="muted empty">No documents attributed (raise “Docs / span”).</p>'
      : span.documents.map(function (d) {
        return '<div class="doc"><div class="doc-meta"><span class="doc-id" title="' + esc(d.id) + '">' + esc(d.id) + '</span><span>doc ' + fmt(d.document, 0) + ' · token ' + fmt(d.position.token, 0) + '</span></div>' +
          '<div class="snippet">…' + snippetHtml(d, span) + '…</div></div>';
      }).join('');
    $('docs').innerHTML = head + '<div class="label">' + span.documents.length + ' of ' + fmt(span.count, 0) + ' occurrence' + (span.count === 1 ? '' : 's') + '</div>' + docs;
  }

  // ---- events ----
  var tip = $('tip');
  $('rendered').addEventListener('mousemove', function (e) {
    var el = e.target.closest('.seg');
    if (!el) { tip.hidden = true; return; }
    tip.innerHTML = tipHtml(spansAt(el));
    tip.hidden = false;
    var x = Math.min(e.clientX + 14, window.innerWidth - tip.offsetWidth - 8), y = e.clientY + 18;
    if (y + tip.offsetHeight > window.innerHeight) y = e.clientY - tip.offsetHeight - 12;
    tip.style.left = x + 'px'; tip.style.top = y + 'px';
  });
  $('rendered').addEventListener('mouseleave', function () { tip.hidden = true; });
  $('rendered').addEventListener('click', function (e) {
    var el = e.target.closest('.seg');
    if (!el) return;
    var spans = spansAt(el);
    // Repeated clicks on overlapping spans cycle through them, highest BCI first.
    spans.sort(function (a, b) { return b.bci - a.bci; });
    var k = spans.findIndex(function (s) { return s.i === state.selected; });
    select(spans[(k + 1) % spans.length]);
  });
  $('span-rows').addEventListener('click', function (e) {
    var tr = e.target.closest('tr');
    if (tr) select(state.result.spans[+tr.getAttribute('data-i')]);
  });
  ['tau', 'minLength', 'maxCount'].forEach(function (id) {
    $(id).addEventListener('input', function () { if (report || id === 'tau') render(); });
  });
  document.querySelectorAll('.tabs button').forEach(function (b) {
    b.addEventListener('click', function () {
      document.querySelectorAll('.tabs button').forEach(function (x) { x.setAttribute('aria-selected', String(x === b)); });
      $('tab-trace').hidden = b.getAttribute('data-tab') !== 'trace';
      $('tab-explore').hidden = b.getAttribute('data-tab') !== 'explore';
    });
  });
  $('auth').addEventListener('click', function () {
    var t = prompt('Bearer token for this server', state.token);
    if (t != null) { state.token = t.trim(); sessionStorage.setItem('traceindex-token', state.token); loadIndexes(); }
  });

  function showError(where, err) { $(where).innerHTML = '<div class="error">' + esc(err.message || err) + '</div>'; }

  function runTrace() {
    var text = $('output').value;
    if (!state.index || !text.trim()) return;
    var body = { query: text, textOffsets: true, context: 24, minLength: num('minLength') || 1, maxDocuments: num('maxDocuments') == null ? 5 : num('maxDocuments') };
    var mc = num('maxCount');
    if (mc !== undefined) body.maxCount = mc;
    if (state.index.info.tokenizer.name === 'bytes') body.wordBoundaries = $('wordBoundaries').checked;
    $('run').disabled = true;
    $('summary').textContent = 'Tracing…';
    api('v1/indexes/' + encodeURIComponent(state.index.name) + '/trace', body).then(function (r) {
      state.text = text; state.result = r.result; render();
    }).catch(function (err) { state.result = null; render(); showError('summary', err); })
      .then(function () { $('run').disabled = false; });
  }
  $('run').addEventListener('click', runTrace);
  $('output').addEventListener('keydown', function (e) { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) runTrace(); });

  // ---- explore tab ----
  function exploreQuery() {
    var q = $('q').value.trim();
    if (/^\[[\d,\s]*\]$/.test(q)) return JSON.parse(q);
    return $('q').value;
  }
  function explore(op, offset) {
    if (!state.index) return;
    var q = exploreQuery(), out = $('explore-out');
    if (q === '' || (Array.isArray(q) && q.length === 0)) return;
    var base = 'v1/indexes/' + encodeURIComponent(state.index.name) + '/';
    out.innerHTML = '<p class="muted">…</p>';
    var body = { query: q };
    if (op === 'locate') { body.limit = 20; body.offset = offset || 0; body.context = 40; }
    if (op === 'next-tokens') body.top = 40;
    api(base + op, body).then(function (r) {
      var x = r.result;
      if (op === 'count') {
        out.innerHTML = '<div class="label">Occurrences</div><div class="big">' + fmt(x, 0) + '</div>';
      } else if (op === 'locate') {
        var fake = { start: 0, end: Array.isArray(q) ? q.length : 0, text: Array.isArray(q) ? null : q };
        if (!Array.isArray(q) && state.index.info.tokenizer.name === 'bytes') fake.end = new TextEncoder().encode(q).length;
        out.innerHTML = '<div class="label">' + fmt(x.total, 0) + ' occurrence' + (x.total === 1 ? '' : 's') + (x.total ? ' · showing ' + (body.offset + 1) + '–' + (body.offset + x.occurrences.length) : '') + '</div>' +
          x.occurrences.map(function (d) {
            return '<div class="doc"><div class="doc-meta"><span class="doc-id">' + esc(d.id) + '</span><span>doc ' + fmt(d.document, 0) + ' · token ' + fmt(d.position.token, 0) + '</span></div><div class="snippet">…' + snippetHtml(d, fake) + '…</div></div>';
          }).join('') + (body.offset + x.occurrences.length < x.total ? '<button type="button" id="more">Next page</button>' : '');
        var more = $('more');
        if (more) more.addEventListener('click', function () { explore('locate', body.offset + 20); });
      } else {
        var max = x.counts.length ? x.counts[0] : 1;
        out.innerHTML = '<div class="label">∞-gram context: last ' + x.suffixLength + ' token' + (x.suffixLength === 1 ? '' : 's') + ' · ' + fmt(x.total, 0) + ' continuations · ' + fmt(x.distinct, 0) + ' distinct</div><div class="bars">' +
          x.tokens.map(function (t, i) {
            // Whitespace tokens made visible: ␣ space, ⏎ newline, ⇥ tab.
            var label = x.texts ? x.texts[i].replace(/ /g, '␣').replace(/\n/g, '⏎').replace(/\t/g, '⇥') : String(t);
            return '<span class="tok" title="token ' + t + '">' + esc(label) + '</span><div class="bar-bg"><div class="bar-fg" style="width:' + (100 * x.counts[i] / max).toFixed(1) + '%"></div></div><span class="num">' +
              fmt(x.counts[i], 0) + ' · ' + fmt(100 * x.counts[i] / x.total, 1) + '%</span>';
          }).join('') + '</div>';
      }
    }).catch(function (err) { showError('explore-out', err); });
  }
  document.querySelectorAll('[data-op]').forEach(function (b) { b.addEventListener('click', function () { explore(b.getAttribute('data-op')); }); });
  $('q').addEventListener('keydown', function (e) { if (e.key === 'Enter') explore('count'); });

  // ---- indexes ----
  function pickIndex(name) {
    state.index = state.indexes.find(function (x) { return x.name === name; }) || state.indexes[0] || null;
    var info = state.index && state.index.info;
    $('index-info').textContent = info ? fmt(info.documents, 0) + ' docs · ' + fmt(info.tokens, 0) + ' tokens · ' + info.tokenizer.name : '';
    $('wordBoundaries').disabled = !info || info.tokenizer.name !== 'bytes';
  }
  function loadIndexes() {
    api('v1/indexes').then(function (r) {
      state.indexes = r.indexes;
      $('index').innerHTML = r.indexes.map(function (x) { return '<option>' + esc(x.name) + '</option>'; }).join('');
      pickIndex(r.indexes.length ? r.indexes[0].name : null);
      $('auth').hidden = !state.token;
    }).catch(function (err) { showError('summary', err); });
  }
  $('index').addEventListener('change', function () { pickIndex($('index').value); });

  // ---- report mode ----
  function showItem(k) {
    var it = report.items[k];
    state.item = k; state.text = it.text || ''; state.result = it.result;
    var pre = document.querySelector('.static-text');
    if (pre) pre.remove();
    document.querySelectorAll('.items button').forEach(function (b, i) { b.classList.toggle('on', i === k); });
    render();
    if (!it.text) $('rendered').innerHTML = '<p class="muted">The output text is not part of this report: its spans are listed below.</p>';
  }
  if (report) {
    document.body.classList.add('static');
    document.title = report.title + ' · traceindex';
    $('subtitle').textContent = report.title;
    state.indexes = [report.index];
    $('index').innerHTML = '<option>' + esc(report.index.name) + '</option>';
    $('index').disabled = true;
    pickIndex(report.index.name);
    var o = report.options || {};
    $('minLength').value = o.minLength != null ? o.minLength : '';
    $('maxCount').value = o.maxCount != null ? o.maxCount : '';
    $('tau').value = report.tau != null ? report.tau : '';
    $('maxDocuments').value = o.maxDocuments != null ? o.maxDocuments : '';
    $('maxDocuments').disabled = true; $('wordBoundaries').disabled = true;
    $('wordBoundaries').checked = !!o.wordBoundaries;
    var label = document.querySelector('#input-card .label');
    if (report.items.length > 1) {
      label.textContent = report.items.length + ' outputs, riskiest first' + (report.note ? ' · ' + report.note : '');
      $('items-pick').innerHTML = '';
      var pick = document.createElement('div');
      pick.className = 'items';
      pick.innerHTML = report.items.map(function (it, i) { return '<button type="button" title="max BCI ' + fmt(it.maxBci) + '">' + esc(it.id != null ? it.id : '#' + (i + 1)) + ' · ' + fmt(it.maxBci, 1) + '</button>'; }).join('');
      $('input-card').appendChild(pick);
      pick.addEventListener('click', function (e) { var b = e.target.closest('button'); if (b) showItem(Array.prototype.indexOf.call(pick.children, b)); });
    } else {
      label.textContent = 'Model output' + (report.items[0] && report.items[0].id != null ? ' · ' + report.items[0].id : '');
    }
    if (report.items.length) showItem(0);
  } else {
    loadIndexes();
  }
  window.traceindexViewer = { state: state, render: render, select: select };
})();
