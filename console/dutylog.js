/* 值班台: /dutylog?date=YYYY-MM-DD, the duty log (值班日志) of one duty day
 * as the duty room prints and files it: who was on duty, the handovers,
 * the incidents, the directives, the notes, every entry of the day, and
 * the lines for the signatures.  On screen above it: the date, printing,
 * the CSV, and the handover's two sides (the outgoing's note, the
 * incoming's 确认接班).  Drawn with el() (app.js), text only. */
'use strict';

var DL_ROLES = {leader: '带班领导', duty: '值班员'};
var DL_DIRECTIVE_EVENTS = {created: '收到', progress: '进展', delayed: '申请延期', completed: '办结',
  reminder: '催办提醒', overdue: '逾期'};

function dlWho(p) { return p ? (p.name || p.person || '') : ''; }
function dlPeople(list) { return (list || []).map(dlWho).join('、'); }
function dlTime(s) { return s ? fmtDateTime(s).slice(5) : '—'; }

function dlTable(labels, rows, attrs) {
  return el('table', attrs || {class: 'list dl-table'},
    el('thead', {}, el('tr', {}, labels.map(function (l) { return el('th', {text: l}); }))),
    el('tbody', {}, rows.length ? rows : el('tr', {}, el('td', {colspan: labels.length, class: 'muted', text: '无'}))));
}

function dlRow(cells) {
  return el('tr', {}, cells.map(function (c) {
    return typeof c === 'object' && c !== null ? el('td', {}, c) : el('td', {text: c === null || c === undefined ? '' : c});
  }));
}

function dlHandovers(list) {
  return dlTable(['交接时间', '交班人', '接班人', '交班留言', '接班确认'], (list || []).map(function (h) {
    var acc = h.accepted_by
      ? (h.accepted_by_name || h.accepted_by) + ' ' + dlTime(h.accepted_at) + (h.late_ms > 0 ? '（超时 ' + Math.round(h.late_ms / 60000) + ' 分钟）' : '')
      : (h.overdue_at ? '未确认（已告知带班领导）' : '未确认');
    return dlRow([dlTime(h.at), dlPeople(h.from), dlPeople(h.to), h.note || '', acc]);
  }));
}

function dlIncidents(list) {
  return dlTable(['编号', '报告单位', '事件', '级别', '接报', '确认', '报省', '办结'], (list || []).map(function (i) {
    var end = i.resolved_at ? dlTime(i.resolved_at) : i.merged_into ? '并入 ' + i.merged_into
      : i.dismissed_at ? '误报' : '';
    return dlRow([el('a', {href: '/incidents/' + encodeURIComponent(i.id), 'data-nav': true, text: i.id}),
      i.office_name || i.office || '', i.title || '', i.level ? i.level + '级' : '', dlTime(i.received_at),
      i.acknowledged_at ? dlTime(i.acknowledged_at) + ' ' + (i.acknowledged_by || '') : '',
      i.reported_to_province_at ? dlTime(i.reported_to_province_at) : '', end]);
  }));
}

function dlDirectives(list) {
  return dlTable(['时间', '批示件', '事项', '内容', '经办'], (list || []).map(function (d) {
    return dlRow([dlTime(d.at), d.id + (d.title ? ' ' + d.title : ''), DL_DIRECTIVE_EVENTS[d.event] || d.event,
      d.text || '', d.by || '']);
  }));
}

function dlNotes(list) {
  return dlTable(['时间', '事件', '记录人', '内容'], (list || []).map(function (n) {
    return dlRow([dlTime(n.at), n.incident || '交班留言', n.by_name || n.by || '', n.text || '']);
  }));
}

function dlEntries(list) {
  return dlTable(['时间', '记录'], (list || []).map(function (e) {
    return dlRow([dlTime(e.ts), e.summary || e.event]);
  }), {class: 'list dl-table dl-entries'});
}

function dlOnDuty(o) {
  var lines = [el('p', {}, el('strong', {text: '带班领导：'}), dlPeople(o.leaders && o.leaders.length ? o.leaders : [o.leader]))];
  (o.officers || []).forEach(function (s) {
    lines.push(el('p', {}, el('strong', {text: (DL_ROLES[s.shift] || s.shift) + '：'}), dlPeople(s.people)));
  });
  return lines;
}

