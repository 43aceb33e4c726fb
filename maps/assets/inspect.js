/*
 * respmap /inspect: the inspector's round. The cases to check (rectified by their unit)
 * with the photo before and the photo after side by side and the unit's note, closed
 * (结案) or sent back (返工, a note saying why); and the open cases around the inspector's
 * position (a box of NEAR_M metres each way, from GET /cases?bbox=).
 */
(function () {
  'use strict';

  var F = window.respmapField;
  var P = { maps: [] };
  window.respmapInspect = P;
  var NEAR_M = 1000;

  function eventsUrl(c) { return P.urls.cases + '/' + encodeURIComponent(c.case_id) + '/events'; }

  P.say = function (text, bad) {
    P.status.textContent = text || '';
    P.status.className = bad ? 'field-status field-error' : 'field-status';
  };

  function photoColumn(parent, title, photos) {
    var col = F.add(parent, 'figure', 'field-compare-col');
    F.add(col, 'figcaption', 'field-compare-title', title);
    if (photos.length) { F.photo(col, photos[photos.length - 1], P.urls.prefix, true); } else { F.add(col, 'div', 'field-nophoto', P.words.no_photo); }
  }

  function lastNote(c, action) {
    var events = c.events || [];
    for (var i = events.length - 1; i >= 0; i--) { if (events[i].action === action) { return events[i].note || ''; } }
    return '';
  }

  function checkActions(box, c) {
    var W = P.words;
    var form = F.add(box, 'div', 'field-action-form');
    var label = F.add(form, 'label', 'field-label', W.note);
    var note = F.add(form, 'textarea', 'field-textarea');
    note.maxLength = 4000;
    note.rows = 2;
    note.id = 'check-note-' + c.case_id.replace(/[^A-Za-z0-9_-]/g, '_');
    label.htmlFor = note.id;
    var row = F.add(form, 'div', 'field-row');
    var status = F.add(form, 'p', 'field-form-status');
    status.setAttribute('role', 'status');
    ['close', 'send_back'].forEach(function (action) {
      if ((c.allowed_actions || []).indexOf(action) < 0) { return; }
      var b = F.add(row, 'button', action === 'close' ? 'field-primary' : 'field-danger', W[action]);
      b.type = 'button';
      b.dataset.action = action;
      b.addEventListener('click', function () {
        if (action === 'send_back' && !note.value.trim()) {
          status.className = 'field-form-status field-error';
          status.textContent = W.reason;
          note.focus();
          return;
        }
        b.disabled = true;
        F.api(eventsUrl(c), { method: 'POST', json: { action: action, note: note.value, version: c.version } }).then(function () {
          P.say(W.done + ': ' + c.case_id + ' · ' + W[action]);
          // A case sent back is open again: the list around the inspector shows it at once.
          var again = P.position ? P.loadNear(P.position[0], P.position[1]) : null;
          return Promise.all([P.loadChecks(), again]);
        }, function (error) {
          status.className = 'field-form-status field-error';
          status.textContent = String(error.message || error);
          b.disabled = false;
        });
      });
    });
  }

  function checkCard(c) {
    var W = P.words;
    var box = F.add(P.checkList, 'article', 'field-case');
    box.dataset.caseId = c.case_id;
    F.caseHead(box, c, W);
    var photos = F.splitPhotos(c);
    var compare = F.add(box, 'div', 'field-compare');
    photoColumn(compare, W.before, photos.before);
    photoColumn(compare, W.after, photos.after);
    var rectified = lastNote(c, 'rectify');
    if (rectified) { F.add(box, 'p', 'field-note', W.rectify_note + ': ' + rectified); }
    checkActions(box, c);
  }

  P.loadChecks = function () {
    var W = P.words;
    return F.api(P.urls.cases + '?state=rectified&limit=100').then(function (answer) {
      var ids = (answer.features || []).map(function (f) { return f.properties.case_id; });
      return Promise.all(ids.map(function (id) { return F.api(P.urls.cases + '/' + encodeURIComponent(id)); }));
    }).then(function (cases) {
      F.clear(P.checkList);
      if (!cases.length) { F.add(P.checkList, 'p', 'field-empty', W.inspect_no_check); }
      cases.forEach(checkCard);
      P.checks = cases.map(function (c) { return c.case_id; });
      document.documentElement.setAttribute('data-inspect-checks', String(Date.now()));
    }, function (error) { P.say(W.load_failed + ': ' + String(error.message || error), true); });
  };

  function metresBetween(lon1, lat1, lon2, lat2) {
    var r = 6371008.8, toRad = Math.PI / 180;
    var dLat = (lat2 - lat1) * toRad, dLon = (lon2 - lon1) * toRad;
    var a = Math.sin(dLat / 2) * Math.sin(dLat / 2) + Math.cos(lat1 * toRad) * Math.cos(lat2 * toRad) * Math.sin(dLon / 2) * Math.sin(dLon / 2);
    return 2 * r * Math.asin(Math.sqrt(a));
  }

  /** Open cases in a box around (lon, lat), WGS-84, nearest first. */
  P.loadNear = function (lon, lat) {
    var W = P.words;
    P.position = [lon, lat];
    var dLat = NEAR_M / 111320, dLon = NEAR_M / (111320 * Math.max(Math.cos(lat * Math.PI / 180), 0.01));
    var bbox = [lon - dLon, lat - dLat, lon + dLon, lat + dLat].map(function (v) { return v.toFixed(6); }).join(',');
    var url = P.urls.cases + '?state=reported,dispatched,postponed&limit=200&bbox=' + encodeURIComponent(bbox);
    return F.api(url).then(function (answer) {
      P.maps.forEach(function (m) { m.remove(); });
      P.maps = [];
      F.clear(P.nearList);
      var cases = (answer.features || []).map(function (f) { return f.properties; });
      cases.forEach(function (c) { c._distance = metresBetween(lon, lat, c.lon, c.lat); });
      cases.sort(function (a, b) { return a._distance - b._distance; });
      if (!cases.length) { F.add(P.nearList, 'p', 'field-empty', W.inspect_no_near); }
      cases.forEach(function (c) {
        var box = F.add(P.nearList, 'article', 'field-case' + (c.overdue ? ' field-case-late' : ''));
        box.dataset.caseId = c.case_id;
        F.caseHead(box, c, W);
        F.add(box, 'div', 'field-distance', W.distance + ' ' + Math.round(c._distance) + ' ' + W.metres);
        var media = F.add(box, 'div', 'field-media');
        var photos = F.splitPhotos(c);
        if (photos.before.length) { F.photo(media, photos.before[0], P.urls.prefix, false); }
        P.maps.push(F.miniMap(media, c, P.urls));
      });
      P.near = cases.map(function (c) { return c.case_id; });
      document.documentElement.setAttribute('data-inspect-near', String(Date.now()));
    }, function (error) { P.say(W.load_failed + ': ' + String(error.message || error), true); });
  };

  function locate() {
    var W = P.words;
    if (!navigator.geolocation) { return; }
    navigator.geolocation.getCurrentPosition(function (pos) {
      P.loadNear(pos.coords.longitude, pos.coords.latitude);
    }, function (error) { P.say(W.load_failed + ' (' + String(error.message || error.code) + ')', true); },
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 10000 });
  }

  function init() {
    var data = P.data = F.data('respmap-field-data');
    var W = P.words = data.labels;
    P.urls = data.urls;
    P.status = document.getElementById('field-status');
    var body = document.getElementById('field-body');
    P.say(W.loading);
    F.requireUser(P.urls).then(function (me) {
      P.me = me;
      if (me.role !== 'inspector' && me.role !== 'admin') {
        P.say(W.wrong_role.replace('{roles}', W.role_inspector).replace('{role}', me.role), true);
        window.respmapReady = true;
        return;
      }
      F.userBar(body, me, W, P.urls);
      F.add(body, 'h2', 'field-subtitle', W.inspect_check);
      P.checkList = F.add(body, 'section', 'field-list');
      F.add(body, 'h2', 'field-subtitle', W.inspect_near);
      var button = F.add(body, 'button', 'field-primary field-locate', W.inspect_locate);
      button.type = 'button';
      button.addEventListener('click', locate);
      P.nearList = F.add(body, 'section', 'field-list');
      P.say('');
      if (navigator.geolocation && navigator.permissions && navigator.permissions.query) {
        navigator.permissions.query({ name: 'geolocation' }).then(function (p) { if (p.state === 'granted') { locate(); } }, function () {});
      }
      return P.loadChecks().then(function () { window.respmapReady = true; });
    }, function (error) { P.say(W.load_failed + ': ' + String(error.message || error), true); });
  }

  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', init); } else { init(); }
})();
