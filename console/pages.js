/* 值班台, part 2 of 2: the pages.  Everything shown that came from a report
 * or a person goes in through textContent (el() in app.js). */
'use strict';

var ROLE_NAMES = {leader: '带班领导', duty: '值班员'};
var EVENT_NAMES = {
  'report.received': '接报',
  'incident.acknowledged': '确认',
  'incident.report_filed': '书面报告已报送',
  'incident.resolved': '办结',
  'incident.escalated': '超时未确认，升级',
  'incident.report_overdue': '书面报告超时',
  'incident.updated': '续报',
  'incident.merged': '标记重复',
  'incident.dismissed': '误报',
  'incident.note': '备注',
  'sms.received': '收到短信',
  'notify.undeliverable': '通知失败',
  'report.draft_saved': '书面报告保存',
  'report.approval_requested': '书面报告送审',
  'report.approved': '书面报告批准',
  'report.rejected': '书面报告退回',
  'report.submitted': '书面报告报送',
  'report.reminder': '书面报告提醒'
};
var NOTIFY_EVENTS = {
  'incident.new': '新事件', 'incident.escalated': '升级', 'incident.report_overdue': '书面报告超时',
  'incident.acknowledged': '已确认', 'incident.report_filed': '已报送', 'incident.resolved': '已办结',
  'incident.updated': '续报', 'incident.merged': '重复', 'incident.dismissed': '误报',
  'notify.undeliverable': '通知失败告警',
  'report.approval_requested': '书面报告送审', 'report.submitted': '书面报告报送', 'report.reminder': '书面报告提醒'
};
var OUTCOMES = {delivered: '已送达', retry: '未成功，将重试', rejected: '被拒，改用下一联系方式', failed: '失败（最终）'};
var SOURCES = {api: '网络报送', sms: '短信', phone: '电话'};
var WEEKDAYS = ['日', '一', '二', '三', '四', '五', '六'];

function navLink(href, text) {
  var here = (location.pathname.replace(/\/+$/, '') || '/') === href;
  return el('a', {href: href, 'data-nav': true, class: here ? 'nav-here' : null, text: text});
}

/* The bar over every page but the wall: where to go, who is signed in. */
function chrome(title) {
  setTitle(title);
  var who = Session.who;
  var links = who.kind === 'office'
    ? [navLink('/report', '报送与续报')]
    : [navLink('/', '值班台'), navLink('/report', '电话接报'), navLink('/oncall', '值班表'), navLink('/dutylog', '值班日志'), navLink('/directives', '批示件'), navLink('/stats', '统计通报'), navLink('/wall', '大屏')];
  var root = clear(app());
  root.className = 'page';
  append(root, el('header', {class: 'topbar'},
    el('nav', {class: 'nav'}, links),
    el('span', {class: 'who'}, (who.kind === 'office' ? '单位：' : '') + (who.name || who.id)),
    el('button', {type: 'button', class: 'btn-quiet', 'data-signout': true, onclick: signOut, text: '退出登录'})));
  var main = el('main', {class: 'content'});
  append(root, main);
  return main;
}

function section(title) {
  var body = el('div', {class: 'section-body'});
  return {node: el('section', {class: 'card'}, el('h2', {text: title}), body), body: body};
}

function message(cls, text) { return el('p', {class: 'msg ' + cls, role: cls === 'error' ? 'alert' : 'status', text: text}); }

var Pages = {};

/* ---- signing in ------------------------------------------------------ */

Pages.signIn = function (note) {
  setTitle('登录');
  var root = clear(app());
  root.className = 'page signin-page';
  var err = el('div', {class: 'signin-error'});
  var input = el('input', {name: 'token', type: 'password', autocomplete: 'current-password',
                           required: true, id: 'token', autofocus: true});
  var button = el('button', {type: 'submit', class: 'btn-primary', text: '登录'});
  var form = el('form', {class: 'signin card', onsubmit: function (ev) {
    ev.preventDefault();
    clear(err);
    button.disabled = true;
    Alarm.unlock();
    api('POST', '/api/v1/session', {token: input.value.trim()}).then(function (r) {
      button.disabled = false;
      if (r.status === 200 && r.json && r.json.who) { input.value = ''; signedIn(r.json); return; }
      append(err, message('error', r.status === 401
        ? '令牌不正确。请核对后重新输入；忘记令牌请联系系统管理员。'
        : errorText(r)));
      input.select();
    });
  }},
    el('h1', {text: '值班台 · 登录'}),
    note ? message('info', note) : null,
    el('label', {for: 'token', text: '令牌（值班人员的个人令牌，或县级单位的单位令牌）'}),
    input, button, err,
    el('p', {class: 'hint', text: '登录后本浏览器保持登录，直至退出或会话到期。'}));
  append(root, form);
  input.focus();
};

Pages.notFound = function () {
  var main = chrome('找不到页面');
  append(main, el('section', {class: 'card'}, el('h1', {text: '没有这个页面'}),
    el('p', {}, '请返回 ', el('a', {href: '/', 'data-nav': true, text: '值班台'}), '。')));
};

Pages.soundBlocked = function () {
  var n = document.getElementById('sound-note');
  if (n) n.textContent = '浏览器未允许发声：请在本页任意处点击一次。';
};

/* ---- who is on duty (the board and the wall) ------------------------- */

