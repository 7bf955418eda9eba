/* Live numbers over server-sent events, shared by the big screen and the organizer console.
 * The server sends the current numbers on every (re)connection and after every batch of events,
 * so the page only displays what it is told; it never adds events up itself. EventSource resends
 * the last stream id on reconnect, and a periodic re-read of numbers.json covers anything else.
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
    function resync() {
      var xhr = new XMLHttpRequest();
      xhr.open("GET", opts.numbers, true);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.onload = function () {
        if (xhr.status === 200) { try { opts.onNumbers(JSON.parse(xhr.responseText)); } catch (e) {} }
      };
      xhr.send();
    }
    function open() {
      if (!window.EventSource) { timer = setInterval(resync, 3000); return; }
      es = new EventSource(opts.events);
      es.addEventListener("numbers", function (m) { opts.onNumbers(JSON.parse(m.data)); });
      es.addEventListener("signin", function (m) { if (opts.onEvent) opts.onEvent(JSON.parse(m.data)); });
      es.addEventListener("revoke", function (m) { if (opts.onEvent) opts.onEvent(JSON.parse(m.data)); });
      (opts.extraEvents || []).forEach(function (name) {
        es.addEventListener(name, function (m) { if (opts.onEvent) opts.onEvent(JSON.parse(m.data)); });
      });
      es.onopen = function () { if (opts.onStatus) opts.onStatus(true); };
      es.onerror = function () { if (opts.onStatus) opts.onStatus(false); };
    }
    open();
    setInterval(resync, opts.resyncMs || 30000);
    return { resync: resync, close: function () { if (es) es.close(); if (timer) clearInterval(timer); } };
  }
  window.HuiyiLive = { connect: connect, el: el };
})();
