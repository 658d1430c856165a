/* 值班台: /directives and /directives/{id}, leaders' written instructions
 * (领导批示件督办): the list with its state filter (overdue ones marked),
 * a directive's details, progress, delay and result with its timeline, and
 * the forms to record progress, a delay (with the reason and how far it
 * got) and the completion.  The JSON is GET /api/v1/directives… (intake/
 * dirapi.c); drawn with el() (app.js), text only. */
'use strict';

var DIR_STATES = [
  {key: 'open', label: '未办结'}, {key: 'overdue', label: '已逾期'},
  {key: 'done', label: '已办结'}, {key: 'all', label: '全部'}
];
var DIR_EVENTS = {
  'directive.created': '交办', 'directive.progress': '报告进展', 'directive.delayed': '申请延期',
  'directive.completed': '办结', 'directive.reminder': '催办提醒', 'directive.overdue': '逾期，已告知批示领导'
};
var DIR_REMINDERS = {before: '报送期限前一工作日提醒', due: '报送期限当日提醒', overdue: '逾期催办'};

function dirOwner(d) { return d.owner_name || d.owner || ''; }

/* "person:zhang" as the person reads it: the name of whoever is signed in, else the id. */
function dirActor(a) {
  var id = (a || '').replace(/^(person|office):/, '');
  return Session.who && Session.who.id === id && Session.who.name ? Session.who.name : id;
}

function dirStateBadge(d) {
  if (d.state === 'done')
    return el('span', {class: 'badge ' + (d.on_time === false ? 'late' : 'ontime'),
                       text: d.on_time === false ? '逾期办结' : '已办结'});
  if (d.overdue) return el('span', {class: 'badge late', 'data-directive-overdue': true, text: '已逾期'});
  if (d.delayed) return el('span', {class: 'badge st-ack', text: '已申请延期'});
  return el('span', {class: 'badge st-open', text: '办理中'});
}

function dirDue(d) {
  return (d.submit_by || '—') + (d.due ? '（办结期限 ' + d.due + '）' : '（未定期限，默认一周内）');
}

function dirRow(d) {
  var href = '/directives/' + encodeURIComponent(d.id);
  return el('tr', {'data-directive': d.id, class: 'row' + (d.overdue && d.state !== 'done' ? ' overdue' : '')},
    el('td', {}, el('a', {href: href, 'data-nav': true, text: d.id})),
    el('td', {text: d.title || ''}), el('td', {text: d.issued_by || ''}), el('td', {text: dirOwner(d)}),
    el('td', {text: fmtDateTime(d.issued_at)}), el('td', {text: dirDue(d)}), el('td', {}, dirStateBadge(d)));
}

/* Staff record a directive as it arrives (POST /api/v1/directives). */
function dirCreateForm(onDone) {
  var out = el('div', {class: 'action-out'});
  var f = {};
  var input = function (name, label, attrs) {
    var a = {name: name, id: 'dir-' + name};
    Object.keys(attrs || {}).forEach(function (k) { a[k] = attrs[k]; });
    f[name] = el(attrs && attrs.rows ? 'textarea' : 'input', a);
    return el('p', {}, el('label', {for: 'dir-' + name, text: label}), f[name]);
  };
  var form = el('form', {class: 'dir-create', 'data-directive-create': true, onsubmit: function (ev) {
    ev.preventDefault();
    var body = {title: f.title.value.trim(), text: f.text.value.trim(), issued_by: f.issued_by.value.trim(),
                owner: f.owner.value.trim()};
    if (f.issued_at.value) body.issued_at = f.issued_at.value + ':00' + zoneSuffix();
    if (f.due.value) body.due = f.due.value;
    if (f.incident.value.trim()) body.incident = f.incident.value.trim();
    api('POST', '/api/v1/directives', body).then(function (r) {
      clear(out);
      if (r.status < 300 && r.json) { form.reset(); onDone(r.json.id); return; }
      append(out, message('error', errorText(r)));
    });
  }},
    input('title', '标题', {required: true, maxlength: 200}),
    input('text', '批示内容', {required: true, rows: 3}),
    input('issued_by', '批示领导', {required: true, maxlength: 100}),
    input('issued_at', '批示时间（可不填：即现在）', {type: 'datetime-local'}),
    input('owner', '责任单位或责任人（编号，如 county-a）', {required: true}),
    input('due', '办结期限（可不填：默认一周内办结）', {type: 'date'}),
    input('incident', '关联事件编号（可不填）', {}),
    el('button', {type: 'submit', class: 'btn-primary', text: '登记批示件'}), out);
  return el('details', {class: 'card'}, el('summary', {text: '登记新的批示件'}), form);
}

