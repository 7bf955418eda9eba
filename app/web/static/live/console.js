/* The organizer's live page: numbers, missing by unit with 代签, recent with 撤销, 催签. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("console-config").textContent);
  var el = window.HuiyiLive.el;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var can = function (r) { return cfg.rights.indexOf(r) >= 0; };
  var last = cfg.initial, live = null, recentTimer = null;

  function status(text, bad) {
    var s = document.getElementById("status");
    s.textContent = text || "";
    s.className = "status" + (bad ? " bad" : "");
  }
  function post(url, body, done) {
    var xhr = new XMLHttpRequest();
    xhr.open("POST", url, true);
    xhr.setRequestHeader("Content-Type", "application/json");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRFToken", csrf);
    xhr.onload = function () {
      var data = {};
      try { data = JSON.parse(xhr.responseText); } catch (e) {}
      if (xhr.status >= 400) { status((data.error && data.error.message) || "操作失败，请重试", true); return; }
      done(data);
      if (live) live.resync();
    };
    xhr.onerror = function () { status("网络异常，请重试", true); };
    xhr.send(JSON.stringify(body || {}));
  }
  function button(text, cls, onclick) {
    var b = el("button", cls, text);
    b.type = "button";
    b.addEventListener("click", onclick);
    return b;
  }
  function renderMissing(n) {
    var q = (document.getElementById("filter").value || "").trim();
    var box = document.createDocumentFragment();
    n.units.forEach(function (u) {
      if (!u.missing || !u.missing.length) return;
      var people = u.missing.filter(function (m) { return !q || m.name.indexOf(q) >= 0 || u.name.indexOf(q) >= 0; });
      if (!people.length) return;
      var block = el("div", "unit");
      block.appendChild(el("h3", "", u.name + "（" + u.arrived + "/" + u.expected + "）"));
      var ul = el("ul", "plain people");
      people.forEach(function (m) {
        var li = el("li");
        li.appendChild(el("span", "name", m.name));
        if (can("proxy_signin")) {
          li.appendChild(button("代签", "small", function () {
            if (!window.confirm("确认为 " + m.name + " 代签？")) return;
            post(cfg.proxy, { contact_id: m.id }, function () { status("已为 " + m.name + " 代签"); });
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
  function renderRecent(n) {
    if (!n.recent) return;
    var ul = document.getElementById("recent");
    var box = document.createDocumentFragment();
    n.recent.forEach(function (r) {
      var li = el("li");
      li.appendChild(el("span", "seq", "第" + r.seq + "位"));
      li.appendChild(el("span", "name", r.name));
      li.appendChild(el("span", "unit", r.unit));
      li.appendChild(el("span", "time", r.at + (r.late ? " 迟到" : "") + (r.method === "proxy" ? " 代签" : "")));
      if (can("proxy_signin")) {
        li.appendChild(button("撤销", "small ghost", function () {
          var reason = window.prompt("撤销 " + r.name + " 的签到，请填写原因：", "误签");
          if (reason === null) return;
          post(cfg.revoke, { contact_id: r.contact_id, reason: reason }, function () { status("已撤销 " + r.name + " 的签到"); });
        }));
      }
      box.appendChild(li);
    });
    ul.replaceChildren(box);
  }
  function renderGroups(n) {
    var box = document.getElementById("groups");
    var frag = document.createDocumentFragment();
    n.groups.forEach(function (g) { frag.appendChild(el("div", "group", g.name + "：" + g.arrived + "/" + g.expected)); });
    box.replaceChildren(frag);
    if (!n.groups.length) box.appendChild(el("p", "hint", "本次会议未分组"));
  }
  function showNumbers(n) {
    if (!n.recent && last) n.recent = last.recent;  // stream messages leave the recent list out
    last = n;
    ["expected", "arrived", "missing", "late"].forEach(function (k) {
      document.getElementById("n-" + k).textContent = n[k];
    });
    document.getElementById("n-rate").textContent = n.rate.toFixed(1);
    renderMissing(n); renderRecent(n); renderGroups(n);
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
    xhr.onload = function () { if (xhr.status === 200) renderReminders(JSON.parse(xhr.responseText).reminders); };
    xhr.send();
  }
  document.getElementById("filter").addEventListener("input", function () { renderMissing(last); });
  var remindBtn = document.getElementById("remind");
  if (remindBtn) {
    remindBtn.addEventListener("click", function () {
      if (!window.confirm("向全部未到人员发送催签提醒？")) return;
      post(cfg.remind, {}, function (d) {
        status("已提交催签，共 " + d.recipients + " 人");
        setTimeout(refreshReminders, 1500); setTimeout(refreshReminders, 5000);
      });
    });
  }
  renderReminders(cfg.reminders);
  showNumbers(cfg.initial);
  live = window.HuiyiLive.connect({
    events: cfg.events, numbers: cfg.numbers, onNumbers: showNumbers, resyncMs: 15000,
    // Stream messages carry the counts; the recent list (with undo buttons) comes from a debounced re-read.
    onEvent: function () { clearTimeout(recentTimer); recentTimer = setTimeout(function () { live.resync(); }, 250); },
    onStatus: function (ok) { document.body.classList.toggle("offline", !ok); }
  });
})();
