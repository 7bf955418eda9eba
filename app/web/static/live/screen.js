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
  function onEvent(e) {
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
  window.HuiyiLive.connect({
    events: cfg.events, numbers: cfg.numbers, onNumbers: showNumbers, onEvent: onEvent,
    onStatus: function (ok) { document.body.classList.toggle("offline", !ok); }
  });
  if (cfg.rotating) {
    // The rotating code changes every few tens of seconds; fetch the current one in time.
    setInterval(function () {
      var img = document.getElementById("qr-img");
      img.src = cfg.qr + "&t=" + Date.now();
    }, cfg.rotateMs);
  }
})();
