/* A background job's progress bar (templates/_job_progress.html): polls GET /jobs/<id>.json and shows
   the progress, then the download link or the error. Several bars may share a page; each element
   with data-job-status is taken once. data-reload-on-done reloads the page when the job is done (a
   page whose content the job changes). No inline script: the CSP allows only our own files. */
(function () {
  "use strict";
  var FAST_MS = 1000, SLOW_MS = 3000, SLOW_AFTER = 60;

  function text(node, value) { if (node) node.textContent = value; }

  function start(box) {
    if (box.getAttribute("data-job-started")) return;
    box.setAttribute("data-job-started", "1");
    var url = box.getAttribute("data-job-status");
    var bar = box.querySelector("progress");
    var message = box.querySelector(".job-progress-message");
    var link = box.querySelector(".job-progress-download");
    var error = box.querySelector(".job-progress-error");
    var polls = 0;

    function show(job) {
      box.setAttribute("data-job-state", job.state);
      if (job.total) {
        bar.max = job.total;
        bar.value = Math.min(job.done || 0, job.total);
        text(message, (job.message || "") + "（" + (job.done || 0) + "/" + job.total + "）");
      } else {
        bar.removeAttribute("value");  // indeterminate until the job knows its total
        text(message, job.message || "");
      }
      if (job.state === "done") {
        if (job.total) bar.value = bar.max;
        else { bar.max = 1; bar.value = 1; }
        if (job.download_url && link) { link.href = job.download_url; link.hidden = false; }
        box.dispatchEvent(new CustomEvent("job:done", { bubbles: true, detail: job }));
        if (box.hasAttribute("data-reload-on-done")) window.location.reload();
        return true;
      }
      if (job.state === "failed") {
        bar.hidden = true;
        error.hidden = false;
        text(error, (job.error_message || "任务失败") + (job.error_code ? "（" + job.error_code + "）" : ""));
        box.dispatchEvent(new CustomEvent("job:failed", { bubbles: true, detail: job }));
        return true;
      }
      return false;
    }

    function poll() {
      polls += 1;
      var xhr = new XMLHttpRequest();
      xhr.open("GET", url, true);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.onload = function () {
        if (xhr.status === 404) { text(message, "找不到该任务，或登录已过期，请刷新页面"); return; }
        if (xhr.status !== 200) { text(message, "暂时无法获取进度，正在重试…"); return next(); }
        var job;
        try { job = JSON.parse(xhr.responseText); } catch (e) { return next(); }
        if (!show(job)) next();
      };
      xhr.onerror = function () { text(message, "网络不稳定，正在重试…"); next(); };
      xhr.send();
    }
    function next() { setTimeout(poll, polls > SLOW_AFTER ? SLOW_MS : FAST_MS); }
    poll();
  }

  function scan() { Array.prototype.forEach.call(document.querySelectorAll("[data-job-status]"), start); }
  window.HuiyiJobProgress = { scan: scan };  // for a page that adds a bar after loading
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", scan);
  else scan();
})();
