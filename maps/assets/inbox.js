/*
 * respmap /inbox: a unit's open cases, overdue first then due soonest (the order
 * GET /cases gives), each with its photo, a small map of the place and the deadline.
 * The unit answers "rectified" (已整改: a note and a photo after) or "dispute"
 * (申请改派: a reason). Who reported a case is never shown: the server does not tell
 * a unit, and this page has nowhere to put it.
 */
(function () {
  'use strict';

  var F = window.respmapField;
  var I = { maps: [] };
  window.respmapInbox = I;
  var UNIT_ACTIONS = ['rectify', 'dispute'];

  function eventsUrl(c) { return I.urls.cases + '/' + encodeURIComponent(c.case_id) + '/events'; }

  function actionForm(card, c, action) {
    var W = I.words;
    var old = card.querySelector('.field-action-form');
    if (old) { old.parentNode.removeChild(old); }
    var form = F.add(card, 'div', 'field-action-form');
    form.dataset.action = action;
    var label = F.add(form, 'label', 'field-label', action === 'dispute' ? W.reason : W.note);
    var note = F.add(form, 'textarea', 'field-textarea');
    note.maxLength = 4000;
    note.rows = 3;
    note.id = 'note-' + action + '-' + c.case_id.replace(/[^A-Za-z0-9_-]/g, '_');
    label.htmlFor = note.id;
    var picker = action === 'rectify' ? F.photoPicker(form, W, I.data.photo_limit_bytes, W.after_photo) : null;
    var row = F.add(form, 'div', 'field-row');
    var submit = F.add(row, 'button', 'field-primary', W.submit);
    submit.type = 'button';
    var cancel = F.add(row, 'button', 'field-secondary', W.cancel);
    cancel.type = 'button';
    var status = F.add(form, 'p', 'field-form-status');
    status.setAttribute('role', 'status');
    cancel.addEventListener('click', function () { form.parentNode.removeChild(form); });
    submit.addEventListener('click', function () {
      if (action === 'dispute' && !note.value.trim()) { status.textContent = W.reason; status.className = 'field-form-status field-error'; return; }
      submit.disabled = true;
      (picker ? picker.get() : Promise.resolve(null)).then(function (photo) {
        var body = new FormData();
        body.append('action', action);
        body.append('note', note.value);
        body.append('version', String(c.version));
        if (photo) { body.append('photo', photo.blob, 'photo.jpg'); }
        return F.api(eventsUrl(c), { method: 'POST', body: body });
      }).then(function () {
        I.say(W.done + ': ' + c.case_id + ' · ' + W[action]);
        return I.load();
      }, function (error) {
        status.className = 'field-form-status field-error';
        status.textContent = String(error.message || error);
        submit.disabled = false;
      });
    });
    note.focus();
  }

  function card(list, c, withActions) {
    var W = I.words;
    var box = F.add(list, 'article', 'field-case' + (c.overdue ? ' field-case-late' : ''));
    box.dataset.caseId = c.case_id;
    F.caseHead(box, c, W);
    var media = F.add(box, 'div', 'field-media');
    var photos = F.splitPhotos(c);
    if (photos.before.length) { F.photo(media, photos.before[0], I.urls.prefix, false); } else { F.add(media, 'div', 'field-nophoto', W.no_photo); }
    I.maps.push(F.miniMap(media, c, I.urls));
    if (!withActions) { return box; }
    var row = F.add(box, 'div', 'field-actions');
    UNIT_ACTIONS.forEach(function (action) {
      if ((c.allowed_actions || []).indexOf(action) < 0) { return; }
      var b = F.add(row, 'button', action === 'rectify' ? 'field-primary' : 'field-secondary', W[action]);
      b.type = 'button';
      b.dataset.action = action;
      b.addEventListener('click', function () { actionForm(box, c, action); });
    });
    return box;
  }

  I.say = function (text, bad) {
    I.status.textContent = text || '';
    I.status.className = bad ? 'field-status field-error' : 'field-status';
  };

  I.load = function () {
    var W = I.words;
    I.maps.forEach(function (m) { m.remove(); });
    I.maps = [];
    var open = I.urls.cases + '?state=dispatched,postponed&limit=200';
    var waiting = I.urls.cases + '?state=rectified&limit=100';
    return Promise.all([F.api(open), F.api(waiting)]).then(function (answers) {
      F.clear(I.list);
      F.clear(I.waiting);
      var todo = answers[0].features || [], done = answers[1].features || [];
      if (!todo.length) { F.add(I.list, 'p', 'field-empty', W.inbox_empty); }
      todo.forEach(function (f) { card(I.list, f.properties, true); });
      I.waitingTitle.hidden = !done.length;
      done.forEach(function (f) { card(I.waiting, f.properties, false); });
      I.cases = todo.map(function (f) { return f.properties.case_id; });
      document.documentElement.setAttribute('data-inbox-loaded', String(Date.now()));
    }, function (error) { I.say(W.load_failed + ': ' + String(error.message || error), true); });
  };

  function init() {
    var data = I.data = F.data('respmap-field-data');
    var W = I.words = data.labels;
    I.urls = data.urls;
    I.status = document.getElementById('field-status');
    var body = document.getElementById('field-body');
    I.say(W.loading);
    F.requireUser(I.urls).then(function (me) {
      I.me = me;
      if (me.role !== 'unit' && me.role !== 'admin') {
        I.say(W.wrong_role.replace('{roles}', W.role_unit).replace('{role}', me.role), true);
        window.respmapReady = true;
        return;
      }
      F.userBar(body, me, W, I.urls);
      I.list = F.add(body, 'section', 'field-list');
      I.waitingTitle = F.add(body, 'h2', 'field-subtitle', W.inbox_waiting);
      I.waiting = F.add(body, 'section', 'field-list field-list-waiting');
      I.say('');
      return I.load().then(function () { window.respmapReady = true; });
    }, function (error) { I.say(W.load_failed + ': ' + String(error.message || error), true); });
  }

  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', init); } else { init(); }
})();