Pages.directives = function () {
  var main = chrome('批示件督办');
  var state = new URLSearchParams(location.search).get('state') || 'open';
  var holder = el('div', {}, el('p', {class: 'loading', text: '正在读取批示件…'}));
  var select = el('select', {id: 'dir-state', name: 'state', 'data-directive-state': true, onchange: function () {
    Route.go('/directives?state=' + encodeURIComponent(select.value), true);
  }}, DIR_STATES.map(function (s) {
    return el('option', {value: s.key, selected: s.key === state, text: s.label});
  }));
  append(main, el('section', {class: 'card'}, el('h1', {text: '批示件督办'}),
    el('div', {class: 'action-row'}, el('label', {for: 'dir-state', text: '显示'}), select),
    el('p', {class: 'hint', text: '批必查、查必清、清必办、办必果。报送期限为办结期限前一个工作日；' +
      '未定期限的，一周内办结。'})),
    dirCreateForm(function (id) { Route.go('/directives/' + encodeURIComponent(id)); }), holder);
  api('GET', '/api/v1/directives?state=' + encodeURIComponent(state)).then(function (r) {
    clear(holder);
    if (r.status !== 200 || !r.json) { append(holder, message('error', errorText(r))); return; }
    var list = r.json.directives || [];
    append(holder, el('section', {class: 'card'},
      list.length ? el('div', {class: 'table-wrap'}, el('table', {class: 'list dir-list'},
        el('thead', {}, el('tr', {}, ['编号', '标题', '批示领导', '责任单位', '批示时间', '报送期限', '状态']
          .map(function (l) { return el('th', {text: l}); }))),
        el('tbody', {}, list.map(dirRow))))
        : el('p', {class: 'muted', text: '没有' + (DIR_STATES.filter(function (s) { return s.key === state; })[0] || {label: ''}).label + '的批示件。'})));
  });
};

function dirTimelineText(e) {
  var d = e.data || {};
  if (e.event === 'directive.progress') return d.text || '';
  if (e.event === 'directive.delayed') return '原因：' + (d.reason || '') + '；预计：' + (d.expected || '');
  if (e.event === 'directive.completed') return (d.result || '') + (d.on_time === false ? '（逾期）' : '');
  if (e.event === 'directive.reminder') return (DIR_REMINDERS[d.kind] || d.kind || '') + (d.day ? ' ' + d.day : '');
  if (e.event === 'directive.created') return d.title || '';
  return '';
}

function dirTimeline(list) {
  return el('table', {class: 'list dir-timeline', 'data-directive-timeline': true},
    el('thead', {}, el('tr', {}, ['时间', '事项', '经办', '内容'].map(function (l) { return el('th', {text: l}); }))),
    el('tbody', {}, (list || []).map(function (e) {
      return el('tr', {'data-event': e.event},
        el('td', {text: fmtDateTime(e.ts)}), el('td', {text: DIR_EVENTS[e.event] || e.event}),
        el('td', {text: dirActor(e.actor)}), el('td', {text: dirTimelineText(e)}));
    })));
}