function dutyNow(node, big) {
  function draw(now, next) {
    clear(node);
    if (!now) { append(node, el('span', {class: 'muted', text: '值班信息暂不可用'})); return; }
    var officers = (now.officers || []).map(function (o) { return o.name || o.id || o.person; });
    append(node,
      el('span', {class: 'duty-item'}, el('span', {class: 'duty-label', text: '带班领导'}),
        el('strong', {'data-duty': 'leader', text: now.leader ? (now.leader.name || now.leader.id || now.leader.person) : '（未排班）'})),
      el('span', {class: 'duty-item'}, el('span', {class: 'duty-label', text: '值班员'}),
        el('strong', {'data-duty': 'officers', text: officers.length ? officers.join('、') : '（未排班）'})),
      next !== undefined ? el('span', {class: 'duty-item'}, el('span', {class: 'duty-label', text: '下次交班'}),
        el('strong', {text: next ? fmtDateTime(next) : '—'})) : null);
    node.className = 'duty' + (big ? ' duty-big' : '');
  }
  var next;
  function fetchNow() {
    api('GET', '/api/v1/oncall?days=1').then(function (r) {
      if (r.status !== 200 || !r.json) { draw(null); return; }
      next = r.json.next_handover === undefined ? null : r.json.next_handover;
      draw(r.json.now || r.json, next);
    });
  }
  fetchNow();
  // A handover: who is on duty now comes with the event; the next handover
  // is asked for again.
  Live.listen(function (what, data) { if (what === 'oncall') { draw(data, next); fetchNow(); } });
}

/* ---- / the board ---------------------------------------------------- */

function overdue(inc) {
  return clockView(inc, 'ack').due < now() || clockView(inc, 'report').due < now();
}

function boardRow(inc) {
  var cas = casualtiesText(latest(inc, 'casualties'));
  var href = '/incidents/' + encodeURIComponent(inc.id);
  return el('tr', {'data-incident': inc.id, class: 'row ' + (inc.acknowledged ? 'row-ack' : 'row-open') + (overdue(inc) ? ' overdue' : ''),
                   onclick: function (ev) {
                     Alarm.stopFlash();
                     if (!ev.target.closest('a')) Route.go(href);
                   }},
    el('td', {class: 'c-level'}, levelBadge(latest(inc, 'level'))),
    el('td', {class: 'c-office', text: inc.office_name || inc.office}),
    el('td', {class: 'c-title'}, el('a', {href: href, 'data-nav': true, text: inc.title}), ' ', lateBadge(inc),
       el('div', {class: 'sub', text: inc.id})),
    el('td', {class: 'c-cas', 'data-label': '伤亡', text: cas || '—'}),
    el('td', {class: 'c-time', 'data-label': '接报', text: fmtTime(inc.received_at)}),
    el('td', {class: 'c-state'}, stateBadge(inc)),
    el('td', {class: 'c-esc', text: escalationText(inc)}),
    el('td', {class: 'c-cd', 'data-label': '确认时限'}, countdown(inc, 'ack')),
    el('td', {class: 'c-cd', 'data-label': '书面报告时限'}, countdown(inc, 'report')));
}

function incidentTable(rowFn, labels) {
  var body = el('tbody');
  return {body: body, node: el('table', {class: 'incidents'},
    el('thead', {}, el('tr', {}, labels.map(function (l) { return el('th', {text: l}); }))), body)};
}

Pages.board = function () {
  var main = chrome('值班台');
  var duty = el('div', {class: 'duty'});
  dutyNow(duty, false);
  var alarmBox = el('input', {type: 'checkbox', id: 'alarm-switch', 'data-alarm-switch': true,
                              checked: Alarm.enabled(), onchange: function () { Alarm.setEnabled(alarmBox.checked); }});
  var table = incidentTable(boardRow, ['级别', '报告单位', '事件', '伤亡', '接报时间', '状态', '升级', '确认时限', '书面报告时限']);
  var empty = el('p', {class: 'empty', text: '正在加载…'});
  append(main,
    duty,
    el('div', {class: 'board-head'},
      el('h1', {text: '未办结事件'}),
      el('span', {id: 'live-mode', class: 'live-mode'}),
      el('label', {class: 'alarm'}, alarmBox, ' 新事件声音提醒',
        el('span', {id: 'sound-note', class: 'hint', text: '（浏览器须先在本页点击一次才能发声）'}))),
    el('div', {class: 'table-wrap'}, table.node), empty);
  Live.setMode(Live.mode);

  function draw() {
    var list = Live.list();
    clear(table.body);
    list.forEach(function (inc) { append(table.body, boardRow(inc)); });
    empty.textContent = !Live.loaded ? '正在加载…' : list.length ? '' : '当前没有未办结的事件。';
    empty.className = list.length ? 'empty hidden' : 'empty';
  }
  draw();
  Live.listen(function (what) { if (what !== 'oncall') draw(); });
  // The order follows the deadlines as they come near: sort again each minute.
  var resort = setInterval(draw, 60000);
  Page.leave = function () { clearInterval(resort); };
};

/* ---- /wall: the big screen ------------------------------------------ */

