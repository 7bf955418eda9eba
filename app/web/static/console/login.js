/* The PC's scan-to-log-in page: count the code's lifetime down, ask the server about once a second
 * what became of it (waiting, scanned, confirmed, expired, cancelled), and go on into the console as
 * soon as the phone confirms. The server reads this tab's attempt from the session cookie; the URL
 * only says which of the browser's tabs asks. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("login-config").textContent);
  var box = document.getElementById("login-qr");
  var mask = document.getElementById("login-mask");
  var maskText = document.getElementById("login-mask-text");
  var status = document.getElementById("login-status");
  var INTERVAL = 1000;
  var deadline = Date.now() + cfg.expires_in * 1000;
  var done = false, timer = null, ticker = null;

  function say(text) { status.textContent = text; }
  function countdown() {
    var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    var span = document.getElementById("login-countdown");
    if (span) span.textContent = Math.floor(left / 60) + ":" + ("0" + (left % 60)).slice(-2);
    if (left <= 0) finish("expired");
  }
  function finish(state, message) {
    if (done) return;
    done = true;
    clearTimeout(timer);
    clearInterval(ticker);
    box.setAttribute("data-state", state);
    maskText.textContent = state === "cancelled" ? "已在手机上取消登录" : "二维码已失效";
    mask.hidden = false;
    say(message || (state === "cancelled" ? "如需登录，请刷新二维码后重新扫码。" : "请点击“刷新二维码”后重新扫码。"));
    document.getElementById("login-refresh").focus();
  }
  function show(data) {
    var state = data.state;
    if (state === "confirmed" && data.next) {
      done = true;
      clearInterval(ticker);
      box.setAttribute("data-state", "confirmed");
      say("登录成功，正在进入会务后台…");
      window.location.assign(data.next);
      return;
    }
    if (state === "expired" || state === "cancelled") { finish(state, data.message); return; }
    if (state === "scanned" && box.getAttribute("data-state") !== "scanned") {
      box.setAttribute("data-state", "scanned");
      clearInterval(ticker);
      say("已扫码，请在手机微信上点“确认登录”。");
    }
    schedule();
  }
  function schedule() { if (!done) timer = setTimeout(ask, INTERVAL); }
  function ask() {
    var xhr = new XMLHttpRequest();
    xhr.open("GET", cfg.poll, true);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.timeout = 8000;
    xhr.onload = function () {
      var data = null;
      try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
      if (xhr.status === 200 && data && data.state) show(data);
      else schedule();  // a hiccup (a proxy's error page, a restart): ask again
    };
    xhr.onerror = xhr.ontimeout = schedule;
    xhr.send();
  }
  ticker = setInterval(countdown, 1000);
  schedule();
})();
