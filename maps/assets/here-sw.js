/*
 * respmap /here: the service worker that lets the phone page open with no signal.
 *
 * The page, once loaded online, hands the worker the files it was built from (its own
 * URL, scripts, styles, the categories); the worker keeps them in one cache. Afterwards
 * they are fetched network-first: fresh when there is signal (so an upgraded server's
 * scripts are never hidden behind old copies), the kept copy when not. Nothing else is touched: lookups,
 * reports and every other page go to the network as if there were no worker (a report
 * made offline waits in IndexedDB, see here-report.js).
 */
'use strict';

var CACHE = 'respmap-here-v1';
var BASE = new URL(self.registration.scope).pathname.replace(/\/$/, '');

self.addEventListener('install', function () { self.skipWaiting(); });
self.addEventListener('activate', function (event) { event.waitUntil(self.clients.claim()); });

self.addEventListener('message', function (event) {
  var data = event.data || {};
  if (!Array.isArray(data.cache)) { return; }
  var urls = data.cache.filter(function (u) {
    try { return new URL(u, self.location.href).origin === self.location.origin; } catch (e) { return false; }
  });
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(urls); }).then(function () {
    if (event.source) { event.source.postMessage({ cached: urls.length }); }
  }, function (error) {
    if (event.source) { event.source.postMessage({ cached: 0, error: String(error) }); }
  }));
});

function networkFirst(request) {
  return fetch(request).then(function (response) {
    if (response.ok) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
    }
    return response;
  }, function () {
    return caches.match(request, { ignoreSearch: request.mode === 'navigate' }).then(function (kept) {
      return kept || Response.error();
    });
  });
}

self.addEventListener('fetch', function (event) {
  var request = event.request;
  if (request.method !== 'GET') { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  var kept = url.pathname === BASE + '/here' || url.pathname === BASE + '/categories' || url.pathname.indexOf(BASE + '/assets/') === 0;
  if (kept) { event.respondWith(networkFirst(request)); }
});