Pages.wall = function () {
  setTitle('大屏');
  var root = clear(app());
  root.className = 'wall';
  var clock = el('div', {class: 'wall-clock', 'data-wall-clock': true});
  var duty = el('div', {class: 'duty duty-big'});
  var list = el('div', {class: 'wall-list'});
  append(root, el('header', {class: 'wall-head'}, el('div', {class: 'wall-name', text: '应急值守 · 值班台'}), duty, clock), list);
  dutyNow(duty, true);
  function tickClock() {
    var s = zoneIso(now());
    var d = new Date(Date.parse(s + 'Z'));
    clock.textContent = s.slice(0, 10) + ' 周' + WEEKDAYS[d.getUTCDay()] + ' ' + s.slice(11, 19);
  }
  function draw() {
    clear(list);
    var incs = Live.list();
    if (!incs.length) {
      append(list, el('p', {class: 'wall-empty', text: Live.loaded ? '当前没有未办结的事件' : '正在加载…'}));
      return;
    }
    incs.forEach(function (inc) {
      var cas = casualtiesText(latest(inc, 'casualties'));
      var lv = {I: 1, II: 2, III: 3, IV: 4}[latest(inc, 'level')];
      append(list, el('div', {class: 'wall-row' + (lv ? ' lvl-row-' + lv : '') + (overdue(inc) ? ' overdue' : ''), 'data-incident': inc.id},
        levelBadge(latest(inc, 'level')),
        el('div', {class: 'wall-what'},
          el('div', {class: 'wall-title', text: inc.title}),
          el('div', {class: 'wall-sub'}, (inc.office_name || inc.office) + ' · 接报 ' + fmtClock(inc.received_at) + (cas ? ' · ' + cas : ''),
            ' ', lateBadge(inc))),
        el('div', {class: 'wall-state'}, stateBadge(inc), el('div', {class: 'wall-esc', text: escalationText(inc)})),
        el('div', {class: 'wall-cd'}, el('span', {class: 'wall-cd-label', text: '确认'}), countdown(inc, 'ack')),
        el('div', {class: 'wall-cd'}, el('span', {class: 'wall-cd-label', text: '书面报告'}), countdown(inc, 'report'))));
    });
  }
  tickClock();
  draw();
  var t = setInterval(tickClock, 1000), resort = setInterval(draw, 60000);
  Live.listen(function (what) { if (what !== 'oncall') draw(); });
  Page.leave = function () { clearInterval(t); clearInterval(resort); };
};

/* ---- /incidents/{id} ------------------------------------------------- */

function field(label, value) {
  if (value === null || value === undefined || value === '') return null;
  return [el('dt', {text: label}), el('dd', {}, value)];
}

function personName(p) { return p ? (p.name || p.id) : ''; }

function actorName(entry, inc) {
  var d = entry.data || {};
  if (d.by_name) return d.by_name;
  if (entry.event === 'report.received' && d.taken_by_name) return d.taken_by_name;
  if (entry.actor === 'office:' + inc.office) return inc.office_name || inc.office;
  var a = entry.actor || '';
  if (a === 'dutyd') return '系统';
  return a.replace(/^(person|office):/, '');
}

function entryDetail(e) {
  var d = e.data || {};
  switch (e.event) {
    case 'incident.escalated': return '第 ' + (d.level || 1) + ' 级';
    case 'incident.updated': return fieldsText(d.fields);
    case 'incident.merged': return '并入 ' + d.into + (d.note ? '：' + d.note : '');
    case 'incident.dismissed': return d.reason;
    case 'incident.report_filed':
      return [d.number ? wrNumberName(d.number) : null, d.reference ? '文号 ' + d.reference : null,
              d.via === 'other' ? '其他方式报送' + (d.approved ? '（已批准）' : '') : null].filter(Boolean).join(' · ');
    case 'sms.received': return d.text;
    case 'report.received': return (SOURCES[d.source] || '') + (d.taken_by_name ? '（' + d.taken_by_name + ' 接听）' : '');
    case 'notify.undeliverable': return (d.name || d.person) + '：' + d.reason;
    case 'report.draft_saved': return wrNumberName(d.number) + ' 第 ' + d.version + ' 版';
    case 'report.approval_requested': return wrNumberName(d.number) + ' 第 ' + d.version + ' 版';
    case 'report.approved': case 'report.rejected':
      return wrNumberName(d.number) + ' 第 ' + d.version + ' 版' + (d.comment ? '：' + d.comment : '');
    case 'report.submitted': return wrNumberName(d.number) + (d.reference ? ' 文号 ' + d.reference : '');
    case 'report.reminder': return (d.missing || '') + (d.left_ms !== undefined ? ' · 剩余 ' + Math.max(0, Math.round(d.left_ms / 60000)) + ' 分' : '');
    default: return d.note || d.text || d.reason || '';
  }
}

var FIELD_NAMES = {level: '级别', location: '地点', cause: '原因', measures: '已采取措施', details: '详情',
                   casualties: '伤亡', reporter: '报告人'};
function fieldsText(f) {
  if (!f) return '';
  return Object.keys(f).map(function (k) {
    var v = f[k];
    if (k === 'casualties') v = casualtiesText(v);
    else if (k === 'reporter') v = [v.name, v.phone].filter(Boolean).join(' ');
    else if (k === 'level') v = (LEVELS[v] || {}).name || v;
    return (FIELD_NAMES[k] || k) + '：' + v;
  }).join('；');
}

/* The deliveries of the timeline: each intent's recipients with their
 * attempts, the ones that failed for good in red. */
