/* respmap /dashboard: the period's figures, trends, cases on a map and the rankings.
 *
 * Data comes from /assessment (cases=false, trend=N) and /assessment/map with the
 * browser's session. Everything is built with textContent and createElementNS: a
 * name from the data is text, never markup. No tiles: districts are the background,
 * so the page works with no internet. window.respmapDashboardReady turns true when drawn.
 */
(function () {
  "use strict";

  var config, L_;
  var SVG = "http://www.w3.org/2000/svg";
  var FIGURES = ["attributed", "due", "postponed", "closed_on_time", "on_time_rate", "closed", "close_rate",
    "rework", "overdue_open", "avg_hours_to_rectify", "disputes"];
  var RATES = { on_time_rate: true, close_rate: true };
  var STATE_COLOURS = { reported: "#8e6bb8", dispatched: "#2e7d32", rectified: "#4a90c2", postponed: "#d9a400",
    closed: "#9e9e9e", rejected: "#cccccc" };

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function svg(tag, attributes) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attributes || {}).forEach(function (key) { node.setAttribute(key, String(attributes[key])); });
    return node;
  }

  // The same formatting as the bulletin: rates as 85.0%, scores with two decimals, "—" for nothing.
  function figure(name, value) {
    if (value === null || value === undefined) return "—";
    if (RATES[name]) return (value * 100).toFixed(1) + "%";
    if (name === "avg_hours_to_rectify") return value.toFixed(1);
    return String(value);
  }

  function score(value) { return value === null || value === undefined ? "—" : value.toFixed(2); }

  function query() {
    var p = config.period, parts = [];
    if (p.period) parts.push("period=" + encodeURIComponent(p.period));
    if (p.from) parts.push("from=" + encodeURIComponent(p.from));
    if (p.to) parts.push("to=" + encodeURIComponent(p.to));
    return parts.join("&");
  }

  function fetchJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) {
          var error = new Error(body && body.message ? body.message : ("HTTP " + r.status));
          error.status = r.status;
          throw error;
        }
        return body;
      });
    });
  }

  function drawFigures(city) {
    var box = document.getElementById("figures");
    FIGURES.forEach(function (name) {
      var tile = el("div", "tile");
      tile.appendChild(el("div", "tile-label", L_[name]));
      var value = el("div", "tile-value", figure(name, city[name]));
      value.setAttribute("data-figure", name);
      tile.appendChild(value);
      box.appendChild(tile);
    });
  }

  // A small line/bar chart: series [{name, values, colour, kind}] over labels; y from 0 to max.
  function chart(target, title, labels, series, maximum, formatter) {
    var width = 460, height = 200, left = 44, right = 12, top = 26, bottom = 30;
    var plotW = width - left - right, plotH = height - top - bottom;
    var root = svg("svg", { viewBox: "0 0 " + width + " " + height, "class": "chart", role: "img" });
    var caption = svg("text", { x: left, y: 16, "class": "chart-title" });
    caption.textContent = title;
    root.appendChild(caption);
    var top_ = maximum > 0 ? maximum : 1;
    for (var g = 0; g <= 4; g += 1) {
      var gy = top + plotH - (plotH * g) / 4;
      root.appendChild(svg("line", { x1: left, x2: width - right, y1: gy, y2: gy, "class": "grid" }));
      var tick = svg("text", { x: left - 4, y: gy + 4, "class": "tick", "text-anchor": "end" });
      tick.textContent = formatter((top_ * g) / 4);
      root.appendChild(tick);
    }
    // one slot per period, the point or the bars in its middle
    var slot = plotW / Math.max(labels.length, 1);
    function xOf(i) { return left + slot * (i + 0.5); }
    labels.forEach(function (label, i) {
      var x = xOf(i);
      var text = svg("text", { x: x, y: height - 10, "class": "tick", "text-anchor": "middle" });
      text.textContent = label;
      root.appendChild(text);
    });
    series.forEach(function (one, k) {
      if (one.kind === "bar") {
        var barW = slot * 0.8 / series.length;
        one.values.forEach(function (value, i) {
          if (value === null) return;
          var x = xOf(i);
          var h = (plotH * value) / top_;
          root.appendChild(svg("rect", { x: x - (barW * series.length) / 2 + k * barW, y: top + plotH - h,
            width: barW * 0.9, height: h, fill: one.colour, "class": "bar", "data-series": one.name }));
        });
      } else {
        var points = [];
        one.values.forEach(function (value, i) {
          if (value === null) return;
          var x = xOf(i);
          points.push([x, top + plotH - (plotH * value) / top_]);
        });
        if (points.length) {
          var d = points.map(function (p, i) { return (i ? "L" : "M") + p[0].toFixed(1) + " " + p[1].toFixed(1); });
          root.appendChild(svg("path", { d: d.join(" "), stroke: one.colour, "class": "line", "data-series": one.name }));
          points.forEach(function (p) {
            root.appendChild(svg("circle", { cx: p[0], cy: p[1], r: 3, fill: one.colour }));
          });
        }
      }
      var key = svg("text", { x: width - right - 150 + k * 75, y: 16, fill: one.colour, "class": "legend" });
      key.textContent = one.name;
      root.appendChild(key);
    });
    target.appendChild(root);
  }

  function drawTrend(trend) {
    document.getElementById("trend-title").textContent = L_.trend_title;
    var labels = trend.map(function (t) { return t.period.label; });
    var rate = function (name) { return trend.map(function (t) { return t.city[name]; }); };
    chart(document.getElementById("chart-rates"), L_.rates, labels, [
      { name: L_.on_time_rate, values: rate("on_time_rate"), colour: "#2e7d32", kind: "line" },
      { name: L_.close_rate, values: rate("close_rate"), colour: "#4a90c2", kind: "line" },
    ], 1, function (v) { return Math.round(v * 100) + "%"; });
    var counts = rate("attributed").concat(rate("overdue_open"));
    chart(document.getElementById("chart-counts"), L_.counts, labels, [
      { name: L_.attributed, values: rate("attributed"), colour: "#6b8fb3", kind: "bar" },
      { name: L_.overdue_open, values: rate("overdue_open"), colour: "#d00000", kind: "bar" },
    ], Math.max.apply(null, counts.concat([1])), function (v) { return String(Math.round(v)); });
  }

  function drawRanking(tableId, titleId, title, standings, nameHeader) {
    document.getElementById(titleId).textContent = title;
    var table = document.getElementById(tableId);
    var head = el("tr");
    [L_.rank, nameHeader, L_.score, L_.attributed, L_.on_time_rate, L_.close_rate, L_.overdue_open, L_.rework]
      .forEach(function (text) { head.appendChild(el("th", null, text)); });
    var thead = el("thead");
    thead.appendChild(head);
    table.appendChild(thead);
    var body = el("tbody");
    standings.forEach(function (s) {
      var row = el("tr", s.ranked ? null : "unranked");
      row.setAttribute("data-id", s.id);
      [s.ranked ? String(s.rank) : L_.not_ranked, s.name || s.id, score(s.score), figure("attributed", s.attributed),
        figure("on_time_rate", s.on_time_rate), figure("close_rate", s.close_rate),
        figure("overdue_open", s.overdue_open), figure("rework", s.rework)]
        .forEach(function (text) { row.appendChild(el("td", null, text)); });
      if (s.note) row.title = s.note;
      body.appendChild(row);
    });
    table.appendChild(body);
  }

  function drawMap(data) {
    document.getElementById("map-title").textContent = L_.map_title;
    var map = L.map("case-map", { preferCanvas: true, attributionControl: false });
    var districts = L.geoJSON(data.districts, {
      style: function () { return { color: "#555", weight: 1.2, fillColor: "#f4f4f1", fillOpacity: 0.8 }; },
      onEachFeature: function (feature, layer) {
        var p = feature.properties;
        var tip = el("div");
        tip.appendChild(el("strong", null, p.name || p.id));
        tip.appendChild(el("div", null, L_.rank + " " + (p.rank === undefined || p.rank === null ? "—" : p.rank) +
          " · " + L_.attributed + " " + figure("attributed", p.attributed)));
        layer.bindTooltip(tip);
      },
    }).addTo(map);
    var markers = L.layerGroup().addTo(map);
    var filters = document.getElementById("map-filters");
    var states = {};
    data.cases.features.forEach(function (f) { states[f.properties.state] = true; });
    var shown = {};
    Object.keys(states).forEach(function (state) {
      shown[state] = true;
      var label = el("label");
      var box = el("input");
      box.type = "checkbox";
      box.checked = true;
      box.setAttribute("data-state", state);
      box.addEventListener("change", function () { shown[state] = box.checked; redraw(); });
      label.appendChild(box);
      label.appendChild(document.createTextNode(" " + (L_["state_" + state] || state)));
      filters.appendChild(label);
    });
    var overdueLabel = el("label");
    var overdueBox = el("input");
    overdueBox.type = "checkbox";
    overdueBox.id = "only-overdue";
    overdueBox.addEventListener("change", redraw);
    overdueLabel.appendChild(overdueBox);
    overdueLabel.appendChild(document.createTextNode(" " + L_.only_overdue));
    filters.appendChild(overdueLabel);
    var select = el("select");
    select.id = "district-filter";
    var all = el("option", null, L_.all_districts);
    all.value = "";
    select.appendChild(all);
    data.districts.features.forEach(function (f) {
      var option = el("option", null, f.properties.name || f.properties.id);
      option.value = f.properties.id;
      select.appendChild(option);
    });
    select.addEventListener("change", redraw);
    filters.appendChild(select);

    function redraw() {
      markers.clearLayers();
      var count = 0;
      data.cases.features.forEach(function (f) {
        var p = f.properties;
        if (!f.geometry || !shown[p.state]) return;
        if (overdueBox.checked && !p.overdue_open) return;
        if (select.value && p.district_id !== select.value) return;
        var c = f.geometry.coordinates;
        var marker = L.circleMarker([c[1], c[0]], {
          radius: p.overdue_open ? 7 : 4, weight: p.overdue_open ? 2 : 1, color: p.overdue_open ? "#000" : "#333",
          fillColor: p.overdue_open ? "#d00000" : (STATE_COLOURS[p.state] || "#777"), fillOpacity: 0.9,
        });
        var tip = el("div");
        tip.appendChild(el("strong", null, p.case_id));
        tip.appendChild(el("div", null, (p.category_name || "") + " · " + (L_["state_" + p.state] || p.state) +
          (p.overdue_open ? " · " + L_.overdue : "")));
        marker.bindTooltip(tip);
        marker.addTo(markers);
        count += 1;
      });
      document.getElementById("case-map").setAttribute("data-markers", String(count));
    }
    redraw();
    var bounds = districts.getBounds();
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [10, 10] });
    else map.setView([32.7, 109.0], 12);
  }

  function start() {
    config = JSON.parse(document.getElementById("respmap-dashboard-data").textContent);
    L_ = config.labels;
    var p = config.period;
    var input = document.getElementById("period-input");
    input.value = p.period || "";
    var status = document.getElementById("status");
    var q = query();
    var sep = q ? "&" : "";
    Promise.all([
      fetchJSON(config.urls.assessment + "?" + q + sep + "cases=false&trend=" + config.trend),
      fetchJSON(config.urls.map + "?" + q),
    ]).then(function (answers) {
      var data = answers[0];
      document.getElementById("period-line").textContent =
        data.period.label_zh + "（" + data.period.first_day + " — " + data.period.last_day + "）";
      drawFigures(data.city);
      drawTrend(data.trend || []);
      drawRanking("unit-ranking", "units-title", L_.units_title, data.units, L_.unit);
      drawRanking("district-ranking", "districts-title", L_.districts_title, data.districts, L_.district);
      drawMap(answers[1]);
      status.textContent = "";
      status.hidden = true;
      window.respmapDashboardReady = true;
    }).catch(function (error) {
      status.textContent = L_.load_failed + "：" + error.message + (error.status === 401 ? "（" + L_.sign_in + "）" : "");
      status.className = "status error";
      window.respmapDashboardReady = "failed";
    });
  }

  // The scripts are linked in <head>: the page's elements exist once it is parsed.
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