/* One action form: FIELDS [{name, label, type}], posted to …/{id}/ACTION. */
function dirAction(d, action, title, fields, button, reload) {
  var out = el('div', {class: 'action-out'});
  var inputs = {};
  var form = el('form', {class: 'dir-action', 'data-directive-form': action, onsubmit: function (ev) {
    ev.preventDefault();
    var body = {};
    fields.forEach(function (f) { body[f.name] = inputs[f.name].value.trim(); });
    api('POST', '/api/v1/directives/' + encodeURIComponent(d.id) + '/' + action, body).then(function (r) {
      clear(out);
      if (r.status < 300) { reload(); return; }
      append(out, message('error', errorText(r)));
    });
  }},
    el('h3', {text: title}),
    fields.map(function (f) {
      var id = 'dir-' + action + '-' + f.name;
      inputs[f.name] = f.type === 'date' ? el('input', {type: 'date', id: id, name: f.name, required: true})
        : el('textarea', {id: id, name: f.name, rows: 2, required: true, maxlength: 2000});
      return el('p', {}, el('label', {for: id, text: f.label}), inputs[f.name]);
    }),
    el('button', {type: 'submit', class: action === 'complete' ? 'btn-primary' : 'btn',
                  'data-directive-action': action, text: button}), out);
  return form;
}

function dirDetail(d, reload) {
  var rows = [
    ['批示领导', d.issued_by + '（' + fmtDateTime(d.issued_at) + '）'],
    ['责任单位', dirOwner(d) + (d.owner_kind === 'person' ? '（个人）' : '')],
    ['报送期限', dirDue(d)],
    ['关联事件', d.incident ? el('a', {href: '/incidents/' + encodeURIComponent(d.incident), 'data-nav': true, text: d.incident}) : '无'],
    ['登记时间', fmtDateTime(d.created_at)]
  ];
  if (d.delayed) rows.push(['申请延期', '原因：' + d.delayed.reason + '；预计：' + d.delayed.expected + '（' + fmtDateTime(d.delayed.at) + '）']);
  if (d.state === 'done') rows.push(['办结', (d.result || '') + '（' + fmtDateTime(d.completed_at) + (d.on_time === false ? '，逾期' : '，按时') + '）']);
  var staff = Session.who && Session.who.kind !== 'office';
  return el('div', {'data-directive': d.id, class: 'dir-page'},
    el('section', {class: 'card' + (d.overdue && d.state !== 'done' ? ' danger' : '')},
      el('h1', {}, d.id + ' ', dirStateBadge(d)),
      el('h2', {text: d.title || ''}),
      el('p', {class: 'dir-text', text: d.text || ''}),
      el('table', {class: 'list'}, el('tbody', {}, rows.map(function (r) {
        return el('tr', {}, el('th', {text: r[0]}), el('td', {}, r[1]));
      })))),
    el('section', {class: 'card'}, el('h2', {text: '办理进展（' + (d.progress || []).length + '）'}),
      (d.progress || []).length ? el('ol', {class: 'dir-progress'}, d.progress.map(function (p) {
        return el('li', {}, fmtDateTime(p.at) + ' ' + dirActor(p.by) + '：', p.text);
      })) : el('p', {class: 'muted', text: '尚无进展报告。'})),
    staff && d.state !== 'done' ? el('section', {class: 'card dir-actions'},
      dirAction(d, 'progress', '报告进展', [{name: 'text', label: '进展情况'}], '提交进展', reload),
      dirAction(d, 'delay', '无法按时办结：报告原因和进展', [{name: 'reason', label: '原因及目前进展'},
        {name: 'expected', label: '预计办结', type: 'date'}], '报告延期', reload),
      dirAction(d, 'complete', '办结', [{name: 'result', label: '办理结果'}], '办结', reload)) : null,
    el('section', {class: 'card'}, el('h2', {text: '办理记录'}), dirTimeline(d.timeline)));
}

Pages.directive = function (id) {
  var main = chrome('批示件 ' + id);
  var holder = el('div', {}, el('p', {class: 'loading', text: '正在读取批示件…'}));
  append(main, el('p', {}, el('a', {href: '/directives', 'data-nav': true, text: '← 批示件列表'})), holder);
  var load = function () {
    api('GET', '/api/v1/directives/' + encodeURIComponent(id)).then(function (r) {
      clear(holder);
      if (r.status !== 200 || !r.json) { append(holder, message('error', errorText(r))); return; }
      setTitle('批示件 ' + r.json.id);
      append(holder, dirDetail(r.json, load));
    });
  };
  load();
};