function notifications(timeline) {
  var intents = [], bySeq = {};
  timeline.forEach(function (e) {
    var d = e.data || {};
    if (e.event === 'notify.intent') {
      var it = {entry: e, recipients: (d.recipients || []).map(function (r) { return {r: r, steps: [], failed: false}; })};
      intents.push(it);
      bySeq[e.seq] = it;
    } else if (/^notify\./.test(e.event) && bySeq[d.intent]) {
      var rec = bySeq[d.intent].recipients[d.recipient];
      if (!rec) return;
      rec.steps.push(e);
      if (e.event === 'notify.undeliverable' || d.outcome === 'failed') rec.failed = true;
    }
  });
  if (!intents.length) return el('p', {class: 'muted', text: '尚无通知。'});
  var rows = [];
  intents.forEach(function (it) {
    var d = it.entry.data;
    it.recipients.forEach(function (rc) {
      var steps = rc.steps.map(function (s) {
        var sd = s.data || {};
        var text;
        if (s.event === 'notify.attempt')
          text = '第 ' + sd.attempt + ' 次 ' + sd.channel + ' → ' + sd.to + '：' + (OUTCOMES[sd.outcome] || sd.outcome) + (sd.detail ? '（' + sd.detail + '）' : '');
        else if (s.event === 'notify.fallback') text = '改用 ' + (sd.to || {}).channel + '：' + sd.reason;
        else if (s.event === 'notify.abandoned') text = '停止发送：' + sd.reason;
        else if (s.event === 'notify.undeliverable') text = '无法送达：' + sd.reason;
        else text = s.event;
        return el('li', {class: 'attempt out-' + (sd.outcome || s.event.replace('notify.', ''))},
          el('span', {class: 'when', text: fmtClock(s.ts) + ' '}), text);
      });
      rows.push(el('tr', {class: rc.failed ? 'delivery failed' : 'delivery', 'data-delivery': it.entry.seq + '.' + it.recipients.indexOf(rc), 'data-event': d.event},
        el('td', {text: fmtTime(it.entry.ts)}),
        el('td', {text: NOTIFY_EVENTS[d.event] || d.event}),
        el('td', {}, el('strong', {text: rc.r.name || rc.r.person}), el('div', {class: 'sub', text: rc.r.why || ''})),
        el('td', {}, rc.failed ? el('strong', {class: 'failed-mark', text: '送达失败（最终）'}) : null,
          steps.length ? el('ul', {class: 'attempts'}, steps) : el('span', {class: 'muted', text: '待发送'}))));
    });
  });
  return el('table', {class: 'list'}, el('thead', {}, el('tr', {}, ['时间', '通知', '对象', '发送情况'].map(function (l) { return el('th', {text: l}); }))),
    el('tbody', {}, rows));
}

/* The reports sent to the province, one line each (首报, 续报一 …). */
function filedText(wr) {
  var sent = wr.reports || [];
  if (!sent.length) return (wr.reference || '（无文号）') + ' · ' + personName(wr.filed_by) + ' ' + fmtTime(wr.filed_at);
  return sent.map(function (s) {
    return wrNumberName(s.number) + ' ' + (s.reference || '（无文号）') + ' · ' + fmtTime(s.sent_at) + (s.via === 'other' ? ' · 其他方式' : '');
  }).join('\n');
}

/* One action: its inputs on the page (never prompt()), its button, its answer. */
function actionBox(inc, spec, after, errors) {
  var inputs = (spec.inputs || []).map(function (i) {
    var attrs = {name: i.name, placeholder: i.placeholder, 'aria-label': i.label, maxlength: 2000, list: i.list};
    return i.area ? el('textarea', attrs) : el('input', Object.assign({type: 'text'}, attrs));
  });
  // A refusal stays in view for a while: the stream redraws the page.
  var said = errors[spec.action];
  var out = el('div', {class: 'action-out'}, said && Date.now() < said.until ? message('error', said.text) : null);
  var button = el('button', {type: 'button', 'data-action': spec.action, class: spec.cls || 'btn',
                             disabled: spec.disabled, text: spec.label});
  button.addEventListener('click', function () {
    clear(out);
    var body = {};
    inputs.forEach(function (n) { if (n.value.trim()) body[n.name] = n.value.trim(); });
    if (spec.requires && !body[spec.requires.name]) { append(out, message('error', spec.requires.text)); return; }
    button.disabled = true;
    api('POST', '/api/v1/incidents/' + encodeURIComponent(inc.id) + '/' + spec.path, body).then(function (r) {
      button.disabled = false;
      if (r.status === 200 || r.status === 201) {
        delete errors[spec.action];
        inputs.forEach(function (n) { n.value = ''; });
        after(spec.done);
        return;
      }
      errors[spec.action] = {text: errorText(r), until: Date.now() + 30000};
      append(out, message('error', errorText(r)));
    });
  });
  return el('div', {class: 'action', 'data-action-box': spec.action, 'data-keep': 'action-' + spec.action},
    el('div', {class: 'action-row'}, button, inputs), spec.hint ? el('div', {class: 'hint', text: spec.hint}) : null, out);
}

