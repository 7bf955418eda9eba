/* Invitees and organizers pages: directory search and add, selection, the edit dialog, confirmations.
   Everything shown from the server goes in through textContent. */
(function () {
  "use strict";
  var cfgNode = document.getElementById("people-config");
  var cfg = cfgNode ? JSON.parse(cfgNode.textContent) : {};
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined && text !== null) n.textContent = text;
    return n;
  }
  function request(method, url, body, done, fail) {
    var xhr = new XMLHttpRequest();
    xhr.open(method, url, true);
    xhr.setRequestHeader("Accept", "application/json");
    if (body) xhr.setRequestHeader("Content-Type", "application/json");
    xhr.setRequestHeader("X-CSRFToken", csrf);
    xhr.onload = function () {
      var data = {};
      try { data = JSON.parse(xhr.responseText); } catch (e) {}
      if (xhr.status >= 400) { fail((data.error && data.error.message) || "操作失败，请重试"); return; }
      done(data);
    };
    xhr.onerror = function () { fail("网络异常，请重试"); };
    xhr.send(body ? JSON.stringify(body) : null);
  }

  // Confirmations on destructive buttons (remove from the list, remove an organizer).
  document.addEventListener("click", function (e) {
    var b = e.target.closest ? e.target.closest("[data-confirm]") : null;
    if (b && !window.confirm(b.getAttribute("data-confirm"))) e.preventDefault();
  });

  // Selection on the list.
  var form = document.getElementById("list-form");
  if (form) {
    var all = document.getElementById("select-all");
    var boxes = function () { return form.querySelectorAll('tbody input[name="ids"]'); };
    var refresh = function () {
      var n = 0;
      Array.prototype.forEach.call(boxes(), function (b) { if (b.checked) n++; });
      var count = document.getElementById("selected-count");
      if (count) count.textContent = "已选 " + n + " 人";
      Array.prototype.forEach.call(form.querySelectorAll(".needs-selection"), function (b) { b.disabled = n === 0; });
    };
    if (all) all.addEventListener("change", function () {
      Array.prototype.forEach.call(boxes(), function (b) { b.checked = all.checked; });
      refresh();
    });
    form.addEventListener("change", function (e) { if (e.target.name === "ids") refresh(); });
    refresh();
  }

  // One person's edit dialog, filled from the row.
  var dialog = document.getElementById("edit-dialog");
  if (dialog) {
    document.addEventListener("click", function (e) {
      if (!e.target.classList.contains("edit")) return;
      var row = e.target.closest("tr"), f = dialog.querySelector("form");
      f.elements.ids.value = row.dataset.id;
      f.elements.role.value = row.dataset.role;
      f.elements.group_name.value = row.dataset.group;
      f.elements.seat.value = row.dataset.seat;
      f.elements.note.value = row.dataset.note;
      dialog.querySelector("#edit-title").textContent = "编辑：" + row.dataset.name;
      if (dialog.showModal) dialog.showModal(); else dialog.setAttribute("open", "");
    });
    dialog.querySelector(".close").addEventListener("click", function () {
      if (dialog.close) dialog.close(); else dialog.removeAttribute("open");
    });
  }

  // Filter the unit checklist as the organizer types.
  Array.prototype.forEach.call(document.querySelectorAll(".unit-filter"), function (input) {
    var list = input.parentNode.querySelector(".checklist");
    input.addEventListener("input", function () {
      var q = input.value.trim();
      Array.prototype.forEach.call(list.querySelectorAll("label"), function (l) {
        l.hidden = !!q && l.getAttribute("data-name").indexOf(q) < 0 && !l.querySelector("input").checked;
      });
    });
  });

  function addPeople(ids, role, button) {
    button.disabled = true;
    request("POST", cfg.add, {contact_ids: ids, role: role}, function (data) {
      var done = el("span", "badge ok", data.added ? "已添加" : "已在名单");
      button.parentNode.replaceChild(done, button);
    }, function (msg) { button.disabled = false; window.alert(msg); });
  }

  // Paste report: add one of a line's candidates.
  Array.prototype.forEach.call(document.querySelectorAll(".add-one"), function (b) {
    b.addEventListener("click", function () {
      var role = document.querySelector('#paste select[name="role"]');
      addPeople([+b.getAttribute("data-contact-id")], role ? role.value : "", b);
    });
  });

  // Directory search: add to the list (invitees) or pick one person (organizers).
  var q = document.getElementById("dir-q"), results = document.getElementById("dir-results");
  if (!q || !results || !cfg.directory) return;
  var timer = null, seq = 0;
  function render(items) {
    results.textContent = "";
    if (!items.length) { results.appendChild(el("li", "hint", "没有找到，试试姓名、单位或手机号后四位")); return; }
    items.forEach(function (p) {
      var li = el("li");
      li.appendChild(el("span", "who", p.name));
      li.appendChild(el("span", "hint", " " + p.unit + " · " + p.phone + " "));
      if (cfg.pick) {
        var pick = el("button", "small", "选择");
        pick.type = "button";
        pick.addEventListener("click", function () {
          document.getElementById("picked-id").value = p.id;
          var shown = document.getElementById("picked");
          shown.textContent = "已选择：" + p.name + "（" + p.unit + "，" + p.phone + "）";
          shown.hidden = false;
          var phone = document.querySelector('#organizer-form input[name="phone"]');
          if (phone) phone.value = "";
        });
        li.appendChild(pick);
      } else if (p.invited) {
        li.appendChild(el("span", "badge", "已在名单"));
      } else {
        var add = el("button", "small primary", "添加");
        add.type = "button";
        add.addEventListener("click", function () {
          addPeople([p.id], document.getElementById("dir-role").value, add);
        });
        li.appendChild(add);
      }
      results.appendChild(li);
    });
  }
  q.addEventListener("input", function () {
    clearTimeout(timer);
    var text = q.value.trim();
    if (!text) { results.textContent = ""; return; }
    timer = setTimeout(function () {
      var mine = ++seq;
      request("GET", cfg.directory + "?q=" + encodeURIComponent(text), null, function (data) {
        if (mine === seq) render(data.results || []);
      }, function (msg) { results.textContent = ""; results.appendChild(el("li", "bad", msg)); });
    }, 250);
  });
})();
