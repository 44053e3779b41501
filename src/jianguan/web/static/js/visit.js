/* On-site checklist (掌上执法): every change is saved at once through the API; while the phone is
   offline, changes wait on the phone — answers in localStorage, photos, videos and the signature in
   IndexedDB, so closing or reloading the page loses nothing — and are sent when the connection is
   back. "Finish the visit" waits until everything is sent, then submits. */
(function () {
  "use strict";
  var form = document.getElementById("visit-form");
  if (!form) return;
  var id = form.dataset.inspection, csrf = form.dataset.csrf;
  var base = "/api/v1/inspections/visits/" + id;
  var storeKey = "jianguan.visit." + id;
  var bar = document.getElementById("sync");
  var uploads = [];  // {url, data: FormData, done, key (IndexedDB), stored (Promise)}
  var finishing = false, busy = false;

  function queued() {
    try { return JSON.parse(localStorage.getItem(storeKey) || "{}"); } catch (e) { return {}; }
  }
  function keep(q) { localStorage.setItem(storeKey, JSON.stringify(q)); }
  function pending() { return Object.keys(queued()).length + uploads.length; }
  function say(kind, text) {
    bar.className = "sync" + (kind ? " is-" + kind : "");
    bar.textContent = text;
  }
  function status(error) {
    var n = pending();
    if (error) say("offline", form.dataset.failed.replace("{message}", error));
    else if (n === 0) say("", form.dataset.saved);
    else if (finishing) say("offline", form.dataset.finishWait);
    else if (!navigator.onLine) say("offline", form.dataset.offline.replace("{n}", n));
    else say("pending", form.dataset.pending.replace("{n}", n));
  }

  function answerOf(point) {
    var box = form.querySelector('[data-point="' + point + '"]');
    var checked = box.querySelector('input[type=radio]:checked');
    var value = box.querySelector('input[name="v-' + point + '"]');
    var note = box.querySelector('textarea[name="n-' + point + '"]');
    box.classList.toggle("is-no", !!checked && checked.value === "no");
    return {answer: checked ? checked.value : null, value: value ? value.value : "", note: note ? note.value : ""};
  }

  function send(url, options) {
    options.headers = Object.assign({"X-CSRF-Token": csrf}, options.headers || {});
    options.credentials = "same-origin";
    return fetch(url, options).then(function (r) {
      if (r.ok) return r.json();
      return r.json().then(function (body) {
        var err = new Error(body && body.error ? body.error.message : String(r.status));
        err.refused = r.status >= 400 && r.status < 500;  // a refusal: do not retry, show it
        throw err;
      }, function () { throw new Error(String(r.status)); });
    });
  }

  function flush() {
    if (busy || !navigator.onLine) { status(); return Promise.resolve(); }
    busy = true;
    var q = queued(), points = Object.keys(q), error = null;
    var chain = Promise.resolve();
    points.forEach(function (point) {
      chain = chain.then(function () {
        var body = q[point];
        return send(base + "/answers/" + encodeURIComponent(point), {
          method: "PUT", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)
        }).then(function () {
          var now = queued();
          if (JSON.stringify(now[point]) === JSON.stringify(body)) { delete now[point]; keep(now); }
        }, function (e) {
          if (e.refused) { var now = queued(); delete now[point]; keep(now); error = e.message; }
          else throw e;
        });
      });
    });
    uploads.slice().forEach(function (job) {
      chain = chain.then(function () { return job.stored; }).then(function () {
        return send(job.url, {method: "POST", body: job.data}).then(function (saved) {
          uploads.splice(uploads.indexOf(job), 1); forget(job);
          if (job.done) job.done(saved);
        }, function (e) {
          if (e.refused) { uploads.splice(uploads.indexOf(job), 1); forget(job); error = e.message; } else throw e;
        });
      });
    });
    return chain.then(function () {
      busy = false; status(error);
      if (finishing && pending() === 0 && !error) submitFinish();
    }, function () { busy = false; status(); });
  }

  // Uploads wait in IndexedDB (files included) until the server has them.
  var idb = null;
  function openStore() {
    return new Promise(function (resolve) {
      if (!window.indexedDB) return resolve(null);
      var req = indexedDB.open("jianguan-uploads", 1);
      req.onupgradeneeded = function () { req.result.createObjectStore("uploads", {keyPath: "key", autoIncrement: true}); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { resolve(null); };
    });
  }
  function table(mode) { return idb.transaction("uploads", mode).objectStore("uploads"); }
  function enqueue(job) {
    uploads.push(job);
    job.stored = new Promise(function (resolve) {
      if (!idb) return resolve();
      var fields = {}, file = job.data.get("file");
      job.data.forEach(function (value, name) { if (name !== "file") fields[name] = value; });
      var req = table("readwrite").add({inspection: id, url: job.url, kind: job.kind, fields: fields, file: file,
                                        name: file && file.name ? file.name : "file"});
      req.onsuccess = function () { job.key = req.result; resolve(); };
      req.onerror = function () { resolve(); };
    });
  }
  function forget(job) { if (idb && job.key !== undefined) table("readwrite").delete(job.key); }
  function chipFor(point, kind, name) {
    var thumbs = document.querySelector('[data-thumbs="' + (point || kind) + '"]');
    var chip = document.createElement("span");
    chip.className = "thumb"; chip.textContent = name + " …";
    if (thumbs) thumbs.appendChild(chip);
    return chip;
  }
  function uploaded(chip) {
    return function (saved) { chip.textContent = form.dataset.uploaded + " · " + saved.sha256.slice(0, 8); };
  }
  function signed(saved) {
    var save = document.getElementById("sig-save");
    if (save) save.textContent = "✓ " + save.textContent;
    // Signing changed the inspection: the finish form must carry its new version, not a stale one.
    var version = document.querySelector('#step-form input[name="version"]');
    if (version && saved && saved.version) version.value = saved.version;
  }
  openStore().then(function (store) {  // what an earlier visit of this page left unsent
    idb = store;
    if (!idb) return;
    var req = table("readonly").getAll();
    req.onsuccess = function () {
      (req.result || []).filter(function (row) { return row.inspection === id; }).forEach(function (row) {
        var data = new FormData();
        Object.keys(row.fields).forEach(function (name) { data.append(name, row.fields[name]); });
        if (row.file) data.append("file", row.file, row.name);
        var done = row.kind === "signature" ? signed
          : uploaded(chipFor(row.fields.point_code || "", row.fields.kind || "photo", row.name));
        uploads.push({url: row.url, data: data, kind: row.kind, key: row.key, stored: Promise.resolve(), done: done});
      });
      status(); flush();
    };
  });

  function remember(point) {
    var q = queued();
    q[point] = answerOf(point);
    keep(q);
    status();
    flush();
  }

  // Interview records (and any other evidence of the visit as a whole).
  document.querySelectorAll("input[data-evidence]").forEach(function (input) {
    input.addEventListener("change", function () { photo(input, input.dataset.evidence); });
  });

  form.addEventListener("change", function (event) {
    var t = event.target;
    if (t.dataset && t.dataset.photo !== undefined) return photo(t);
    var box = t.closest("[data-point]");
    if (box) remember(box.dataset.point);
  });
  var typing = null;
  form.addEventListener("input", function (event) {
    var box = event.target.closest("[data-point]");
    if (!box || event.target.type === "radio" || event.target.type === "file") return;
    clearTimeout(typing);
    typing = setTimeout(function () { remember(box.dataset.point); }, 600);
  });

  function where(done) {
    if (!navigator.geolocation) return done(null);
    var called = false;
    var finish = function (pos) { if (!called) { called = true; done(pos); } };
    navigator.geolocation.getCurrentPosition(finish, function () { finish(null); }, {timeout: 3000, maximumAge: 60000});
    setTimeout(function () { finish(null); }, 3500);
  }

  function photo(input, kind) {
    var point = input.dataset.photo || "", file = input.files && input.files[0];
    if (!file) return;
    kind = kind || (file.type && file.type.indexOf("video/") === 0 ? "video" : "photo");
    var takenAt = new Date().toISOString();
    where(function (pos) {
      var data = new FormData();
      data.append("file", file, file.name || "photo.jpg");
      data.append("kind", kind);
      if (point) data.append("point_code", point);
      data.append("taken_at", takenAt);
      if (pos) { data.append("latitude", pos.coords.latitude); data.append("longitude", pos.coords.longitude); }
      var chip = chipFor(point, kind, file.name || kind);
      enqueue({url: base + "/evidence", data: data, kind: kind, done: uploaded(chip)});
      input.value = "";
      status(); flush();
    });
  }

  // The signature pad: pointer strokes on a canvas, sent as a PNG.
  var pad = document.getElementById("sigpad");
  if (pad) {
    var ctx = pad.getContext("2d"), drawing = false, drawn = false;
    var fit = function () {
      var r = pad.getBoundingClientRect();
      pad.width = r.width; pad.height = r.height;
      ctx.lineWidth = 2.5; ctx.lineCap = "round"; ctx.strokeStyle = "#111";
    };
    fit();
    var at = function (e) { var r = pad.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; };
    pad.addEventListener("pointerdown", function (e) { drawing = true; var p = at(e); ctx.beginPath(); ctx.moveTo(p[0], p[1]); pad.setPointerCapture(e.pointerId); });
    pad.addEventListener("pointermove", function (e) { if (!drawing) return; var p = at(e); ctx.lineTo(p[0], p[1]); ctx.stroke(); drawn = true; });
    pad.addEventListener("pointerup", function () { drawing = false; });
    document.getElementById("sig-clear").addEventListener("click", function () { ctx.clearRect(0, 0, pad.width, pad.height); drawn = false; });
    document.getElementById("sig-save").addEventListener("click", function () {
      var signer = document.getElementById("signer").value.trim();
      if (!drawn || signer.length < 2) { status(document.getElementById("signer").labels[0].textContent); return; }
      pad.toBlob(function (blob) {
        var data = new FormData();
        data.append("file", blob, "signature.png");
        data.append("signer", signer);
        enqueue({url: base + "/signature", data: data, kind: "signature", done: signed});
        status(); flush();
      }, "image/png");
    });
  }

  // Finish the visit only when every answer, photo and the signature have reached the server.
  var step = document.getElementById("step-form"), finish = document.getElementById("finish");
  function submitFinish() {
    finishing = false;
    var hidden = document.createElement("input");
    hidden.type = "hidden"; hidden.name = "action"; hidden.value = "finish_visit";
    step.appendChild(hidden);
    HTMLFormElement.prototype.submit.call(step);
  }
  if (finish && step) {
    finish.addEventListener("click", function (event) {
      if (pending() === 0 && navigator.onLine) return;
      event.preventDefault();
      finishing = true;
      status();
      flush();
    });
  }

  window.addEventListener("online", function () { flush(); });
  window.addEventListener("offline", function () { status(); });
  setInterval(flush, 5000);
  status(); flush();
})();