Pages.incident = function (id) {
  var main = chrome('事件 ' + id);
  var holder = el('div', {}, el('p', {class: 'loading', text: '正在加载事件…'}));
  append(main, el('p', {}, el('a', {href: '/', 'data-nav': true, text: '← 返回值班台'})), holder);
  // What the last action did, shown for a while: the stream redraws the
  // page right after an action, and the word must outlive that.
  var flash = {text: '', until: 0}, errors = {};

  var asked = 0;      // answers may cross: only the latest request draws
  function load() {
    var mine = ++asked;
    return api('GET', '/api/v1/incidents/' + encodeURIComponent(id)).then(function (r) {
      if (mine !== asked) return;
      if (r.status !== 200 || !r.json) { clear(holder); append(holder, message('error', errorText(r))); return; }
      draw(r.json);
    });
  }

  function draw(inc) { keepInputs(holder, function () { drawNow(inc); }); }

  function drawNow(inc) {
    Page.incident = inc;
    setTitle(inc.title);
    clear(holder);
    var closed = CLOSED[inc.state];
    var cas = casualtiesText(inc.casualties);
    var rep = inc.reporter || {};
    append(holder,
      el('div', {class: 'inc-head', 'data-incident': inc.id},
        levelBadge(latest(inc, 'level')),
        el('h1', {text: inc.title}),
        stateBadge(inc), lateBadge(inc)),
      // A toast, not a line in the page: what was done must not move the
      // buttons under the pointer.
      flash.text && Date.now() < flash.until ? message('ok toast', flash.text) : null,
      el('div', {class: 'clocks'},
        el('div', {class: 'clock-box'}, el('span', {class: 'clock-label', text: '确认时限 ' + fmtClock(inc.ack_deadline)}), countdown(inc, 'ack')),
        el('div', {class: 'clock-box'}, el('span', {class: 'clock-label', text: '书面报告时限 ' + fmtClock(inc.report_deadline)}), countdown(inc, 'report')),
        el('div', {class: 'clock-box'}, el('span', {class: 'clock-label', text: '升级'}), el('span', {class: 'esc', text: escalationText(inc)})),
        // The written report is drafted, approved and sent on its own page.
        el('a', {class: 'clock-box wr-open', href: '/incidents/' + encodeURIComponent(inc.id) + '/written-report', 'data-nav': true, 'data-wr-link': true},
          el('span', {class: 'wr-open-name', text: '书面报告 ›'}),
          el('span', {class: 'badge ' + (reportFiled(inc) ? 'st-filed' : 'st-open'), 'data-wr-link-state': true, text: wrButtonState(inc)}))));

    var acts = section('处置');
    var merge = el('datalist', {id: 'merge-targets'}, Live.list().filter(function (o) { return o.id !== inc.id; }).map(function (o) {
      return el('option', {value: o.id, label: (o.office_name || o.office) + '：' + o.title});
    }));
    var specs = [
      {action: 'ack', path: 'ack', label: '确认', cls: 'btn-primary', disabled: closed || inc.acknowledged, done: '已确认。',
       inputs: [{name: 'note', label: '确认备注（可不填）', placeholder: '备注（可不填）'}]},
      // A report sent by fax or the provincial system's own form; the one
      // drafted and sent through dutyd has its own page (书面报告 ›).
      // A later report so filed needs its reference: it tells the reports apart.
      {action: 'file', path: 'written-report', disabled: closed,
       label: reportFiled(inc) ? wrNumberName((inc.written_report || {}).number || 1) + '已另行报送' : '书面报告已另行报送',
       done: '已记录书面报告报送（其他方式）。',
       requires: reportFiled(inc) ? {name: 'reference', text: '请填写这份续报的文号：首报之后，另行报送的每份报告以文号区分。'} : null,
       hint: '经传真或省级系统另行报送时登记' + (reportFiled(inc) ? '（续报须填文号）' : '') + '。起草、审核、报送请点上方“书面报告 ›”。',
       inputs: [{name: 'reference', label: '文号', placeholder: '文号，如 A应急〔2026〕12号'}]},
      {action: 'resolve', path: 'resolve', label: '办结', disabled: closed, done: '已办结。',
       inputs: [{name: 'note', label: '办结说明', placeholder: '办结说明（可不填）'}]},
      {action: 'note', path: 'notes', label: '添加备注', done: '备注已记录。',
       inputs: [{name: 'text', label: '备注内容', placeholder: '备注内容（如电话核实情况）', area: true}]},
      {action: 'merge', path: 'merge', label: '标记重复', cls: 'btn-warn', disabled: closed, done: '已标记为重复报告。',
       inputs: [{name: 'into', label: '重复于（事件编号）', placeholder: '与哪个事件重复（事件编号）', list: 'merge-targets'},
                {name: 'note', label: '说明', placeholder: '说明（可不填）'}]},
      {action: 'dismiss', path: 'dismiss', label: '误报', cls: 'btn-warn', disabled: closed, done: '已标记为误报。',
       inputs: [{name: 'reason', label: '误报原因（必填）', placeholder: '误报原因（必填），如 经核实为消防演练'}]}
    ];
    specs.forEach(function (s) {
      append(acts.body, actionBox(inc, s, function (done) { flash = {text: done, until: Date.now() + 10000}; load(); }, errors));
    });
    append(acts.body, merge);
    if (closed) append(acts.body, el('p', {class: 'hint', text: '事件已关闭，只能添加备注。'}));

    var facts = section('报告内容');
    append(facts.body, el('dl', {class: 'facts'},
      field('事件编号', inc.id),
      field('报告单位', inc.office_name || inc.office),
      field('标题', inc.title),
      field('级别', (LEVELS[inc.level] || {}).name || '未定级'),
      field('类别', inc.category),
      field('事发时间', fmtInstant(inc.occurred_at)),
      field('接报时间', fmtTime(inc.received_at)),
      field('报送方式', (SOURCES[inc.source] || inc.source) + (inc.taken_by ? '（' + personName(inc.taken_by) + ' 接听）' : '')),
      field('是否迟报', inc.late_report ? '迟报 ' + inc.late_by_minutes + ' 分钟' : '按时'),
      field('地点', inc.location),
      field('伤亡', cas || null),
      field('原因', inc.cause),
      field('已采取措施', inc.measures),
      field('详情', inc.details),
      field('报告人', [rep.name, rep.phone].filter(Boolean).join(' ') || null),
      field('确认', inc.acknowledged ? personName(inc.acknowledged_by) + ' ' + fmtTime(inc.acknowledged_at) : null),
      field('书面报告', reportFiled(inc) ? filedText(inc.written_report) : null),
      field('办结', inc.resolved_at ? personName(inc.resolved_by) + ' ' + fmtTime(inc.resolved_at) : null),
      field('重复于', inc.merged_into ? el('a', {href: '/incidents/' + encodeURIComponent(inc.merged_into), 'data-nav': true, text: inc.merged_into}) : null),
      field('误报', inc.dismissed_at ? personName(inc.dismissed_by) + '：' + (inc.dismissal_reason || '') : null),
      field('合并进来的报告', (inc.merged_from || []).length ? (inc.merged_from || []).map(function (m) {
        return el('a', {href: '/incidents/' + encodeURIComponent(m), 'data-nav': true, class: 'chip', text: m});
      }) : null)));

    var ups = section('续报（' + (inc.updates || []).length + '）');
    if (!(inc.updates || []).length) append(ups.body, el('p', {class: 'muted', text: '尚无续报。'}));
    else append(ups.body, el('ol', {class: 'updates'}, inc.updates.map(function (u) {
      return el('li', {'data-update': u.n}, el('span', {class: 'when', text: '续报 ' + u.n + ' · ' + fmtTime(u.at) + ' · ' + (SOURCES[u.source] || u.source) + (u.via ? ' · 经 ' + u.via : '')}),
        el('div', {text: fieldsText(u.fields)}));
    })));

    var und = null;
    if ((inc.undeliverable || []).length) {
      und = section('未能送达的通知');
      und.node.className += ' danger';
      append(und.body, el('ul', {}, inc.undeliverable.map(function (u) {
        return el('li', {class: 'failed'}, fmtTime(u.at) + ' ' + (u.name || u.person) + '（' + (NOTIFY_EVENTS[u.event] || u.event) + '）：' + u.reason + ' —— 请电话联系此人。');
      })));
    }

    var timeline = inc.timeline || [];
    var tl = section('时间线');
    append(tl.body, el('ol', {class: 'timeline'}, timeline.filter(function (e) { return !/^notify\.(intent|attempt|fallback|abandoned)$/.test(e.event); }).map(function (e) {
      return el('li', {'data-event': e.event, class: 'tl-' + e.event.replace('.', '-')},
        el('span', {class: 'when', text: fmtTime(e.ts)}),
        el('strong', {text: EVENT_NAMES[e.event] || e.event}),
        el('span', {class: 'actor', text: actorName(e, inc)}),
        el('span', {class: 'detail', text: entryDetail(e) || ''}));
    })));

    var nt = section('通知与送达');
    append(nt.body, notifications(timeline));

    append(holder, el('div', {class: 'inc-grid'},
      el('div', {class: 'inc-main'}, acts.node, und ? und.node : null, facts.node, ups.node),
      el('div', {class: 'inc-side'}, tl.node, nt.node)));
  }

  load();
  // Another officer acting, a follow-up, a delivery: the page follows.
  Live.listen(function (what, data) { if (data && data.id === id && what !== 'oncall') load(); });
};

