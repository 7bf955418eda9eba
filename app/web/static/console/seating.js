/* 座次: click a person (on a seat or in the unseated list), then a seat: the server moves them
   (a seated person on the target swaps); the page then reloads to show the plan as saved. */
(function () {
  "use strict";
  var wrap = document.querySelector(".hall-wrap[data-move-url]");
  if (!wrap) return;
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var hint = document.getElementById("move-hint");
  var bar = document.querySelector(".selection");
  var picked = null;
  // A hall wider than the screen (a phone) opens on its centre, where the rostrum's 1st sits.
  if (wrap.scrollWidth > wrap.clientWidth) wrap.scrollLeft = (wrap.scrollWidth - wrap.clientWidth) / 2;

  function say(text, error) {
    if (!hint) return;
    hint.textContent = text;
    hint.style.color = error ? "#b3121f" : "";
  }
  function clear() {
    Array.prototype.forEach.call(document.querySelectorAll(".selected"), function (el) { el.classList.remove("selected"); });
    picked = null;
    wrap.classList.remove("picking");
    if (bar) bar.hidden = true;
  }
  function pick(el) {
    clear();
    picked = {contact: el.getAttribute("data-contact"), name: el.getAttribute("data-name"), el: el,
              seated: el.classList.contains("seat")};
    el.classList.add("selected");
    wrap.classList.add("picking");
    say("已选择 " + picked.name + "，请点击目标座位（有人则互换）");
    if (bar) {
      bar.hidden = false;
      bar.querySelector(".selected-name").textContent = picked.name;
      bar.querySelector(".unassign").hidden = !picked.seated;
    }
  }
  function post(url, data) {
    var body = new URLSearchParams(data);
    return fetch(url, {method: "POST", body: body, credentials: "same-origin",
                       headers: {"Accept": "application/json", "X-CSRFToken": csrf}})
      .then(function (r) { return r.json().then(function (j) { return {ok: r.ok, body: j}; }); });
  }
  function done(result, okText) {
    if (result.ok) {
      say(okText(result.body));
      window.location.reload();
    } else {
      say((result.body.error && result.body.error.message) || "操作失败，请刷新后重试", true);
      clear();
    }
  }
  function seatClicked(seat) {
    if (!picked) {
      if (seat.hasAttribute("data-contact")) pick(seat);
      return;
    }
    if (picked.el === seat) { clear(); say("已取消选择"); return; }
    var who = picked;
    say("正在安排 " + who.name + "…");
    post(wrap.getAttribute("data-move-url"), {contact_id: who.contact, row: seat.getAttribute("data-row"),
                                               seat: seat.getAttribute("data-seat"),
                                               occupant: seat.getAttribute("data-contact") || ""})
      .then(function (r) { done(r, function (b) { return who.name + " 已安排到 " + b.seat; }); })
      .catch(function () { say("网络异常，请重试", true); });
  }
  wrap.addEventListener("click", function (e) {
    var seat = e.target.closest(".seat");
    if (seat && !seat.disabled) seatClicked(seat);
  });
  Array.prototype.forEach.call(document.querySelectorAll(".person[data-contact]"), function (el) {
    el.addEventListener("click", function () {
      if (picked && picked.el === el) { clear(); return; }
      pick(el);
      wrap.scrollIntoView({behavior: "smooth", block: "nearest"});
    });
  });
  if (bar) {
    bar.querySelector(".cancel-select").addEventListener("click", function () { clear(); say("已取消选择"); });
    bar.querySelector(".unassign").addEventListener("click", function () {
      if (!picked) return;
      var who = picked;
      post(wrap.getAttribute("data-unassign-url"), {contact_id: who.contact})
        .then(function (r) { done(r, function () { return who.name + " 的座位已取消"; }); });
    });
  }
})();
