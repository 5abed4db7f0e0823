/**
 * The dashboard page: one self-contained HTML document (inline CSS and script, charts drawn on
 * canvases; nothing is loaded from anywhere but the dashboard's own `events`/`samples` routes).
 * Stable ids and `data-value` attributes (raw numbers) let scripts and tests read it.
 */
import { createHash } from 'node:crypto';

const STYLE = `
:root { color-scheme: dark; --bg: #0f1419; --panel: #171e26; --line: #2a3440; --text: #d8dee6; --muted: #8a96a3;
  --mh: #e4572e; --up: #f3a712; --nw: #4c9aff; --idle: #5b6b7a; --in: #4c9aff; --out: #f3a712; --ok: #7bc96f; --bad: #e4572e; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { display: flex; flex-wrap: wrap; gap: 6px 24px; align-items: baseline; padding: 14px 20px; border-bottom: 1px solid var(--line); }
header h1 { font-size: 18px; margin: 0 12px 0 0; font-weight: 600; }
header .field { color: var(--muted); }
header .field b { color: var(--text); font-weight: 500; font-variant-numeric: tabular-nums; }
#feed-status.live { color: var(--ok); }
#feed-status.down { color: var(--bad); }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; padding: 16px 20px; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px 14px; min-width: 0; }
section h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin: 0 0 10px; font-weight: 600; }
.big { display: flex; gap: 22px; flex-wrap: wrap; margin-bottom: 8px; }
.big .v { font-size: 24px; font-weight: 600; font-variant-numeric: tabular-nums; }
.big .k { color: var(--muted); font-size: 12px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: baseline; }
.sw-mh { background: var(--mh); } .sw-up { background: var(--up); } .sw-nw { background: var(--nw); } .sw-idle { background: var(--idle); }
.sw-in { background: var(--in); } .sw-out { background: var(--out); }
canvas { display: block; width: 100%; height: 170px; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
td { padding: 5px 4px; border-bottom: 1px solid var(--line); }
td.n { text-align: right; font-weight: 600; }
td.src { color: var(--muted); font-size: 12px; }
tr.main td { font-size: 16px; }
p.note { color: var(--muted); font-size: 12px; margin: 8px 0 0; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; margin-bottom: 8px; font-variant-numeric: tabular-nums; }
.legend b { font-weight: 600; }
`;

