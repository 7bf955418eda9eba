/* Live numbers over server-sent events, shared by the big screen and the organizer console.
 * The server sends the current numbers on every (re)connection and after every batch of events,
 * so the page only displays what it is told; it never adds events up itself. EventSource resends
 * the last stream id on reconnect, and a periodic re-read of numbers.json covers anything else.
 * onNumbers(n, source) says where the numbers came from: "stream" (the stream's snapshot, which
 * leaves the recent sign-ins out) or "read" (numbers.json, complete).
 * onStatus(false) says the page has lost the server (or the server its database) for a couple of
 * seconds; the page keeps what it shows. Reconnection is automatic: EventSource retries a dropped
 * connection itself, and a refused one (503 while the database is away) is reopened here, from the
 * last event seen; onStatus(true) follows the first numbers heard again.
 * Everything from the server is written with textContent: names are data, never markup. */
(function () {
  "use strict";
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function connect(opts) {
    var es = null, timer = null;
    // A read of numbers.json can be overtaken: by a newer read, or by stream messages that arrive
    // while it is in flight (its answer may then predate what is already shown). Each read takes a
    // number, and only the newest read, answered with no stream message in between, is shown;
    // an overtaken newest read is asked again once, so the page never keeps a stale answer.
    var asked = 0, heard = 0;
    function resync(again) {
      var mine = ++asked, heardThen = heard;
      var xhr = new XMLHttpRequest();
      xhr.open("GET", opts.numbers, true);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.onload = function () {
        if (xhr.status !== 200 || mine !== asked) return;
        if (heard !== heardThen) { if (again !== true) resync(true); return; }
        var data;
        try { data = JSON.parse(xhr.responseText); } catch (e) { return; }
        opts.onNumbers(data, "read");
      };
      xhr.send();
    }
    function onEvent(m) {
      if (opts.onEvent) opts.onEvent(JSON.parse(m.data));
    }
    // Offline is said only after OFFLINE_MS without the server: a stream that ends on schedule and
    // reconnects at once is not a failure worth showing on a projector.
    var OFFLINE_MS = 2000, offlineTimer = null, online = true, lastId = "", retryMs = 1000;
    function status(ok) {
      if (ok) {
        if (offlineTimer) { clearTimeout(offlineTimer); offlineTimer = null; }
        retryMs = 1000;
        if (!online) { online = true; if (opts.onStatus) opts.onStatus(true); }
        return;
      }
      if (!online || offlineTimer) return;
      offlineTimer = setTimeout(function () {
        offlineTimer = null; online = false;
        if (opts.onStatus) opts.onStatus(false);
      }, OFFLINE_MS);
    }
    function eventsUrl() {
      // A reopened EventSource does not resend Last-Event-ID: the last id goes in "since".
      if (!lastId) return opts.events;
      var url = opts.events.replace(/([?&])since=[^&]*(&|$)/, function (all, pre, post) { return post ? pre : ""; });
      return url + (url.indexOf("?") >= 0 ? "&" : "?") + "since=" + encodeURIComponent(lastId);
    }
    function seen(m) { if (m.lastEventId) lastId = m.lastEventId; }
    function onHeadcountEvent(m) { heard++; seen(m); onEvent(m); }
    function open() {
      if (!window.EventSource) { timer = setInterval(resync, 3000); return; }
      es = new EventSource(eventsUrl());
      es.addEventListener("numbers", function (m) { heard++; status(true); opts.onNumbers(JSON.parse(m.data), "stream"); });
      es.addEventListener("signin", onHeadcountEvent);
      es.addEventListener("revoke", onHeadcountEvent);
      es.addEventListener("other", seen);
      es.addEventListener("resync", seen);
      // The server is up but cannot count (its database is away): it says so, and carries on.
      es.addEventListener("unavailable", function () { status(false); });
      // Other events (a vote's) do not change the numbers: a read in flight stays good.
      (opts.extraEvents || []).forEach(function (name) {
        es.addEventListener(name, function (m) { seen(m); onEvent(m); });
      });
      es.onerror = function () {
        status(false);
        if (es.readyState === 2) {  // CLOSED: refused (a 503), so EventSource will not retry by itself
          es.close();
          setTimeout(open, retryMs);
          retryMs = Math.min(retryMs * 2, 10000);
        }
      };
    }
    open();
    setInterval(resync, opts.resyncMs || 30000);
    return { resync: function () { resync(); }, close: function () { if (es) es.close(); if (timer) clearInterval(timer); } };
  }
  // The one way the live pages write a percentage (签到率, 投票率): one decimal, as the
  // templates ('%.1f') and the reports do; "100.0" at full attendance.
  function pct(value) {
    var n = Number(value);
    return (isFinite(n) ? n : 0).toFixed(1);
  }
  // Shrinks the text of ``node`` (a one-line block) until it fits its box, never below ``minRatio``
  // of its stylesheet size: a 5-digit 应到 or a long title keeps to its card on a projector.
  function fit(node, minRatio) {
    node.style.fontSize = "";
    if (node.scrollWidth <= node.clientWidth) return;
    var base = parseFloat(getComputedStyle(node).fontSize), size = base, floor = base * (minRatio || 0.5);
    while (node.scrollWidth > node.clientWidth && size > floor) {
      size = Math.max(floor, size * 0.94);
      node.style.fontSize = size + "px";
    }
  }
  window.HuiyiLive = { connect: connect, el: el, pct: pct, fit: fit };
})();
