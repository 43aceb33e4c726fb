/*
 * respmap /login: a token becomes the browser's session (POST /login sets an HttpOnly
 * cookie and a readable CSRF value), then the page named in ?next= opens. Only a path
 * on this site is followed (never "//host" or "https://..."), so a link cannot use the
 * sign-in page to send someone elsewhere.
 */
(function () {
  'use strict';

  var F = window.respmapField;

  /** ?next= when it is a path on this site, else the home page of the role. */
  function nextUrl(urls, role) {
    var wanted = new URLSearchParams(window.location.search).get('next') || '';
    if (/^\/(?![\/\\])[^\s]*$/.test(wanted) && wanted.indexOf('\\') < 0) { return wanted; }
    return urls['home_' + role] || urls.prefix + '/';
  }

  function init() {
    var data = F.data('respmap-field-data'), W = data.labels, urls = data.urls;
    var body = document.getElementById('field-body');
    var status = document.getElementById('field-status');
    var form = F.add(body, 'form', 'field-form login-form');
    form.noValidate = true;
    F.add(form, 'p', 'field-hint', W.login_hint);
    var label = F.add(form, 'label', 'field-label', W.token);
    label.htmlFor = 'login-token';
    var input = F.add(form, 'input', 'field-input');
    input.id = 'login-token';
    input.type = 'password';
    input.autocomplete = 'off';
    input.required = true;
    input.maxLength = 200;
    var button = F.add(form, 'button', 'field-primary', W.sign_in);
    button.type = 'submit';
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var token = input.value.trim();
      if (!token) { status.textContent = W.login_hint; return; }
      button.disabled = true;
      status.className = 'field-status';
      status.textContent = W.signing_in;
      F.api(urls.login, { method: 'POST', json: { token: token } }).then(function (me) {
        window.location.assign(nextUrl(urls, me.role));
      }, function (error) {
        status.className = 'field-status field-error';
        status.textContent = W.login_failed + ': ' + String(error.message || error);
        button.disabled = false;
      });
    });
    input.focus();
    window.respmapReady = true;
  }

  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', init); } else { init(); }
})();
