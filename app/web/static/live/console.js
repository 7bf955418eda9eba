/* The organizer's live page: numbers, missing by unit with 代签, people on leave, recent sign-ins
 * with 撤销, 催签.
 *
 * Where each part comes from:
 * - numbers, units, missing, groups, leave: every numbers message (the stream's or numbers.json);
 * - the recent sign-ins: numbers.json only (the stream's snapshot carries an empty "recent", which
 *   says nothing), kept between reads, and moved at once by each signin / revoke event.
 * Fields a server may not send yet (title, leave, on_leave) are optional: absent means nothing
 * shown, or 0. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("console-config").textContent);
  var el = window.HuiyiLive.el;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var can = function (r) { return cfg.rights.indexOf(r) >= 0; };
  var RECENT_MAX = 12;
  var last = cfg.initial, recent = (cfg.initial.recent || []).slice(), onLeave = cfg.initial.on_leave || [];
  var live = null, recentTimer = null;

  var statusTimer = null;
  function status(text, bad) {
    var s = document.getElementById("status");
    s.textContent = text || "";
    s.className = "status" + (bad ? " bad" : "");
    // It floats over the page: gone after a while (a refusal stays longer, to be read).
    clearTimeout(statusTimer);
    if (text) statusTimer = setTimeout(function () { s.textContent = ""; }, bad ? 15000 : 8000);
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

  function renderMissing(n) {
    var q = (document.getElementById("filter").value || "").trim();
    var box = document.createDocumentFragment();
    n.units.forEach(function (u) {
      if (!u.missing || !u.missing.length) return;
      var people = u.missing.filter(function (m) {
        return !q || m.name.indexOf(q) >= 0 || u.name.indexOf(q) >= 0 || (m.title || "").indexOf(q) >= 0;
      });
      if (!people.length) return;
      var block = el("div", "unit");
      block.appendChild(el("h3", "", u.name + "（" + u.arrived + "/" + u.expected +
        (count(u.leave) ? "，请假 " + u.leave : "") + "）"));
      var ul = el("ul", "plain people");
      people.forEach(function (m) {
        var li = el("li");
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
        ul.appendChild(li);
      });
      block.appendChild(ul);
      box.appendChild(block);
    });
    var target = document.getElementById("missing");
    target.replaceChildren(box);
    if (!target.children.length) target.appendChild(el("p", "hint", q ? "没有符合条件的未到人员" : "应到人员已全部签到"));
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
    onLeave.forEach(function (p) {
      var li = el("li"), who = el("span", "who");
      who.appendChild(el("span", "name", p.name));
      if (p.unit) who.appendChild(el("span", "unit", p.unit));
      li.appendChild(who);
      if (p.reason) li.appendChild(el("span", "reason", "事由：" + p.reason));
      frag.appendChild(li);
    });
    ul.replaceChildren(frag);
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
    document.getElementById("n-rate").textContent = Number(n.rate || 0).toFixed(1);
    // Only a complete read says who signed in last; the stream's snapshot leaves it out.
    if (source !== "stream" && Array.isArray(n.recent)) { recent = n.recent.slice(0, RECENT_MAX); renderRecent(); }
    if (Array.isArray(n.on_leave)) onLeave = n.on_leave;
    renderMissing(n); renderLeave(); renderGroups(n);
  }
  function onEvent(e) {
    if (e.type === "signin") {
      recent = recent.filter(function (r) { return r.contact_id !== e.contact_id; });
      recent.unshift(e);
      if (recent.length > RECENT_MAX) recent.length = RECENT_MAX;
      renderRecent();
    } else if (e.type === "revoke") {
      recent = recent.filter(function (r) { return r.contact_id !== e.contact_id; });
      renderRecent();
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
      frag.appendChild(el("li", "", r.at + " 催签：已发送 " + r.sent + "，失败 " + r.failed + "，未绑定微信等跳过 " +
        r.skipped + (r.pending ? "，发送中 " + r.pending : "")));
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
  document.getElementById("filter").addEventListener("input", function () { renderMissing(last); });
  var remindBtn = document.getElementById("remind");
  if (remindBtn) {
    remindBtn.addEventListener("click", function () {
      if (!window.confirm("向全部 " + count(last.missing) + " 位未到人员发送催签提醒？")) return;
      post(cfg.remind, {}, function (d) {
        status("已提交催签，共 " + d.recipients + " 人，发送结果稍后显示在下方");
        setTimeout(refreshReminders, 1500); setTimeout(refreshReminders, 5000);
      }, remindBtn);
    });
  }
  renderReminders(cfg.reminders);
  showNumbers(cfg.initial, "read");
  live = window.HuiyiLive.connect({
    events: cfg.events, numbers: cfg.numbers, onNumbers: showNumbers, onEvent: onEvent, resyncMs: 15000,
    onStatus: function (ok) { document.body.classList.toggle("offline", !ok); }
  });
})();