/* The sheet that is printed: what a duty room files. */
function dlSheet(j) {
  var d = new Date(Date.parse(j.date + 'T00:00:00Z'));
  var sec = function (title, body) { return el('section', {class: 'dl-sec'}, el('h2', {text: title}), body); };
  return el('article', {class: 'dl-sheet', 'data-dutylog': j.date},
    el('h1', {class: 'dl-title', text: '值班日志'}),
    el('p', {class: 'dl-date'}, j.date + ' 星期' + WEEKDAYS[d.getUTCDay()] + (j.holiday ? '（节假日）' : '') +
      '　值班时间 ' + fmtDateTime(j.from) + ' 至 ' + fmtDateTime(j.to)),
    j.complete ? null : el('p', {class: 'dl-note', text: j.note || '本日值班日志不完整。'}),
    j.truncated ? el('p', {class: 'dl-note', text: '本日记录共 ' + j.entries_total + ' 条，此处仅列前 ' + j.entries.length + ' 条。'}) : null,
    sec('值班人员', dlOnDuty(j.on_duty || {})),
    sec('交接班', dlHandovers(j.handovers)),
    sec('突发事件（' + (j.incidents || []).length + ' 起）', dlIncidents(j.incidents)),
    sec('批示件', dlDirectives(j.directives)),
    sec('备注与留言', dlNotes(j.notes)),
    sec('值班记录', dlEntries(j.entries)),
    el('div', {class: 'dl-signs'},
      ['交班人签字：', '接班人签字：', '带班领导签字：'].map(function (t) {
        return el('p', {class: 'dl-sign'}, el('span', {text: t}), el('span', {class: 'dl-line'}));
      })));
}

/* The handover's two sides, for whoever is signed in. */
function dlHandoverBox(reload) {
  var box = el('section', {class: 'card dl-screen dl-handover', 'data-keep': 'handover'});
  var state = el('p', {class: 'hint', 'data-handover-state': true});
  var out = el('div', {class: 'action-out'});
  var text = el('textarea', {name: 'text', rows: 3, maxlength: 2000, 'data-handover-note': true,
                             placeholder: '交班留言：未办结事项、待回电、需提醒接班人员的事'});
  var refresh = function () {
    api('GET', '/api/v1/handover').then(function (r) {
      if (r.status !== 200 || !r.json) return;
      var h = r.json.latest;
      state.textContent = !h ? '暂无交接班记录。'
        : '最近一次交接班 ' + dlTime(h.at) + '，接班：' + dlPeople(h.incoming) + '；' +
          (h.accepted_by ? (h.accepted_by_name || h.accepted_by) + ' 已于 ' + dlTime(h.accepted_at) + ' 确认接班。'
            : '尚未确认接班' + (h.accept_by ? '（应于 ' + dlTime(h.accept_by) + ' 前确认）' : '') + '。') +
        (r.json.notes && r.json.notes.length ? ' 待交接留言 ' + r.json.notes.length + ' 条。' : '');
    });
  };
  var done = function (r, ok) {
    clear(out);
    append(out, message(r.status < 300 ? 'info' : 'error', r.status < 300 ? ok : errorText(r)));
    if (r.status < 300) { refresh(); reload(); }
  };
  append(box, el('h2', {text: '交接班'}), state, text,
    el('div', {class: 'action-row'},
      el('button', {type: 'button', class: 'btn', 'data-handover-action': 'note', text: '留言', onclick: function () {
        if (!text.value.trim()) return;
        api('POST', '/api/v1/handover/note', {text: text.value}).then(function (r) {
          if (r.status < 300) text.value = '';
          done(r, '留言已保存，将随下次交接班发给接班人员。');
        });
      }}),
      el('button', {type: 'button', class: 'btn-primary', 'data-handover-action': 'accept', text: '确认接班', onclick: function () {
        api('POST', '/api/v1/handover/accept').then(function (r) { done(r, '已确认接班。'); });
      }})),
    out);
  refresh();
  return box;
}

Pages.dutylog = function () {
  var main = chrome('值班日志');
  var params = new URLSearchParams(location.search);
  var date = params.get('date') || '';
  var picker = el('input', {type: 'date', name: 'date', id: 'dl-date', value: date, 'data-dutylog-date': true});
  var holder = el('div', {}, el('p', {class: 'loading', text: '正在读取值班日志…'}));
  var csv = el('a', {class: 'btn btn-link', 'data-dutylog-csv': true, text: '下载 CSV'});
  var load = function () {
    var q = date ? '?date=' + encodeURIComponent(date) : '';
    csv.setAttribute('href', '/api/v1/dutylog' + (q ? q + '&' : '?') + 'format=csv');
    api('GET', '/api/v1/dutylog' + q).then(function (r) {
      clear(holder);
      if (r.status !== 200 || !r.json) { append(holder, message('error', errorText(r))); return; }
      if (!date) { date = r.json.date; picker.value = date; }
      setTitle('值班日志 ' + r.json.date);
      append(holder, dlSheet(r.json));
    });
  };
  append(main,
    el('div', {class: 'card dl-screen dl-bar'},
      el('label', {for: 'dl-date', text: '值班日期'}), picker,
      el('button', {type: 'button', class: 'btn', text: '查看', onclick: function () {
        if (!picker.value) return;
        date = picker.value;
        Route.go('/dutylog?date=' + encodeURIComponent(date), true);
      }}),
      el('button', {type: 'button', class: 'btn-primary', 'data-dutylog-print': true, text: '打印',
                    onclick: function () { window.print(); }}),
      csv),
    dlHandoverBox(load), holder);
  load();
};
