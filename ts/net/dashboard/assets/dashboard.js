/*
 * The dashboard page's script. It reads the dashboard's own `events` feed (or polls `samples`),
 * keeps the samples of the window, and draws: numbers go into the page through `textContent` and
 * `data-value` only (never markup built from data), charts onto canvases. The server inlines this
 * file into the page and allows it by its hash in the Content-Security-Policy.
 */
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
