/* The big screen: numbers, per-unit progress and a ticker of recent sign-ins. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("screen-config").textContent);
  var el = window.HuiyiLive.el, pct = window.HuiyiLive.pct, fit = window.HuiyiLive.fit;
  var ticker = document.getElementById("ticker");
  var MAX_TICKER = 12, MAX_UNITS = 14;

  function showNumbers(n) {
    document.getElementById("n-expected").textContent = n.expected;
    document.getElementById("n-arrived").textContent = n.arrived;
    document.getElementById("n-rate").textContent = pct(n.rate);
    document.getElementById("n-late").textContent = n.late;
    document.getElementById("n-missing").textContent = n.missing;
    fitNumbers();
    var list = document.getElementById("units");
    var rows = document.createDocumentFragment();
    n.units.slice(0, MAX_UNITS).forEach(function (u) {
      var share = u.expected ? Math.round(u.arrived * 100 / u.expected) : 0;
      var row = el("div", "unit" + (u.arrived >= u.expected ? " done" : ""));
      var name = el("span", "unit-name", u.name);
      name.title = u.name;  // ellipsized when long: the whole name on hover
      row.appendChild(name);
      var bar = el("span", "bar"), fill = el("span", "fill");
      fill.style.width = Math.min(share, 100) + "%";
      bar.appendChild(fill);
      row.appendChild(bar);
      row.appendChild(el("span", "unit-num", u.arrived + "/" + u.expected));
      rows.appendChild(row);
    });
    list.replaceChildren(rows);
    if (n.recent && n.recent.length && !ticker.children.length) {
      n.recent.slice().reverse().forEach(addTicker);
    }
  }
  // Each big number keeps to its card whatever its length (100.0, a 5-digit 应到).
  function fitNumbers() {
    Array.prototype.forEach.call(document.querySelectorAll(".big strong"), function (s) { fit(s, 0.5); });
  }
  // One line per sign-in: name, unit (ellipsized), time and, only when the server says so (late and
  // not a 领导: headcount.public_late), a small 迟到 tag that never breaks.
  function addTicker(e) {
    var item = el("li", e.late ? "late" : "");
    item.dataset.contact = e.contact_id;
    var name = el("b", "t-name", e.name), unit = el("span", "t-unit", e.unit);
    name.title = e.name; unit.title = e.unit;
    item.appendChild(name);
    item.appendChild(unit);
    var meta = el("span", "t-meta");
    meta.appendChild(el("span", "t-time", e.at));
    if (e.late === true) meta.appendChild(el("span", "t-late", "迟到"));
    item.appendChild(meta);
    ticker.insertBefore(item, ticker.firstChild);
    while (ticker.children.length > MAX_TICKER) ticker.removeChild(ticker.lastChild);
  }
  // -- vote mode: the vote the organizer put on screen (screen_mode "vote:<id>") --------------------
  var onScreen = cfg.vote ? cfg.vote.vote_id : null, shown = null;
  function newer(cur, v) {
    // Ballot events can reach the stream out of order; while a vote is open its counts only grow,
    // so the one with the most ballots wins. The closing tally is read from the database: final.
    if (!cur || cur.vote_id !== v.vote_id) return true;
    if (v.state === "closed") return true;
    if (cur.state === "closed") return false;
    return v.ballots >= cur.ballots;
  }
  function showVote(v) {
    shown = v;
    document.getElementById("v-title").textContent = v.title;
    var state = document.getElementById("v-state");
    state.textContent = v.state_label;
    state.className = "state " + v.state;
    document.getElementById("v-ballots").textContent = v.ballots;
    document.getElementById("v-eligible").textContent = v.eligible;
    document.getElementById("v-turnout").textContent = pct(v.turnout);
    document.getElementById("v-turnout-fill").style.width = Math.min(v.turnout, 100) + "%";
    document.getElementById("v-hidden").hidden = v.visible;
    var rows = document.createDocumentFragment();
    v.options.forEach(function (o) {
      var row = el("li", v.visible ? "" : "masked");
      row.dataset.id = o.id;
      row.appendChild(el("span", "v-label", o.label));
      var track = el("span", "track"), fill = el("span", "fill");
      fill.style.width = (v.visible ? Math.min(o.percent, 100) : 0) + "%";
      track.appendChild(fill);
      row.appendChild(track);
      row.appendChild(el("span", "v-count", v.visible ? o.count + " 票" : ""));
      row.appendChild(el("span", "v-pct", v.visible ? pct(o.percent) + "%" : ""));
      rows.appendChild(row);
    });
    document.getElementById("v-bars").replaceChildren(rows);
    document.body.classList.add("mode-vote");
  }
  function showHeadcount() {
    onScreen = null; shown = null;
    document.body.classList.remove("mode-vote");
    fitNumbers();  // measured while hidden, they could not be fitted
  }
  function resyncVote() {
    var xhr = new XMLHttpRequest();
    xhr.open("GET", cfg.voteUrl, true);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.onload = function () {
      if (xhr.status !== 200) return;
      var v = JSON.parse(xhr.responseText).vote;
      if (!v) { showHeadcount(); return; }
      onScreen = v.vote_id;
      if (newer(shown, v)) showVote(v);
    };
    xhr.send();
  }
  function onEvent(e) {
    if (e.type === "vote") { if (e.vote_id === onScreen && newer(shown, e)) showVote(e); return; }
    if (e.type === "screen_mode") {
      if (e.vote_id === null || e.vote_id === undefined) { showHeadcount(); return; }
      onScreen = e.vote_id; shown = null;
      resyncVote();
      return;
    }
    if (e.type === "signin") addTicker(e);
    if (e.type === "revoke") {
      Array.prototype.slice.call(ticker.children).forEach(function (li) {
        if (li.dataset.contact === String(e.contact_id)) ticker.removeChild(li);
      });
    }
  }
  function tick() {
    // China time whatever the projector computer's time zone is set to.
    var d = new Date(Date.now() + 8 * 3600 * 1000);
    document.getElementById("clock").textContent =
      ("0" + d.getUTCHours()).slice(-2) + ":" + ("0" + d.getUTCMinutes()).slice(-2) + ":" + ("0" + d.getUTCSeconds()).slice(-2);
  }
  showNumbers(cfg.initial);
  // The title and the numbers are fitted again once the fonts are in (a CJK font measures wider
  // than the fallback it replaces) and whenever the window changes.
  function refit() { fitNumbers(); fit(document.querySelector("header h1"), 0.6); }
  refit();
  window.addEventListener("resize", refit);
  window.addEventListener("load", refit);
  if (document.fonts && document.fonts.ready) document.fonts.ready.then(refit);
  setInterval(tick, 1000); tick();
  if (cfg.vote) showVote(cfg.vote);
  var wasOnline = true;
  window.HuiyiLive.connect({
    events: cfg.events, numbers: cfg.numbers, onNumbers: showNumbers, onEvent: onEvent,
    extraEvents: ["vote", "screen_mode"],
    onStatus: function (ok) {
      document.body.classList.toggle("offline", !ok);
      if (ok && !wasOnline) resyncVote();  // back after a drop: the vote may have changed meanwhile
      wasOnline = ok;
    }
  });
  setInterval(resyncVote, 15000);
  if (cfg.rotating) {
    // The rotating code changes every few tens of seconds; fetch the current one in time.
    setInterval(function () {
      var img = document.getElementById("qr-img");
      img.src = cfg.qr + "&t=" + Date.now();
    }, cfg.rotateMs);
  }
})();