/* ---- /report -------------------------------------------------------- */

function randomKey() {
  var a = new Uint8Array(12);
  crypto.getRandomValues(a);
  return 'console-' + Array.prototype.map.call(a, function (b) { return (b < 16 ? '0' : '') + b.toString(16); }).join('');
}

/* The inputs of a report or follow-up, and the JSON they make. */
function reportInputs(followup) {
  function input(name, label, attrs) {
    var id = (followup ? 'fu-' : 'rp-') + name + '-' + Math.random().toString(36).slice(2, 8);
    var node = attrs && attrs.area ? el('textarea', {name: name, id: id, maxlength: attrs.max || 2000})
      : el('input', Object.assign({name: name, id: id, type: 'text'}, attrs || {}));
    return {name: name, node: node, wrap: el('div', {class: 'field field-' + name}, el('label', {for: id, text: label}), node)};
  }
  var level = el('select', {name: 'level'}, el('option', {value: '', text: followup ? '（不变）' : '未定级'}),
    ['I', 'II', 'III', 'IV'].map(function (l) { return el('option', {value: l, text: LEVELS[l].name}); }));
  var f = {};
  var list = [];
  if (!followup) {
    list.push(f.title = input('title', '事件标题（必填）', {required: true, maxlength: 200, placeholder: '如：某镇化工厂爆炸'}));
    list.push(f.occurred_at = input('occurred_at', '事发时间（必填）', {type: 'datetime-local', required: true, step: 60}));
    f.occurred_at.node.value = zoneIso(now()).slice(0, 16);
  }
  // After a report is sent the form empties, and the time is now again.
  function nowAgain() {
    if (f.occurred_at) f.occurred_at.node.value = zoneIso(now()).slice(0, 16);
  }
  list.push({name: 'level', node: level, wrap: el('div', {class: 'field'}, el('label', {text: '事件级别'}), level)});
  if (!followup) list.push(f.category = input('category', '类别', {maxlength: 100, placeholder: '如：生产安全事故'}));
  list.push(f.location = input('location', '地点', {maxlength: 2000}));
  var cas = ['dead', 'injured', 'missing'].map(function (k) {
    return input(k, {dead: '死亡', injured: '受伤', missing: '失踪'}[k], {type: 'number', min: 0, max: 1000000, inputmode: 'numeric'});
  });
  list.push({name: 'casualties', wrap: el('fieldset', {class: 'field casualties'}, el('legend', {text: '伤亡人数（人）'}), cas.map(function (c) { return c.wrap; }))});
  list.push(f.cause = input('cause', '原因', {area: true}));
  list.push(f.measures = input('measures', '已采取措施', {area: true}));
  list.push(f.details = input('details', '详情', {area: true, max: 8000}));
  var rname = input('reporter_name', '报告人姓名', {maxlength: 100});
  var rphone = input('reporter_phone', '报告人电话', {maxlength: 32, type: 'tel'});
  list.push(rname, rphone);

  function body() {
    var b = {};
    ['title', 'category', 'location', 'cause', 'measures', 'details'].forEach(function (k) {
      if (f[k] && f[k].node.value.trim()) b[k] = f[k].node.value.trim();
    });
    if (f.occurred_at && f.occurred_at.node.value) {
      var v = f.occurred_at.node.value;
      b.occurred_at = (v.length === 16 ? v + ':00' : v.slice(0, 19)) + zoneSuffix();
    }
    if (level.value) b.level = level.value;
    var c = {};
    cas.forEach(function (x) { if (x.node.value !== '') c[x.name] = Number(x.node.value); });
    if (Object.keys(c).length) b.casualties = c;
    var r = {};
    if (rname.node.value.trim()) r.name = rname.node.value.trim();
    if (rphone.node.value.trim()) r.phone = rphone.node.value.trim();
    if (Object.keys(r).length) b.reporter = r;
    return b;
  }
  return {nodes: list.map(function (x) { return x.wrap; }), body: body, nowAgain: nowAgain};
}

