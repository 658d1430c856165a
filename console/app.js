/* 值班台 (the duty-room console), part 1 of 2: the API client, the session,
 * the live incident list, the alarm, formatting and the router.  pages.js
 * draws the pages.  The Content-Security-Policy forbids inline script,
 * style attributes and eval: the DOM is built with createElement and
 * textContent only, so nothing from a report is ever read as HTML. */
'use strict';

var BASE_TITLE = '值班台';

/* ---- DOM ------------------------------------------------------------ */

/* el('div', {class: 'x', 'data-incident': id}, child, 'text', …): children
 * that are strings become text nodes, never markup. */
function el(tag, attrs) {
  var node = document.createElement(tag);
  if (attrs) {
    Object.keys(attrs).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) return;
      if (k === 'text') node.textContent = String(v);
      else if (k === 'onclick') node.addEventListener('click', v);
      else if (k === 'onsubmit') node.addEventListener('submit', v);
      else if (k === 'onchange') node.addEventListener('change', v);
      else node.setAttribute(k, v === true ? '' : String(v));
    });
  }
  for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
  return node;
}

/* append(node, child, …): each child a node, a string (text), an array of
 * children, or null (nothing). */
function append(node) {
  for (var i = 1; i < arguments.length; i++) {
    var child = arguments[i];
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append.apply(null, [node].concat(child));
    else node.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
  return node;
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

function app() { return document.getElementById('app'); }

/* Redraws NODE with DRAW, keeping what the person was typing: a page that
 * follows the stream redraws when anything about its incidents changes,
 * and a half-written note or follow-up must survive that.  Inputs are
 * matched by the data-keep of their form or box and their name. */
function keepInputs(node, draw) {
  function key(input) {
    var box = input.closest('[data-keep]');
    return box && input.name ? box.getAttribute('data-keep') + '/' + input.name : null;
  }
  var saved = {}, focus = null, active = document.activeElement;
  Array.prototype.forEach.call(node.querySelectorAll('input, textarea, select'), function (i) {
    var k = key(i);
    if (!k) return;
    if (i.type === 'checkbox') saved[k] = i.checked;
    else if (i.value !== '' && i.type !== 'datetime-local' && i.type !== 'hidden') saved[k] = i.value;
    if (i === active) focus = {k: k, start: i.selectionStart, end: i.selectionEnd};
  });
  draw();
  Array.prototype.forEach.call(node.querySelectorAll('input, textarea, select'), function (i) {
    var k = key(i);
    if (!k) return;
    if (k in saved) { if (i.type === 'checkbox') i.checked = saved[k]; else i.value = saved[k]; }
    if (focus && focus.k === k) {
      i.focus();
      try { i.setSelectionRange(focus.start, focus.end); } catch (e) { /* not a text field */ }
    }
  });
}

/* ---- time ----------------------------------------------------------- */

/* The server's clock, from its Date header: a duty-room PC whose clock is a
 * few minutes off would otherwise show wrong countdowns. */
var clockSkew = 0;
function now() { return Date.now() + clockSkew; }

/* The offset dutyd writes its times in ("+08:00"): reports typed in the
 * console are in the duty room's zone whatever the PC's zone is. */
var zoneOffset = null;
function learnZone(stamp) {
  var m = typeof stamp === 'string' && /([+-])(\d\d):(\d\d)$/.exec(stamp);
  if (m) zoneOffset = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}
function zoneMinutes() {
  return zoneOffset === null ? -new Date().getTimezoneOffset() : zoneOffset;
}
function zoneSuffix() {
  var m = zoneMinutes(), sign = m < 0 ? '-' : '+';
  m = Math.abs(m);
  return sign + pad2(Math.floor(m / 60)) + ':' + pad2(m % 60);
}
function pad2(n) { return (n < 10 ? '0' : '') + n; }

/* "YYYY-MM-DDTHH:MM:SS" of an instant in the duty room's zone. */
function zoneIso(ms) {
  return new Date(ms + zoneMinutes() * 60000).toISOString().slice(0, 19);
}

/* Times as dutyd wrote them (already in its zone): shown as written. */
function fmtTime(s) {
  if (!s) return '—';
  return s.slice(5, 10) + ' ' + s.slice(11, 19);
}
function fmtClock(s) { return s ? s.slice(11, 16) : '—'; }
function fmtDateTime(s) { return s ? s.slice(0, 10) + ' ' + s.slice(11, 16) : '—'; }
/* A time someone typed (occurred_at keeps the sender's offset): shown in
 * the duty room's zone like every other time. */
function fmtInstant(s) {
  var ms = Date.parse(s || '');
  return isNaN(ms) ? (s || '—') : fmtDateTime(zoneIso(ms));
}

function fmtCountdown(ms) {
  var s = Math.floor(ms / 1000), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  s = s % 60;
  return h > 0 ? h + ':' + pad2(m) + ':' + pad2(s) : pad2(m) + ':' + pad2(s);
}

/* ---- incidents: words and marks --------------------------------------- */

var LEVELS = {
  I: {text: 'Ⅰ红', cls: 'lvl-1 level-I', name: 'Ⅰ级（特别重大，红色）'},
  II: {text: 'Ⅱ橙', cls: 'lvl-2 level-II', name: 'Ⅱ级（重大，橙色）'},
  III: {text: 'Ⅲ黄', cls: 'lvl-3 level-III', name: 'Ⅲ级（较大，黄色）'},
  IV: {text: 'Ⅳ蓝', cls: 'lvl-4 level-IV', name: 'Ⅳ级（一般，蓝色）'}
};

var CLOSED = {resolved: true, merged: true, dismissed: true};

/* A follow-up may change the level and the casualties: the board shows the
 * latest the county said. */
function latest(inc, field) {
  var ups = inc.updates || [];
  for (var i = ups.length - 1; i >= 0; i--) {
    var f = ups[i].fields || {};
    if (f[field] !== undefined && f[field] !== null) return f[field];
  }
  return inc[field];
}

function levelBadge(level) {
  var l = LEVELS[level];
  if (!l) return el('span', {class: 'badge lvl-none', text: '未定级'});
  return el('span', {class: 'badge ' + l.cls, title: l.name, text: l.text});
}

function casualtiesText(c) {
  if (!c) return '';
  var out = [];
  if (c.dead !== undefined && c.dead !== null) out.push('死' + c.dead);
  if (c.injured !== undefined && c.injured !== null) out.push('伤' + c.injured);
  if (c.missing !== undefined && c.missing !== null) out.push('失踪' + c.missing);
  return out.join(' ');
}

/* Whether a written report went to the province (by dutyd or by other
 * means): the incident's written_report names the reports sent. */
function reportFiled(inc) {
  var wr = inc && inc.written_report;
  return !!(wr && (wr.filed_at || (wr.reports && wr.reports.length)));
}

function stateText(inc) {
  if (inc.state === 'resolved') return '已办结';
  if (inc.state === 'merged') return '重复（已合并）';
  if (inc.state === 'dismissed') return '误报';
  if (reportFiled(inc)) return '已报省';
  if (inc.acknowledged) return '已确认';
  return '待确认';
}

function stateBadge(inc) {
  var t = stateText(inc);
  var cls = {'待确认': 'st-open', '已确认': 'st-ack', '已报省': 'st-filed'}[t] || 'st-closed';
  return el('span', {class: 'badge ' + cls, text: t});
}

function lateBadge(inc) {
  if (!inc.late_report) return null;
  return el('span', {class: 'badge late', title: '县级报告晚于规定时限',
                     text: '迟报' + (inc.late_by_minutes ? ' ' + inc.late_by_minutes + ' 分' : '')});
}

function escalationText(inc) {
  return inc.escalation_level ? '已升级 ' + inc.escalation_level + ' 级' : '未升级';
}

/* One clock of an incident as the countdown shows it: what to write, its
 * colour class, and the deadline when it still runs (for sorting). */
function clockView(inc, which) {
  var clock = (inc.clocks || {})[which] || {};
  var deadline = Date.parse(clock.deadline || inc[which === 'ack' ? 'ack_deadline' : 'report_deadline']);
  var met = which === 'ack' ? inc.acknowledged : reportFiled(inc);
  var metWord = which === 'ack' ? '已确认' : '已报送';
  if (met) {
    var late = clock.state === 'fired' && clock.late_by_ms ? '（超时 ' + Math.max(1, Math.ceil(clock.late_by_ms / 60000)) + ' 分）' : '';
    return {text: '✓ ' + metWord + late, cls: 'cd-done done', due: Infinity};
  }
  if (CLOSED[inc.state] || clock.state === 'stopped' || isNaN(deadline))
    return {text: '— 已停止', cls: 'cd-stopped', due: Infinity};
  var left = deadline - now();
  if (left >= 0)
    return {text: fmtCountdown(left), cls: left < 5 * 60000 ? 'cd-amber amber' : 'cd-ok', due: deadline};
  return {text: '已超时 ' + Math.max(1, Math.ceil(-left / 60000)) + ' 分', cls: 'cd-red red overdue', due: deadline};
}

function countdown(inc, which) {
  var v = clockView(inc, which);
  return el('span', {class: 'countdown ' + v.cls, 'data-countdown': which,
                     'data-incident-ref': inc.id, text: v.text});
}

/* Every visible countdown is redrawn each second from the incident it shows. */
function tickCountdowns() {
  var nodes = document.querySelectorAll('[data-countdown]');
  for (var i = 0; i < nodes.length; i++) {
    var inc = Live.get(nodes[i].getAttribute('data-incident-ref')) || Page.incident;
    if (!inc || inc.id !== nodes[i].getAttribute('data-incident-ref')) continue;
    var v = clockView(inc, nodes[i].getAttribute('data-countdown'));
    if (nodes[i].textContent !== v.text) nodes[i].textContent = v.text;
    nodes[i].className = 'countdown ' + v.cls;
    var row = nodes[i].closest('tr.row, .wall-row');
    if (row) row.classList.toggle('overdue', overdue(inc));
  }
}

/* The nearest running deadline first; then the newest. */
function byUrgency(a, b) {
  var da = Math.min(clockView(a, 'ack').due, clockView(a, 'report').due);
  var db = Math.min(clockView(b, 'ack').due, clockView(b, 'report').due);
  if (da !== db) return da < db ? -1 : 1;
  return (b.received_at || '') < (a.received_at || '') ? -1 : 1;
}

/* ---- the API -------------------------------------------------------- */

var Session = {who: null, csrf: null, expires: null};

/* api('POST', path, body[, headers]) -> Promise of {status, json}.  Every state change
 * carries the CSRF value; a 401 means the session ended: sign in again. */
function api(method, path, body, extra) {
  var headers = {'Accept': 'application/json'};
  for (var k in (extra || {})) headers[k] = extra[k];
  var init = {method: method, credentials: 'same-origin', headers: headers, cache: 'no-store'};
  if (method !== 'GET') {
    if (Session.csrf) headers['X-Dutyd-CSRF'] = Session.csrf;
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body || {});
  }
  return fetch(path, init).then(function (resp) {
    var date = resp.headers.get('Date');
    if (date) {
      var skew = Date.parse(date) + 500 - Date.now();
      clockSkew = Math.abs(skew) > 2000 ? skew : 0;
    }
    return resp.text().then(function (text) {
      var json = null;
      try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
      if (resp.status === 401 && Session.who && path !== '/api/v1/session') signedOut('登录已过期，请重新登录。');
      return {status: resp.status, json: json};
    });
  }, function () {
    return {status: 0, json: {error_zh: '无法连接值班系统（dutyd）。请检查网络，或电话联系系统管理员。'}};
  });
}

/* What to tell the person about a failed call: the server's own Chinese. */
function errorText(r) {
  if (r.json && r.json.error_zh) return r.json.error_zh;
  if (r.status === 0) return '无法连接值班系统。请检查网络后重试。';
  return '操作未成功（HTTP ' + r.status + '）。请稍后重试；仍不行请联系系统管理员。';
}

function signedIn(js) {
  Session.who = js.who;
  Session.csrf = js.csrf;
  Session.expires = js.expires_at;
  learnZone(js.expires_at);
  Live.start();
  Route.go(location.pathname + location.search, true);
}

function signedOut(message) {
  Session.who = null;
  Session.csrf = null;
  Live.stop();
  Alarm.stopFlash();
  Pages.signIn(message);
}

function signOut() {
  // A report's unsaved text is not for the next person at this PC (a
  // session that expired keeps it: the same person signs in again).
  try {
    Object.keys(sessionStorage).forEach(function (k) { if (k.indexOf('dutyd.wr.') === 0) sessionStorage.removeItem(k); });
  } catch (e) { /* no storage: nothing kept */ }
  api('DELETE', '/api/v1/session').then(function (r) {
    // Only the server can end the session: if it did not, say so, since
    // the next person at this PC would otherwise be signed in as us.
    signedOut(r.status === 200 || r.status === 401 ? '已退出登录。'
      : '退出登录未完成：' + errorText(r) + ' 请重新登录后再退出一次。');
  });
}

/* ---- the live incident list ------------------------------------------ */

/* The incidents not closed (for staff: all offices; for an office: its own),
 * kept current by the event stream, or by polling every 2 s while the stream
 * is down.  Pages listen to changes; the alarm sounds for a new incident. */
var Live = {
  open: {},            // id -> incident, open or acknowledged
  known: {},           // every id seen since signing in: a new one alarms
  listeners: [],
  stream: null,
  pollTimer: null,
  retryTimer: null,
  loaded: false,
  mode: 'connecting',

  get: function (id) { return this.open[id]; },
  list: function () {
    var self = this;
    return Object.keys(this.open).map(function (k) { return self.open[k]; }).sort(byUrgency);
  },
  listen: function (fn) { this.listeners.push(fn); },
  emit: function (what, data, isNew) {
    this.listeners.slice().forEach(function (fn) { fn(what, data, isNew); });
  },

  start: function () {
    this.stop();
    this.open = {};
    this.known = {};
    this.loaded = false;
    var self = this;
    this.refresh().then(function () { self.connect(); });
  },
  stop: function () {
    if (this.stream) { this.stream.close(); this.stream = null; }
    clearInterval(this.pollTimer); this.pollTimer = null;
    clearTimeout(this.retryTimer); this.retryTimer = null;
  },

  /* The whole open list again (at start, after the stream (re)connects,
   * and every 2 s while it is down). */
  refresh: function () {
    var self = this, seen = {}, pages = 0;
    function page(cursor) {
      var q = '/api/v1/incidents?limit=1000' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '');
      return api('GET', q).then(function (r) {
        if (r.status !== 200 || !r.json) return false;
        r.json.incidents.forEach(function (inc) { seen[inc.id] = true; self.take(inc); });
        if (r.json.next && ++pages < 10) return page(r.json.next);
        return true;
      });
    }
    return page(null).then(function (complete) {
      if (!complete) return;
      Object.keys(self.open).forEach(function (id) {
        if (!seen[id]) { var inc = self.open[id]; delete self.open[id]; self.emit('gone', inc, false); }
      });
      self.loaded = true;
      self.emit('loaded', null, false);
    });
  },

  take: function (inc) {
    learnZone(inc.received_at);
    var isNew = !this.known[inc.id];
    this.known[inc.id] = true;
    if (CLOSED[inc.state]) {
      if (this.open[inc.id]) { delete this.open[inc.id]; this.emit('gone', inc, false); }
      else this.emit('incident', inc, false);
      return;
    }
    this.open[inc.id] = inc;
    var alarm = isNew && this.loaded;
    this.emit('incident', inc, alarm);
    if (alarm && Session.who && Session.who.kind === 'person') Alarm.raise(inc);
  },

  connect: function () {
    var self = this;
    if (!window.EventSource) { this.poll(); return; }
    var es = new EventSource('/api/v1/stream', {withCredentials: true});
    this.stream = es;
    es.addEventListener('open', function () {
      self.setMode('live');
      clearInterval(self.pollTimer); self.pollTimer = null;
      self.refresh();          // what changed while it connected
    });
    es.addEventListener('incident', function (ev) {
      try { self.take(JSON.parse(ev.data)); } catch (e) { /* a broken event: the next refresh mends it */ }
    });
    // The server could not replay everything missed: read the list afresh.
    es.addEventListener('reset', function () { self.refresh(); });
    es.addEventListener('oncall', function (ev) {
      try { self.emit('oncall', JSON.parse(ev.data), false); } catch (e) { /* as above */ }
    });
    es.addEventListener('error', function () {
      // EventSource retries by itself after a network error, but gives up
      // for good on an answer that is not a stream (503 when full, 401):
      // poll meanwhile, and open a new stream later.
      self.poll();
      if (es.readyState === 2 && self.stream === es) {
        self.stream = null;
        clearTimeout(self.retryTimer);
        self.retryTimer = setTimeout(function () { if (Session.who) self.connect(); }, 15000);
      }
    });
  },

  poll: function () {
    var self = this;
    this.setMode('polling');
    if (this.pollTimer) return;
    this.pollTimer = setInterval(function () { self.refresh(); }, 2000);
  },

  setMode: function (mode) {
    this.mode = mode;
    var n = document.getElementById('live-mode');
    if (n) {
      n.textContent = mode === 'live' ? '● 实时' : '○ 轮询（每 2 秒）';
      n.className = 'live-mode ' + mode;
    }
  }
};

