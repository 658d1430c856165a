/* 值班台: /stats, the figures (统计通报) of a period: each office's reports,
 * late reports (迟报) and minutes from event to report; the duty room's
 * time to acknowledge, escalations, written reports and directives.  The
 * charts are SVG drawn here (no library): the CSP allows no inline code,
 * so every shape is made with createElementNS and plain attributes. */
'use strict';

var SVG_NS = 'http://www.w3.org/2000/svg';

/* svg('rect', {x: 1, ...}, children...): an SVG element, text as textContent. */
function svg(tag, attrs) {
  var n = document.createElementNS(SVG_NS, tag);
  Object.keys(attrs || {}).forEach(function (k) {
    var v = attrs[k];
    if (v === null || v === undefined) return;
    if (k === 'text') n.textContent = String(v);
    else n.setAttribute(k, String(v));
  });
  for (var i = 2; i < arguments.length; i++) if (arguments[i]) n.appendChild(arguments[i]);
  return n;
}

function stDate(ms) { return zoneIso(ms).slice(0, 10); }

/* YYYY-MM-DD of today in dutyd's zone, and the periods the picker offers. */
function stPeriods() {
  var today = stDate(now());
  var y = +today.slice(0, 4), m = +today.slice(5, 7);
  var first = function (yy, mm) { return yy + '-' + pad2(mm) + '-01'; };
  var last = function (yy, mm) { return yy + '-' + pad2(mm) + '-' + pad2(new Date(Date.UTC(yy, mm, 0)).getUTCDate()); };
  var py = m === 1 ? y - 1 : y, pm = m === 1 ? 12 : m - 1;
  return [
    {key: 'month', label: '本月', from: first(y, m), to: today},
    {key: 'last-month', label: '上月', from: first(py, pm), to: last(py, pm)},
    {key: 'year', label: '本年', from: y + '-01-01', to: today}
  ];
}

function stNum(v) { return v === null || v === undefined ? '—' : String(v); }
function stMinutes(v) { return v === null || v === undefined ? '—' : v + ' 分钟'; }
function stRate(part, whole) { return whole ? Math.round(part * 1000 / whole) / 10 + '%' : '—'; }

/*
 * Horizontal bars: one group per row, a bar per series, with the value at
 * its end.  ROWS: [{label, values: [n, ...]}]; SERIES: [{name, fill}].
 */
function stBars(chart, title, rows, series) {
  var rowH = 14 * series.length + 12, labelW = 150, barW = 420, top = 28;
  var height = top + rows.length * rowH + 8;
  var max = 1;
  rows.forEach(function (r) { r.values.forEach(function (v) { if (v > max) max = v; }); });
  var root = svg('svg', {'data-chart': chart, viewBox: '0 0 ' + (labelW + barW + 60) + ' ' + height,
                         width: '100%', role: 'img', 'aria-label': title, class: 'st-chart'},
    svg('title', {text: title}));
  var legendX = labelW;
  series.forEach(function (s) {
    root.appendChild(svg('rect', {x: legendX, y: 6, width: 12, height: 12, fill: s.fill}));
    root.appendChild(svg('text', {x: legendX + 16, y: 16, 'font-size': 12, text: s.name}));
    legendX += 24 + s.name.length * 13;
  });
  rows.forEach(function (r, i) {
    var y = top + i * rowH;
    root.appendChild(svg('text', {x: labelW - 8, y: y + rowH / 2 + 2, 'text-anchor': 'end',
                                  'font-size': 12, text: r.label}));
    r.values.forEach(function (v, k) {
      var w = Math.round(barW * (v || 0) / max);
      var by = y + 4 + k * 14;
      root.appendChild(svg('rect', {x: labelW, y: by, width: Math.max(w, v ? 1 : 0), height: 12,
                                    fill: series[k].fill, 'data-series': series[k].name, 'data-value': v || 0},
        svg('title', {text: r.label + ' ' + series[k].name + '：' + (v || 0)})));
      root.appendChild(svg('text', {x: labelW + w + 4, y: by + 10, 'font-size': 11, text: String(v || 0)}));
    });
  });
  return root;
}

function stOfficeTable(offices) {
  var labels = ['单位', '报告数', '迟报数', '迟报率', '报告用时中位数', '报告用时最长', '续报数', '误报数'];
  return el('table', {class: 'list st-table'},
    el('thead', {}, el('tr', {}, labels.map(function (l) { return el('th', {text: l}); }))),
    el('tbody', {}, offices.map(function (o) {
      return el('tr', {'data-stats-office': o.office, class: o.late ? 'st-late' : null},
        el('td', {text: o.name || o.office}), el('td', {text: stNum(o.reports)}),
        el('td', {text: stNum(o.late)}), el('td', {text: stRate(o.late, o.reports)}),
        el('td', {text: stMinutes(o.report_minutes.median)}), el('td', {text: stMinutes(o.report_minutes.max)}),
        el('td', {text: stNum(o.follow_ups)}), el('td', {text: stNum(o.dismissed)}));
    })));
}

function stFigure(label, value, note) {
  return el('div', {class: 'st-figure'}, el('span', {class: 'st-label', text: label}),
    el('strong', {class: 'st-value', text: value}), note ? el('span', {class: 'hint', text: note}) : null);
}

