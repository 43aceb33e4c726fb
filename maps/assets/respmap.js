/*
 * respmap interactive map: draws the page data (a JSON <script> element) on a
 * Leaflet map that folium created, and adds the legend, popups, tooltips,
 * search, measure, locate and full-screen controls.
 *
 * Safety: every value that comes from the data reaches the page through
 * textContent, an element's property or a style colour chosen by respmap,
 * never through innerHTML, so markup in a name is shown as the characters
 * it is made of. Speed: one canvas renderer, features built
 * straight from compact integer coordinates, one full draw at the end whose
 * per-layer counts are published as window.respmapDrawn (with
 * window.respmapReady = true) for the tests and the benchmark.
 */
(function () {
  'use strict';

  var R = { infos: [], measuring: false };
  window.respmap = R;

  // ---- small DOM helpers (text only) ---------------------------------------
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null && text !== '') { node.textContent = String(text); }
    return node;
  }

  function add(parent, tag, className, text) {
    var node = el(tag, className, text);
    parent.appendChild(node);
    return node;
  }
  // shared with the scripts that extend the map (the cases layer, the planners' edit tools)
  R.el = el;
  R.add = add;

  function phoneLink(parent, phone, href) {
    if (!phone) { return; }
    if (href && href.indexOf('tel:') === 0) {
      var a = add(parent, 'a', 'rm-phone', phone);
      a.href = href;
    } else {
      add(parent, 'span', 'rm-phone', phone);
    }
  }

  function safeTel(phone) {
    var kept = String(phone || '').replace(/[^0-9+*#,;]/g, '');
    return kept.replace(/[^0-9]/g, '').length >= 3 ? 'tel:' + kept : '';
  }

  // ---- geometry --------------------------------------------------------------
  function decodeFlat(a) {
    var out = new Array(a.length >> 1);
    var x = 0, y = 0;
    for (var i = 0, j = 0; i < a.length; i += 2, j++) {
      x += a[i];
      y += a[i + 1];
      out[j] = [y / 1e6, x / 1e6];
    }
    return out;
  }

  function decodeRings(poly) { return poly.map(decodeFlat); }

  function makeShape(g, style) {
    if (typeof g[0] === 'number') { return L.circleMarker([g[1] / 1e6, g[0] / 1e6], style); }
    if (typeof g[0][0] === 'number') { return L.polyline(g.map(decodeFlat), style); }
    return L.polygon(g.map(decodeRings), style);
  }

  // ---- styles ----------------------------------------------------------------
  function styleFor(layer, f, colour) {
    var faint = f.w === 1;
    var unheld = f.x === 1;
    var base = { renderer: R.renderer, bubblingMouseEvents: true };
    var s;
    switch (layer.kind) {
      case 'district':
        s = { color: faint ? '#9aa3a9' : '#3a3a3a', weight: faint ? 1 : 2, opacity: faint ? 0.6 : 0.9,
              fill: !!layer.fill, fillColor: colour, fillOpacity: layer.fill ? (faint ? 0.08 : 0.35) : 0 };
        break;
      case 'line':
        s = { color: colour, weight: faint ? 2 : 4, opacity: faint ? 0.45 : 0.95, lineCap: 'butt' };
        break;
      case 'point':
        s = { radius: faint ? 3 : 5, color: '#333333', weight: 1, fillColor: colour, fillOpacity: faint ? 0.35 : 0.95 };
        break;
      case 'gap':
        s = { color: colour, weight: 2, dashArray: '5 4', fillColor: colour, fillOpacity: 0.45 };
        break;
      case 'conflict':
        s = { color: colour, weight: 2, fillColor: colour, fillOpacity: 0.65 };
        break;
      default:
        s = { color: colour, weight: 1.5, opacity: faint ? 0.35 : 0.9, fillColor: colour, fillOpacity: faint ? 0.1 : 0.45 };
    }
    if (unheld && layer.kind !== 'district') { s.dashArray = '6 4'; }
    for (var k in s) { base[k] = s[k]; }
    return base;
  }

  // ---- cards (popups) ----------------------------------------------------------
  function row(dl, label, value) {
    if (value === undefined || value === null || value === '') { return null; }
    add(dl, 'dt', null, label);
    var dd = add(dl, 'dd');
    if (typeof value === 'string' || typeof value === 'number') { dd.textContent = String(value); } else { dd.appendChild(value); }
    return dd;
  }

  var ROLE_WORD = { l: 'lead', s: 'shared', v: 'supervisor', f: 'fallback_unit' };

  function unitBlock(parent, unit, roleWord, valid) {
    var W = R.words;
    var box = add(parent, 'div', 'rm-unit');
    add(box, 'div', 'rm-role', W[roleWord] || roleWord);
    add(box, 'div', 'rm-unit-name', unit[1]);
    var line = add(box, 'div', 'rm-unit-contact');
    if (unit[2]) { add(line, 'span', 'rm-contact', W.contact + ': ' + unit[2]); }
    phoneLink(line, unit[3], unit[4]);
    if (valid) { add(box, 'div', 'rm-valid', W.valid + ': ' + valid); }
  }

  function featureCard(info, f) {
    var W = R.words, D = R.data;
    var card = el('div', 'rm-card');
    add(card, 'h3', 'rm-name', f.n || f.f || '');
    var dl = add(card, 'dl');
    row(dl, W.layer, info.layer.title);
    if (info.layer.kind === 'gap' || info.layer.kind === 'conflict') {
      if (f.o) { add(card, 'p', 'rm-note rm-' + info.layer.kind, f.o); }
      (f.k || []).forEach(function (pair) { row(dl, pair[0], pair[1]); });
      return card;
    }
    if (info.layer.kind !== 'district') {
      row(dl, W.stretch, f.t || '');
      if (typeof f.d === 'number') { row(dl, W.district, D.districts[f.d][1]); }
    }
    if (typeof f.s === 'number') {
      var standard = D.standards[f.s];
      var table = el('table', 'rm-figures');
      add(table, 'caption', null, standard[0]);
      standard[1].forEach(function (pair) {
        var tr = add(table, 'tr');
        add(tr, 'th', null, pair[0]);
        add(tr, 'td', null, pair[1]);
      });
      row(dl, W.standard, table);
    }
    if (f.x === 1) { add(card, 'p', 'rm-note rm-unheld', W.nobody_note); }
    if (f.x === 2) { add(card, 'p', 'rm-note rm-conflict', W.claimed_twice); }
    var units = f.u || [];
    if (units.length) {
      var list = add(card, 'div', 'rm-units');
      units.forEach(function (u) { unitBlock(list, D.units[u[0]], ROLE_WORD[u[1]] || 'supervisor', u[2]); });
    }
    return card;
  }

  function tooltipText(info, f) {
    var name = f.n || f.f || '';
    return f.t ? name + ' · ' + f.t : name;
  }

  function openCard(info, shape, latlng) {
    L.popup(popupOptions())
      .setLatLng(latlng || centerOf(shape))
      .setContent(featureCard(info, shape.feature))
      .openOn(R.map);
  }

  // Keep popups clear of the search box (top left) and the legend (bottom right) when panning to them.
  function popupOptions() {
    return { maxWidth: 380, autoPanPaddingTopLeft: L.point(250, 70), autoPanPaddingBottomRight: L.point(40, 40) };
  }

  function centerOf(shape) {
    return shape.getLatLng ? shape.getLatLng() : shape.getBounds().getCenter();
  }

  // ---- the click lookup of served maps ------------------------------------------
  function stretchText(stretch) {
    if (!stretch) { return ''; }
    if (typeof stretch === 'string') { return stretch; }
    if (typeof stretch.from_m !== 'number' || typeof stretch.to_m !== 'number') { return ''; }
    return Math.round(stretch.from_m) + '–' + Math.round(stretch.to_m) + ' ' + R.words.metres;
  }
  R.stretchText = stretchText;

  /** A lookup answer's standard (an object of figures) as a small table, labels from the page data. */
  function standardTable(standard) {
    if (typeof standard === 'string') { return standard; }
    var caption = standard.grade ? standard.grade + (standard.standard_id ? ' (' + standard.standard_id + ')' : '') : (standard.standard_id || '');
    var table = el('table', 'rm-figures');
    add(table, 'caption', null, caption);
    var figures = R.data.figures || {};
    Object.keys(figures).forEach(function (key) {
      var value = standard[key];
      if (value === null || value === undefined || value === '') { return; }
      var tr = add(table, 'tr');
      add(tr, 'th', null, figures[key]);
      add(tr, 'td', null, typeof value === 'number' ? String(Math.round(value * 100) / 100) : String(value));
    });
    return table;
  }

  function lookupCard(answer) {
    var W = R.words;
    var card = el('div', 'rm-card rm-lookup');
    add(card, 'h3', 'rm-name', W.lookup_title);
    if (answer.inside_frame === false && R.data.lookup.has_districts !== false) { add(card, 'p', 'rm-note rm-unheld', W.outside); }
    var district = answer.district;
    if (district) {
      var dname = typeof district === 'string' ? district : (district.name || district.district_id || '');
      var dl = add(card, 'dl');
      row(dl, W.district, dname);
    }
    (answer.matches || []).forEach(function (m) {
      var box = add(card, 'div', 'rm-match' + (m.fallback ? ' rm-fallback' : ''));
      var head = (m.fallback ? W.fallback + ': ' : '') + (m.name || m.feature_id || '');
      add(box, 'div', 'rm-match-name', head);
      var mdl = add(box, 'dl');
      row(mdl, W.layer, m.layer_title || m.layer || '');
      row(mdl, W.stretch, stretchText(m.stretch));
      if (m.standard) { row(mdl, W.standard, standardTable(m.standard)); }
      if (typeof m.distance_m === 'number' && m.distance_m > 0.5) { row(mdl, W.distance, Math.round(m.distance_m) + ' ' + W.metres); }
      (m.units || []).forEach(function (u) {
        unitBlock(box, [u.unit_id, u.name || u.unit_id || '', u.contact || '', u.phone || '', safeTel(u.phone)],
                  m.fallback || u.role === 'fallback' ? 'fallback_unit' : ({ lead: 'lead', shared: 'shared', supervisor: 'supervisor' }[u.role] || 'lead'), '');
      });
    });
    var nearest = answer.nearest;
    if (nearest && !(answer.matches || []).length) {
      var ndl = add(card, 'dl');
      var nname = (nearest.name || nearest.feature_id || '') + (nearest.layer_title ? ' (' + nearest.layer_title + ')' : '');
      row(ndl, W.nearest, nname);
      if (typeof nearest.distance_m === 'number') { row(ndl, W.distance, Math.round(nearest.distance_m) + ' ' + W.metres); }
    }
    if (!(answer.matches || []).length && !nearest) { add(card, 'p', 'rm-note', W.nobody); }
    return card;
  }

  function lookupAt(latlng) {
    var spec = R.data.lookup;
    var popup = L.popup(popupOptions()).setLatLng(latlng).setContent(el('div', 'rm-card', R.words.lookup_wait)).openOn(R.map);
    var params = new URLSearchParams({ lon: latlng.lng.toFixed(7), lat: latlng.lat.toFixed(7), crs: spec.crs, date: R.data.date });
    return fetch(spec.url + '?' + params.toString(), { headers: { Accept: 'application/json' } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (answer) { popup.setContent(lookupCard(answer)); R.lastLookup = answer; return answer; })
      .catch(function (error) {
        popup.setContent(el('div', 'rm-card rm-note', R.words.lookup_failed + ' (' + String(error.message || error) + ')'));
      });
  }
  R.lookupAt = lookupAt;

  // ---- building the layers -----------------------------------------------------------
  function buildLayer(info) {
    var layer = info.layer, colours = R.data.colours;
    var group = info.group;
    layer.features.forEach(function (f) {
      var shape = makeShape(f.g, styleFor(layer, f, colours[f.c]));
      shape.feature = f;
      shape._rmLayer = info.index;
      info.shapes.push(shape);
      group.addLayer(shape);
    });
    group.on('mouseover', function (e) {
      var shape = e.layer;
      if (!shape || !shape.feature) { return; }
      if (!shape.getTooltip()) {
        var label = tooltipText(info, shape.feature);
        shape.bindTooltip(function () { return el('span', 'rm-tip', label); }, { sticky: true, direction: 'top', opacity: 0.95 });
      }
      shape.openTooltip(e.latlng);
    });
    if (!R.data.lookup) {
      group.on('click', function (e) {
        if (R.measuring || !e.layer || !e.layer.feature) { return; }
        openCard(info, e.layer, e.latlng);
      });
    }
  }

  function drawOrder() {
    return R.infos.slice().sort(function (a, b) { return b.layer.z - a.layer.z || a.index - b.index; });
  }

  // Leaflet draws canvas paths in the order they were added; a layer switched
  // off and on again would land on top, so the priority order is restored.
  function restack() {
    drawOrder().forEach(function (info) {
      if (R.map.hasLayer(info.group)) { info.shapes.forEach(function (s) { if (s._map) { s.bringToFront(); } }); }
    });
  }

  /** Draw everything now and count, per layer id, the paths actually painted on the canvas. */
  R.countDrawn = function () {
    var counts = {};
    R.infos.forEach(function (info) { counts[info.layer.id] = 0; });
    var renderer = R.renderer;
    if (!renderer._map) { return counts; }
    var ids = R.infos.map(function (info) { return info.layer.id; });
    renderer._fillStroke = function (ctx, layer) {
      if (layer._rmLayer !== undefined) { counts[ids[layer._rmLayer]] += 1; }
      return L.Canvas.prototype._fillStroke.call(this, ctx, layer);
    };
    try {
      L.Util.cancelAnimFrame(renderer._redrawRequest);
      renderer._redrawRequest = null;
      renderer._redrawBounds = null;
      renderer._clear();
      renderer._draw();
    } finally {
      delete renderer._fillStroke;
    }
    return counts;
  };

  // ---- controls ----------------------------------------------------------------------
  function addTitle() {
    var D = R.data, W = R.words;
    var box = el('div', 'rm-title');
    add(box, 'div', 'rm-title-main', D.title);
    var sub = D.view.kind === 'city' ? W.city_view : (D.view.kind === 'unit' ? W.unit_view : W.district_view) + ': ' + (D.view.name || D.view.id);
    add(box, 'div', 'rm-title-sub', sub + ' · ' + W.date + ' ' + D.date);
    L.DomEvent.disableClickPropagation(box);
    R.map.getContainer().appendChild(box);
  }

  // ---- one unit's ground, picked in the legend ----------------------------------------
  var STYLE_KEYS = ['color', 'weight', 'opacity', 'fillOpacity'];

  function holds(f, position) {
    var units = f.u || [];
    for (var i = 0; i < units.length; i++) { if (units[i][0] === position) { return true; } }
    return false;
  }

  /**
   * Show one unit's ground strong and everything else dimmed (position = index into data.units),
   * or, with null, every shape as drawn. Colours are kept: in the by-unit colouring neighbours
   * keep their own (distinct) colours, only fainter, so the unit's edges stay readable.
   */
  function highlightUnit(position) {
    R.highlighted = position;
    var bounds = L.latLngBounds([]), mine = 0;
    R.infos.forEach(function (info) {
      info.shapes.forEach(function (shape) {
        if (!shape._rmStyle) {
          shape._rmStyle = {};
          STYLE_KEYS.forEach(function (k) { shape._rmStyle[k] = shape.options[k]; });
        }
        var base = shape._rmStyle, style = {};
        STYLE_KEYS.forEach(function (k) { style[k] = base[k]; });
        if (position !== null) {
          if (holds(shape.feature, position)) {
            mine += 1;
            style.opacity = 1;
            style.weight = (base.weight || 1) + 2;
            if (info.layer.kind !== 'district' || info.layer.fill) { style.fillOpacity = Math.max(base.fillOpacity || 0, 0.55); }
            bounds.extend(shape.getBounds ? shape.getBounds() : shape.getLatLng());
          } else {
            style.opacity = (base.opacity === undefined ? 1 : base.opacity) * 0.25;
            style.fillOpacity = (base.fillOpacity || 0) * 0.25;
          }
        }
        shape.setStyle(style);
        shape._rmPicked = position !== null && holds(shape.feature, position);
      });
    });
    R.infos.forEach(function (info) { info.shapes.forEach(function (s) { if (s._rmPicked && s._map) { s.bringToFront(); } }); });
    if (position !== null && bounds.isValid()) { R.map.fitBounds(bounds, { maxZoom: 17, animate: false, paddingTopLeft: [60, 80], paddingBottomRight: [60, 50] }); }
    if (position === null) { restack(); }
    document.documentElement.setAttribute('data-rm-unit', position === null ? '' : String(position));
    return mine;
  }
  R.highlightUnit = highlightUnit;

  function unitPicker(parent) {
    var W = R.words, units = R.data.units || [];
    var box = add(parent, 'div', 'rm-pick');
    var input = add(box, 'input', 'rm-pick-input');
    input.type = 'search';
    input.placeholder = W.pick_unit;
    input.setAttribute('aria-label', W.pick_unit);
    var picked = add(box, 'div', 'rm-pick-current');
    var list = add(box, 'ul', 'rm-pick-results');
    function clearList() { while (list.firstChild) { list.removeChild(list.firstChild); } }
    function showPicked(position) {
      while (picked.firstChild) { picked.removeChild(picked.firstChild); }
      if (position === null) { return; }
      add(picked, 'span', 'rm-pick-name', units[position][1] || units[position][0]);
      var all = add(picked, 'button', 'rm-pick-clear', W.show_all);
      all.type = 'button';
      L.DomEvent.on(all, 'click', function () { highlightUnit(null); showPicked(null); input.value = ''; filterLegend(''); });
    }
    function update() {
      clearList();
      var q = input.value.trim().toLowerCase();
      filterLegend(q);
      if (!q) { return; }
      var found = [];
      units.forEach(function (unit, position) {
        if ((String(unit[1]).toLowerCase() + ' ' + String(unit[0]).toLowerCase()).indexOf(q) !== -1) { found.push(position); }
      });
      if (!found.length) { add(list, 'li', 'rm-search-empty', W.no_results); return; }
      found.slice(0, 10).forEach(function (position) {
        var item = add(list, 'li');
        var button = add(item, 'button', 'rm-pick-hit', units[position][1] || units[position][0]);
        button.type = 'button';
        L.DomEvent.on(button, 'click', function () { clearList(); highlightUnit(position); showPicked(position); });
      });
    }
    L.DomEvent.on(input, 'input', update);
  }

  /** In the by-unit colouring the legend's entries are units: typing narrows them to the matching names. */
  function filterLegend(q) {
    if (R.data.colourBy !== 'unit' || !R.legendItems) { return; }
    R.legendItems.forEach(function (item) {
      item.node.style.display = !q || item.label.toLowerCase().indexOf(q) !== -1 ? '' : 'none';
    });
  }

  function addLegend() {
    var legend = R.data.legend;
    var control = L.control({ position: 'bottomright' });
    control.onAdd = function () {
      var box = el('div', 'rm-legend leaflet-control');
      box.setAttribute('role', 'region');
      box.setAttribute('aria-label', R.words.legend);
      var details = add(box, 'details');
      details.open = true;
      add(details, 'summary', 'rm-legend-title', legend.title);
      if ((R.data.units || []).length) { unitPicker(details); }
      var list = add(details, 'ul');
      R.legendItems = [];
      legend.entries.forEach(function (entry) {
        var item = add(list, 'li', 'rm-legend-item');
        var swatch = add(item, 'span', 'rm-swatch rm-swatch-' + entry[2]);
        if (/^#[0-9a-fA-F]{3,8}$/.test(entry[0])) { swatch.style.setProperty('--swatch', entry[0]); }
        add(item, 'span', 'rm-legend-label', entry[1]);
        R.legendItems.push({ node: item, label: String(entry[1]) });
      });
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    control.addTo(R.map);
    R.legend = control;
  }

  function searchIndex() {
    if (R.index) { return R.index; }
    var D = R.data, entries = [];
    R.infos.forEach(function (info) {
      info.shapes.forEach(function (shape) {
        var f = shape.feature;
        var name = f.n || f.f || '';
        if (name) { entries.push({ key: name.toLowerCase() + ' ' + String(f.f || '').toLowerCase(), label: name + (f.t ? ' · ' + f.t : ''), sub: info.layer.title, info: info, shape: shape, faint: f.w === 1 }); }
      });
    });
    D.units.forEach(function (unit, position) {
      entries.push({ key: String(unit[1]).toLowerCase() + ' ' + String(unit[0]).toLowerCase(), label: unit[1], sub: R.words.unit, unit: position });
    });
    entries.sort(function (a, b) { return (a.faint ? 1 : 0) - (b.faint ? 1 : 0); });
    R.index = entries;
    return entries;
  }

  function unitShapes(position) {
    var shapes = [];
    R.infos.forEach(function (info) {
      info.shapes.forEach(function (shape) {
        var units = shape.feature.u || [];
        for (var i = 0; i < units.length; i++) { if (units[i][0] === position) { shapes.push(shape); return; } }
      });
    });
    return shapes;
  }

  function choose(entry) {
    var map = R.map;
    if (entry.shape) {
      var shape = entry.shape;
      if (shape.getBounds) { map.fitBounds(shape.getBounds(), { maxZoom: 17, animate: false }); } else { map.setView(shape.getLatLng(), 17, { animate: false }); }
      openCard(entry.info, shape, centerOf(shape));
      return;
    }
    var shapes = unitShapes(entry.unit);
    if (shapes.length) {
      var bounds = L.latLngBounds([]);
      shapes.forEach(function (s) { bounds.extend(s.getBounds ? s.getBounds() : s.getLatLng()); });
      map.fitBounds(bounds, { maxZoom: 17, animate: false, padding: [30, 30] });
    }
    var unit = R.data.units[entry.unit];
    var card = el('div', 'rm-card');
    unitBlock(card, unit, 'unit', '');
    L.popup(popupOptions()).setLatLng(map.getCenter()).setContent(card).openOn(map);
  }

  function addSearch() {
    var control = L.control({ position: 'topleft' });
    control.onAdd = function () {
      var box = el('div', 'rm-search leaflet-bar leaflet-control');
      var input = add(box, 'input', 'rm-search-input');
      input.type = 'search';
      input.placeholder = R.words.search;
      input.setAttribute('aria-label', R.words.search);
      var list = add(box, 'ul', 'rm-search-results');
      function update() {
        while (list.firstChild) { list.removeChild(list.firstChild); }
        var q = input.value.trim().toLowerCase();
        if (!q) { return; }
        var found = searchIndex().filter(function (e) { return e.key.indexOf(q) !== -1; }).slice(0, 12);
        if (!found.length) { add(list, 'li', 'rm-search-empty', R.words.no_results); return; }
        found.forEach(function (entry) {
          var item = add(list, 'li');
          var button = add(item, 'button', 'rm-search-hit');
          button.type = 'button';
          add(button, 'span', 'rm-search-label', entry.label);
          add(button, 'span', 'rm-search-sub', entry.sub);
          L.DomEvent.on(button, 'click', function () { choose(entry); });
        });
      }
      L.DomEvent.on(input, 'input', update);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    control.addTo(R.map);
  }

  function formatDistance(m) {
    return m >= 1000 ? (m / 1000).toFixed(2) + ' ' + R.words.km : Math.round(m) + ' ' + R.words.metres;
  }

  function addMeasure() {
    var map = R.map, points = [], line = null, marks = L.layerGroup(), readout = null;
    var control = L.control({ position: 'topleft' });
    control.onAdd = function () {
      var box = el('div', 'rm-measure leaflet-bar leaflet-control');
      var button = add(box, 'a', 'rm-measure-button', '\u2194');
      button.href = '#';
      button.title = R.words.measure + ' — ' + R.words.measure_hint;
      button.setAttribute('role', 'button');
      button.setAttribute('aria-label', R.words.measure);
      readout = add(box, 'div', 'rm-measure-readout');
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.on(button, 'click', function (e) {
        L.DomEvent.preventDefault(e);
        R.measuring = !R.measuring;
        box.classList.toggle('rm-active', R.measuring);
        map.getContainer().classList.toggle('rm-measuring', R.measuring);
        points = [];
        marks.clearLayers();
        if (line) { map.removeLayer(line); line = null; }
        readout.textContent = R.measuring ? R.words.measure_hint : '';
        if (R.measuring) { marks.addTo(map); map.closePopup(); } else { map.removeLayer(marks); }
      });
      return box;
    };
    map.on('click', function (e) {
      if (!R.measuring) { return; }
      points.push(e.latlng);
      L.circleMarker(e.latlng, { radius: 3, color: '#000', weight: 1, fillOpacity: 1, interactive: false }).addTo(marks);
      if (!line) { line = L.polyline(points, { color: '#000', weight: 2, dashArray: '4 4', interactive: false }).addTo(map); } else { line.setLatLngs(points); }
      var total = 0;
      for (var i = 1; i < points.length; i++) { total += map.distance(points[i - 1], points[i]); }
      readout.textContent = R.words.measure + ': ' + formatDistance(total);
      R.measured_m = total;
    });
    control.addTo(map);
  }

  function addLocate() {
    if (!L.control.locate) { return; }
    var map = R.map;
    if (R.data.datum === 'gcj02' && window.respmapDatum) {
      // The browser reports WGS-84; the overlays and AMap tiles are in GCJ-02.
      var original = map._handleGeolocationResponse;
      map._handleGeolocationResponse = function (pos) {
        var c = pos.coords, shifted = window.respmapDatum.wgs84ToGcj02(c.longitude, c.latitude);
        var coords = { latitude: shifted[1], longitude: shifted[0], accuracy: c.accuracy };
        ['altitude', 'altitudeAccuracy', 'heading', 'speed'].forEach(function (k) { if (typeof c[k] === 'number') { coords[k] = c[k]; } });
        return original.call(this, { coords: coords, timestamp: pos.timestamp });
      };
    }
    L.control.locate({
      position: 'topleft', flyTo: false, showPopup: false, drawCircle: true,
      strings: { title: R.words.locate }, locateOptions: { enableHighAccuracy: true, maxZoom: 17 }
    }).addTo(map);
    if (R.data.lookup) {
      map.on('locationfound', function (e) { lookupAt(e.latlng); });
    }
  }

  function addFullscreen() {
    if (!L.Control.FullScreen) { return; }
    new L.Control.FullScreen({ position: 'topleft', title: R.words.fullscreen, titleCancel: R.words.exit_fullscreen }).addTo(R.map);
  }

  // ---- entry point -----------------------------------------------------------------------
  /**
   * Build the map. map, groups (one per data layer, in order) and control
   * come from folium's generated script; dataId names the JSON element.
   */
  R.init = function (map, groups, control, dataId) {
    var data = JSON.parse(document.getElementById(dataId).textContent);
    R.map = map;
    R.data = data;
    R.words = data.labels;
    R.control = control;
    R.renderer = L.canvas({ padding: 0.3, tolerance: 6 });
    map.getContainer().classList.add('rm-map');
    map.attributionControl && map.attributionControl.setPrefix('Leaflet');
    if (data.view.bounds) { map.fitBounds(data.view.bounds, { animate: false, paddingTopLeft: [60, 80], paddingBottomRight: [60, 50] }); }
    R.infos = data.layers.map(function (layer, i) { return { index: i, layer: layer, group: groups[i], shapes: [] }; });
    drawOrder().forEach(buildLayer);
    map.on('overlayadd', restack);
    if (data.lookup) {
      map.on('click', function (e) { if (!R.measuring) { lookupAt(e.latlng); } });
    }
    L.control.scale({ metric: true, imperial: false, position: 'bottomleft' }).addTo(map);  // metres only, no feet
    addTitle();
    addSearch();
    addFullscreen();
    addLocate();
    addMeasure();
    addLegend();
    R.drawn = R.countDrawn();
    window.respmapDrawn = R.drawn;
    window.respmapCounts = {};
    R.infos.forEach(function (info) { window.respmapCounts[info.layer.id] = info.shapes.length; });
    requestAnimationFrame(function () {
      window.respmapReadyMs = performance.now();
      window.respmapReady = true;
      document.documentElement.setAttribute('data-respmap-ready', '1');
    });
  };
})();