/* ---- the alarm -------------------------------------------------------- */

/* A beep made by WebAudio (no sound file), and the title flashing until
 * someone looks.  Browsers allow sound only after one click on the page:
 * the first click anywhere unlocks it. */
var Alarm = {
  ctx: null,
  flashTimer: null,
  flashText: '',

  enabled: function () {
    try { return localStorage.getItem('dutyd.alarm') !== 'off'; } catch (e) { return true; }
  },
  setEnabled: function (on) {
    try { localStorage.setItem('dutyd.alarm', on ? 'on' : 'off'); } catch (e) { /* private mode: not remembered */ }
    if (on) this.unlock();
  },
  unlock: function () {
    var AC = window.AudioContext || window.webkitAudioContext;
    if (!AC) return null;
    if (!this.ctx) this.ctx = new AC();
    if (this.ctx.state === 'suspended') this.ctx.resume();
    this.rest(1000);
    return this.ctx;
  },
  /* A running AudioContext renders silence on a thread of its own all the
   * time: on a board left open day and night, about a tenth of a core.  It
   * is suspended once the beeps are over and resumed for the next ones (the
   * first click already allowed sound for the page). */
  restTimer: null,
  rest: function (ms) {
    var self = this;
    clearTimeout(this.restTimer);
    this.restTimer = setTimeout(function () {
      self.restTimer = null;
      if (self.ctx && self.ctx.state === 'running') self.ctx.suspend();
    }, ms);
  },
  beep: function () {
    if (!this.enabled()) return;
    var ctx = this.unlock();
    if (!ctx) return;
    if (ctx.state === 'running') return this.sound(ctx);
    /* resume() is asynchronous: the beeps wait for it.  Without a click
     * on the page first it never comes, and the page says so. */
    var self = this, done = false;
    ctx.resume().then(function () {
      if (done || ctx.state !== 'running') return;
      done = true;
      self.sound(ctx);
    }, function () { /* refused: the timer below says so */ });
    setTimeout(function () {
      if (done) return;
      done = true;
      Pages.soundBlocked();
    }, 500);
  },
  sound: function (ctx) {
    var start = ctx.currentTime + 0.05;
    for (var i = 0; i < 3; i++) {
      var osc = ctx.createOscillator(), gain = ctx.createGain();
      osc.type = 'square';
      osc.frequency.value = i % 2 ? 660 : 880;
      gain.gain.value = 0.15;
      osc.connect(gain); gain.connect(ctx.destination);
      osc.start(start + i * 0.35);
      osc.stop(start + i * 0.35 + 0.25);
    }
    this.rest(1500);
    document.body.setAttribute('data-beeps', String(Number(document.body.getAttribute('data-beeps') || 0) + 1));
  },
  raise: function (inc) {
    this.beep();
    this.flash('【新事件】' + (inc.office_name || inc.office || '') + '：' + inc.title);
  },
  flash: function (text) {
    this.flashText = text;
    document.body.setAttribute('data-flashing', 'true');
    if (this.flashTimer) return;
    var on = false, self = this;
    this.flashTimer = setInterval(function () {
      on = !on;
      document.title = on ? self.flashText : '★★★ 新事件 ★★★';
    }, 800);
    document.title = text;
  },
  stopFlash: function () {
    if (!this.flashTimer) return;
    clearInterval(this.flashTimer);
    this.flashTimer = null;
    document.body.removeAttribute('data-flashing');
    document.title = Page.title || BASE_TITLE;
  }
};

