/*
 * respmap field pages (/login, /inbox, /inspect, the report on /here): what they share.
 *
 * Every value from the server is written with textContent (never innerHTML);
 * requests go to this server only, with the session cookie, and every change
 * carries the CSRF value from the readable `respmap_csrf` cookie in
 * X-CSRF-Token. Photos are checked against the server's limit before anything
 * is read, then scaled in the browser to at most 1600 px as JPEG, so a phone
 * on a weak signal sends a few hundred kB instead of a 12-megapixel original.
 */
(function () {
  'use strict';

  var F = {};
  window.respmapField = F;
  var MAX_PHOTO_PX = 1600;
  var JPEG_QUALITY = 0.85;

  F.el = function (tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null && text !== '') { node.textContent = String(text); }
    return node;
  };

  F.add = function (parent, tag, className, text) {
    var node = F.el(tag, className, text);
    parent.appendChild(node);
    return node;
  };

  F.clear = function (node) { while (node.firstChild) { node.removeChild(node.firstChild); } };

  F.data = function (id) { return JSON.parse(document.getElementById(id).textContent); };

  /** The CSRF value the server set at sign-in ('' when not signed in). */
  F.csrf = function () {
    var parts = document.cookie ? document.cookie.split(';') : [];
    for (var i = 0; i < parts.length; i++) {
      var kv = parts[i].trim();
      if (kv.indexOf('respmap_csrf=') === 0) { return decodeURIComponent(kv.slice('respmap_csrf='.length)); }
    }
    return '';
  };

  /** A fetch to this server: JSON back, or an Error whose message is the server's own. */
  F.api = function (url, options) {
    options = options || {};
    var headers = Object.assign({ Accept: 'application/json' }, options.headers || {});
    var method = (options.method || 'GET').toUpperCase();
    if (method !== 'GET' && method !== 'HEAD') { headers['X-CSRF-Token'] = F.csrf(); }
    var body = options.body;
    if (options.json !== undefined) { headers['Content-Type'] = 'application/json'; body = JSON.stringify(options.json); }
    return fetch(url, { method: method, headers: headers, body: body, credentials: 'same-origin', cache: 'no-store' })
      .then(function (response) {
        return response.text().then(function (text) {
          var parsed = null;
          try { parsed = text ? JSON.parse(text) : null; } catch (e) { parsed = null; }
          if (!response.ok) {
            var error = new Error((parsed && parsed.message) || ('HTTP ' + response.status));
            error.status = response.status;
            error.body = parsed;
            throw error;
          }
          return parsed;
        });
      });
  };

  /** Go to the sign-in page, coming back here afterwards. */
  F.toLogin = function (loginUrl) {
    var here = window.location.pathname + window.location.search;
    window.location.assign(loginUrl + '?next=' + encodeURIComponent(here));
  };

  /**
   * The signed-in user, or a redirect to /login. Without the CSRF cookie there is no
   * session at all, so the page goes to the sign-in page without asking (no 401 noise).
   */
  F.requireUser = function (urls) {
    if (!F.csrf()) { F.toLogin(urls.login); return new Promise(function () {}); }
    return F.api(urls.me).catch(function (error) {
      if (error.status === 401) { F.toLogin(urls.login); return new Promise(function () {}); }
      throw error;
    });
  };

  F.signOut = function (urls) {
    return F.api(urls.logout, { method: 'POST' }).then(function () { F.toLogin(urls.login); });
  };

  /** "2026-03-02 10:00" from an ISO time with offset (the office's local time as sent). */
  F.time = function (iso) {
    if (!iso) { return ''; }
    var m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(String(iso));
    return m ? m[1] + ' ' + m[2] : String(iso);
  };

  F.mb = function (bytes) { return (bytes / 1048576).toFixed(bytes < 10485760 ? 1 : 0); };

  /**
   * A photo ready to send: refused at once when the file is over the server's limit
   * (nothing is read), else drawn on a canvas at most 1600 px on its long side and
   * encoded as JPEG. Resolves {blob, name, width, height}; rejects with a message for people.
   */
  F.preparePhoto = function (file, limitBytes, W) {
    if (!file) { return Promise.resolve(null); }
    if (limitBytes && file.size > limitBytes) {
      return Promise.reject(new Error(W.photo_too_large.replace('{size}', F.mb(file.size)).replace('{limit}', F.mb(limitBytes))));
    }
    return decode(file).then(function (image) {
      var width = image.naturalWidth || image.width, height = image.naturalHeight || image.height;
      if (!width || !height) { throw new Error('empty'); }
      var scale = Math.min(1, MAX_PHOTO_PX / Math.max(width, height));
      var canvas = document.createElement('canvas');
      canvas.width = Math.max(1, Math.round(width * scale));
      canvas.height = Math.max(1, Math.round(height * scale));
      canvas.getContext('2d').drawImage(image, 0, 0, canvas.width, canvas.height);
      if (image.close) { image.close(); }
      return new Promise(function (resolve, reject) {
        canvas.toBlob(function (blob) {
          if (!blob) { reject(new Error(W.photo_unreadable)); return; }
          resolve({ blob: blob, name: 'photo.jpg', width: canvas.width, height: canvas.height, preview: canvas.toDataURL('image/jpeg', 0.6) });
        }, 'image/jpeg', JPEG_QUALITY);
      });
    }).catch(function () { throw new Error(W.photo_unreadable); });
  };

  /**
   * The picture in a file, turned upright by its EXIF orientation: createImageBitmap where the
   * browser has it (with the orientation option, else without), else an <img> from a data: URL
   * (older WebViews, WeChat's among them; data: is what the pages' CSP allows for images).
   */
  function decode(file) {
    var viaImage = function () {
      return new Promise(function (resolve, reject) {
        var reader = new FileReader();
        reader.onerror = function () { reject(reader.error); };
        reader.onload = function () {
          var img = new Image();
          img.onload = function () { resolve(img); };
          img.onerror = function () { reject(new Error('not an image')); };
          img.src = String(reader.result);
        };
        reader.readAsDataURL(file);
      });
    };
    if (typeof createImageBitmap !== 'function') { return viaImage(); }
    return createImageBitmap(file, { imageOrientation: 'from-image' })
      .catch(function () { return createImageBitmap(file); })
      .catch(viaImage);
  }

  /** A photo input with its status line: returns {input, get(), reset()} where get() resolves the prepared photo. */
  F.photoPicker = function (parent, W, limitBytes, label) {
    var wrap = F.add(parent, 'label', 'field-photo');
    F.add(wrap, 'span', 'field-photo-label', label || W.photo);
    var input = F.add(wrap, 'input', 'field-photo-input');
    input.type = 'file';
    input.accept = 'image/*';
    input.setAttribute('capture', 'environment');
    var info = F.add(parent, 'p', 'field-photo-info');
    info.setAttribute('role', 'status');
    var preview = F.add(parent, 'img', 'field-photo-preview');
    preview.alt = '';
    preview.hidden = true;
    var prepared = Promise.resolve(null);
    input.addEventListener('change', function () {
      var file = input.files && input.files[0];
      preview.hidden = true;
      info.className = 'field-photo-info';
      if (!file) { info.textContent = ''; prepared = Promise.resolve(null); return; }
      info.textContent = W.photo_preparing + ' ' + file.name;
      prepared = F.preparePhoto(file, limitBytes, W);
      prepared.then(function (photo) {
        if (!photo) { return; }
        info.textContent = W.photo_ready + ' ' + file.name + (photo.width ? ' (' + photo.width + '×' + photo.height + ', ' + Math.max(1, Math.round(photo.blob.size / 1024)) + ' kB)' : '');
        if (photo.preview) { preview.src = photo.preview; preview.hidden = false; }
      }, function (error) {
        info.textContent = String(error.message || error);
        info.className = 'field-photo-info field-error';
        input.value = '';
      });
    });
    return {
      input: input,
      info: info,
      get: function () { return prepared; },
      reset: function () { input.value = ''; info.textContent = ''; preview.hidden = true; prepared = Promise.resolve(null); }
    };
  };

  /** An <img> of a case photo (thumbnail by default) served by this server to the signed-in user. */
  F.photo = function (parent, photo, prefix, big) {
    var link = F.add(parent, 'a', 'field-photo-link');
    link.href = prefix + photo.url;
    link.target = '_blank';
    link.rel = 'noopener';
    var img = F.add(link, 'img', big ? 'field-photo-big' : 'field-thumb');
    img.src = prefix + (big ? photo.url : photo.thumb_url);
    img.alt = '';
    img.loading = 'lazy';
    return img;
  };

  /** Photos taken at the report (before) and with later steps (after: the unit's rectification). */
  F.splitPhotos = function (c) {
    var before = [], after = [];
    (c.photos || []).forEach(function (p) { (p.event_seq && p.event_seq > 1 ? after : before).push(p); });
    return { before: before, after: after };
  };

  F.place = function (c) {
    var parts = [];
    if (c.district_name) { parts.push(c.district_name); }
    if (c.feature && (c.feature.name || c.feature.feature_id)) { parts.push(c.feature.name || c.feature.feature_id); }
    return parts.join(' · ');
  };

  /** The heading lines every case card shows: category, state, deadline, place, units. */
  F.caseHead = function (card, c, W) {
    var head = F.add(card, 'div', 'field-case-head');
    F.add(head, 'span', 'field-category', c.category_name || c.category);
    F.add(head, 'span', 'field-state field-state-' + String(c.state).replace(/[^a-z_]/g, ''), c.state_name || c.state);
    if (c.overdue) { F.add(head, 'span', 'field-overdue', W.overdue); }
    F.add(card, 'div', 'field-case-id', W.case_id + ' ' + c.case_id);
    if (c.due_at) { F.add(card, 'div', c.overdue ? 'field-due field-due-late' : 'field-due', W.due + ' ' + F.time(c.due_at)); }
    F.add(card, 'div', 'field-reported', W.reported + ' ' + F.time(c.reported_at));
    var place = F.place(c);
    if (place) { F.add(card, 'div', 'field-place', place); }
    var units = (c.units || []).map(function (u) { return u.name || u.unit_id; }).join('、');
    if (units) { F.add(card, 'div', 'field-units', W.units + ' ' + units); }
    if (c.note) { F.add(card, 'p', 'field-note', c.note); }
  };

  /**
   * A small map of the case's place: the dataset's places around it (from /here/places)
   * and the case as a red dot. No base tiles: it works with no internet.
   */
  F.miniMap = function (parent, c, urls) {
    var node = F.add(parent, 'div', 'field-minimap');
    var handle = { map: null, remove: function () { if (handle.map) { handle.map.remove(); } if (handle.watch) { handle.watch.disconnect(); } } };
    // A long inbox builds each map only when its card comes into view (one map per card is costly on a phone).
    if (typeof IntersectionObserver === 'function') {
      handle.watch = new IntersectionObserver(function (entries) {
        if (entries.some(function (e) { return e.isIntersecting; })) {
          handle.watch.disconnect();
          handle.map = drawMiniMap(node, c, urls);
        }
      }, { rootMargin: '200px' });
      handle.watch.observe(node);
    } else {
      handle.map = drawMiniMap(node, c, urls);
    }
    return handle;
  };

  function drawMiniMap(node, c, urls) {
    var map = L.map(node, { zoomControl: false, attributionControl: false, dragging: false, scrollWheelZoom: false, doubleClickZoom: false, boxZoom: false, keyboard: false, tap: false, touchZoom: false });
    map.setView([c.lat, c.lon], 17, { animate: false });
    var radius = 150, dLat = radius / 111320, dLon = radius / (111320 * Math.max(Math.cos(c.lat * Math.PI / 180), 0.01));
    var bbox = [c.lon - dLon, c.lat - dLat, c.lon + dLon, c.lat + dLat].map(function (v) { return v.toFixed(6); }).join(',');
    var dot = L.circleMarker([c.lat, c.lon], { radius: 7, color: '#fff', weight: 2, fillColor: '#d7191c', fillOpacity: 1, interactive: false }).addTo(map);
    if (urls.places) {
      fetch(urls.places + '?bbox=' + encodeURIComponent(bbox), { headers: { Accept: 'application/geo+json' }, credentials: 'same-origin' })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (collection) {
          if (!collection) { return; }
          var here = c.feature || {};
          L.geoJSON(collection, {
            interactive: false,
            style: function (f) {
              var hit = f.properties && f.properties.feature_id === here.feature_id && f.properties.layer === here.layer;
              return { color: hit ? '#d7191c' : '#2b83ba', weight: hit ? 5 : 2, opacity: 0.85, fillOpacity: hit ? 0.25 : 0.08 };
            },
            pointToLayer: function (f, latlng) { return L.circleMarker(latlng, { radius: 4 }); }
          }).addTo(map);
          dot.bringToFront();
        }, function () {});
    }
    return map;
  }

  /** A row of large buttons, one per choice; returns {get(), set()}. */
  F.choices = function (parent, items, onPick) {
    var row = F.add(parent, 'div', 'field-choices');
    var chosen = null, buttons = [];
    items.forEach(function (item) {
      var b = F.add(row, 'button', 'field-choice', item.label);
      b.type = 'button';
      b.setAttribute('aria-pressed', 'false');
      b.dataset.value = item.value;
      b.addEventListener('click', function () {
        chosen = item.value;
        buttons.forEach(function (o) { o.setAttribute('aria-pressed', String(o === b)); });
        if (onPick) { onPick(item.value); }
      });
      buttons.push(b);
    });
    return { get: function () { return chosen; }, node: row };
  };

  /** The top bar of a signed-in page: who, and a sign-out button. */
  F.userBar = function (parent, me, W, urls) {
    var bar = F.add(parent, 'div', 'field-user');
    F.add(bar, 'span', 'field-user-name', me.name + (me.unit_id ? ' · ' + (me.unit_name || me.unit_id) : ''));
    var out = F.add(bar, 'button', 'field-signout', W.sign_out);
    out.type = 'button';
    out.addEventListener('click', function () { F.signOut(urls); });
    return bar;
  };
})();
