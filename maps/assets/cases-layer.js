/*
 * respmap coverage map: the cases layer (maps/cases_layer.py says what it is for).
 *
 * Runs after respmap.js: it wraps respmap.init so the layer is built once the map
 * exists. Cases are grouped open / overdue / rectified / closed, each group one
 * colour, all markers in one Leaflet.markercluster group (clusters where dense).
 * The filter control (groups, category, period) and the popups (history and
 * photos) are built with text nodes only. Served: GET /cases with the session
 * (and nothing at all when signed out: a sign-in link instead); in a file: the
 * cases inside the page.
 */
(function () {
  'use strict';

  var R = window.respmap;
  var C = { markers: [], cases: [] };
  window.respmapCases = C;
  if (!R || !R.init) { return; }

  var el = R.el;  // text-only DOM helpers of respmap.js
  var add = R.add;

  function csrfCookie() { return /(?:^|;\s*)respmap_csrf=/.test(document.cookie || ''); }

  function time(iso) {
    var m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(String(iso || ''));
    return m ? m[1] + ' ' + m[2] : String(iso || '');
  }

  function groupOf(c) {
    if (c.group) { return c.group; }
    if (c.state === 'closed' || c.state === 'rejected') { return 'closed'; }
    if (c.state === 'rectified') { return 'rectified'; }
    return c.overdue ? 'overdue' : 'open';
  }

  /** Where the map draws a WGS-84 point (shifted to GCJ-02 on AMap tiles, like every overlay). */
  function shown(lon, lat) {
    if (R.data.datum === 'gcj02' && window.respmapDatum) { var s = window.respmapDatum.wgs84ToGcj02(lon, lat); return [s[1], s[0]]; }
    return [lat, lon];
  }

  // ------------------------------------------------------------------ popups

  function popupBody(c, W) {
    var box = el('div', 'rm-case');
    add(box, 'div', 'rm-case-title', (c.category_name || c.category || '') + ' · ' + (c.state_name || c.state || ''));
    add(box, 'div', 'rm-case-line', W.cases_id + ' ' + c.case_id);
    add(box, 'div', 'rm-case-line', W.cases_reported + ' ' + time(c.reported_at));
    if (c.due_at) { add(box, 'div', c.overdue ? 'rm-case-line rm-case-late' : 'rm-case-line', W.cases_due + ' ' + time(c.due_at)); }
    var place = [c.district_name, c.feature && (c.feature.name || c.feature.feature_id)].filter(Boolean).join(' · ');
    if (place) { add(box, 'div', 'rm-case-line', place); }
    var units = (c.units || []).map(function (u) { return u.name || u.unit_id; }).join('、');
    if (units) { add(box, 'div', 'rm-case-line', W.cases_units + ' ' + units); }
    if (c.note) { add(box, 'div', 'rm-case-note', c.note); }
    var photos = c.photos || [];
    if (photos.length && C.spec.mode === 'served') {
      var strip = add(box, 'div', 'rm-case-photos');
      photos.forEach(function (p) {
        var a = add(strip, 'a', 'rm-case-photo');
        a.href = C.spec.prefix + p.url;
        a.target = '_blank';
        a.rel = 'noopener';
        var img = add(a, 'img', '');
        img.src = C.spec.prefix + p.thumb_url;
        img.alt = '';
      });
    }
    var events = c.events || [];
    if (events.length) {
      add(box, 'div', 'rm-case-subtitle', W.cases_history);
      var list = add(box, 'ol', 'rm-case-history');
      events.forEach(function (e) {
        add(list, 'li', '', time(e.at) + ' ' + (e.action_name || e.action) + (e.note ? ': ' + e.note : ''));
      });
    }
    return box;
  }

  function openPopup(marker, c) {
    var W = C.words;
    marker.bindPopup(popupBody(c, W), { maxWidth: 320 }).openPopup();
    if (C.spec.mode !== 'served') { return; }
    // The list carries summaries; the history and photos come with the case itself.
    fetch(C.spec.url + '/' + encodeURIComponent(c.case_id), { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (full) {
        if (full && marker.getPopup()) {
          marker.getPopup().setContent(popupBody(full, W));
          document.documentElement.setAttribute('data-case-popup', full.case_id);
        }
      }, function () {});
  }

  // ------------------------------------------------------------------ drawing and filters

  function visible(c) {
    var f = C.filter;
    if (!f.groups[groupOf(c)]) { return false; }
    if (f.category && c.category !== f.category) { return false; }
    var day = String(c.reported_at || '').slice(0, 10);
    if (f.from && day < f.from) { return false; }
    if (f.to && day > f.to) { return false; }
    return true;
  }

  function draw() {
    var colours = C.spec.colours;
    C.cluster.clearLayers();
    C.markers = [];
    var counts = {};
    C.spec.groups.forEach(function (g) { counts[g] = 0; });
    var layers = [];
    C.cases.forEach(function (c) {
      if (typeof c.lon !== 'number' || typeof c.lat !== 'number') { return; }
      var group = groupOf(c);
      counts[group] += 1;
      if (!visible(c)) { return; }
      var marker = L.circleMarker(shown(c.lon, c.lat), {
        radius: 8, color: '#fff', weight: 2, fillColor: colours[group], fillOpacity: 0.95, bubblingMouseEvents: false
      });
      marker.caseId = c.case_id;
      marker.on('click', function () { openPopup(marker, c); });
      layers.push(marker);
      C.markers.push({ case_id: c.case_id, group: group, state: c.state });
    });
    C.cluster.addLayers(layers);
    C.spec.groups.forEach(function (g) { C.countNodes[g].textContent = String(counts[g]); });
    document.documentElement.setAttribute('data-cases-drawn', String(C.markers.length));
  }

  function load() {
    var W = C.words;
    if (C.spec.mode !== 'served') { C.cases = C.spec.cases || []; draw(); return; }
    C.status.textContent = W.cases_loading;
    var params = new URLSearchParams({ limit: String(C.spec.limit) });
    if (C.filter.category) { params.set('category', C.filter.category); }
    if (C.filter.from) { params.set('from', C.filter.from); }
    if (C.filter.to) { params.set('to', C.filter.to); }
    var asked = C.asked = (C.asked || 0) + 1;
    return fetch(C.spec.url + '?' + params.toString(), { credentials: 'same-origin', headers: { Accept: 'application/geo+json' } })
      .then(function (r) { if (!r.ok) { throw new Error('HTTP ' + r.status); } return r.json(); })
      .then(function (collection) {
        if (asked !== C.asked) { return; }
        C.cases = (collection.features || []).map(function (f) { return f.properties; });
        C.status.textContent = collection.numberMatched > C.cases.length ? W.cases_more.replace('{n}', C.cases.length) : '';
        draw();
        document.documentElement.setAttribute('data-cases-loaded', String(C.cases.length));
      }, function (error) { C.status.textContent = W.cases_failed + ' (' + String(error.message || error) + ')'; });
  }

  function loadCategories(select) {
    var option = function (code, name) { var o = el('option', '', name); o.value = code; select.appendChild(o); };
    if (C.spec.mode !== 'served') {
      var seen = {};
      (C.spec.cases || []).forEach(function (c) { if (!seen[c.category]) { seen[c.category] = true; option(c.category, c.category_name || c.category); } });
      return;
    }
    fetch(C.spec.categories_url, { headers: { Accept: 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : { categories: [] }; })
      .then(function (answer) { (answer.categories || []).forEach(function (c) { option(c.code, c.name || c.code); }); }, function () {});
  }

  function control(signedIn) {
    var W = C.words, spec = C.spec;
    var Ctl = L.Control.extend({
      options: { position: 'bottomright' },
      onAdd: function () {
        var box = el('div', 'rm-cases-control leaflet-bar');
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
        add(box, 'div', 'rm-cases-title', W.cases_title);
        if (!signedIn) {
          var link = add(box, 'a', 'rm-cases-login', W.cases_sign_in);
          link.href = spec.login_url + '?next=' + encodeURIComponent(window.location.pathname + window.location.search);
          return box;
        }
        C.countNodes = {};
        spec.groups.forEach(function (g) {
          var row = add(box, 'label', 'rm-cases-group');
          var check = add(row, 'input', '');
          check.type = 'checkbox';
          check.checked = true;
          check.dataset.group = g;
          var swatch = add(row, 'span', 'rm-cases-swatch');
          swatch.style.background = spec.colours[g];
          add(row, 'span', '', W['cases_group_' + g]);
          C.countNodes[g] = add(row, 'span', 'rm-cases-count', '0');
          check.addEventListener('change', function () { C.filter.groups[g] = check.checked; draw(); });
        });
        var select = add(box, 'select', 'rm-cases-category');
        select.setAttribute('aria-label', W.cases_category);
        var all = add(select, 'option', '', W.cases_all_categories);
        all.value = '';
        loadCategories(select);
        select.addEventListener('change', function () { C.filter.category = select.value; spec.mode === 'served' ? load() : draw(); });
        var period = add(box, 'div', 'rm-cases-period');
        ['from', 'to'].forEach(function (which) {
          var label = add(period, 'label', '', W['cases_' + which] + ' ');
          var input = add(label, 'input', 'rm-cases-' + which);
          input.type = 'date';
          input.addEventListener('change', function () { C.filter[which] = input.value; spec.mode === 'served' ? load() : draw(); });
        });
        C.status = add(box, 'div', 'rm-cases-status');
        return box;
      }
    });
    return new Ctl();
  }

  C.start = function (map, layerControl, spec) {
    C.spec = spec;
    C.words = spec.labels;
    C.filter = { groups: {}, category: '', from: '', to: '' };
    spec.groups.forEach(function (g) { C.filter.groups[g] = true; });
    var signedIn = spec.mode !== 'served' || csrfCookie();
    if (spec.mode === 'served' && signedIn) {
      // A planner edits responsibility and sees no cases (GET /cases would answer 403): no layer.
      fetch(spec.login_url.replace(/login$/, 'me'), { credentials: 'same-origin', headers: { Accept: 'application/json' } })
        .then(function (r) { return r.ok ? r.json() : null; }, function () { return null; })
        .then(function (me) {
          if (me && me.role === 'planner') { document.documentElement.setAttribute('data-cases-loaded', 'not-for-planners'); return; }
          begin(map, layerControl, spec, true);
        });
      return;
    }
    begin(map, layerControl, spec, signedIn);
  };

  function begin(map, layerControl, spec, signedIn) {
    control(signedIn).addTo(map);
    if (!signedIn) { document.documentElement.setAttribute('data-cases-loaded', 'signed-out'); return; }
    // Clusters split by zoom level: a map with no tiles has no highest zoom until one is set.
    if (!isFinite(map.getMaxZoom())) { map.setMaxZoom(20); }
    C.cluster = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 40, spiderfyOnMaxZoom: true });
    C.cluster.addTo(map);
    if (layerControl && layerControl.addOverlay) { layerControl.addOverlay(C.cluster, el('span', '', C.words.cases_title).outerHTML); }
    load();
    if (spec.mode !== 'served') { document.documentElement.setAttribute('data-cases-loaded', String(C.cases.length)); }
  }

  var original = R.init;
  R.init = function (map, groups, layerControl, dataId) {
    original.apply(R, arguments);
    if (R.data && R.data.cases) { C.start(map, layerControl, R.data.cases); }
  };
})();