function stCity(c) {
  var w = c.written_reports, d = c.directives;
  return el('div', {class: 'st-figures', 'data-stats-city': true},
    stFigure('接报', stNum(c.reports) + ' 起', '迟报 ' + stNum(c.late) + ' 起（' + stRate(c.late, c.reports) + '）'),
    stFigure('接报确认用时', '中位 ' + stMinutes(c.ack_minutes.median), 'P90 ' + stMinutes(c.ack_minutes.p90) +
      (c.unacknowledged ? '；未确认 ' + c.unacknowledged + ' 起' : '')),
    stFigure('书面报告', '按时 ' + stNum(w.on_time) + ' 份', '迟报 ' + stNum(w.late) + ' 份' +
      (w.pending ? '，未到期 ' + w.pending + ' 份' : '') + '；用时中位 ' + stMinutes(w.minutes.median) +
      '，最长 ' + stMinutes(w.minutes.max)),
    stFigure('批示件', '按时办结 ' + stNum(d.done_on_time) + ' 件', '逾期办结 ' + stNum(d.done_late) +
      ' 件，未办结 ' + stNum(d.open) + ' 件'),
    stFigure('续报', stNum(c.follow_ups) + ' 次', '误报 ' + stNum(c.dismissed) + ' 起，重复 ' + stNum(c.merged) + ' 起'));
}

function stResult(j) {
  var levels = Object.keys(j.city.escalations).sort(function (a, b) { return a - b; });
  var w = j.city.written_reports;
  return el('div', {'data-stats': j.from + '/' + j.to},
    el('section', {class: 'card'}, el('h2', {text: '全市 ' + j.from + ' 至 ' + j.to}), stCity(j.city)),
    el('section', {class: 'card'}, el('h2', {text: '各单位报送情况'}), stOfficeTable(j.offices),
      stBars('reports', '各单位报告数与迟报数', j.offices.map(function (o) {
        return {label: o.name || o.office, values: [o.reports, o.late]};
      }), [{name: '报告数', fill: '#3b6fb6'}, {name: '迟报数', fill: '#c0392b'}])),
    el('section', {class: 'card'}, el('h2', {text: '值班室处置'}),
      stBars('ack', '接报确认用时（分钟）', [
        {label: '中位数', values: [j.city.ack_minutes.median || 0]},
        {label: 'P90', values: [j.city.ack_minutes.p90 || 0]}], [{name: '确认用时（分钟）', fill: '#2e8b57'}]),
      stBars('escalations', '超时升级次数', levels.map(function (l) {
        return {label: '第' + l + '级', values: [j.city.escalations[l]]};
      }), [{name: '升级次数', fill: '#d68910'}]),
      stBars('written', '书面报告', [{label: '书面报告', values: [w.on_time, w.late, w.pending]}],
        [{name: '按时', fill: '#2e8b57'}, {name: '迟报', fill: '#c0392b'}, {name: '未到期', fill: '#999999'}])));
}

Pages.stats = function () {
  var main = chrome('统计通报');
  var params = new URLSearchParams(location.search);
  var periods = stPeriods();
  var from = params.get('from') || periods[0].from, to = params.get('to') || periods[0].to;
  var fromIn = el('input', {type: 'date', id: 'st-from', name: 'from', value: from, 'data-stats-from': true});
  var toIn = el('input', {type: 'date', id: 'st-to', name: 'to', value: to, 'data-stats-to': true});
  var holder = el('div', {});
  var csv = el('a', {class: 'btn btn-link', 'data-stats-csv': true, text: '下载 CSV（表格）'});
  var go = function (f, t) { Route.go('/stats?from=' + encodeURIComponent(f) + '&to=' + encodeURIComponent(t), true); };
  var q = '?from=' + encodeURIComponent(from) + '&to=' + encodeURIComponent(to);
  csv.setAttribute('href', '/api/v1/stats' + q + '&format=csv');
  append(main,
    el('section', {class: 'card st-bar'},
      el('h1', {text: '统计通报'}),
      el('div', {class: 'action-row'}, periods.map(function (p) {
        var here = p.from === from && p.to === to;
        return el('button', {type: 'button', class: here ? 'btn-primary' : 'btn', 'data-stats-period': p.key,
                             text: p.label, onclick: function () { go(p.from, p.to); }});
      })),
      el('div', {class: 'action-row'},
        el('label', {for: 'st-from', text: '自'}), fromIn, el('label', {for: 'st-to', text: '至'}), toIn,
        el('button', {type: 'button', class: 'btn', 'data-stats-period': 'custom', text: '查询', onclick: function () {
          if (fromIn.value && toIn.value) go(fromIn.value, toIn.value);
        }}),
        csv),
      el('p', {class: 'hint', text: '按接报时间统计该时段内收到的事件及其处置情况（截至时段结束）；' +
        '迟报指超过县级报送时限的报告。一次最多统计 400 天。'})),
    holder);
  append(holder, el('p', {class: 'loading', text: '正在统计（读取全部值班记录，可能需要几秒）…'}));
  api('GET', '/api/v1/stats' + q).then(function (r) {
    clear(holder);
    if (r.status !== 200 || !r.json) { append(holder, message('error', errorText(r))); return; }
    setTitle('统计通报 ' + r.json.from + ' 至 ' + r.json.to);
    append(holder, stResult(r.json));
  });
};