function reportForm(office, onDone) {
  var inputs = reportInputs(false);
  var key = randomKey();
  var out = el('div', {class: 'form-out'});
  var picker = null;
  if (!office) {
    picker = el('select', {name: 'office', id: 'rp-office', required: true}, el('option', {value: '', text: '请选择报告单位'}));
    api('GET', '/api/v1/offices').then(function (r) {
      ((r.json && r.json.offices) || []).forEach(function (o) { append(picker, el('option', {value: o.id, text: o.name})); });
    });
  }
  var button = el('button', {type: 'submit', class: 'btn-primary', 'data-submit': 'report', text: office ? '报送' : '记录电话报告'});
  var form = el('form', {class: 'report-form', 'data-form': 'report', onsubmit: function (ev) {
    ev.preventDefault();
    clear(out);
    var body = inputs.body();
    if (picker) {
      if (!picker.value) { append(out, message('error', '请选择报告单位。')); return; }
      body.office = picker.value;
    }
    button.disabled = true;
    fetchKeyed('/api/v1/reports', body, key).then(function (r) {
      button.disabled = false;
      if (r.status !== 201 && r.status !== 200) { append(out, message('error', errorText(r))); return; }
      var inc = r.json;
      key = randomKey();
      form.reset();
      inputs.nowAgain();
      append(out, message('ok', '已报送，事件编号 ' + inc.id + (inc.late_report ? '。本次报告迟报 ' + inc.late_by_minutes + ' 分钟。' : '。')));
      if (onDone) onDone(inc);
    });
  }},
    picker ? el('div', {class: 'field'}, el('label', {for: 'rp-office', text: '报告单位（必填）'}), picker) : null,
    inputs.nodes, button, out);
  return form;
}

/* A report or follow-up carries an Idempotency-Key made when the form is
 * filled: a second press or a retry over a bad line records it once. */
function fetchKeyed(path, body, key) {
  var headers = {'Content-Type': 'application/json', 'Accept': 'application/json',
                 'Idempotency-Key': key, 'X-Dutyd-CSRF': Session.csrf || ''};
  return fetch(path, {method: 'POST', credentials: 'same-origin', headers: headers, body: JSON.stringify(body)}).then(function (resp) {
    return resp.text().then(function (t) {
      var js = null;
      try { js = t ? JSON.parse(t) : null; } catch (e) { js = null; }
      if (resp.status === 401) signedOut('登录已过期，请重新登录。');
      return {status: resp.status, json: js};
    });
  }, function () { return {status: 0, json: null}; });
}

function countyStatus(inc) {
  if (inc.state === 'resolved') return '已办结';
  if (inc.state === 'merged') return '重复报告（已合并到 ' + inc.merged_into + '）';
  if (inc.state === 'dismissed') return '误报';
  if (reportFiled(inc)) return '已报省';
  if (inc.acknowledged) return '已确认';
  return '已接收';
}

function followupForm(inc, onDone) {
  var inputs = reportInputs(true);
  var key = randomKey();
  var out = el('div', {class: 'form-out'});
  var button = el('button', {type: 'submit', class: 'btn-primary', 'data-submit': 'followup', text: '提交续报'});
  return el('form', {class: 'followup-form', 'data-followup': inc.id, 'data-keep': 'fu-' + inc.id, onsubmit: function (ev) {
    ev.preventDefault();
    clear(out);
    var body = inputs.body();
    if (!Object.keys(body).length) { append(out, message('error', '请至少填写一项续报内容。')); return; }
    button.disabled = true;
    fetchKeyed('/api/v1/incidents/' + encodeURIComponent(inc.id) + '/updates', body, key).then(function (r) {
      button.disabled = false;
      if (r.status !== 201 && r.status !== 200) { append(out, message('error', errorText(r))); return; }
      key = randomKey();
      ev.target.reset();
      if (onDone) onDone(r.json, '续报已收到（第 ' + (r.json.updates || []).length + ' 次续报）。');
    });
  }}, inputs.nodes, button, out);
}

