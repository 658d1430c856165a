/* 值班台: /incidents/{id}/written-report, the written report to the province
 * (书面报告): the editor, approval (送审, 批准/退回), sending (报送), the
 * reports already sent, and the print view.  Drawn with el() (app.js):
 * the report's text is a person's words and goes in as text only. */
'use strict';

/* sessionStorage key prefix of the text typed and not saved, per incident. */
var WR_KEEP = 'dutyd.wr.';

var WR_NUMERALS = ['', '一', '二', '三', '四', '五', '六', '七', '八', '九'];

/* 首报, 续报一, 续报十二 … as the report's own title says (dutyd's
 * wdraft_number_name: up to 99 in words). */
function wrNumberName(n) {
  if (!n) return '首报';
  if (n < 0 || n > 99 || n !== Math.floor(n)) return '续报' + n;
  var tens = Math.floor(n / 10), ones = n % 10;
  return '续报' + (tens > 1 ? WR_NUMERALS[tens] : '') + (tens ? '十' : '') + WR_NUMERALS[ones];
}

function wrPath(id, rest) {
  return '/api/v1/incidents/' + encodeURIComponent(id) + '/written-report' + (rest || '');
}

function wrWho(name, id) {
  if (id === 'dutyd') return '系统生成';
  return name || id || '';
}

/* What the incident page's 书面报告 button says about the report. */
function wrButtonState(inc) {
  var wr = inc.written_report || {};
  var sent = wr.reports || [];
  if (reportFiled(inc)) return sent.length > 1 ? '已报送 ' + sent.length + ' 份' : '已报送';
  if (wr.approved_by) return '已批准，待报送';
  return CLOSED[inc.state] ? '未报送' : '待报送';
}

/* Person ids to names, learned from what the page reads (the timeline's
 * actors, the draft's savers and approvers): a report sent shows who
 * approved it by id. */
var wrNames = {};
function wrLearn(id, name) { if (id && name && id !== 'dutyd') wrNames[id] = name; }
function wrName(id) { return wrNames[id] || id; }

/* The state line: 未起草 / 已起草 / 待审核 / 已批准 / 已退回 / 已报送 (the
 * word, in a badge coloured as the board's), then who and when. */
function wrState(draft) {
  var a = draft.approval || {};
  var sent = draft.sent || [];
  var mine = sent.filter(function (s) { return s.number === draft.number; });
  var last = sent[sent.length - 1];
  function line(parts) { return parts.filter(Boolean).join(' · '); }
  if (mine.length) {
    var s = mine[mine.length - 1];
    return {word: '已报送', cls: 'st-filed', detail: line([wrNumberName(s.number), fmtTime(s.sent_at),
      s.reference ? '文号 ' + s.reference : null, s.approved_by ? '批准：' + (s.approved_by_name || wrName(s.approved_by)) : null])};
  }
  if (a.state === 'approved' && a.version === draft.version)
    return {word: '已批准', cls: 'st-filed', detail: line(['第 ' + a.version + ' 版', a.by_name || a.by, fmtTime(a.at),
      a.comment ? '意见：' + a.comment : null, '可以报送'])};
  if (a.state === 'requested')
    return {word: '待审核', cls: 'st-ack', detail: line(['第 ' + a.version + ' 版已送审', fmtTime(a.at)])};
  if (a.state === 'rejected')
    return {word: '已退回', cls: 'st-open', detail: line(['第 ' + a.version + ' 版', a.by_name || a.by, fmtTime(a.at),
      a.comment ? '意见：' + a.comment : null])};
  var before = last ? '已报送' + wrNumberName(last.number) + '（' + fmtTime(last.sent_at) + '）' : null;
  if (draft.version > 0)
    return {word: '已起草', cls: 'st-ack', detail: line(['第 ' + draft.version + ' 版', wrWho(draft.by_name || draft.saved_by_name, draft.saved_by),
      fmtTime(draft.saved_at), a.required ? '未送审' : '无需审核，待报送', before])};
  if (last)
    return {word: '已报送', cls: 'st-filed', detail: line([before, wrNumberName(draft.number) + '未起草'])};
  return {word: '未起草', cls: 'st-open', detail: '系统已按县级报告生成初稿，请核实修改后保存'};
}

