/* The organizer's live page: numbers, missing by unit with 代签, people on leave, recent sign-ins
 * with 撤销, 催签.
 *
 * Where each part comes from:
 * - numbers, per-unit and per-group counts, leave: every numbers message (the stream's or
 *   numbers.json); they carry counts only, whatever the meeting's size;
 * - the people on leave and the recent sign-ins: numbers.json only (the stream's snapshot carries
 *   an empty "recent", which says nothing), kept between reads; the recent list is moved at once by
 *   each signin / revoke event;
 * - who is missing: missing.json, a unit (a page at a time, "显示更多") or a search at a time. When
 *   few are missing the page carries them all (cfg.missing, "next" null): every unit open and the
 *   filter works here. Either way a loaded list is kept exact by the events (a signin takes the
 *   person out, a revoke event's "person" puts them back), and a unit whose list disagrees with its
 *   count on a complete read is read again.
 * Fields a server may not send yet (title, leave, on_leave, person) are optional: absent means
 * nothing shown, or 0. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("console-config").textContent);
  var el = window.HuiyiLive.el;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var can = function (r) { return cfg.rights.indexOf(r) >= 0; };
  var RECENT_MAX = 12, LEAVE_SHOWN = 10, leaveAll = false;
  var last = cfg.initial, recent = (cfg.initial.recent || []).slice(), onLeave = cfg.initial.on_leave || [];
  var live = null, recentTimer = null, renderTimer = null;
  var PAGE = cfg.missingPage || 100;
  // Who is missing, per unit id: {people: [..] in the roster's order (contact id) or null (not
  // read), next: the cursor of the next page (null: the list is whole), open, loading}.
  var units = {};
  // Every missing person is here (a small meeting): the filter filters in the browser.
  var whole = !!(cfg.missing && cfg.missing.next === null);
  // A search of the server (a large meeting): {q, people, total, loading}.
  var search = null, searchTimer = null, searchAsked = 0;
  // The signins and revokes heard lately, in order and numbered: a list read while they arrived may
  // predate them, so each read applies those heard since it was asked.
  var changes = [], changeN = 0;

  var statusTimer = null;
  function status(text, bad) {
    var s = document.getElementById("status");
    s.textContent = text || "";
    s.className = "status" + (bad ? " bad" : "");
    // It floats over the page: gone after a while (a refusal stays longer, to be read).
    clearTimeout(statusTimer);
    if (text) statusTimer = setTimeout(function () { s.textContent = ""; }, bad ? 15000 : 8000);
  }
  function get(url, done) {
    var xhr = new XMLHttpRequest();
    xhr.open("GET", url, true);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.onload = function () {
      var data = null;
      try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
      done(xhr.status === 200 ? data : null);
    };
    xhr.onerror = function () { done(null); };
    xhr.send();
  }
  function post(url, body, done, button) {
    var xhr = new XMLHttpRequest();
    if (button) button.disabled = true;
    xhr.open("POST", url, true);
    xhr.setRequestHeader("Content-Type", "application/json");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRFToken", csrf);
    xhr.onload = function () {
      if (button) button.disabled = false;
      var data = null;
      try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
      if (xhr.status >= 400) {
        status((data && data.error && data.error.message) || "操作未成功（" + xhr.status + "），请重试", true);
        return;
      }
      if (!data) {  // the login expired: the request was sent on to the login page
        status("操作未完成：登录可能已失效，请刷新页面后重试", true);
        return;
      }
      done(data);
      if (live) live.resync();
    };
    xhr.onerror = function () {
      if (button) button.disabled = false;
      status("网络异常，操作可能未完成，请稍后刷新查看", true);
    };
    xhr.send(JSON.stringify(body || {}));
  }
  function button(text, cls, onclick) {
    var b = el("button", cls, text);
    b.type = "button";
    b.addEventListener("click", function () { onclick(b); });
    return b;
  }
  function count(v) { return typeof v === "number" ? v : 0; }

  // -- who is missing ------------------------------------------------------------------------------
  function unitState(id) {
    return units[id] || (units[id] = { people: null, next: null, open: whole, loading: false });
  }
  if (whole) {  // (a list cut short, when more were missing by the time it was read, is not used)
    (cfg.initial.units || []).forEach(function (u) { unitState(u.unit_id).people = []; });
    cfg.missing.people.forEach(function (m) { unitState(m.unit_id).people.push(m); });
  }
  function missingOf(u) { return Math.max(0, count(u.expected) - count(u.arrived)); }
  function matches(m, q, unitName) {
    return !q || m.name.indexOf(q) >= 0 || (unitName || m.unit || "").indexOf(q) >= 0 ||
      (m.title || "").indexOf(q) >= 0;
  }
  function noteChange(type, id, person) {
    changes.push({ n: ++changeN, type: type, id: id, person: person || null, at: Date.now() });
    if (changes.length > 2000 && changes[0].at < Date.now() - 60000) {  // no read in flight needs these
      var keep = 0;
      while (keep < changes.length && changes[keep].at < Date.now() - 60000) keep++;
      changes = changes.slice(keep);
    }
  }
  function changesSince(since) {
    var from = changes.length;
    while (from > 0 && changes[from - 1].n > since) from--;
    return changes.slice(from);
  }
  // A person goes into a unit's list in the roster's order, if the loaded part reaches them.
  function insertPerson(st, p) {
    if (!st.people || (st.next !== null && p.id > st.next)) return;
    if (st.people.some(function (m) { return m.id === p.id; })) return;
    var at = 0;
    while (at < st.people.length && st.people[at].id < p.id) at++;
    st.people.splice(at, 0, p);
  }
  function applyChanges(st, unitId, since) {
    changesSince(since).forEach(function (c) {
      if (c.type === "signin") st.people = st.people.filter(function (m) { return m.id !== c.id; });
      else if (c.person && c.person.unit_id === unitId) insertPerson(st, c.person);
    });
  }
  function loadUnit(id, more) {
    var st = unitState(id);
    if (st.loading) return;
    st.loading = true;
    var since = changeN, have = st.people ? st.people.length : 0;
    var url = cfg.missingList + "&unit=" + encodeURIComponent(id) +
      (more ? "&after=" + st.next + "&limit=" + PAGE : "&limit=" + Math.min(500, Math.max(PAGE, have)));
    get(url, function (d) {
      st.loading = false;
      if (!d || !Array.isArray(d.people)) { st.failed = true; scheduleRender(); return; }
      st.failed = false;
      var list = more && st.people ? st.people.concat(d.people) : d.people;
      var seen = {};
      st.people = list.filter(function (m) { return seen[m.id] ? false : (seen[m.id] = true); });
      st.next = d.next === undefined ? null : d.next;
      applyChanges(st, id, since);
      scheduleRender();
    });
  }
  function runSearch() {
    var q = search.q, mine = ++searchAsked, since = changeN;
    search.loading = true;
    get(cfg.missingList + "&q=" + encodeURIComponent(q) + "&limit=" + PAGE, function (d) {
      if (mine !== searchAsked || !search || search.q !== q) return;
      search.loading = false;
      search.failed = !d || !Array.isArray(d.people);
      search.people = search.failed ? [] : d.people;
      search.total = search.failed ? 0 : count(d.total);
      changesSince(since).forEach(function (c) {
        if (c.type !== "signin") return;
        var before = search.people.length;
        search.people = search.people.filter(function (m) { return m.id !== c.id; });
        search.total -= before - search.people.length;
      });
      scheduleRender();
    });
  }
  function personRow(m) {
    var li = el("li");
    li.dataset.contact = m.id;
    var who = el("span", "who");
    who.appendChild(el("span", "name", m.name));
    if (m.title) who.appendChild(el("span", "title", m.title));
    li.appendChild(who);
    if (can("proxy_signin")) {
      li.appendChild(button("代签", "small", function (b) {
        if (!window.confirm("确认为 " + m.name + " 代签？")) return;
        post(cfg.proxy, { contact_id: m.id }, function (d) {
          status(d.created === false ? m.name + " 已经签到，无需代签"
            : "已为 " + m.name + " 代签" + (d.seq ? "，第 " + d.seq + " 位签到" : ""));
        }, b);
      }));
    }
    return li;
  }
  function unitTitle(u) {
    return u.name + "（" + count(u.arrived) + "/" + count(u.expected) + (count(u.leave) ? "，请假 " + u.leave : "") + "）";
  }
  function unitBlock(u, st, people, open, toggle) {
    var block = el("div", "unit");
    block.dataset.unit = u.unit_id;
    var h = el("h3");
    if (toggle) {
      var t = el("button", "unit-toggle");
      t.type = "button";
      t.setAttribute("aria-expanded", open ? "true" : "false");
      t.appendChild(el("span", "unit-name", unitTitle(u)));
      t.appendChild(el("span", "unit-missing", "未到 " + missingOf(u)));
      t.addEventListener("click", function () {
        st.open = !st.open;
        st.failed = false;  // opening again tries again
        // Closed in a large meeting: let it go (read again when opened), it is no longer kept exact.
        if (!st.open && !whole) { st.people = null; st.next = null; }
        renderMissing();
      });
      h.appendChild(t);
    } else {
      h.textContent = unitTitle(u);
    }
    block.appendChild(h);
    if (!open) return block;
    if (people === null) {
      block.appendChild(el("p", "hint", st.failed ? "读取失败，请稍后重试" : "正在读取…"));
      if (!st.loading && !st.failed) loadUnit(u.unit_id, false);
      return block;
    }
    var ul = el("ul", "plain people");
    people.forEach(function (m) { ul.appendChild(personRow(m)); });
    block.appendChild(ul);
    if (st && st.next !== null && st.people) {
      var rest = Math.max(0, missingOf(u) - st.people.length);
      block.appendChild(button(st.loading ? "正在读取…" : "显示更多" + (rest ? "（还有 " + rest + " 人）" : ""),
        "small more", function () { loadUnit(u.unit_id, true); }));
    }
    return block;
  }
  function renderMissing() {
    var q = (document.getElementById("filter").value || "").trim();
    var box = document.createDocumentFragment();
    var note = document.getElementById("missing-note");
    var noteText = "";
    var byId = {};
    (last.units || []).forEach(function (u) { byId[u.unit_id] = u; });
    if (search && !whole) {
      // A search of the server: its answer, under each person's unit.
      var groups = {}, order = [];
      search.people.forEach(function (m) {
        if (!groups[m.unit_id]) { groups[m.unit_id] = []; order.push(m.unit_id); }
        groups[m.unit_id].push(m);
      });
      order.forEach(function (id) {
        var u = byId[id] || { unit_id: id, name: groups[id][0].unit || "", expected: 0, arrived: 0 };
        box.appendChild(unitBlock(u, null, groups[id], true, false));
      });
      if (search.loading && !search.people.length) noteText = "正在查找…";
      else if (search.failed) noteText = "查找失败，请稍后重试";
      else if (search.total > search.people.length) {
        noteText = "共 " + search.total + " 人符合，显示前 " + search.people.length + " 人；请输入更完整的姓名、职务或单位";
      } else if (search.people.length) noteText = "共 " + search.total + " 人符合";
    } else {
      (last.units || []).forEach(function (u) {
        if (!missingOf(u)) return;
        var st = unitState(u.unit_id);
        if (q && whole) {  // every missing person is here: filter here, every match shown
          var people = (st.people || []).filter(function (m) { return matches(m, q, u.name); });
          if (people.length) box.appendChild(unitBlock(u, st, people, true, false));
          return;
        }
        box.appendChild(unitBlock(u, st, st.people, st.open, true));
      });
    }
    var target = document.getElementById("missing");
    target.replaceChildren(box);
    note.textContent = noteText;
    note.hidden = !noteText;
    if (!target.children.length && !(search && search.loading)) {
      target.appendChild(el("p", "hint", q && (whole || search) ? "没有符合条件的未到人员" : "应到人员已全部签到"));
    }
  }
  // Many events in a burst: one render of the lists per 100 ms, not one per event.
  function scheduleRender() {
    if (renderTimer) return;
    renderTimer = setTimeout(function () { renderTimer = null; renderMissing(); renderRecent(); }, 100);
  }
  // After a complete read: a list that disagrees with its unit's count missed something. Read again.
  function checkLists(n) {
    (n.units || []).forEach(function (u) {
      var st = units[u.unit_id];
      if (!st || !st.people || st.loading) return;
      var miss = missingOf(u);
      if (st.next === null ? st.people.length !== miss : st.people.length > miss) loadUnit(u.unit_id, false);
    });
  }
  function renderRecent() {
    var ul = document.getElementById("recent");
    var box = document.createDocumentFragment();
    recent.forEach(function (r) {
      var li = el("li");
      li.dataset.contact = r.contact_id;
      li.appendChild(el("span", "seq", r.seq ? "第" + r.seq + "位" : ""));
      li.appendChild(el("span", "name", r.name));
      li.appendChild(el("span", "unit", r.unit));
      li.appendChild(el("span", "time", (r.at || "") + (r.late ? " 迟到" : "") + (r.method === "proxy" ? " 代签" : "")));
      if (can("proxy_signin")) {
        li.appendChild(button("撤销", "small danger", function (b) {
          var reason = window.prompt("撤销 " + r.name + " 的签到，请填写原因：", "误签");
          if (reason === null) return;
          post(cfg.revoke, { contact_id: r.contact_id, reason: reason }, function () {
            status("已撤销 " + r.name + " 的签到" + (reason.trim() ? "（原因：" + reason.trim() + "）" : "") +
              "，其已回到未到名单");
          }, b);
        }));
      }
      box.appendChild(li);
    });
    ul.replaceChildren(box);
    if (!recent.length) ul.appendChild(el("li", "hint", "暂无签到"));
  }
  function renderLeave() {
    var card = document.getElementById("leave-card");
    document.getElementById("n-leave").textContent = count(last.leave);
    if (!card) return;
    var ul = document.getElementById("on-leave");
    var frag = document.createDocumentFragment();
    // A long list (a large meeting) shows its first few until asked for all.
    var shown = leaveAll || onLeave.length <= LEAVE_SHOWN + 2 ? onLeave : onLeave.slice(0, LEAVE_SHOWN);
    shown.forEach(function (p) {
      var li = el("li"), who = el("span", "who");
      who.appendChild(el("span", "name", p.name));
      if (p.unit) who.appendChild(el("span", "unit", p.unit));
      li.appendChild(who);
      if (p.reason) li.appendChild(el("span", "reason", "事由：" + p.reason));
      frag.appendChild(li);
    });
    ul.replaceChildren(frag);
    var toggle = document.getElementById("leave-all");
    if (toggle) toggle.remove();
    if (onLeave.length > LEAVE_SHOWN + 2) {
      toggle = button(leaveAll ? "收起" : "显示全部（共 " + onLeave.length + " 人）", "small more", function () {
        leaveAll = !leaveAll;
        renderLeave();
      });
      toggle.id = "leave-all";
      card.appendChild(toggle);
    }
    card.hidden = !onLeave.length;
  }
  function renderGroups(n) {
    var box = document.getElementById("groups");
    var frag = document.createDocumentFragment();
    (n.groups || []).forEach(function (g) { frag.appendChild(el("div", "group", g.name + "：" + g.arrived + "/" + g.expected)); });
    box.replaceChildren(frag);
    if (!box.children.length) box.appendChild(el("p", "hint", "本次会议未分组"));
  }
  function showNumbers(n, source) {
    last = n;
    ["expected", "arrived", "missing", "late"].forEach(function (k) {
      document.getElementById("n-" + k).textContent = count(n[k]);
    });
    document.getElementById("n-rate").textContent = window.HuiyiLive.pct(n.rate);
    // Only a complete read says who signed in last; the stream's snapshot leaves it out.
    if (source !== "stream" && Array.isArray(n.recent)) { recent = n.recent.slice(0, RECENT_MAX); renderRecent(); }
    if (Array.isArray(n.on_leave)) onLeave = n.on_leave;
    if (source === "read") checkLists(n);
    scheduleRender(); renderLeave(); renderGroups(n);
  }
  function onEvent(e) {
    if (e.type === "signin") {
      recent = recent.filter(function (r) { return r.contact_id !== e.contact_id; });
      recent.unshift(e);
      if (recent.length > RECENT_MAX) recent.length = RECENT_MAX;
      noteChange("signin", e.contact_id);
      Object.keys(units).forEach(function (k) {
        var st = units[k];
        if (st.people) st.people = st.people.filter(function (m) { return m.id !== e.contact_id; });
      });
      if (search) {
        var before = search.people.length;
        search.people = search.people.filter(function (m) { return m.id !== e.contact_id; });
        search.total -= before - search.people.length;
      }
      scheduleRender();
    } else if (e.type === "revoke") {
      recent = recent.filter(function (r) { return r.contact_id !== e.contact_id; });
      noteChange("revoke", e.contact_id, e.person);
      if (e.person) insertPerson(unitState(e.person.unit_id), e.person);
      if (search && e.person && matches(e.person, search.q)) {
        clearTimeout(searchTimer);
        searchTimer = setTimeout(function () { if (search) runSearch(); }, 300);
      }
      scheduleRender();
    }
    // Then a complete read, debounced over a burst: the recent list as the database has it.
    clearTimeout(recentTimer);
    recentTimer = setTimeout(function () { live.resync(); }, 250);
  }
  function renderReminders(list) {
    var ul = document.getElementById("reminders");
    if (!ul) return;
    var frag = document.createDocumentFragment();
    list.forEach(function (r) {
      // The server's words for the reminder's true state (queued, sending, sent, failed), and who
      // did not get it (WeChat's own delivery reports included).
      var text = r.at + " 催签：" + r.text;
      if (r.failed_people && r.failed_people.length) {
        text += "。未送达：" + r.failed_people.map(function (p) { return p.name + "（" + p.reason + "）"; }).join("、");
      }
      frag.appendChild(el("li", r.job_state === "failed" || r.failed ? "warn" : "", text));
    });
    ul.replaceChildren(frag);
  }
  function refreshReminders() {
    var xhr = new XMLHttpRequest();
    xhr.open("GET", cfg.reminderList, true);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.onload = function () {
      if (xhr.status !== 200) return;
      try { renderReminders(JSON.parse(xhr.responseText).reminders); } catch (e) { /* login expired */ }
    };
    xhr.send();
  }
  document.getElementById("filter").addEventListener("input", function () {
    if (whole) { renderMissing(); return; }
    // A search of the server once typing pauses; an empty box shows the units again.
    clearTimeout(searchTimer);
    searchTimer = setTimeout(function () {
      var q = (document.getElementById("filter").value || "").trim();
      if (!q) search = null;
      else if (!search || search.q !== q) { search = { q: q, people: [], total: 0, loading: true }; runSearch(); }
      renderMissing();
    }, 250);
  });
  var remindBtn = document.getElementById("remind");
  if (remindBtn) {
    remindBtn.addEventListener("click", function () {
      if (!window.confirm("向全部 " + count(last.missing) + " 位未到人员发送催签提醒？")) return;
      post(cfg.remind, {}, function (d) {
        status(d.message || ("已提交催签，共 " + d.recipients + " 人，发送结果稍后显示在下方"));
        setTimeout(refreshReminders, 1500); setTimeout(refreshReminders, 5000);
      }, remindBtn);
    });
  }
  renderReminders(cfg.reminders);
  showNumbers(cfg.initial, "page");
  renderMissing(); renderRecent();
  live = window.HuiyiLive.connect({
    events: cfg.events, numbers: cfg.numbers, onNumbers: showNumbers, onEvent: onEvent, resyncMs: 15000,
    onStatus: function (ok) { document.body.classList.toggle("offline", !ok); }
  });
})();
