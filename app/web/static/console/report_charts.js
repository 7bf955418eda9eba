// The 报表 page's charts: how the room filled, per-unit rates, each vote's tally. The numbers come
// from the page (a JSON block written by the server from the reports' own builders), so a chart and
// its report never disagree. Chart.js is served from our origin (app/web/static/vendor, no CDN).
(function () {
  "use strict";
  var block = document.getElementById("report-chart-data");
  if (!block || typeof window.Chart === "undefined") return;
  var data = JSON.parse(block.textContent);
  var red = "#b91c1c", blue = "#1d4f91", green = "#047857", amber = "#b45309";
  window.Chart.defaults.font.family = '"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif';
  window.Chart.defaults.animation = false;
  var charts = {};

  var arrivals = document.getElementById("chart-arrivals");
  if (arrivals) {
    charts.arrivals = new window.Chart(arrivals, {
      type: "line",
      data: {
        labels: data.arrivals.labels,
        datasets: [
          {label: "累计签到", data: data.arrivals.cumulative, borderColor: red, backgroundColor: red, pointRadius: 2},
          {label: "应到", data: data.arrivals.labels.map(function () { return data.arrivals.expected; }),
           borderColor: blue, borderDash: [4, 4], pointRadius: 0}
        ]
      },
      options: {maintainAspectRatio: false, scales: {y: {beginAtZero: true, suggestedMax: data.arrivals.expected}}}
    });
  }
  var units = document.getElementById("chart-units");
  if (units) {
    charts.units = new window.Chart(units, {
      type: "bar",
      data: {labels: data.units.labels, datasets: [{label: "签到率（%）", data: data.units.rates, backgroundColor: red}]},
      options: {indexAxis: "y", maintainAspectRatio: false, scales: {x: {min: 0, max: 100}},
                plugins: {legend: {display: false}}}
    });
  }
  document.querySelectorAll("canvas[data-vote]").forEach(function (canvas) {
    var vote = data.votes[Number(canvas.getAttribute("data-vote"))];
    charts["vote" + canvas.getAttribute("data-vote")] = new window.Chart(canvas, {
      type: "bar",
      data: {labels: vote.labels, datasets: [{label: "票数", data: vote.counts,
             backgroundColor: [green, red, amber, blue]}]},
      options: {maintainAspectRatio: false, plugins: {legend: {display: false}},
                scales: {y: {beginAtZero: true, ticks: {precision: 0}}}}
    });
  });
  // For people and tests alike: which charts are drawn, with which numbers.
  window.huiyiReportCharts = charts;
  document.documentElement.setAttribute("data-charts-ready", Object.keys(charts).length);
}());
