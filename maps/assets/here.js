/*
 * respmap /here: the phone page. Takes the browser's position (WGS-84) or a
 * tap on the map, asks the server's /lookup and shows, in large type, the
 * unit responsible there with its contact and a tap-to-call link. Every
 * value from the answer is written with textContent. Around the asked point
 * the page then draws the dataset's places (streets, villages, compounds,
 * from /here/places), the answer's own place highlighted.
 */
(function () {
  'use strict';

  var H = { lastAnswer: null, places: [], placesAsked: 0 };
  // One colour per layer, in the order layers first appear; the answer's place is red and thick.
  var PLACE_COLOURS = ['#2b83ba', '#e08214', '#7b3294', '#1a9641', '#8c510a', '#4d4d4d'];
  var HIGHLIGHT = '#d7191c';
  window.respmapHere = H;

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

  function telHref(phone) {
    var kept = String(phone || '').replace(/[^0-9+*#,;]/g, '');
    return kept.replace(/[^0-9]/g, '').length >= 3 ? 'tel:' + kept : '';
  }

  function decodeFlat(a) {
    var out = new Array(a.length >> 1), x = 0, y = 0;
    for (var i = 0, j = 0; i < a.length; i += 2, j++) { x += a[i]; y += a[i + 1]; out[j] = [y / 1e6, x / 1e6]; }
    return out;
  }

  function stretchText(W, stretch) {
    if (!stretch) { return ''; }
    if (typeof stretch === 'string') { return ' · ' + stretch; }
    if (typeof stretch.from_m !== 'number' || typeof stretch.to_m !== 'number') { return ''; }
    return ' · ' + Math.round(stretch.from_m) + '–' + Math.round(stretch.to_m) + ' ' + W.metres;
  }

  function roleWord(W, role, fallback) {
    if (fallback || role === 'fallback') { return W.fallback_unit; }
    return W[role] || W.lead;
  }

  function unitCard(parent, W, unit, role, fallback, big) {
    var box = add(parent, 'div', big ? 'here-unit here-unit-main' : 'here-unit');
    add(box, 'div', 'here-role', roleWord(W, role, fallback));
    add(box, 'div', 'here-unit-name', unit.name || unit.unit_id || '');
    if (unit.contact) { add(box, 'div', 'here-contact', W.contact + ': ' + unit.contact); }
    if (unit.phone) {
      var href = telHref(unit.phone);
      var call = add(box, href ? 'a' : 'span', 'here-call', (href ? '\u260E ' : '') + unit.phone);
      if (href) { call.href = href; call.setAttribute('aria-label', W.call + ' ' + unit.phone); }
    }
  }

  function show(answer) {
    var W = H.words, out = H.answerBox;
    while (out.firstChild) { out.removeChild(out.firstChild); }
    H.lastAnswer = answer;
    var matches = answer.matches || [];
    if (answer.inside_frame === false && H.data.has_districts !== false) { add(out, 'p', 'here-warning', W.outside); }
    var district = answer.district;
    if (district) {
      add(out, 'p', 'here-district', W.district + ': ' + (typeof district === 'string' ? district : (district.name || district.district_id || '')));
    }
    var first = true;
    matches.forEach(function (m) {
      var section = add(out, 'section', first ? 'here-match here-best' : 'here-match');
      var place = (m.layer_title ? m.layer_title + ' · ' : '') + (m.name || m.feature_id || '') + stretchText(W, m.stretch);
      add(section, 'div', 'here-place', m.fallback ? W.fallback : place);
      (m.units || []).forEach(function (u, i) { unitCard(section, W, u, u.role, m.fallback, first && i === 0); });
      first = false;
    });
    if (!matches.length) {
      add(out, 'p', 'here-warning', W.nobody);
      if (answer.nearest) {
        var n = answer.nearest;
        add(out, 'p', 'here-nearest', W.nearest + ': ' + (n.name || n.feature_id || '') +
            (typeof n.distance_m === 'number' ? ' (' + Math.round(n.distance_m) + ' ' + W.metres + ')' : ''));
      }
    }
    H.map.invalidateSize({ pan: false });  // the answer panel grew or shrank: the map's size changed
    if (H.marker) { H.map.panTo(H.marker.getLatLng(), { animate: false }); }
    document.documentElement.setAttribute('data-here-answered', String(Date.now()));
  }

  function status(text) { H.statusBox.textContent = text || ''; }

  /** The place the answer is about: its first match that is a feature (not the district's fallback). */
  function answerPlace(answer) {
    var matches = answer.matches || [];
    for (var i = 0; i < matches.length; i++) {
      if (!matches[i].fallback && matches[i].feature_id) { return { layer: matches[i].layer, feature_id: matches[i].feature_id }; }
    }
    return null;
  }

  /** lon/lat in WGS-84 -> where the map draws them (shifted to GCJ-02 on AMap tiles). */
  function shown(lng, lat) {
    if (H.data.datum === 'gcj02' && window.respmapDatum) { return window.respmapDatum.wgs84ToGcj02(lng, lat); }
    return [lng, lat];
  }

  function placeColour(layer) {
    if (!(layer in H.layerColours)) { H.layerColours[layer] = PLACE_COLOURS[Object.keys(H.layerColours).length % PLACE_COLOURS.length]; }
    return H.layerColours[layer];
  }

  function drawPlaces(collection, best) {
    var W = H.words;
    if (H.placesLayer) { H.map.removeLayer(H.placesLayer); }
    var group = H.placesLayer = L.featureGroup();
    var drawn = [], highlighted = null, highlightedName = '';
    (collection.features || []).forEach(function (feature) {
      var p = feature.properties || {};
      var hit = !!best && p.layer === best.layer && p.feature_id === best.feature_id;
      var colour = hit ? HIGHLIGHT : placeColour(p.layer);
      var style = {
        color: colour, weight: hit ? 7 : (p.kind === 'polygon' ? 2 : 4), opacity: hit ? 0.95 : 0.8,
        fillColor: colour, fillOpacity: hit ? 0.3 : 0.1, interactive: false
      };
      var layer = L.geoJSON(feature, {
        style: function () { return style; },
        coordsToLatLng: function (c) { var s = shown(c[0], c[1]); return L.latLng(s[1], s[0]); },
        pointToLayer: function (f, latlng) { return L.circleMarker(latlng, L.extend({ radius: hit ? 9 : 6 }, style)); }
      });
      layer.addTo(group);
      drawn.push({ layer: p.layer, feature_id: p.feature_id, name: p.name, highlighted: hit });
      if (hit) { highlighted = layer; highlightedName = p.name || p.feature_id || ''; }
    });
    group.addTo(H.map);
    if (highlighted) {
      highlighted.bringToFront();
      // The label is a DOM node filled with textContent: Leaflet would parse a string as HTML.
      var label = el('span', 'here-place-label', highlightedName);
      var where = H.marker ? H.marker.getLatLng() : highlighted.getBounds().getCenter();
      group.addLayer(L.tooltip({ permanent: true, direction: 'top', offset: [0, -10], className: 'here-place-tooltip', interactive: false })
        .setLatLng(where).setContent(label));
    }
    if (H.marker) { H.marker.bringToFront(); }
    H.places = drawn;
    H.placesStatus.textContent = collection.truncated ? W.places_more : (drawn.length ? W.places_near + ': ' + drawn.length : '');
    document.documentElement.setAttribute('data-here-places', String(drawn.length));
  }

  /** Fetch and draw the places in a small box around the asked point (WGS-84 from the answer). */
  function loadPlaces(answer) {
    var spec = H.data.places;
    var point = answer && answer.point && answer.point.wgs84;
    if (!spec || !point || typeof point.lon !== 'number' || typeof point.lat !== 'number') { return null; }
    var dLat = spec.radius_m / 111320, dLon = spec.radius_m / (111320 * Math.max(Math.cos(point.lat * Math.PI / 180), 0.01));
    var bbox = [point.lon - dLon, point.lat - dLat, point.lon + dLon, point.lat + dLat].map(function (v) { return v.toFixed(6); });
    var asked = ++H.placesAsked, best = answerPlace(answer);
    var params = new URLSearchParams({ bbox: bbox.join(',') });
    if (H.data.lang) { params.set('lang', H.data.lang); }
    return fetch(spec.url + '?' + params.toString(), { headers: { Accept: 'application/geo+json' } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (collection) { if (asked === H.placesAsked) { drawPlaces(collection, best); } })
      .catch(function (error) { H.placesStatus.textContent = H.words.lookup_failed + ' (' + String(error.message || error) + ')'; });
  }
  H.loadPlaces = loadPlaces;

  /** Ask who answers at lon/lat given in crs; mark the point at latlng on the map. */
  function ask(lon, lat, crs, latlng) {
    var spec = H.data.lookup;
    if (latlng) {
      if (!H.marker) { H.marker = L.circleMarker(latlng, { radius: 9, color: '#fff', weight: 3, fillColor: '#d7191c', fillOpacity: 1 }).addTo(H.map); }
      H.marker.setLatLng(latlng);
    }
    // The point asked, as given: the report on this page (here-report.js) sends it with the case.
    H.lastAsked = { lon: Number(lon), lat: Number(lat), crs: crs };
    if (navigator.onLine === false) {
      // No signal: don't knock on a closed door; the report can still be made and kept.
      H.lastAnswer = null;
      status(H.words.lookup_offline || H.words.lookup_failed);
      if (H.onAnswer) { H.onAnswer(null); }
      return Promise.resolve(null);
    }
    status(H.words.lookup_wait);
    var params = new URLSearchParams({ lon: Number(lon).toFixed(7), lat: Number(lat).toFixed(7), crs: crs });
    if (H.data.date) { params.set('date', H.data.date); }
    return fetch(spec.url + '?' + params.toString(), { headers: { Accept: 'application/json' } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (answer) {
        var point = answer.point && answer.point.wgs84;
        if (!latlng && point && typeof point.lon === 'number') {
          // Typed coordinates (any datum): the marker goes where the server says the point is.
          var s = shown(point.lon, point.lat);
          latlng = L.latLng(s[1], s[0]);
          if (!H.marker) { H.marker = L.circleMarker(latlng, { radius: 9, color: '#fff', weight: 3, fillColor: '#d7191c', fillOpacity: 1 }).addTo(H.map); }
          H.marker.setLatLng(latlng);
          H.map.setView(latlng, Math.max(H.map.getZoom(), 16), { animate: false });
        }
        status(''); show(answer); loadPlaces(answer);
        if (H.onAnswer) { H.onAnswer(answer); }
        return answer;
      })
      .catch(function (error) { status(H.words.lookup_failed + ' (' + String(error.message || error) + ')'); });
  }
  H.ask = ask;

  function locate() {
    var W = H.words;
    if (!navigator.geolocation) { status(W.geo_missing); return; }
    status(W.locating);
    navigator.geolocation.getCurrentPosition(function (pos) {
      var lng = pos.coords.longitude, lat = pos.coords.latitude;
      var shown = H.data.datum === 'gcj02' && window.respmapDatum ? window.respmapDatum.wgs84ToGcj02(lng, lat) : [lng, lat];
      var latlng = L.latLng(shown[1], shown[0]);
      H.map.setView(latlng, Math.max(H.map.getZoom(), 16), { animate: false });
      ask(lng, lat, 'wgs84', latlng);
    }, function (error) {
      status(W.geo_failed + ' (' + String(error.message || error.code) + '). ' + W.tap_hint);
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 10000 });
  }
  H.locate = locate;

  H.init = function (dataId) {
    var data = H.data = JSON.parse(document.getElementById(dataId).textContent);
    var W = H.words = data.labels;
    document.getElementById('here-title').textContent = W.here_title;
    var button = document.getElementById('here-locate');
    button.textContent = W.locate_me;
    button.addEventListener('click', locate);
    H.statusBox = document.getElementById('here-status');
    H.answerBox = document.getElementById('here-answer');
    H.placesStatus = document.getElementById('here-places');
    H.layerColours = {};
    status(W.tap_hint);
    var map = H.map = L.map('here-map', { preferCanvas: true, zoomControl: true });
    map.attributionControl.setPrefix('Leaflet');
    if (data.tiles) {
      L.tileLayer(data.tiles.url, { subdomains: data.tiles.subdomains, attribution: data.tiles.attribution, maxZoom: 20, maxNativeZoom: 18 }).addTo(map);
    }
    data.districts.forEach(function (g) {
      L.polygon(g.map(function (poly) { return poly.map(decodeFlat); }), { color: '#3a3a3a', weight: 1.5, fill: false, interactive: false }).addTo(map);
    });
    if (data.bounds) { map.fitBounds(data.bounds, { animate: false }); } else { map.setView([32.69, 109.03], 13); }
    map.on('click', function (e) { ask(e.latlng.lng, e.latlng.lat, data.datum, e.latlng); });
    if (navigator.geolocation && navigator.permissions && navigator.permissions.query) {
      // Ask straight away only when the phone already allowed it; otherwise wait for the button.
      navigator.permissions.query({ name: 'geolocation' }).then(function (p) { if (p.state === 'granted') { locate(); } }, function () {});
    }
    window.respmapReady = true;
  };
})();
