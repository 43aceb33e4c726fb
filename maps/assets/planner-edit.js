/*
 * respmap coverage map: planners edit responsibility, and popups say since when
 * (maps/planner_edit.py says what it is for).
 *
 * Runs after respmap.js and wraps respmap.init like the cases layer. Signed out it does
 * nothing. Signed in, the lookup popup gains, under each unit, since when it has held the
 * place and a link to the change (GET /history/place). For a planner or an admin (GET /me)
 * an edit control appears: a click asks GET /assignments/at for the places there and their
 * rows on the effective date; the panel builds the rows the place should have, previews them
 * with a dry run of POST /assignments/changes (difference and findings shown as text), and
 * confirms the same change; the page then reopens on the effective date.
 *
 * Safety: data reaches the page through textContent and element properties only.
 */
(function () {
  'use strict';

  var R = window.respmap;
  var P = { editing: false, place: null, places: [], hash: null, previewed: null };
  window.respmapPlanner = P;
  if (!R || !R.init) { return; }
  var FLASH_KEY = 'respmap-planner-flash';

  var el = R.el;  // text-only DOM helpers of respmap.js
  var add = R.add;

  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

  function fill(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (_, k) { return values[k] === undefined ? '' : String(values[k]); });
  }

  function csrf() {
    var parts = (document.cookie || '').split(';');
    for (var i = 0; i < parts.length; i++) {
      var kv = parts[i].trim();
      if (kv.indexOf('respmap_csrf=') === 0) { return decodeURIComponent(kv.slice('respmap_csrf='.length)); }
    }
    return '';
  }

  /** fetch with the session; JSON in and out; a refusal rejects with {status, message, body}. */
  function api(url, options) {
    options = options || {};
    var headers = { Accept: 'application/json' };
    var body;
    if (options.json !== undefined) { headers['Content-Type'] = 'application/json'; body = JSON.stringify(options.json); }
    var method = options.method || 'GET';
    if (method !== 'GET') { headers['X-CSRF-Token'] = csrf(); }
    return fetch(url, { method: method, headers: headers, body: body, credentials: 'same-origin', cache: 'no-store' })
      .then(function (response) {
        return response.text().then(function (text) {
          var data = null;
          try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
          if (!response.ok) {
            var message = (data && (data.message || data.detail)) || String(response.status);
            throw { status: response.status, message: typeof message === 'string' ? message : JSON.stringify(message), body: data };
          }
          return data;
        });
      });
  }

  function metres(value) { return Math.round(value * 10) / 10 + ' ' + P.words.metres; }

  function stretchOf(row) {
    if (row.from_m === null || row.from_m === undefined) { return P.words.edit_whole; }
    return Math.round(row.from_m) + '–' + Math.round(row.to_m) + ' ' + P.words.metres;
  }

  function roleWord(role) { return P.words['role_' + role] || role; }

  // ------------------------------------------------------------ since when (popups)

  function sinceLine(holder) {
    var W = P.words;
    var box = el('div', 'rm-since');
    add(box, 'span', 'rm-since-date', holder.since ? fill(W.since, { date: holder.since }) : W.since_start);
    if (holder.change && holder.change.id !== undefined) {
      box.appendChild(document.createTextNode(' · '));
      var link = add(box, 'a', 'rm-since-change', fill(W.since_change, { id: holder.change.id }));
      link.href = P.urls.history + '/' + encodeURIComponent(String(holder.change.id));
      link.target = '_blank';
      link.rel = 'noopener';
      var who = [holder.change.by, holder.change.reason].filter(Boolean).join('：');
      if (who) { link.title = who; }
    }
    return box;
  }

  function holderFor(holders, unit, stretch) {
    for (var i = 0; i < holders.length; i++) {
      var h = holders[i];
      if (h.unit_id !== unit.unit_id || h.role !== unit.role) { continue; }
      if (stretch && typeof stretch.from_m === 'number' && h.from_m !== null && h.from_m !== undefined) {
        if (h.from_m > stretch.from_m + 0.5 || h.to_m < stretch.to_m - 0.5) { continue; }
      }
      return h;
    }
    return null;
  }

  function decorate(card, answer) {
    if (card._rmSince) { return; }
    card._rmSince = true;
    var boxes = card.querySelectorAll('.rm-match');
    var pending = [];
    (answer.matches || []).forEach(function (m, i) {
      if (m.fallback || !m.layer || !m.feature_id || !boxes[i]) { return; }
      var params = new URLSearchParams({ layer: m.layer, feature_id: m.feature_id, date: answer.date || R.data.date });
      pending.push(api(P.urls.history_place + '?' + params.toString()).then(function (place) {
        var blocks = boxes[i].querySelectorAll('.rm-unit');
        (m.units || []).forEach(function (u, j) {
          var holder = holderFor(place.holders || [], u, m.stretch);
          if (holder && blocks[j]) { blocks[j].appendChild(sinceLine(holder)); }
        });
      }, function () { /* the popup stays as it is: the history is a bonus, not the answer */ }));
    });
    Promise.all(pending).then(function () {
      var n = card.querySelectorAll('.rm-since').length;
      document.documentElement.setAttribute('data-rm-since', String(n));
    });
  }

  function watchPopups(map) {
    map.on('popupopen', function (e) {
      var popup = e.popup;
      if (popup._rmWatched) { return; }
      popup._rmWatched = true;
      function check() {
        // respmap.js keeps the answer right after setting the card: look once the call has returned.
        setTimeout(function () {
          var card = popup.getContent();
          if (card && card.classList && card.classList.contains('rm-lookup') && R.lastLookup) { decorate(card, R.lastLookup); }
        }, 0);
      }
      popup.on('contentupdate', check);
      check();
    });
  }

  // ------------------------------------------------------------ the unit picker

  function unitPicker(parent, label, onPick) {
    var W = P.words;
    var box = add(parent, 'div', 'rm-pe-picker');
    var title = add(box, 'label', 'rm-pe-label', label);
    var input = add(box, 'input', 'rm-pe-unit-search');
    input.type = 'search';
    input.placeholder = W.edit_unit_search;
    input.setAttribute('aria-label', label);
    title.appendChild(input);
    var chosen = add(box, 'div', 'rm-pe-unit-chosen', W.edit_unit_none);
    var list = add(box, 'ul', 'rm-pe-unit-results');
    var picker = { unit: null, node: box };
    function update() {
      clear(list);
      var q = input.value.trim().toLowerCase();
      if (!q) { return; }
      var found = P.units.filter(function (u) {
        return (String(u.name || '') + ' ' + String(u.unit_id)).toLowerCase().indexOf(q) !== -1;
      }).slice(0, 8);
      found.forEach(function (u) {
        var item = add(list, 'li');
        var button = add(item, 'button', 'rm-pe-unit-hit', (u.name || u.unit_id) + ' (' + u.unit_id + ')');
        button.type = 'button';
        button.dataset.unit = u.unit_id;
        button.addEventListener('click', function () {
          picker.unit = u;
          chosen.textContent = (u.name || u.unit_id) + ' (' + u.unit_id + ')';
          chosen.className = 'rm-pe-unit-chosen rm-pe-picked';
          input.value = '';
          clear(list);
          onPick();
        });
      });
    }
    input.addEventListener('input', update);
    return picker;
  }

  // ------------------------------------------------------------ the panel

  function field(parent, label, node) {
    var row = add(parent, 'label', 'rm-pe-field', label);
    row.appendChild(node);
    return node;
  }

  function select(options, value) {
    var node = el('select');
    options.forEach(function (o) {
      var option = add(node, 'option', null, o[1]);
      option.value = o[0];
    });
    if (value !== undefined) { node.value = value; }
    return node;
  }

  function status(text, kind) {
    P.status.textContent = text || '';
    P.status.className = 'rm-pe-status' + (kind ? ' rm-pe-' + kind : '');
  }

  function forgetPreview() {
    P.previewed = null;
    if (P.confirm) { P.confirm.disabled = true; }
    if (P.result) { clear(P.result); }
  }

  /** Which row a click falls in: the lead (else any holding) row whose stretch holds at_m. */
  function rowAt(place) {
    var best = -1;
    place.rows.forEach(function (r, i) {
      var inside = r.from_m === null || place.at_m === undefined || (place.at_m >= r.from_m && place.at_m <= r.to_m);
      if (!inside || r.role === 'supervisor') { return; }
      if (best < 0 || (r.role === 'lead' && place.rows[best].role !== 'lead') ||
          (r.from_m !== null && place.rows[best].from_m === null && r.role === place.rows[best].role)) { best = i; }
    });
    return best;
  }

  /**
   * On a line held in stretches, the unheld stretch around the click ([from_m, to_m]): giving a
   * unit there fills that gap only. Null for a polygon, a line with a whole-length holder, or a
   * click on held ground (the unit is then given the whole place).
   */
  function gapAt(place) {
    if (place.kind !== 'line' || typeof place.at_m !== 'number' || rowAt(place) >= 0) { return null; }
    var holding = place.rows.filter(function (r) { return r.role !== 'supervisor'; });
    if (!holding.length || holding.some(function (r) { return r.from_m === null; })) { return null; }
    var from = 0, to = place.length_m;
    holding.forEach(function (r) {
      if (r.to_m <= place.at_m && r.to_m > from) { from = r.to_m; }
      if (r.from_m >= place.at_m && r.from_m < to) { to = r.from_m; }
    });
    return to > from ? [from, to] : null;
  }

  function showPlace(place) {
    var W = P.words;
    P.place = place;
    forgetPreview();
    clear(P.form);
    add(P.form, 'h4', 'rm-pe-place', (place.name || place.feature_id) + ' · ' + place.layer_title + ' (' + place.feature_id + ')');
    if (typeof place.at_m === 'number') {
      add(P.form, 'div', 'rm-pe-at', W.edit_at + ' ' + metres(place.at_m) + ' / ' + metres(place.length_m));
    }
    add(P.form, 'div', 'rm-pe-subtitle', W.edit_current);
    var current = add(P.form, 'ul', 'rm-pe-rows');
    if (!place.rows.length) { add(current, 'li', 'rm-pe-nobody', W.edit_nobody); }
    place.rows.forEach(function (r) {
      add(current, 'li', null, stretchOf(r) + ' · ' + (r.unit_name || r.unit_id) + ' · ' + roleWord(r.role) +
        (r.valid_until ? ' (→ ' + r.valid_until + ')' : ''));
    });

    var actions = [['reassign', W.edit_reassign], ['give', W.edit_give]];
    if (place.kind === 'line' && typeof place.at_m === 'number') { actions.splice(1, 0, ['split', W.edit_split]); }
    if (!place.rows.length) { actions = [['give', W.edit_give]]; } else if (rowAt(place) < 0) {
      actions.unshift(actions.pop());  // clicked where nobody holds the line: giving it a unit comes first
    }
    var action = field(P.form, W.edit_action, select(actions, actions[0][0]));
    action.className = 'rm-pe-action';
    var detail = add(P.form, 'div', 'rm-pe-detail');

    function build() {
      forgetPreview();
      clear(detail);
      P.pickers = [];
      var kind = action.value;
      if (kind === 'reassign' || kind === 'split') {
        var choices = place.rows.map(function (r, i) { return [String(i), stretchOf(r) + ' · ' + (r.unit_name || r.unit_id) + ' · ' + roleWord(r.role)]; });
        var at = rowAt(place);
        P.rowSelect = field(detail, W.edit_row, select(choices, String(at < 0 ? 0 : at)));
        P.rowSelect.className = 'rm-pe-row';
        P.rowSelect.addEventListener('change', forgetPreview);
      }
      if (kind === 'split') {
        P.pickers.push(unitPicker(detail, W.edit_unit_first, forgetPreview));
        P.pickers.push(unitPicker(detail, W.edit_unit_second, forgetPreview));
        var cut = el('input', 'rm-pe-split-at');
        cut.type = 'number';
        cut.step = '0.1';
        cut.min = '0';
        cut.value = String(place.at_m);
        P.splitAt = field(detail, W.edit_split_at, cut);
        cut.addEventListener('input', forgetPreview);
      } else {
        P.pickers.push(unitPicker(detail, W.edit_unit, forgetPreview));
        var roles = [['lead', W.role_lead], ['shared', W.role_shared], ['supervisor', W.role_supervisor]];
        P.roleSelect = field(detail, W.edit_role, select(roles, 'lead'));
        P.roleSelect.className = 'rm-pe-role';
        P.roleSelect.addEventListener('change', forgetPreview);
      }
    }
    action.addEventListener('change', build);
    P.action = action;
    build();
  }

  function plainRows(place) {
    return place.rows.map(function (r) {
      return { unit_id: r.unit_id, role: r.role, from_m: r.from_m, to_m: r.to_m, valid_until: r.valid_until };
    });
  }

  /** The change the panel describes, or a message saying what is missing. */
  function changeBody(dryRun) {
    var W = P.words, place = P.place;
    if (!place) { return W.edit_hint; }
    var effective = P.effective.value;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(effective)) { return W.edit_need_date; }
    var reason = P.reason.value.trim();
    if (!reason) { return W.edit_need_reason; }
    for (var k = 0; k < P.pickers.length; k++) { if (!P.pickers[k].unit) { return W.edit_need_unit; } }
    var rows = plainRows(place);
    var kind = P.action.value;
    if (kind === 'give') {
      var gap = gapAt(place);
      rows.push({ unit_id: P.pickers[0].unit.unit_id, role: P.roleSelect.value, from_m: gap ? gap[0] : null, to_m: gap ? gap[1] : null, valid_until: null });
    } else {
      var i = Number(P.rowSelect.value), row = rows[i];
      if (kind === 'reassign') {
        rows[i] = { unit_id: P.pickers[0].unit.unit_id, role: P.roleSelect.value, from_m: row.from_m, to_m: row.to_m, valid_until: null };
      } else {
        var from = row.from_m === null ? 0 : row.from_m;
        var to = row.to_m === null ? place.length_m : row.to_m;
        var at = Number(P.splitAt.value);
        if (!(at > from && at < to)) { return W.edit_bad_split; }
        rows.splice(i, 1,
          { unit_id: P.pickers[0].unit.unit_id, role: row.role, from_m: from, to_m: at, valid_until: row.valid_until },
          { unit_id: P.pickers[1].unit.unit_id, role: row.role, from_m: at, to_m: to, valid_until: row.valid_until });
      }
    }
    return {
      effective: effective, reason: reason, dry_run: dryRun, base_hash: P.hash,
      places: [{ layer: place.layer, feature_id: place.feature_id, assignments: rows }]
    };
  }

  function showFindings(parent, findings) {
    var W = P.words;
    add(parent, 'div', 'rm-pe-subtitle', W.edit_findings);
    var list = add(parent, 'ul', 'rm-pe-findings');
    var shown = (findings || []).filter(function (f) { return f.new !== false || f.level === 'error'; });
    if (!shown.length) { add(list, 'li', 'rm-pe-ok', W.edit_no_findings); }
    shown.forEach(function (f) {
      var item = add(list, 'li', 'rm-pe-finding rm-pe-' + (f.level || 'info'));
      add(item, 'span', 'rm-pe-level', (W['level_' + f.level] || f.level || '') + ' ');
      item.appendChild(document.createTextNode(String(f.message || f.code || '')));
    });
  }

  function showAnswer(answer) {
    var W = P.words;
    clear(P.result);
    add(P.result, 'div', 'rm-pe-subtitle', W.edit_diff);
    var empty = !answer.diff || (!(answer.diff.opened || []).length && !(answer.diff.closed || []).length && !(answer.diff.changed || []).length);
    add(P.result, 'pre', 'rm-pe-diff', empty ? W.edit_no_change : answer.text);
    showFindings(P.result, answer.findings);
    return empty;
  }

  function failed(error) {
    var W = P.words;
    if (error && error.status === 409) {
      // Look again at the place as the data is now, then say why the panel changed under the planner's eyes.
      var note = W.edit_stale + ' (' + error.message + ')';
      return Promise.resolve(reloadPlace()).then(function () { status(note, 'error'); });
    }
    if (error && error.status === 403) { status(W.edit_forbidden + ': ' + error.message, 'error'); return null; }
    status(W.edit_failed + ': ' + String((error && error.message) || error), 'error');
    var details = error && error.body && error.body.details;
    if (details && details.findings) { clear(P.result); showFindings(P.result, details.findings); }
    return null;
  }

  function preview() {
    var body = changeBody(true);
    forgetPreview();
    if (typeof body === 'string') { status(body, 'error'); return Promise.resolve(null); }
    status(P.words.edit_loading);
    document.documentElement.setAttribute('data-rm-preview', 'waiting');
    return api(P.urls.changes, { method: 'POST', json: body }).then(function (answer) {
      var empty = showAnswer(answer);
      if (!answer.ok) { status(P.words.edit_errors_remain, 'error'); } else if (empty) { status(P.words.edit_no_change); } else {
        status('');
        P.previewed = JSON.stringify(changeBody(false));
        P.confirm.disabled = false;
      }
      document.documentElement.setAttribute('data-rm-preview', answer.ok && !empty ? 'ok' : 'refused');
      return answer;
    }, function (error) {
      document.documentElement.setAttribute('data-rm-preview', 'failed');
      return failed(error);
    });
  }

  function confirmChange() {
    var body = changeBody(false);
    // Only what was previewed is sent: a field changed since asks for a new preview.
    if (typeof body === 'string' || JSON.stringify(body) !== P.previewed) { forgetPreview(); return preview(); }
    P.confirm.disabled = true;
    status(P.words.edit_loading);
    return api(P.urls.changes, { method: 'POST', json: body }).then(function (answer) {
      if (!answer.applied) { showAnswer(answer); status(P.words.edit_no_change); return answer; }
      var id = answer.change && answer.change.id;
      if (answer.reloaded === false) {
        // Applied and recorded, but the server kept serving the previous data: say so, do not pretend.
        status(P.words.edit_applied + ' · ' + P.words.edit_not_reloaded, 'error');
        return answer;
      }
      var note = P.words.edit_applied + (id !== undefined && id !== null ? ' · ' + fill(P.words.since_change, { id: id }) : '');
      try { window.sessionStorage.setItem(FLASH_KEY, note); } catch (e) { /* private mode: no note after reload */ }
      status(note, 'ok');
      document.documentElement.setAttribute('data-rm-applied', String(id === undefined ? '' : id));
      // The server reloaded after applying: reopen the map on the effective date, showing the new state.
      var url = new URL(window.location.href);
      url.searchParams.set('date', body.effective);
      window.location.assign(url.toString());
      return answer;
    }, failed);
  }

  function reloadPlace() {
    if (!P.lastClick) { return null; }
    return selectAt(P.lastClick, P.place && { layer: P.place.layer, feature_id: P.place.feature_id });
  }

  function choosePlaces(answer, keep) {
    var W = P.words;
    P.hash = answer.dataset_hash;
    P.places = answer.places || [];
    clear(P.choices);
    clear(P.form);
    forgetPreview();
    if (!P.places.length) { P.place = null; status(W.edit_none_here); return; }
    status('');
    var wanted = keep ? P.places.filter(function (p) { return p.layer === keep.layer && p.feature_id === keep.feature_id; })[0] : null;
    if (P.places.length > 1) {
      add(P.choices, 'div', 'rm-pe-subtitle', W.edit_places_here);
      P.places.forEach(function (place) {
        var button = add(P.choices, 'button', 'rm-pe-choice', (place.name || place.feature_id) + ' · ' + place.layer_title);
        button.type = 'button';
        button.dataset.feature = place.feature_id;
        button.addEventListener('click', function () { showPlace(place); });
      });
    }
    showPlace(wanted || P.places[0]);
  }

  function selectAt(latlng, keep) {
    P.lastClick = latlng;
    status(P.words.edit_loading);
    var spec = R.data.lookup || { crs: 'wgs84' };
    var params = new URLSearchParams({
      lon: latlng.lng.toFixed(7), lat: latlng.lat.toFixed(7), crs: spec.crs || 'wgs84', date: P.effective.value || R.data.date
    });
    document.documentElement.setAttribute('data-rm-selected', '');
    return api(P.urls.at + '?' + params.toString()).then(function (answer) {
      choosePlaces(answer, keep);
      document.documentElement.setAttribute('data-rm-selected', P.place ? P.place.feature_id : '-');
    }, failed);
  }

  function panel(map) {
    var W = P.words;
    var Ctl = L.Control.extend({
      options: { position: 'topright' },
      onAdd: function () {
        var box = el('div', 'rm-pe leaflet-control leaflet-bar');
        var toggle = add(box, 'button', 'rm-pe-toggle', W.edit_button);
        toggle.type = 'button';
        toggle.setAttribute('aria-pressed', 'false');
        // The panel is a drawer over the map's right side (above the layer list and the legend,
        // which a tall panel stacked among the controls would run into).
        var body = add(map.getContainer(), 'div', 'rm-pe-body');
        body.hidden = true;
        var head = add(body, 'div', 'rm-pe-head');
        add(head, 'h3', 'rm-pe-title', W.edit_title);
        var close = add(head, 'button', 'rm-pe-close', '\u00d7');
        close.type = 'button';
        close.title = W.edit_close;
        close.setAttribute('aria-label', W.edit_close);
        P.status = add(body, 'div', 'rm-pe-status', W.edit_hint);
        P.status.setAttribute('role', 'status');
        var common = add(body, 'div', 'rm-pe-common');
        var date = el('input', 'rm-pe-effective');
        date.type = 'date';
        date.value = R.data.date;
        P.effective = field(common, W.edit_effective, date);
        var reason = el('textarea', 'rm-pe-reason');
        reason.rows = 2;
        reason.maxLength = 2000;
        P.reason = field(common, W.edit_reason, reason);
        P.choices = add(body, 'div', 'rm-pe-choices');
        P.form = add(body, 'div', 'rm-pe-form');
        var buttons = add(body, 'div', 'rm-pe-buttons');
        var previewButton = add(buttons, 'button', 'rm-pe-preview', W.edit_preview);
        previewButton.type = 'button';
        P.confirm = add(buttons, 'button', 'rm-pe-confirm', W.edit_confirm);
        P.confirm.type = 'button';
        P.confirm.disabled = true;
        P.result = add(body, 'div', 'rm-pe-result');
        previewButton.addEventListener('click', preview);
        P.confirm.addEventListener('click', confirmChange);
        reason.addEventListener('input', forgetPreview);
        // The rows in force depend on the effective date: ask again for the selected place.
        date.addEventListener('change', function () { forgetPreview(); reloadPlace(); });
        close.addEventListener('click', function () { toggle.click(); });
        L.DomEvent.disableClickPropagation(body);
        // A button the panel removes while handling its click (a unit picked) is no longer inside
        // the panel when Leaflet looks at the click: stop clicks here so the map never sees them.
        L.DomEvent.on(body, 'click', L.DomEvent.stopPropagation);
        L.DomEvent.disableScrollPropagation(body);
        toggle.addEventListener('click', function () {
          P.editing = !P.editing;
          body.hidden = !P.editing;
          toggle.setAttribute('aria-pressed', String(P.editing));
          box.classList.toggle('rm-pe-on', P.editing);
          map.getContainer().classList.toggle('rm-editing', P.editing);
          toggle.textContent = P.editing ? W.edit_close : W.edit_button;
          if (P.editing) { map.closePopup(); }
        });
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
        return box;
      }
    });
    new Ctl().addTo(map);
    map.on('click', function (e) {
      if (!P.editing || R.measuring) { return; }
      map.closePopup();  // in edit mode a click selects; the lookup popup would only cover the map
      selectAt(e.latlng);
    });
  }

  function flash(map) {
    var note = null;
    try { note = window.sessionStorage.getItem(FLASH_KEY); window.sessionStorage.removeItem(FLASH_KEY); } catch (e) { note = null; }
    if (!note) { return; }
    var box = el('div', 'rm-pe-flash', note);
    box.setAttribute('role', 'status');
    map.getContainer().appendChild(box);
    setTimeout(function () { if (box.parentNode) { box.parentNode.removeChild(box); } }, 8000);
  }

  P.start = function (map, spec) {
    P.spec = spec;
    P.words = spec.labels;
    P.urls = spec.urls;
    var root = document.documentElement;
    if (!csrf()) { root.setAttribute('data-planner-edit', 'signed-out'); return; }
    watchPopups(map);
    flash(map);
    api(P.urls.me).then(function (me) {
      P.me = me;
      if (spec.roles.indexOf(me.role) < 0) { root.setAttribute('data-planner-edit', 'none'); return null; }
      return api(P.urls.units).then(function (answer) {
        P.units = (answer.units || []).map(function (u) { return { unit_id: String(u.unit_id), name: u.name ? String(u.name) : '' }; });
        panel(map);
        root.setAttribute('data-planner-edit', 'ready');
      });
    }).catch(function (error) {
      root.setAttribute('data-planner-edit', error && error.status === 401 ? 'signed-out' : 'failed');
    });
  };

  var original = R.init;
  R.init = function (map, groups, layerControl, dataId) {
    original.apply(R, arguments);
    if (R.data && R.data.planner_edit) { P.start(map, R.data.planner_edit); }
  };
})();
