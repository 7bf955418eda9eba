/* Live numbers over server-sent events, shared by the big screen and the organizer console.
 * The server sends the current numbers on every (re)connection and after every batch of events,
 * so the page only displays what it is told; it never adds events up itself. EventSource resends
 * the last stream id on reconnect, and a periodic re-read of numbers.json covers anything else.
 * onNumbers(n, source) says where the numbers came from: "stream" (the stream's snapshot, which
 * leaves the recent sign-ins out) or "read" (numbers.json, complete).
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
    function onHeadcountEvent(m) { heard++; onEvent(m); }
    function open() {
      if (!window.EventSource) { timer = setInterval(resync, 3000); return; }
      es = new EventSource(opts.events);
      es.addEventListener("numbers", function (m) { heard++; opts.onNumbers(JSON.parse(m.data), "stream"); });
      es.addEventListener("signin", onHeadcountEvent);
      es.addEventListener("revoke", onHeadcountEvent);
      // Other events (a vote's) do not change the numbers: a read in flight stays good.
      (opts.extraEvents || []).forEach(function (name) { es.addEventListener(name, onEvent); });
      es.onopen = function () { if (opts.onStatus) opts.onStatus(true); };
      es.onerror = function () { if (opts.onStatus) opts.onStatus(false); };
    }
    open();
    setInterval(resync, opts.resyncMs || 30000);
    return { resync: function () { resync(); }, close: function () { if (es) es.close(); if (timer) clearInterval(timer); } };
  }
  window.HuiyiLive = { connect: connect, el: el };
})();
