/* The staff scanner (app/web/desk.py): reads personal codes with the camera (ZXing) or a USB scanner
   (keyboard wedge), decides at once from the meeting's data kept on the device, queues every scan in
   IndexedDB with the device's time and an id, and syncs the queue in batches when the network is
   there (POST /api/mp/v1/desk/scans, idempotent: a scan sent twice is one scan).

   The reading of a code follows app/services/signin/personal_codes.py check_code, in the same
   order (forged, other meeting, revoked, expired); then the person (unknown, on leave, not on the
   list, already signed in). The server decides again when the scans arrive: this is what the desk
   shows, not what counts. */
(function () {
  "use strict";

  var script = document.getElementById("scanner-script");
  var API = script.dataset.api;
  var TOKEN_KEY = "huiyi.desk.token";
  var BATCH = 200;
  // A code before the camera is read again on every frame; within this long it is the same scan (a
  // person shown 已签到 who shows it again goes through the wedge or waits: nothing changes anyway).
  var CAMERA_REPEAT_MS = 600000;
  var SYNC_EVERY_MS = 15000;
  var BUNDLE_EVERY_MS = 60000;
  var CODE_LEN = 130;
  var LABELS = {
    ok: "签到成功", already: "已签到", not_listed: "不在名单", leave: "已请假", revoked: "代码已撤销",
    forged: "无效代码", other_meeting: "非本会议代码", expired: "代码已过期"
  };
  var HINTS = {
    not_listed: "该人员不在本次会议的参会名单中，请联系会务组",
    leave: "该人员已请假。如本人到场，请联系会务组",
    revoked: "此签到码已撤销，请本人出示新的签到码或联系会务组",
    forged: "不是本系统的个人签到码，请核对",
    other_meeting: "这是其他会议的签到码",
    expired: "签到码已过期，请联系会务组"
  };

  var $ = function (id) { return document.getElementById(id); };
  var state = {
    token: null, bundle: null, people: new Map(), revoked: new Set(), serverSigned: new Map(), keys: new Map(),
    localSigned: {}, online: navigator.onLine, syncing: false, lastSync: null, stopped: null, recent: []
  };

  // -- storage: the meeting's data and the queue, in IndexedDB ------------------------------------------
  var dbPromise = null;
  function idb() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var req = indexedDB.open("huiyi-desk", 1);
        req.onupgradeneeded = function () {
          req.result.createObjectStore("kv");
          req.result.createObjectStore("queue", { keyPath: "scan_id" });
        };
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { reject(req.error); };
      });
    }
    return dbPromise;
  }
  function tx(store, mode, fn) {
    return idb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(store, mode);
        var req = fn(t.objectStore(store));
        var out;
        if (req) req.onsuccess = function () { out = req.result; };
        t.oncomplete = function () { resolve(out); };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error); };
      });
    });
  }
  var kvGet = function (k) { return tx("kv", "readonly", function (s) { return s.get(k); }); };
  var kvSet = function (k, v) { return tx("kv", "readwrite", function (s) { return s.put(v, k); }); };
  var queueAll = function () { return tx("queue", "readonly", function (s) { return s.getAll(); }); };
  var queueAdd = function (scan) { return tx("queue", "readwrite", function (s) { return s.put(scan); }); };
  var queueCount = function () { return tx("queue", "readonly", function (s) { return s.count(); }); };
  var queueDelete = function (ids) {
    return tx("queue", "readwrite", function (s) { ids.forEach(function (id) { s.delete(id); }); });
  };

  // -- the token: from the link's fragment, kept on the device -------------------------------------------
  function takeToken() {
    var m = location.hash.match(/[#&]t=([A-Za-z0-9_-]+)/);
    if (m) {
      localStorage.setItem(TOKEN_KEY, m[1]);
      history.replaceState(null, "", location.pathname);  // the token leaves the address bar
    }
    return localStorage.getItem(TOKEN_KEY);
  }

  // -- the meeting's data ---------------------------------------------------------------------------------
  function importKey(b64) {
    var raw = Uint8Array.from(atob(b64), function (c) { return c.charCodeAt(0); });
    if (!window.crypto || !crypto.subtle) return Promise.resolve(null);
    // A browser without Ed25519 still reads the code; the server verifies the signature at sync.
    return crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]).catch(function () { return null; });
  }

  function applyBundle(b) {
    state.bundle = b;
    state.people = new Map(b.people.map(function (p) { return [p.id, p]; }));
    state.revoked = new Set(b.revoked.map(function (r) { return r[0] + ":" + r[1]; }));
    state.serverSigned = new Map(b.signed.map(function (s) { return [s.session + ":" + s.contact_id, { at: s.at, by: s.by || "" }]; }));
    state.keys = new Map();
    return Promise.all(b.keys.map(function (k) {
      return importKey(k.public_key).then(function (key) { state.keys.set(k.id, key); });
    })).then(function () {
      $("meeting-title").textContent = b.meeting.title;
      $("desk-name").textContent = b.desk.name + (b.meeting.venue ? " · " + b.meeting.venue : "");
      document.title = b.desk.name + " · 签到台";
      fillSessions(b.meeting.sessions);
    });
  }

  function fillSessions(sessions) {
    var select = $("session");
    var chosen = Number(select.value) || Number(localStorage.getItem("huiyi.desk.session")) || currentSession(sessions);
    select.innerHTML = "";
    sessions.forEach(function (s) {
      var o = document.createElement("option");
      o.value = s.position;
      o.textContent = s.label;
      select.appendChild(o);
    });
    if (sessions.some(function (s) { return s.position === chosen; })) select.value = String(chosen);
    select.closest(".session-pick").hidden = sessions.length < 2;
  }

  function currentSession(sessions) {
    var now = Date.now();
    var open = sessions.filter(function (s) { return Date.parse(s.opens_at) <= now && now <= Date.parse(s.closes_at); });
    if (open.length) return open[0].position;
    var next = sessions.filter(function (s) { return Date.parse(s.opens_at) > now; });
    return (next[0] || sessions[sessions.length - 1] || { position: 1 }).position;
  }

  function loadBundle() {
    return fetch(API + "/desk/bundle", { headers: { Authorization: "Bearer " + state.token }, cache: "no-store" })
      .then(function (res) {
        if (res.status === 401) return res.json().then(function (body) { stop(body.error.message); });
        if (!res.ok) throw new Error("bundle " + res.status);
        return res.json().then(function (b) {
          return kvSet("bundle:" + state.token, b).then(function () { return applyBundle(b); });
        });
      })
      .then(function () { setOnline(navigator.onLine); })
      .catch(function () { setOnline(false); });
  }

  // -- reading a code ----------------------------------------------------------------------------------------
  var B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  function base32(text) {
    var bits = 0, value = 0, out = [];
    for (var i = 0; i < text.length; i++) {
      var v = B32.indexOf(text[i]);
      if (v < 0) return null;
      value = (value << 5) | v;
      bits += 5;
      if (bits >= 8) {
        bits -= 8;
        out.push((value >>> bits) & 255);
        value &= (1 << bits) - 1;
      }
    }
    return new Uint8Array(out);
  }

  function readCode(text) {
    var code = text.trim().toUpperCase();
    var forged = Promise.resolve({ flag: "forged" });
    if (code.length !== CODE_LEN || code.slice(0, 2) !== "HY") return forged;
    var raw = base32(code.slice(2));
    if (!raw || raw.length !== 80) return forged;
    var dv = new DataView(raw.buffer);
    var data = {
      meeting: dv.getUint32(1), contact: dv.getUint32(5), expires: dv.getUint32(9), kid: dv.getUint8(13),
      gen: dv.getUint16(14), verified: false
    };
    if (dv.getUint8(0) !== 1 || !state.keys.has(data.kid)) return forged;
    var key = state.keys.get(data.kid);
    var checked = key
      ? crypto.subtle.verify({ name: "Ed25519" }, key, raw.slice(16), raw.slice(0, 16)).catch(function () { return false; })
      : Promise.resolve(null);
    return checked.then(function (ok) {
      if (ok === false) return { flag: "forged" };
      data.verified = ok === true;
      if (data.meeting !== state.bundle.meeting.id) data.flag = "other_meeting";
      else if (state.revoked.has(data.contact + ":" + data.gen)) data.flag = "revoked";
      else if (Date.now() / 1000 > data.expires) data.flag = "expired";
      return data;
    });
  }

  function decide(read, session) {
    var person = read.contact !== undefined && read.flag !== "other_meeting" ? state.people.get(read.contact) : null;
    if (read.flag) return { kind: read.flag, person: person };
    if (!person) return { kind: "not_listed", person: null };
    if (person.leave) return { kind: "leave", person: person };
    if (person.status !== "approved") return { kind: "not_listed", person: person };
    var key = session + ":" + person.id;
    var prior = state.localSigned[key] || state.serverSigned.get(key);
    if (prior) return { kind: "already", person: person, prior: prior };
    return { kind: "ok", person: person };
  }

  // -- a scan ------------------------------------------------------------------------------------------------
  var cameraSeen = new Map();
  var busy = Promise.resolve();

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var a = new Uint8Array(16);
    crypto.getRandomValues(a);
    return Array.from(a, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }

  function handle(text, source) {
    // One at a time, in the order read: the queue keeps the device's order and the verdicts see earlier scans.
    busy = busy.then(function () { return handleOne(text, source); }).catch(function (e) { console.error(e); });
    return busy;
  }

  function handleOne(text, source) {
    text = (text || "").trim();
    if (!text) return;
    if (state.stopped) { show({ kind: "stopped" }); return; }
    if (!state.bundle) { showMessage("尚未载入会议数据", "请先联网打开签到台，载入名单后再扫码", "bad"); return; }
    var now = new Date();
    if (source === "camera") {
      // A code held in front of the camera is read many times a second: once is a scan.
      var last = cameraSeen.get(text);
      if (last && now - last < CAMERA_REPEAT_MS) return;
      cameraSeen.set(text, now);
    }
    var session = Number($("session").value) || 1;
    return readCode(text).then(function (read) {
      var verdict = decide(read, session);
      var scan = {
        scan_id: uuid(), code: text.slice(0, 1000), at: now.toISOString(), session: session,
        verdict: LABELS[verdict.kind], token: state.token
      };
      var saved = queueAdd(scan);
      if (verdict.kind === "ok") {
        state.localSigned[session + ":" + verdict.person.id] = { at: scan.at, by: "本台" };
        saved = saved.then(function () { return kvSet("signed:" + state.token, state.localSigned); });
      }
      return saved.then(function () {
        show(verdict, scan, read);
        addRecent(verdict, scan);
        return refreshPending();
      }).then(function () {
        if (state.online) setTimeout(sync, 300);
      });
    });
  }

  // -- what the desk shows -------------------------------------------------------------------------------------
  function hms(iso) {
    var d = new Date(iso);
    return [d.getHours(), d.getMinutes(), d.getSeconds()].map(function (n) { return String(n).padStart(2, "0"); }).join(":");
  }

  function show(verdict, scan, read) {
    var box = $("result");
    var kind = verdict.kind;
    box.className = "result " + (kind === "ok" ? "good" : kind === "already" ? "info" : kind === "leave" ? "warn" : "bad");
    if (kind === "stopped") {
      showMessage("签到台已停用", state.stopped, "bad");
      return;
    }
    $("verdict").textContent = LABELS[kind];
    var p = verdict.person;
    var person = $("person");
    person.innerHTML = "";
    if (p) {
      var name = document.createElement("strong");
      name.textContent = p.name;
      person.appendChild(name);
      var facts = [p.unit, p.title, p.seat ? "座位 " + p.seat : ""].filter(Boolean).join(" · ");
      var line = document.createElement("span");
      line.textContent = facts;
      person.appendChild(line);
    }
    var detail;
    if (kind === "ok") detail = hms(scan.at) + " 签到" + (state.online ? "" : "（离线，待上传）");
    else if (kind === "already") {
      var by = verdict.prior.by || "其他签到台或线上";
      detail = "已于 " + hms(verdict.prior.at) + " 签到（" + by + "），本次扫码已记录";
    } else detail = HINTS[kind] || "";
    if (read && read.verified === false && !read.flag && kind !== "already") detail += "（本设备无法验签，联网后由服务器核验）";
    $("detail").textContent = detail;
    if (navigator.vibrate) navigator.vibrate(kind === "ok" ? 60 : [60, 60, 60]);
  }

  function showMessage(title, text, tone) {
    $("result").className = "result " + tone;
    $("verdict").textContent = title;
    $("person").innerHTML = "";
    $("detail").textContent = text;
  }

  function addRecent(verdict, scan) {
    state.recent.unshift({ scan_id: scan.scan_id, kind: verdict.kind, at: scan.at, name: verdict.person ? verdict.person.name : "" });
    state.recent = state.recent.slice(0, 8);
    renderRecent();
  }

  function renderRecent() {
    var list = $("recent");
    list.innerHTML = "";
    state.recent.forEach(function (r) {
      var li = document.createElement("li");
      li.className = "k-" + r.kind;
      var t = document.createElement("time");
      t.textContent = hms(r.at);
      var n = document.createElement("span");
      n.textContent = r.name || "—";
      var v = document.createElement("em");
      v.textContent = LABELS[r.kind] + (r.synced ? " · 已上传" : "");
      li.append(t, n, v);
      list.appendChild(li);
    });
  }

  // After a reload (offline, say) the list of recent scans comes back from the queue: what waits to be sent.
  function restoreRecent() {
    var kinds = {};
    Object.keys(LABELS).forEach(function (k) { kinds[LABELS[k]] = k; });
    return queueAll().then(function (all) {
      state.recent = all.filter(function (s) { return s.token === state.token; })
        .sort(function (a, b) { return a.at < b.at ? 1 : a.at > b.at ? -1 : 0; }).slice(0, 8)
        .map(function (s) {
          var id = readContact(s.code);
          var person = id !== null ? state.people.get(id) : null;
          return { scan_id: s.scan_id, kind: kinds[s.verdict] || "forged", at: s.at, name: person ? person.name : "" };
        });
      renderRecent();
    });
  }

  // The person a code names (without checking it: only to label the list).
  function readContact(text) {
    var code = (text || "").trim().toUpperCase();
    var raw = code.length === CODE_LEN ? base32(code.slice(2)) : null;
    if (!raw || raw.length !== 80 || !state.bundle) return null;
    var dv = new DataView(raw.buffer);
    return dv.getUint32(1) === state.bundle.meeting.id ? dv.getUint32(5) : null;
  }

  function refreshPending() {
    return queueCount().then(function (n) {
      document.querySelectorAll("[data-pending]").forEach(function (el) { el.textContent = n; });
      document.body.classList.toggle("has-pending", n > 0);
    });
  }

  function setOnline(on) {
    state.online = on;
    $("offline-banner").hidden = on;
    var pill = $("net-state");
    pill.textContent = on ? "在线" : "离线";
    pill.className = "net " + (on ? "online" : "offline");
    document.body.classList.toggle("is-offline", !on);
    $("sync-now").disabled = !on;  // nothing to reach: the queue goes by itself when the network returns
  }

  function stop(message) {
    state.stopped = message;
    showMessage("签到台已停用", message, "bad");
  }

  // -- sync ---------------------------------------------------------------------------------------------------------
  function sync() {
    if (state.syncing || !navigator.onLine) return Promise.resolve();
    state.syncing = true;
    var failed = new Set();
    function round() {
      return queueAll().then(function (all) {
        var left = all.filter(function (s) { return !failed.has(s.token); });
        if (!left.length) return;
        var token = left[0].token;
        var batch = left.filter(function (s) { return s.token === token; })
          .sort(function (a, b) { return a.at < b.at ? -1 : a.at > b.at ? 1 : 0; }).slice(0, BATCH);
        var body = { device_time: new Date().toISOString(), scans: batch.map(function (s) {
          return { scan_id: s.scan_id, code: s.code, at: s.at, session: s.session, verdict: s.verdict };
        }) };
        return fetch(API + "/desk/scans", {
          method: "POST", body: JSON.stringify(body),
          headers: { "Content-Type": "application/json", Authorization: "Bearer " + token }
        }).then(function (res) {
          if (res.ok) {
            var ids = batch.map(function (s) { return s.scan_id; });
            return queueDelete(ids).then(function () {
              state.recent.forEach(function (r) { if (ids.indexOf(r.scan_id) >= 0) r.synced = true; });
              return round();
            });
          }
          // A stopped desk's scans stay on the device (the organizer can see the phone); others go on.
          failed.add(token);
          return res.json().then(function (b) { if (token === state.token && res.status === 401) stop(b.error.message); }, function () {})
            .then(round);
        });
      });
    }
    return round().then(function () {
      state.lastSync = new Date();
      $("sync-info").textContent = "上次上传：" + hms(state.lastSync.toISOString());
      setOnline(true);
      return loadBundle();
    }).catch(function () {
      setOnline(false);
    }).then(function () {
      state.syncing = false;
      renderRecent();
      return refreshPending();
    });
  }

  // -- the camera --------------------------------------------------------------------------------------------------
  var stream = null, timer = null;
  var reader = new ZXing.QRCodeReader();
  var hints = new Map([[ZXing.DecodeHintType.TRY_HARDER, true]]);

  // ZXing first; jsQR for the symbols ZXing's detector misses (about 4 in 100 random personal codes,
  // even on clean frames: a person whose code only one of them reads must still get in).
  function decodeFrame(canvas, ctx) {
    try {
      var source = new ZXing.HTMLCanvasElementLuminanceSource(canvas);
      return reader.decode(new ZXing.BinaryBitmap(new ZXing.HybridBinarizer(source)), hints).getText();
    } catch (e) {
      // not read by ZXing
    }
    if (typeof jsQR === "function") {
      var image = ctx.getImageData(0, 0, canvas.width, canvas.height);
      var found = jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
      if (found && found.data) return found.data;
    }
    return null;
  }

  function startCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      showMessage("无法打开摄像头", "此浏览器不支持摄像头，请使用扫码枪或手动输入", "bad");
      return;
    }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment", width: { ideal: 640 }, height: { ideal: 480 } }, audio: false })
      .then(function (s) {
        stream = s;
        var video = $("video");
        video.srcObject = s;
        return video.play();
      })
      .then(function () {
        document.body.classList.add("camera-on");
        $("camera-toggle").textContent = "关闭摄像头";
        tick();
      })
      .catch(function () { showMessage("无法打开摄像头", "请允许使用摄像头，或使用扫码枪、手动输入", "bad"); });
  }

  function stopCamera() {
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    clearTimeout(timer);
    document.body.classList.remove("camera-on");
    $("camera-toggle").textContent = "打开摄像头";
  }

  function tick() {
    if (!stream) return;
    var video = $("video");
    if (video.readyState >= 2 && video.videoWidth) {
      var canvas = $("frame");
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      var ctx = canvas.getContext("2d", { willReadFrequently: true });
      ctx.drawImage(video, 0, 0);
      var text = decodeFrame(canvas, ctx);
      if (text) handle(text, "camera");
    }
    timer = setTimeout(tick, 100);
  }

  // -- start ----------------------------------------------------------------------------------------------------------
  function start() {
    setOnline(navigator.onLine);
    window.addEventListener("online", function () { setOnline(true); sync(); });
    window.addEventListener("offline", function () { setOnline(false); });
    $("camera-toggle").addEventListener("click", function () { if (stream) stopCamera(); else startCamera(); });
    $("sync-now").addEventListener("click", function () { sync(); });
    $("session").addEventListener("change", function () { localStorage.setItem("huiyi.desk.session", $("session").value); });
    $("wedge-form").addEventListener("submit", function (e) {
      e.preventDefault();
      var input = $("wedge");
      var text = input.value;
      input.value = "";
      handle(text, "wedge");
      input.focus();
    });
    if ("serviceWorker" in navigator && script.dataset.sw) {
      navigator.serviceWorker.register(script.dataset.sw, { scope: "/desk/" }).catch(function () {});
    }
    state.token = takeToken();
    if (!state.token) {
      $("setup").hidden = false;
      $("desk-name").textContent = "未设置签到台";
      return;
    }
    Promise.all([kvGet("bundle:" + state.token), kvGet("signed:" + state.token)]).then(function (kept) {
      state.localSigned = kept[1] || {};
      return kept[0] ? applyBundle(kept[0]) : null;
    }).then(function () {
      refreshPending();
      return restoreRecent();
    }).then(function () {
      if (navigator.onLine) return loadBundle().then(sync);
    }).then(function () {
      document.body.classList.add("ready");
    });
    setInterval(function () { if (navigator.onLine) sync(); }, SYNC_EVERY_MS);
    setInterval(function () { if (navigator.onLine && !state.syncing) loadBundle(); }, BUNDLE_EVERY_MS);
    $("wedge").focus();
  }

  start();
})();
