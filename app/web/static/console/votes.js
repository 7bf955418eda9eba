/* The organizer's vote page: the bars follow results.json every second until the vote closes. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("vote-config").textContent);
  function show(d) {
    document.getElementById("n-ballots").textContent = d.ballots;
    document.getElementById("n-eligible").textContent = d.eligible;
    document.getElementById("n-turnout").textContent = d.turnout + "%";
    var state = document.getElementById("v-state");
    state.textContent = cfg.labels[d.state] || d.state;
    state.className = "badge " + d.state;
    d.options.forEach(function (o) {
      var li = document.querySelector('#bars li[data-id="' + o.id + '"]');
      if (!li) return;
      li.querySelector(".c").textContent = o.count;
      li.querySelector(".p").textContent = o.percent + "%";
      li.querySelector(".fill").style.width = Math.min(o.percent, 100) + "%";
    });
    return d.state;
  }
  function tick() {
    fetch(cfg.poll, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) { var st = d ? show(d) : "open"; if (st !== "closed") setTimeout(tick, 1000); })
      .catch(function () { setTimeout(tick, 3000); });
  }
  setTimeout(tick, 1000);
})();