/* Why dutyd refused an action, in words that say what to do next: its
 * error_zh is general for these (当前状态下不能执行此操作), so the page
 * says what is missing itself. */
var WR_MISSING = {
  '未审核': '本版本尚未送审（未审核）：请先点“送审”，审核人批准后再报送。',
  '待审核': '已送审，尚待审核人批准（待审核）：审核人在值班台、一键链接或短信批准后再报送。',
  '已退回': '审核人已退回（已退回）：请按意见修改、保存并重新送审，批准后再报送。'
};
function wrRefusal(what, r, draft) {
  var said = (r.json && r.json.error) || '';
  var field = r.json && r.json.field;
  var a = (draft && draft.approval) || {};
  var m;
  if (field === 'id') return errorText(r);      // merged, dismissed: dutyd's words
  if (what === 'submit' && r.status === 409) {
    m = /(未审核|待审核|已退回)/.exec(said);
    var key = m ? m[1] : a.state === 'requested' ? '待审核' : a.state === 'rejected' ? '已退回' : '未审核';
    return '不能报送：' + WR_MISSING[key];
  }
  if ((what === 'approve' || what === 'reject') && r.status === 409 && field === 'version') {
    m = /the latest is version (\d+)/.exec(said);
    return '书面报告在您阅读后已修改' + (m ? '为第 ' + m[1] + ' 版' : '') + '，这次' +
      (what === 'approve' ? '没有批准' : '没有退回') + '。请阅读新版本后再决定。';
  }
  if ((what === 'approve' || what === 'reject') && r.status === 403) {
    m = /who may approve now: (.*)$/.exec(said);
    return '您现在不是这份报告的审核人（可能已交班），不能批准或退回。' +
      (m && m[1] ? '现在可以批准的是：' + m[1] + '。' : '请联系当前带班领导。');
  }
  if (r.status === 409 && /nobody can approve/.test(said))
    return '现在没有人可以批准：值班表中没有带班领导或审核人（policy.approvers）。请电话联系带班领导，并告知系统管理员。';
  if (what === 'approval-request' && r.status === 409) {
    if (/needs no approval/.test(said)) return '本事件级别无需审核批准，可直接报送。';
    if (/approved already/.test(said)) return '本版本已经批准，可直接报送。';
  }
  return errorText(r);
}

/* The printed report: the title centred, the body in paragraphs, the
 * heading lines (一、…) bold, and the closing block (the issuing office,
 * 签发, 联系人, the time: the lines around the last 签发) to the right, as
 * a letter ends. */
function wrSheet(title, body) {
  var lines = String(body || '').replace(/\r\n?/g, '\n').split('\n');
  var from = -1, to = -1;
  for (var i = lines.length - 1; i >= 0; i--) {
    if (/^\s*签发[：:]/.test(lines[i])) { from = to = i; break; }
  }
  while (from > 0 && lines[from - 1].trim()) from--;
  while (to >= 0 && to + 1 < lines.length && lines[to + 1].trim()) to++;
  var nodes = [];
  lines.forEach(function (line, n) {
    var text = line.trim();
    if (!text) return;
    var cls = 'wr-p';
    if (n >= from && n <= to) cls = 'wr-foot';
    else if (/^[一二三四五六七八九十]+、/.test(text)) cls = 'wr-p wr-h';
    else if (!nodes.length && /[：:]$/.test(text)) cls = 'wr-to';
    nodes.push(el('p', {class: cls, text: text}));
  });
  return [el('h1', {class: 'wr-print-title', text: title || ''})].concat(nodes);
}