Pages.report = function () {
  var office = Session.who.kind === 'office';
  var main = chrome(office ? '报送与续报' : '电话接报');
  if (!office) {
    append(main, el('section', {class: 'card narrow'}, el('h1', {text: '电话接报'}),
      el('p', {class: 'hint', text: '接听县级单位来电时填写。报告记为您接听的电话报告（来源：电话）。'}),
      reportForm(null, function (inc) { Route.go('/incidents/' + encodeURIComponent(inc.id)); })));
    return;
  }
  var mine = el('div', {class: 'county-list'});
  append(main,
    el('section', {class: 'card narrow'}, el('h1', {text: '报送突发事件'}), el('p', {class: 'hint', text: '带“必填”的须填写；其余知道多少填多少，之后可续报。'}),
      reportForm(Session.who, function () { loadMine(); })),
    el('section', {class: 'card narrow'}, el('h2', {text: '本单位报送的事件'}), mine));

  var open = {}, notes = {};
  var asked = 0;
  function loadMine() {
    var n = ++asked;
    return api('GET', '/api/v1/incidents?state=all&limit=50').then(function (r) {
      if (n !== asked) return;
      if (r.status !== 200 || !r.json) { clear(mine); append(mine, message('error', errorText(r))); return; }
      keepInputs(mine, function () { drawMine(r.json.incidents); });
    });
  }
  function drawMine(list) {
    clear(mine);
    if (!list.length) { append(mine, el('p', {class: 'muted', text: '尚未报送事件。'})); return; }
    list.forEach(function (inc) {
      var canFollow = !CLOSED[inc.state];
      var box = el('div', {class: 'followup-box' + (open[inc.id] ? '' : ' hidden')});
      if (canFollow) append(box, followupForm(inc, function (js, said) { notes[inc.id] = said; loadMine(); }));
      var toggle = canFollow ? el('button', {type: 'button', class: 'btn', 'data-followup-open': inc.id, text: '续报', onclick: function () {
        open[inc.id] = !open[inc.id];
        box.className = 'followup-box' + (open[inc.id] ? '' : ' hidden');
      }}) : null;
      append(mine, el('article', {class: 'county-inc', 'data-incident': inc.id},
        el('div', {class: 'county-head'}, levelBadge(latest(inc, 'level')), el('strong', {text: inc.title})),
        el('div', {class: 'sub', text: inc.id + ' · 接报 ' + fmtTime(inc.received_at) + ' · 续报 ' + (inc.updates || []).length + ' 次'}),
        el('div', {class: 'county-state'}, el('span', {class: 'badge ' + (CLOSED[inc.state] ? 'st-closed' : 'st-ack'), 'data-county-state': true, text: countyStatus(inc)}), ' ',
          inc.late_report ? el('span', {class: 'badge late', text: '迟报 ' + inc.late_by_minutes + ' 分'}) : el('span', {class: 'badge ontime', text: '按时报送'})),
        notes[inc.id] ? message('ok', notes[inc.id]) : null, toggle, box));
    });
  }
  loadMine();
  Live.listen(function (what) { if (what === 'incident' || what === 'gone') loadMine(); });
};

/* ---- /oncall -------------------------------------------------------- */

Pages.oncall = function () {
  var main = chrome('值班表');
  var holder = el('div', {}, el('p', {class: 'loading', text: '正在加载值班表…'}));
  var duty = el('div', {class: 'duty'});
  append(main, duty, el('h1', {text: '值班表（今天起 15 天）'}), holder);
  dutyNow(duty, false);
  api('GET', '/api/v1/oncall?days=15').then(function (r) {
    clear(holder);
    if (r.status !== 200 || !r.json) { append(holder, message('error', errorText(r))); return; }
    var days = r.json.days || [];
    if (!days.length) { append(holder, el('p', {class: 'muted', text: '没有排班信息。'})); return; }
    days.forEach(function (day) {
      var d = new Date(Date.parse(day.date + 'T00:00:00Z'));
      append(holder, el('section', {class: 'card day', 'data-day': day.date},
        el('h2', {text: day.date + ' 周' + WEEKDAYS[d.getUTCDay()]}),
        el('table', {class: 'list'},
          el('thead', {}, el('tr', {}, ['岗位', '值班人', '时间', ''].map(function (l) { return el('th', {text: l}); }))),
          el('tbody', {}, (day.shifts || []).map(function (s) {
            return el('tr', {'data-role': s.role, class: s.role === 'leader' ? 'shift-leader' : ''},
              el('td', {text: ROLE_NAMES[s.role] || s.role}),
              el('td', {}, el('strong', {text: personName(s.person)})),
              el('td', {text: (s.from ? fmtDateTime(s.from).slice(5) : '—') + ' 至 ' + (s.until ? fmtDateTime(s.until).slice(5) : '—')}),
              el('td', {}, s.override ? el('span', {class: 'badge override', text: '调班'}) : null));
          })))));
    });
  });
};