const SCRIPT = `
'use strict';
(function () {
  var state = { samples: [], info: null, totals: null, updates: 0 };
  var $ = function (id) { return document.getElementById(id); };
  var css = getComputedStyle(document.documentElement);
  var color = function (name) { return css.getPropertyValue('--' + name).trim(); };

  function fmtInt(v) { return Math.round(v).toLocaleString('en-US'); }
  function fmtRate(v) { return v >= 100 ? fmtInt(v) : v.toFixed(1); }
  function fmtBytes(v) {
    var u = ['B', 'KiB', 'MiB', 'GiB']; var i = 0;
    while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
    return (i === 0 ? Math.round(v) : v.toFixed(1)) + ' ' + u[i];
  }
  function fmtPct(v) { return (v * 100).toFixed(1) + '%'; }
  function fmtDuration(s) {
    s = Math.floor(s); var d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60, sec = s % 60;
    var p = function (n) { return (n < 10 ? '0' : '') + n; };
    return (d > 0 ? d + 'd ' : '') + p(h) + ':' + p(m) + ':' + p(sec);
  }
  function set(id, value, text) {
    var el = $(id); if (!el) return;
    el.dataset.value = String(value);
    el.textContent = text;
  }

  function niceMax(v) {
    if (!(v > 0)) return 1;
    var e = Math.pow(10, Math.floor(Math.log10(v))); var f = v / e;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * e;
  }

  // A chart frame: background grid, y labels, x labels; returns the plot mapping.
  function frame(canvas, yMax, yFmt) {
    var dpr = window.devicePixelRatio || 1;
    var w = canvas.clientWidth, h = canvas.clientHeight;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr);
    }
    var g = canvas.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    var left = 64, right = 8, top = 6, bottom = 18;
    var pw = Math.max(10, w - left - right), ph = Math.max(10, h - top - bottom);
    g.font = '11px system-ui, sans-serif'; g.fillStyle = color('muted'); g.strokeStyle = color('line'); g.lineWidth = 1;
    g.textAlign = 'right'; g.textBaseline = 'middle';
    for (var i = 0; i <= 4; i++) {
      var y = top + ph - (ph * i) / 4;
      g.beginPath(); g.moveTo(left, Math.round(y) + 0.5); g.lineTo(left + pw, Math.round(y) + 0.5); g.stroke();
      g.fillText(yFmt((yMax * i) / 4), left - 6, y);
    }
    var win = (state.info ? state.info.windowSeconds : 120);
    g.textAlign = 'center'; g.textBaseline = 'alphabetic';
    for (var j = 0; j <= 4; j++) {
      var sec = Math.round(win - (win * j) / 4);
      g.fillText(sec === 0 ? 'now' : '-' + sec + 's', left + (pw * j) / 4, h - 4);
    }
    var t1 = state.samples.length ? state.samples[state.samples.length - 1].time : Date.now();
    var t0 = t1 - win * 1000;
    return {
      g: g,
      x: function (t) { return left + ((t - t0) / (t1 - t0)) * pw; },
      y: function (v) { return top + ph - (Math.min(v, yMax) / yMax) * ph; },
      left: left, top: top, pw: pw, ph: ph
    };
  }

  function lines(id, series, yFmt, target) {
    var canvas = $(id); if (!canvas || canvas.clientWidth === 0) return;
    var max = target || 0;
    state.samples.forEach(function (s) { series.forEach(function (k) { max = Math.max(max, s[k.key]); }); });
    var f = frame(canvas, niceMax(max * 1.1), yFmt);
    var g = f.g;
    if (target) {
      g.save(); g.setLineDash([4, 4]); g.strokeStyle = color('muted');
      g.beginPath(); g.moveTo(f.left, f.y(target)); g.lineTo(f.left + f.pw, f.y(target)); g.stroke(); g.restore();
    }
    series.forEach(function (k) {
      g.strokeStyle = color(k.color); g.lineWidth = 2; g.beginPath();
      state.samples.forEach(function (s, i) {
        var x = f.x(s.time), y = f.y(s[k.key]);
        if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
      });
      g.stroke();
    });
  }

  var LAYERS = [
    { key: 'messageHandling', color: 'mh' },
    { key: 'update', color: 'up' },
    { key: 'network', color: 'nw' },
    { key: 'idle', color: 'idle' }
  ];

  function area(id) {
    var canvas = $(id); if (!canvas || canvas.clientWidth === 0) return;
    var f = frame(canvas, 1, function (v) { return Math.round(v * 100) + '%'; });
    var g = f.g; var ss = state.samples;
    if (ss.length === 0) return;
    var base = ss.map(function () { return 0; });
    LAYERS.forEach(function (layer) {
      var topv = ss.map(function (s, i) { return base[i] + s.profile[layer.key]; });
      g.fillStyle = color(layer.color); g.beginPath();
      ss.forEach(function (s, i) { var x = f.x(s.time), y = f.y(topv[i]); if (i === 0) g.moveTo(x, y); else g.lineTo(x, y); });
      if (ss.length === 1) g.lineTo(f.x(ss[0].time) - 4, f.y(topv[0]));
      for (var i = ss.length - 1; i >= 0; i--) g.lineTo(f.x(ss[i].time), f.y(base[i]));
      if (ss.length === 1) g.lineTo(f.x(ss[0].time) - 4, f.y(base[0]));
      g.closePath(); g.fill();
      base = topv;
    });
  }

  function render() {
    var info = state.info, t = state.totals, ss = state.samples;
    if (info) {
      $('server-address').textContent = info.address === null ? 'not listening' : (info.address.indexOf(':') >= 0 ? '[' + info.address + ']' : info.address) + ':' + info.port;
      $('server-backend').textContent = info.backend;
      $('server-version').textContent = info.version;
      set('server-uptime', info.uptime, info.startedAt > 0 ? fmtDuration(info.uptime) : 'not running');
      set('server-clients', info.clients, fmtInt(info.clients));
      set('server-tick-target', 1 / info.tickInterval, fmtRate(1 / info.tickInterval) + '/s');
    }
    if (t) {
      set('packets-assembled', t.packetsAssembled, fmtInt(t.packetsAssembled));
      set('packets-acked', t.packetsAcked, fmtInt(t.packetsAcked));
      set('packets-timed-out', t.packetsTimedOut, fmtInt(t.packetsTimedOut));
      set('packets-pending', t.packetsPending, fmtInt(t.packetsPending));
      set('packets-received', t.datagramsIn, fmtInt(t.datagramsIn));
      set('messages-sent', t.messagesSent, fmtInt(t.messagesSent));
      set('messages-received', t.messagesReceived, fmtInt(t.messagesReceived));
      set('messages-acked', t.messagesAcked, fmtInt(t.messagesAcked));
      set('messages-timed-out', t.messagesTimedOut, fmtInt(t.messagesTimedOut));
      set('messages-pending', t.messagesPending, fmtInt(t.messagesPending));
      set('datagrams-dropped', t.dropped, fmtInt(t.dropped));
      set('ticks-total', t.ticks, fmtInt(t.ticks));
    }
    var s = ss.length ? ss[ss.length - 1] : null;
    if (s) {
      set('ticks-per-second', s.ticksPerSecond, fmtRate(s.ticksPerSecond));
      set('packets-in-per-second', s.packetsInPerSecond, fmtRate(s.packetsInPerSecond));
      set('packets-out-per-second', s.packetsOutPerSecond, fmtRate(s.packetsOutPerSecond));
      set('bytes-in-per-second', s.bytesInPerSecond, fmtBytes(s.bytesInPerSecond) + '/s');
      set('bytes-out-per-second', s.bytesOutPerSecond, fmtBytes(s.bytesOutPerSecond) + '/s');
      set('profile-message-handling', s.profile.messageHandling, fmtPct(s.profile.messageHandling));
      set('profile-update', s.profile.update, fmtPct(s.profile.update));
      set('profile-network', s.profile.network, fmtPct(s.profile.network));
      set('profile-idle', s.profile.idle, fmtPct(s.profile.idle));
    }
    area('profile-chart');
    lines('tps-chart', [{ key: 'ticksPerSecond', color: 'ok' }], fmtRate, info ? 1 / info.tickInterval : 0);
    lines('pps-chart', [{ key: 'packetsInPerSecond', color: 'in' }, { key: 'packetsOutPerSecond', color: 'out' }], fmtRate);
    lines('bps-chart', [{ key: 'bytesInPerSecond', color: 'in' }, { key: 'bytesOutPerSecond', color: 'out' }], fmtBytes);
    document.body.dataset.samples = String(ss.length);
    document.body.dataset.updates = String(state.updates);
  }

  function trim() {
    if (!state.info || state.samples.length === 0) return;
    var keep = Math.max(1, Math.ceil(state.info.windowSeconds * 1000 / state.info.sampleIntervalMs));
    if (state.samples.length > keep) state.samples.splice(0, state.samples.length - keep);
  }

  function status(text, cls) {
    var el = $('feed-status'); el.textContent = text; el.className = cls;
    document.body.dataset.feed = cls;
  }

  function snapshot(snap) {
    state.info = snap.info; state.totals = snap.totals; state.samples = snap.samples; state.updates++;
    trim(); render();
  }

  function update(u) {
    state.info = u.info; state.totals = u.totals; state.samples.push(u.sample); state.updates++;
    trim(); render();
  }

  function poll() {
    fetch('samples', { cache: 'no-store' }).then(function (r) { return r.json(); })
      .then(function (snap) { status('live (polling)', 'live'); snapshot(snap); })
      .catch(function () { status('disconnected', 'down'); })
      .then(function () { setTimeout(poll, state.info ? state.info.sampleIntervalMs : 1000); });
  }

  if (typeof EventSource === 'function') {
    var es = new EventSource('events');
    es.addEventListener('snapshot', function (e) { status('live', 'live'); snapshot(JSON.parse(e.data)); });
    es.onmessage = function (e) { status('live', 'live'); update(JSON.parse(e.data)); };
    es.onerror = function () { status(es.readyState === 2 ? 'disconnected' : 'reconnecting', 'down'); };
  } else {
    poll();
  }
  window.addEventListener('resize', render);
  render();
})();
`;