Pages.writtenReport = function (id) {
  var main = chrome('书面报告 ' + id);
  main.classList.add('wr-page');
  var incHref = '/incidents/' + encodeURIComponent(id);
  var draft = null, inc = null;
  var dirty = false;          // the editor holds text not saved
  var base = null;            // the version the editor's text started from
  var notice = {text: '', until: 0};

  // The parts of the page that are redrawn; the editor's inputs are not:
  // a save by someone else, or the stream, must never take what is typed.
  var head = el('div', {class: 'wr-head'});
  var stateLine = el('p', {class: 'wr-state', 'data-wr-state': true});
  var clocks = el('div', {class: 'clocks wr-clocks'});
  var toast = el('div', {class: 'wr-toast'});
  var title = el('input', {type: 'text', name: 'title', id: 'wr-title', maxlength: 200, 'data-wr': 'title'});
  var body = el('textarea', {name: 'body', id: 'wr-body', rows: 22, maxlength: 32768, 'data-wr': 'body'});
  var editInfo = el('p', {class: 'hint', 'data-wr-edit-info': true});
  var saveOut = el('div', {class: 'action-out', 'data-wr-out': 'save'});
  var saveBtn = el('button', {type: 'button', class: 'btn-primary', 'data-wr-action': 'save', text: '保存'});
  var versions = el('ul', {class: 'wr-versions', 'data-wr-versions': true});
  var approvalBox = el('div', {class: 'wr-approval', 'data-wr-approval': true});
  var approvalOut = el('div', {class: 'action-out', 'data-wr-out': 'approval'});
  var comment = el('input', {type: 'text', name: 'comment', id: 'wr-comment', maxlength: 2000,
                             placeholder: '审核意见（退回时必填）', 'aria-label': '审核意见'});
  var reference = el('input', {type: 'text', name: 'reference', id: 'wr-reference', maxlength: 100,
                               placeholder: '文号（可不填），如 某应急〔2026〕12号', 'aria-label': '文号'});
  var submitOut = el('div', {class: 'action-out', 'data-wr-out': 'submit'});
  var submitBtn = el('button', {type: 'button', class: 'btn-primary', 'data-wr-action': 'submit', text: '报送'});
  var submitHint = el('p', {class: 'hint', 'data-wr-submit-hint': true});
  var sentList = el('div', {'data-wr-sent': true});
  var sheet = el('article', {class: 'wr-print', 'data-wr-print': true, 'aria-hidden': 'true'});
  var printInfo = el('p', {class: 'hint', 'data-wr-print-info': true});
  var download = el('a', {class: 'btn btn-link', 'data-wr-download': true, href: wrPath(id, '.txt'),
                          download: id + '-书面报告.txt', text: '下载文本'});

  /* What is typed outlives leaving the page (a click on the menu, a
   * reload): kept in this tab's sessionStorage until it is saved, and
   * dropped at sign-out (app.js). */
  var keepKey = WR_KEEP + id, restored = null;
  function keepTyped() {
    try {
      sessionStorage.setItem(keepKey, JSON.stringify({number: draft ? draft.number : null, base: base,
                                                      title: title.value, body: body.value}));
    } catch (e) { /* private mode or full: not kept */ }
  }
  function dropTyped() { try { sessionStorage.removeItem(keepKey); } catch (e) { /* as above */ } }
  function typedBefore() {
    try { return JSON.parse(sessionStorage.getItem(keepKey) || 'null'); } catch (e) { return null; }
  }
  /* The first draft read: the text typed here before, if it is about the
   * same report and differs from it. */
  function restore(d) {
    var t = typedBefore();
    if (!t || t.number !== d.number || typeof t.title !== 'string' || typeof t.body !== 'string' ||
        (t.title === d.title && t.body === d.body && t.base === d.version)) { dropTyped(); return; }
    title.value = t.title;
    body.value = t.body;
    base = t.base;
    dirty = true;
    restored = t.base;
  }
  function typed() { dirty = true; keepTyped(); }
  title.addEventListener('input', typed);
  body.addEventListener('input', typed);

  var editor = section('报告正文');
  editor.node.classList.add('wr-card-editor');
  append(editor.body,
    el('div', {class: 'field'}, el('label', {for: 'wr-title', text: '标题'}), title),
    el('div', {class: 'field'}, el('label', {for: 'wr-body', text: '正文'}), body),
    editInfo,
    el('div', {class: 'action-row'}, saveBtn), saveOut);

  var side = section('审核批准');
  side.node.classList.add('wr-card-approval');
  append(side.body, approvalBox, approvalOut);

  var send = section('报送省政府总值班室');
  send.node.classList.add('wr-card-send');
  append(send.body, el('div', {class: 'action-row'}, submitBtn, reference), submitHint, submitOut);

  var vers = section('版本');
  append(vers.body, versions);

  var sent = section('已报送的报告');
  append(sent.body, sentList);

  // Where the approval requests and the report itself went, attempt by
  // attempt: a report that could not be delivered must be phoned through.
  var deliveries = el('div', {class: 'wr-deliveries', 'data-wr-deliveries': true});
  var dl = section('送达情况（送审与报送）');
  append(dl.body, deliveries);

  var printBtn = el('button', {type: 'button', class: 'btn', 'data-wr-action': 'print', text: '打印',
                               onclick: function () { window.print(); }});
  var tools = section('打印与下载');
  append(tools.body, el('div', {class: 'action-row'}, printBtn, download), printInfo);

  // Shown until the draft is read: no editor to type into for nothing.
  var problem = el('div', {'data-wr-problem': true}, el('p', {class: 'loading', text: '正在加载书面报告…'}));
  var grid = el('div', {class: 'inc-grid wr-grid hidden'},
    el('div', {class: 'inc-main'}, editor.node),
    el('div', {class: 'inc-side'}, side.node, send.node, tools.node, vers.node, sent.node, dl.node));
  append(main,
    el('div', {class: 'wr-screen'},
      el('p', {}, el('a', {href: incHref, 'data-nav': true, text: '← 返回事件'})),
      head, stateLine, clocks, toast,
      problem,
      grid),
    sheet);

  function say(out, cls, text) { clear(out); append(out, message(cls, text)); }
  function flash(text) { notice = {text: text, until: Date.now() + 10000}; drawToast(); }
  function drawToast() {
    clear(toast);
    if (notice.text && Date.now() < notice.until) append(toast, message('ok toast', notice.text));
  }

  /* The editor shows DRAFT's text unless the person is typing. */
  function takeText(d) {
    // Unchanged text is not set again: that would move the cursor.
    if (title.value !== (d.title || '')) title.value = d.title || '';
    if (body.value !== (d.body || '')) body.value = d.body || '';
    base = d.version;
    dirty = false;
  }

  function drawHead() {
    clear(head);
    append(head, el('div', {class: 'inc-head'},
      inc ? levelBadge(latest(inc, 'level')) : null,
      el('h1', {text: '书面报告' + (draft ? '（' + wrNumberName(draft.number) + '）' : '')}),
      inc ? el('span', {class: 'wr-inc', text: (inc.office_name || inc.office) + '：' + inc.title}) : null));
    clear(clocks);
    if (inc) {
      append(clocks, el('div', {class: 'clock-box'},
        el('span', {class: 'clock-label', text: '书面报告时限 ' + fmtClock(inc.report_deadline)}),
        countdown(inc, 'report')));
    }
  }

  function drawDeliveries() {
    clear(deliveries);
    var tl = ((inc && inc.timeline) || []).filter(function (e) {
      return e.event !== 'notify.intent' || /^report\./.test((e.data || {}).event || '');
    });
    append(deliveries, notifications(tl));
  }

  /* A redraw re-attaches the comment field: the stream must not take the
   * cursor from someone typing in it. */
  function drawDraft() {
    var active = document.activeElement, sel = null;
    try { sel = active ? [active.selectionStart, active.selectionEnd] : null; } catch (e) { sel = null; }
    drawDraftNow();
    if (active && active !== document.activeElement && document.body.contains(active)) {
      active.focus();
      try { if (sel && sel[0] !== null) active.setSelectionRange(sel[0], sel[1]); } catch (e) { /* not a text field */ }
    }
  }

  var lastStep = null;
  function drawDraftNow() {
    var d = draft;
    // A refusal belongs to the step it was made in: once the report moved
    // on (approved, sent, a new version), it no longer holds.
    var step = [d.number, d.version, (d.approval || {}).state, (d.sent || []).length].join('/');
    if (lastStep !== null && step !== lastStep) { clear(approvalOut); clear(submitOut); }
    lastStep = step;
    var st = wrState(d);
    stateLine.textContent = '';
    append(stateLine, el('span', {class: 'badge ' + st.cls, 'data-wr-word': true, text: st.word}), ' ', el('span', {text: st.detail}));
    if (!dirty) takeText(d);
    else if (base !== d.version)
      editInfo.textContent = (restored !== null ? '已恢复您离开本页前未保存的修改。' : '') +
        '您在第 ' + base + ' 版上修改，尚未保存；现最新为第 ' + d.version + ' 版（' + wrWho(d.by_name || d.saved_by_name, d.saved_by) + '）。';
    if (!dirty || base === d.version)
      editInfo.textContent = (d.version === 0 ? '第 0 版：系统根据县级报告和续报生成，未知事项写作（待核实）。请核实、修改后保存。'
        : '第 ' + d.version + ' 版 · ' + wrWho(d.by_name || d.saved_by_name, d.saved_by) + ' 保存于 ' + fmtTime(d.saved_at) + '。')
        + (dirty ? (restored !== null ? ' 已恢复您离开本页前未保存的修改（在第 ' + restored + ' 版上修改），请核对后保存。' : ' 有未保存的修改。') : '');

    clear(versions);
    (d.versions || []).slice().reverse().forEach(function (v) {
      append(versions, el('li', {'data-version': v.version, class: v.version === d.version ? 'wr-current' : null},
        el('strong', {text: '第 ' + v.version + ' 版'}), ' ',
        el('span', {text: wrWho(v.by_name || v.saved_by_name, v.saved_by)}), ' ',
        el('span', {class: 'when', text: fmtTime(v.saved_at)}),
        v.version === d.version ? el('span', {class: 'badge st-ack', text: '当前'}) : null));
    });

    drawApproval(d);
    drawSubmit(d);

    clear(sentList);
    var list = d.sent || [];
    if (!list.length) append(sentList, el('p', {class: 'muted', text: '尚未报送。'}));
    else append(sentList, el('ol', {class: 'wr-sent'}, list.map(function (s) {
      return el('li', {'data-sent': s.number},
        el('strong', {text: wrNumberName(s.number)}), ' ', el('span', {text: s.title || ''}),
        el('div', {class: 'sub', text: [
          '报送 ' + fmtTime(s.sent_at),
          s.reference ? '文号 ' + s.reference : '无文号',
          s.version !== undefined && s.version !== null ? '第 ' + s.version + ' 版' : null,
          s.approved_by ? '批准：' + (s.approved_by_name || wrName(s.approved_by)) : '未经审核',
          s.via === 'other' ? '经其他方式（传真、省系统等）' : '经值班系统'
        ].filter(Boolean).join(' · ')}));
    })));

    clear(sheet);
    append(sheet, wrSheet(d.title, d.body));
    printInfo.textContent = '打印和下载的是已保存的第 ' + d.version + ' 版（' + wrNumberName(d.number) + '）' +
      (dirty ? '，不含编辑框中尚未保存的修改。' : '。');
  }

  function drawApproval(d) {
    var a = d.approval || {};
    clear(approvalBox);
    if (!a.required) {
      append(approvalBox, el('p', {'data-wr-no-approval': true, text: '本事件级别无需审核批准，可直接报送。'}));
      if (!d.may_approve) return;
    }
    var said = {none: '尚未送审。', requested: '第 ' + a.version + ' 版已送审，等待审核批准。',
                approved: '第 ' + a.version + ' 版已批准' + (a.by_name ? '（' + a.by_name + '）' : '') + '。',
                rejected: '已退回' + (a.by_name ? '（' + a.by_name + '）' : '') + (a.comment ? '：' + a.comment : '') + '。'}[a.state || 'none'];
    if (a.required) {
      if (a.state === 'approved' && a.version !== d.version) said = '批准的是第 ' + a.version + ' 版；此后已修改，须重新送审。';
      append(approvalBox, el('p', {'data-wr-approval-state': a.state || 'none', text: said}));
      var approvedNow = a.state === 'approved' && a.version === d.version;
      append(approvalBox, el('div', {class: 'action-row'},
        el('button', {type: 'button', class: 'btn', 'data-wr-action': 'request', disabled: approvedNow,
                      text: '送审', onclick: function () { act('approval-request', {}, approvalOut, '已送审，已通知审核人。', this); }})),
        el('p', {class: 'hint', text: '送审后，审核人（带班领导等）收到报告全文和一键批准链接。'}));
    }
    if (d.may_approve) {
      append(approvalBox, el('div', {class: 'wr-decide', 'data-keep': 'wr-decide'},
        el('label', {for: 'wr-comment', text: '审核意见'}), comment,
        el('div', {class: 'action-row'},
          el('button', {type: 'button', class: 'btn-primary', 'data-wr-action': 'approve', text: '批准',
                        onclick: function () { decide('approve', this); }}),
          el('button', {type: 'button', class: 'btn-warn', 'data-wr-action': 'reject', text: '退回',
                        onclick: function () { decide('reject', this); }}))));
    }
  }

  function drawSubmit(d) {
    var a = d.approval || {};
    var words;
    if (!a.required) words = '无需审核，报送第 ' + d.version + ' 版。';
    else if (a.state === 'approved' && a.version === d.version) words = '报送已批准的第 ' + d.version + ' 版。';
    else words = '本事件须经审核批准后方可报送（重要信息必须经过审核批准后方可上报）。';
    submitHint.textContent = words + ' 报送即停止书面报告计时；文号可不填。';
    submitBtn.textContent = '报送' + wrNumberName(d.number);
  }

  function decide(what, button) {
    var c = comment.value.trim();
    if (what === 'reject' && !c) { say(approvalOut, 'error', '退回须填写审核意见，说明需要修改什么。'); comment.focus(); return; }
    // The version on the screen: an edit saved meanwhile is not approved unread.
    var payload = draft ? {version: draft.version} : {};
    if (c) payload.comment = c;
    act(what, payload, approvalOut, what === 'approve' ? '已批准。' : '已退回，起草人会看到您的意见。', button,
        function () { comment.value = ''; });
  }

  /* One POST of the report's actions; a refusal stays under its buttons. */
  function act(what, payload, out, done, button, after) {
    if (dirty) {
      say(out, 'error', '编辑框中有未保存的修改：请先保存，再' + ({'approval-request': '送审', approve: '批准', reject: '退回', submit: '报送'}[what] || '操作') + '。');
      return;
    }
    clear(out);
    if (button) button.disabled = true;
    // A second click on 报送 (or a retry after a lost answer) sends this
    // version once, not as the next 续报: the key names number and version.
    var extra = what === 'submit' && draft ?
      {'Idempotency-Key': 'console-' + id + '-' + draft.number + '-' + draft.version} : null;
    api('POST', wrPath(id, '/' + what), payload, extra).then(function (r) {
      if (button) button.disabled = false;
      if (r.status !== 200 && r.status !== 201) { say(out, 'error', wrRefusal(what, r, draft)); return; }
      if (after) after(r.json);
      var sub = r.json && r.json.submission, warn = null;
      // Recorded and the clock stopped, but dutyd has nowhere to send it.
      if (sub && !sub.sending)
        warn = '已记录报送并停止计时，但未配置省级接收方式（province.contacts），值班系统没有发送：请用传真或省级系统报送，并告知系统管理员。';
      else if (sub)
        done += '正在发往' + (sub.province || '省政府总值班室') + '，送达情况见本页“送达情况”。';
      flash(done);
      load().then(function () { if (warn) say(out, 'error', warn); });
    });
  }

  saveBtn.addEventListener('click', function () {
    clear(saveOut);
    if (!title.value.trim()) { say(saveOut, 'error', '标题不能为空。'); title.focus(); return; }
    if (!body.value.trim()) { say(saveOut, 'error', '正文不能为空。'); body.focus(); return; }
    saveBtn.disabled = true;
    api('PUT', wrPath(id, '/draft'), {title: title.value, body: body.value, base_version: base}).then(function (r) {
      saveBtn.disabled = false;
      if (r.status === 200 && r.json) {
        dirty = false;
        restored = null;
        dropTyped();
        draft = r.json;
        takeText(draft);
        flash('已保存为第 ' + draft.version + ' 版。');
        drawDraft();
        return;
      }
      if (r.status === 409 && /saved versions, the most/.test((r.json && r.json.error) || '')) {
        say(saveOut, 'error', '本报告保存的版本已达上限，不能再保存：请报送当前版本，或另行报送后在事件页登记。');
        return;
      }
      if (r.status === 409 && (r.json || {}).field === 'base_version') { conflict(r); return; }
      say(saveOut, 'error', errorText(r));
    });
  });

  submitBtn.addEventListener('click', function () {
    var ref = reference.value.trim();
    var name = draft ? wrNumberName(draft.number) : '';
    act('submit', ref ? {reference: ref} : {}, submitOut, '已报送' + name + '，书面报告计时已停止。', submitBtn,
        function () { reference.value = ''; });
  });

  /* Someone saved first: say who, keep what this person typed in view,
   * and offer the newer version; nothing is overwritten unasked. */
  function conflict(r) {
    var mineTitle = title.value, mineBody = body.value;
    api('GET', wrPath(id, '/draft')).then(function (g) {
      clear(saveOut);
      var newer = g.status === 200 && g.json ? g.json : null;
      append(saveOut, el('div', {class: 'wr-conflict', 'data-wr-conflict': true},
        message('error', newer ? '保存未成功：您在第 ' + base + ' 版上修改期间，' + wrWho(newer.by_name || newer.saved_by_name, newer.saved_by) +
          ' 已于 ' + fmtTime(newer.saved_at) + ' 保存了第 ' + newer.version + ' 版。' : '保存未成功：草稿已被他人修改。' + errorText(r)),
        el('p', {class: 'hint', text: '您的修改仍在编辑框中，未丢失。可载入最新版本后再把您的修改加进去。'}),
        newer ? el('button', {type: 'button', class: 'btn', 'data-wr-action': 'load-newer', text: '载入第 ' + newer.version + ' 版',
          onclick: function () {
            draft = newer;
            takeText(newer);
            restored = null;
            dropTyped();
            clear(saveOut);
            append(saveOut, el('div', {class: 'wr-mine', 'data-wr-mine': true},
              el('p', {class: 'hint', text: '您未保存的文本（仅供对照、复制）：'}),
              el('textarea', {readonly: true, rows: 8, 'aria-label': '您未保存的文本', 'data-wr-mine-text': true,
                              text: mineTitle + '\n\n' + mineBody})));
            drawDraft();
          }}) : null));
      if (newer) { var keep = dirty; draft = newer; dirty = keep; drawDraft(); }
    });
  }

  var asked = 0;
  function load() {
    var mine = ++asked;
    return Promise.all([api('GET', wrPath(id, '/draft')), api('GET', '/api/v1/incidents/' + encodeURIComponent(id))]).then(function (rs) {
      if (mine !== asked) return;
      var rd = rs[0], ri = rs[1];
      if (ri.status === 200 && ri.json) { inc = ri.json; Page.incident = inc; setTitle('书面报告 · ' + inc.title); }
      if (rd.status !== 200 || !rd.json) {
        // Before the first draft, nothing to edit; after it, the editor
        // stays (with what is typed) and the error shows above it.
        clear(problem);
        append(problem, message('error', '书面报告暂时无法读取：' + errorText(rd)));
        drawHead();
        return;
      }
      clear(problem);
      grid.classList.remove('hidden');
      if (!draft) restore(rd.json);
      draft = rd.json;
      if (Session.who) wrLearn(Session.who.id, Session.who.name);
      ((inc && inc.timeline) || []).forEach(function (e) {
        if (/^person:/.test(e.actor || '') && e.data && e.data.by_name) wrLearn(e.actor.slice(7), e.data.by_name);
      });
      wrLearn(draft.saved_by, draft.by_name);
      (draft.versions || []).forEach(function (v) { wrLearn(v.saved_by, v.by_name); });
      if (draft.approval) wrLearn(draft.approval.by, draft.approval.by_name);
      drawHead();
      drawDeliveries();
      drawDraft();
      drawToast();
    });
  }
  load();
  // An approval, a save by another officer, the sending: the page follows,
  // and the editor keeps what is being typed.
  Live.listen(function (what, data) { if (data && data.id === id && what !== 'oncall') load(); });
};
