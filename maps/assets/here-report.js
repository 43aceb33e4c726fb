/*
 * respmap /here: "report a problem here" (上报问题).
 *
 * The place is the point the page last asked about (the phone's GPS, a tap on the
 * map, or coordinates typed or pasted from a Chinese map app in WGS-84, GCJ-02 or
 * BD-09; the server converts them as the lookup does), and the answer (who is
 * responsible) is shown before sending. A category (large buttons, from
 * GET /categories), a note and a camera photo (scaled in the browser) go to
 * POST /cases as multipart. Signed in (an inspector or the office), the case is
 * dispatched at once; anonymous, it waits for the office.
 *
 * Without a connection the report is kept in IndexedDB with its idempotency key and
 * the time it was made, and sent when the browser is back online: the key makes the
 * server keep one case however often it arrives, and a kept report is deleted only
 * after the server has answered for it.
 */
(function () {
  'use strict';

  var F = window.respmapField;
  var R = { sent: [], sending: false };
  window.respmapReport = R;
  var DB_NAME = 'respmap-field', STORE = 'outbox';

  // ------------------------------------------------------------------ the outbox (IndexedDB)

  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () { request.result.createObjectStore(STORE, { keyPath: 'key' }); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function tx(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, mode), result;
        var request = work(t.objectStore(STORE));
        if (request) { request.onsuccess = function () { result = request.result; }; }
        t.oncomplete = function () { db.close(); resolve(result); };
        t.onerror = function () { db.close(); reject(t.error); };
        t.onabort = function () { db.close(); reject(t.error); };
      });
    });
  }

  R.pending = function () { return tx('readonly', function (s) { return s.getAll(); }).then(function (r) { return r || []; }); };
  function keep(record) { return tx('readwrite', function (s) { return s.put(record); }); }
  function forget(key) { return tx('readwrite', function (s) { return s.delete(key); }); }

  function newKey() {
    if (window.crypto && crypto.randomUUID) { return 'here-' + crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return 'here-' + Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join('');
  }

  // ------------------------------------------------------------------ sending

  function formOf(record) {
    var form = new FormData();
    form.append('lon', String(record.lon));
    form.append('lat', String(record.lat));
    form.append('crs', record.crs);
    form.append('category', record.category);
    form.append('note', record.note || '');
    form.append('reported_at', record.reported_at);
    form.append('idempotency_key', record.key);
    if (record.photo) { form.append('photo', record.photo, 'photo.jpg'); }
    return form;
  }

  /** Send one report; resolves the case, rejects with error.offline for "keep it and retry later". */
  function send(record) {
    if (!navigator.onLine) { var e = new Error('offline'); e.offline = true; return Promise.reject(e); }
    return F.api(R.data.cases_url, { method: 'POST', body: formOf(record), headers: { 'Idempotency-Key': record.key } })
      .catch(function (error) {
        // No status: the request never got an answer (signal lost). 5xx/429: the server asks us to come back.
        if (!error.status || error.status >= 500 || error.status === 429) { error.offline = true; }
        throw error;
      });
  }

  function shownSent(c) {
    var W = R.words;
    R.sent.push(c);
    var units = (c.units || []).map(function (u) { return u.name || u.unit_id; }).join('、');
    var line = W.report_sent.replace('{id}', c.case_id) + ' · ' + (c.state_name || c.state) + (units ? ' · ' + units : '');
    F.add(R.sentList, 'li', 'report-sent-item', line);
    document.documentElement.setAttribute('data-report-sent', String(R.sent.length));
  }

  /** Send every kept report, oldest first; stop at the first that cannot go yet. */
  R.flush = function () {
    if (R.sending || !navigator.onLine) { return Promise.resolve(); }
    R.sending = true;
    return R.pending().then(function (records) {
      records.sort(function (a, b) { return a.reported_at < b.reported_at ? -1 : 1; });
      var chain = Promise.resolve();
      records.forEach(function (record) {
        chain = chain.then(function () {
          return send(record).then(function (c) { shownSent(c); return forget(record.key); }, function (error) {
            if (error.offline) { throw error; }
            // Refused for good (e.g. a place outside every district): say so, don't retry forever.
            R.status(R.words.report_refused + ' ' + String(error.message || error), true);
            return forget(record.key);
          });
        });
      });
      return chain;
    }).catch(function () {}).then(function () { R.sending = false; return showPending(); }).then(scheduleRetry);
  };

  // A send that failed while the phone still says "online" (a dead spot, a lost answer) is
  // tried again on a timer, 15 s then doubling up to 5 min; "online" events try at once.
  var RETRY_FIRST_MS = 15000, RETRY_MAX_MS = 300000;
  R.retryMs = RETRY_FIRST_MS;
  function scheduleRetry() {
    return R.pending().then(function (records) {
      clearTimeout(R.retryTimer);
      if (!records.length) { R.retryMs = RETRY_FIRST_MS; return; }
      R.retryTimer = setTimeout(function () { R.flush(); }, R.retryMs);
      R.retryMs = Math.min(R.retryMs * 2, RETRY_MAX_MS);
    }, function () {});
  }

  function showPending() {
    return R.pending().then(function (records) {
      R.pendingBox.textContent = records.length ? R.words.report_pending.replace('{n}', records.length) : '';
      document.documentElement.setAttribute('data-report-pending', String(records.length));
    }, function () {});
  }

  // ------------------------------------------------------------------ the panel

  R.status = function (text, bad) {
    if (!R.statusBox) { return; }
    R.statusBox.textContent = text || '';
    R.statusBox.className = bad ? 'report-status field-error' : 'report-status';
  };

  function bestUnit(answer) {
    var matches = (answer && answer.matches) || [];
    for (var i = 0; i < matches.length; i++) {
      var units = matches[i].units || [];
      if (units.length) { return units[0].name || units[0].unit_id; }
    }
    return '';
  }

  function showWhere() {
    var W = R.words, H = window.respmapHere, box = R.whereBox;
    F.clear(box);
    var p = H.lastAsked;
    if (!p) { F.add(box, 'p', 'report-where-none', W.report_need_place); return; }
    F.add(box, 'div', 'report-where-point', W.report_place + ': ' + p.lon.toFixed(6) + ', ' + p.lat.toFixed(6) + ' (' + (W['datum_' + p.crs] || p.crs) + ')');
    var answer = H.lastAnswer;
    var unit = answer ? bestUnit(answer) : '';
    F.add(box, 'div', 'report-where-unit', unit ? W.report_unit + ': ' + unit : (navigator.onLine ? W.report_unit_unknown : W.report_unit_offline));
  }

  /** "109.01,32.70", "109.01 32.70", "109.01，32.70": lon then lat (as AMap and Baidu copy them). */
  function parseTyped(text) {
    var parts = String(text).trim().split(/[\s,，;；]+/).filter(Boolean);
    if (parts.length !== 2) { return null; }
    var a = Number(parts[0]), b = Number(parts[1]);
    if (!isFinite(a) || !isFinite(b)) { return null; }
    if (Math.abs(a) <= 90 && Math.abs(b) > 90) { return [b, a]; }  // lat,lon pasted: swapped back
    return [a, b];
  }

  function buildTyped(panel) {
    var W = R.words;
    var row = F.add(panel, 'div', 'report-typed');
    var input = F.add(row, 'input', 'report-typed-input');
    input.type = 'text';
    input.inputMode = 'decimal';
    input.placeholder = W.report_typed_hint;
    input.setAttribute('aria-label', W.report_typed_hint);
    var datum = F.add(row, 'select', 'report-datum');
    datum.setAttribute('aria-label', W.report_datum);
    ['wgs84', 'gcj02', 'bd09'].forEach(function (code) {
      var option = F.add(datum, 'option', '', W['datum_' + code]);
      option.value = code;
    });
    datum.value = 'gcj02';  // what Chinese map apps copy
    var go = F.add(row, 'button', 'report-typed-go', W.report_typed_go);
    go.type = 'button';
    go.addEventListener('click', function () {
      var lonlat = parseTyped(input.value);
      if (!lonlat) { R.status(W.report_typed_bad, true); return; }
      R.status('');
      window.respmapHere.ask(lonlat[0], lonlat[1], datum.value, null);
    });
  }

  function submit() {
    var W = R.words, H = window.respmapHere;
    var p = H.lastAsked;
    if (!p) { R.status(W.report_need_place, true); return Promise.resolve(); }
    var category = R.category.get();
    if (!category) { R.status(W.report_need_category, true); return Promise.resolve(); }
    R.button.disabled = true;
    return R.picker.get().then(function (photo) {
      var record = {
        key: newKey(),
        reported_at: new Date().toISOString(),
        lon: p.lon, lat: p.lat, crs: p.crs,
        category: category,
        note: R.note.value,
        photo: photo ? photo.blob : null
      };
      return send(record).then(function (c) {
        shownSent(c);
        R.status(W.report_done);
        R.note.value = '';
        R.picker.reset();
      }, function (error) {
        if (!error.offline) { R.status(String(error.message || error), true); return; }
        return keep(record).then(function () {
          R.status(W.report_kept);
          R.note.value = '';
          R.picker.reset();
          return showPending();
        }).then(scheduleRetry);
      });
    }, function (error) {
      R.status(String(error.message || error), true);
    }).then(function () { R.button.disabled = false; });
  }

  function loadCategories(panel) {
    var W = R.words;
    var box = F.add(panel, 'div', 'report-categories');
    F.add(box, 'div', 'report-label', W.report_category);
    return F.api(R.data.categories_url).then(function (answer) {
      var items = (answer.categories || []).map(function (c) { return { value: c.code, label: c.name || c.code }; });
      R.categories = answer.categories || [];
      R.category = F.choices(box, items);
    }, function (error) {
      F.add(box, 'p', 'field-error', W.report_no_categories + ' (' + String(error.message || error) + ')');
      R.category = { get: function () { return null; } };
    });
  }

  /** Let the page open with no signal next time: a service worker keeps the files it is built from. */
  function keepForOffline() {
    var url = R.data.worker_url;
    if (!url || !('serviceWorker' in navigator) || !navigator.onLine) { return; }
    var scope = url.slice(0, url.lastIndexOf('/') + 1);
    navigator.serviceWorker.addEventListener('message', function (event) {
      if (event.data && event.data.cached) { document.documentElement.setAttribute('data-offline-ready', String(event.data.cached)); }
    });
    navigator.serviceWorker.register(url, { scope: scope }).then(function () { return navigator.serviceWorker.ready; }).then(function (registration) {
      var urls = [window.location.pathname + window.location.search, R.data.categories_url];
      document.querySelectorAll('script[src], link[rel=stylesheet][href]').forEach(function (node) {
        urls.push(node.getAttribute('src') || node.getAttribute('href'));
      });
      registration.active.postMessage({ cache: urls });
    }).catch(function () {});
  }

  R.init = function () {
    var H = window.respmapHere;
    if (!H || !H.data || !H.data.report) { return; }
    R.data = H.data.report;
    var W = R.words = H.words;
    var host = document.getElementById('here-report');
    var open = F.add(host, 'button', 'report-open', W.report_open);
    open.type = 'button';
    var panel = R.panel = F.add(host, 'section', 'report-panel');
    panel.hidden = true;
    F.add(panel, 'h2', 'report-title', W.report_open);
    var who = F.add(panel, 'p', 'report-who', F.csrf() ? W.report_as_user : W.report_as_public);
    R.whereBox = F.add(panel, 'div', 'report-where');
    buildTyped(panel);
    var ready = loadCategories(panel);
    ready.then(function () {
      F.add(panel, 'label', 'report-label', W.report_note).htmlFor = 'report-note';
      R.note = F.add(panel, 'textarea', 'report-note');
      R.note.id = 'report-note';
      R.note.maxLength = 4000;
      R.note.rows = 3;
      R.picker = F.photoPicker(panel, W, R.data.photo_limit_bytes, W.report_photo);
      R.button = F.add(panel, 'button', 'report-send', W.report_send);
      R.button.type = 'button';
      R.button.addEventListener('click', submit);
      R.statusBox = F.add(panel, 'p', 'report-status');
      R.statusBox.setAttribute('role', 'status');
      if (F.csrf() && R.data.me_url) {
        // Signed in: only an inspector or the office may report under their name (a unit may not).
        F.api(R.data.me_url).then(function (me) {
          if (me.role !== 'inspector' && me.role !== 'admin') {
            who.textContent = W.report_not_allowed.replace('{role}', me.role);
            who.className = 'report-who field-error';
            R.button.disabled = true;
          }
        }, function () { who.textContent = W.report_as_public; });
      }
      R.pendingBox = F.add(panel, 'p', 'report-pending');
      R.sentList = F.add(panel, 'ul', 'report-sent');
      showWhere();
      showPending().then(R.flush);
      document.documentElement.setAttribute('data-report-ready', 'true');
    });
    open.addEventListener('click', function () {
      panel.hidden = !panel.hidden;
      if (!panel.hidden) { showWhere(); panel.scrollIntoView({ block: 'start' }); }
    });
    var previous = H.onAnswer;
    H.onAnswer = function (answer) { if (previous) { previous(answer); } if (R.whereBox) { showWhere(); } };
    window.addEventListener('online', function () { R.flush(); });
    keepForOffline();
    window.addEventListener('offline', function () { if (R.whereBox) { showWhere(); } });
  };

  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', R.init); } else { R.init(); }
})();