const BODY = `
<header>
  <h1>gamewire server</h1>
  <span class="field">address <b id="server-address">…</b></span>
  <span class="field">backend <b id="server-backend">…</b></span>
  <span class="field">uptime <b id="server-uptime">…</b></span>
  <span class="field">clients <b id="server-clients">…</b></span>
  <span class="field">target <b id="server-tick-target">…</b> ticks</span>
  <span class="field">version <b id="server-version">…</b></span>
  <span class="field">feed <b id="feed-status" class="down">connecting</b></span>
</header>
<main>
  <section id="view-lifetime" data-view="lifetime">
    <h2>Lifetime packets</h2>
    <table>
      <tr class="main"><td>Assembled</td><td class="src">datagrams sent</td><td class="n" id="packets-assembled">0</td></tr>
      <tr class="main"><td>Acked</td><td class="src">acknowledged by the peer</td><td class="n" id="packets-acked">0</td></tr>
      <tr class="main"><td>Timed out</td><td class="src">never acknowledged in time</td><td class="n" id="packets-timed-out">0</td></tr>
      <tr class="main"><td>Pending</td><td class="src">in flight: neither acked nor timed out</td><td class="n" id="packets-pending">0</td></tr>
      <tr><td>Received</td><td class="src">datagrams received</td><td class="n" id="packets-received">0</td></tr>
      <tr><td>Dropped</td><td class="src">datagrams dropped (every reason)</td><td class="n" id="datagrams-dropped">0</td></tr>
      <tr><td>Messages sent</td><td class="src">to clients</td><td class="n" id="messages-sent">0</td></tr>
      <tr><td>Messages received</td><td class="src">from clients</td><td class="n" id="messages-received">0</td></tr>
      <tr><td>Messages acked</td><td class="src">acknowledged by clients</td><td class="n" id="messages-acked">0</td></tr>
      <tr><td>Messages timed out</td><td class="src">never acknowledged</td><td class="n" id="messages-timed-out">0</td></tr>
      <tr><td>Messages pending</td><td class="src">queued or in flight</td><td class="n" id="messages-pending">0</td></tr>
      <tr><td>Ticks</td><td class="src">since start</td><td class="n" id="ticks-total">0</td></tr>
    </table>
    <p class="note">mpgameserver's GuiServer names, mapped to gamewire's endpoint statistics: assembled = <code>datagramsOut</code>,
      acked = <code>packetsAcked</code>, timed out = <code>packetsTimedOut</code>, pending = <code>packetsInFlight</code>.</p>
  </section>
  <section id="view-profile" data-view="profile">
    <h2>Time profile</h2>
    <div class="legend">
      <span><i class="swatch sw-mh"></i>Message handling <b id="profile-message-handling">–</b></span>
      <span><i class="swatch sw-up"></i>Update <b id="profile-update">–</b></span>
      <span><i class="swatch sw-nw"></i>Network <b id="profile-network">–</b></span>
      <span><i class="swatch sw-idle"></i>Idle <b id="profile-idle">–</b></span>
    </div>
    <canvas id="profile-chart" role="img" aria-label="Share of wall time per second: message handling, update, network, idle"></canvas>
    <p class="note">Share of each second spent decrypting and handling datagrams, in <code>EventHandler.update</code>,
      encrypting and sending, and idle between ticks.</p>
  </section>
  <section id="view-tps" data-view="tps">
    <h2>Ticks per second</h2>
    <div class="big"><div><div class="v" id="ticks-per-second">–</div><div class="k">ticks/s (dashed: target)</div></div></div>
    <canvas id="tps-chart" role="img" aria-label="Ticks per second"></canvas>
  </section>
  <section id="view-pps" data-view="pps">
    <h2>Packets per second</h2>
    <div class="big">
      <div><div class="v" id="packets-in-per-second">–</div><div class="k"><i class="swatch sw-in"></i>received/s</div></div>
      <div><div class="v" id="packets-out-per-second">–</div><div class="k"><i class="swatch sw-out"></i>sent/s</div></div>
    </div>
    <canvas id="pps-chart" role="img" aria-label="Datagrams per second, received and sent"></canvas>
  </section>
  <section id="view-bps" data-view="bps">
    <h2>Bytes per second</h2>
    <div class="big">
      <div><div class="v" id="bytes-in-per-second">–</div><div class="k"><i class="swatch sw-in"></i>received</div></div>
      <div><div class="v" id="bytes-out-per-second">–</div><div class="k"><i class="swatch sw-out"></i>sent</div></div>
    </div>
    <canvas id="bps-chart" role="img" aria-label="Bytes per second, received and sent"></canvas>
  </section>
</main>
`;

const sha256 = (s: string): string => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

/** The page. */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gamewire dashboard</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body data-samples="0" data-updates="0" data-feed="down">${BODY}<script>${SCRIPT}</script>
</body>
</html>
`;

/** The page's Content-Security-Policy: its own inline style and script, and its own feed; nothing else. */
export const PAGE_CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