window.addEventListener('focus', function () { Alarm.stopFlash(); });
document.addEventListener('pointerdown', function () { Alarm.unlock(); Alarm.stopFlash(); }, true);
document.addEventListener('keydown', function () { Alarm.unlock(); Alarm.stopFlash(); }, true);

/* ---- the router ----------------------------------------------------- */

/* The page being shown: its title, the incident it shows (countdowns), and
 * what it does when it goes away. */
var Page = {title: BASE_TITLE, incident: null, leave: null};

var Route = {
  go: function (path, replace) {
    if (replace) history.replaceState(null, '', path);
    else if (path !== location.pathname + location.search) history.pushState(null, '', path);
    this.render();
    window.scrollTo(0, 0);
  },
  render: function () {
    if (Page.leave) Page.leave();
    Page.leave = null;
    Page.incident = null;
    Live.listeners = [];
    if (!Session.who) { Pages.signIn(); return; }
    var path = location.pathname.replace(/\/+$/, '') || '/';
    var office = Session.who.kind === 'office';
    var m = /^\/incidents\/([^/]+)$/.exec(path);
    var wr = /^\/incidents\/([^/]+)\/written-report$/.exec(path);
    // An office sees only the county pages.
    if (office && path !== '/report') { history.replaceState(null, '', '/report'); path = '/report'; m = wr = null; }
    if (path === '/') Pages.board();
    else if (m) Pages.incident(decodeURIComponent(m[1]));
    else if (wr) Pages.writtenReport(decodeURIComponent(wr[1]));
    else if (path === '/report') Pages.report();
    else if (path === '/oncall') Pages.oncall();
    else if (path === '/wall') Pages.wall();
    else if (path === '/dutylog') Pages.dutylog();
    else if (path === '/stats') Pages.stats();
    else if (path === '/directives') Pages.directives();
    else if (/^\/directives\/[^/]+$/.test(path)) Pages.directive(decodeURIComponent(path.slice(12)));
    else Pages.notFound();
  }
};

function setTitle(t) {
  Page.title = t ? t + ' · ' + BASE_TITLE : BASE_TITLE;
  if (!Alarm.flashTimer) document.title = Page.title;
}

/* Links inside the console change the page without a reload. */
document.addEventListener('click', function (ev) {
  var a = ev.target.closest && ev.target.closest('a[data-nav]');
  if (!a || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  ev.preventDefault();
  Route.go(a.getAttribute('href'));
});
window.addEventListener('popstate', function () { Route.render(); });

/* A page left for another stays in the browser's back-forward cache with its
 * stream open, and six streams are all the connections a browser gives one
 * server: close it on the way out, open it again on the way back. */
window.addEventListener('pagehide', function () { Live.stop(); });
window.addEventListener('pageshow', function (ev) { if (ev.persisted && Session.who) Live.start(); });

setInterval(tickCountdowns, 1000);

document.addEventListener('DOMContentLoaded', function () {
  api('GET', '/api/v1/session').then(function (r) {
    if (r.status === 200 && r.json && r.json.who) signedIn(r.json);
    else Pages.signIn(r.status === 0 ? errorText(r) : null);
  });
});
