/* The big screen: numbers, per-unit progress and a ticker of recent sign-ins. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("screen-config").textContent);
  var el = window.HuiyiLive.el;
  var ticker = document.getElementById("ticker");
  var MAX_TICKER = 12, MAX_UNITS = 14;

  function showNumbers(n) {
    document.getElementById("n-expected").textContent = n.expected;
    document.getElementById("n-arrived").textContent = n.arrived;
    document.getElementById("n-rate").textContent = n.rate.toFixed(1);
    document.getElementById("n-late").textContent = n.late;
    document.getElementById("n-missing").textContent = n.missing;
    var list = document.getElementById("units");
    var rows = document.createDocumentFragment();
    n.units.slice(0, MAX_UNITS).forEach(function (u) {
      var pct = u.expected ? Math.round(u.arrived * 100 / u.expected) : 0;
      var row = el("div", "unit" + (u.arrived >= u.expected ? " done" : ""));
      row.appendChild(el("span", "unit-name", u.name));
      var bar = el("span", "bar"), fill = el("span", "fill");
      fill.style.width = Math.min(pct, 100) + "%";
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
  function addTicker(e) {
    var item = el("li", e.late ? "late" : "");
    item.dataset.contact = e.contact_id;
    item.appendChild(el("b", "", e.name));
    item.appendChild(el("span", "t-unit", e.unit));
    item.appendChild(el("span", "t-time", e.at + (e.late ? " 迟到" : "")));
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
    document.getElementById("v-turnout").textContent = Number(v.turnout).toFixed(1);
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
      row.appendChild(el("span", "v-pct", v.visible ? Number(o.percent).toFixed(1) + "%" : ""));
      rows.appendChild(row);
    });
    document.getElementById("v-bars").replaceChildren(rows);
    document.body.classList.add("mode-vote");
  }
  function showHeadcount() {
    onScreen = null; shown = null;
    document.body.classList.remove("mode-vote");
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
