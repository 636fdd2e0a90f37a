/* Rantang Kasih's service worker: the day's list and the pages' files stay on the phone, so that
   the page opens with no network. Files (hashed names, never changed) come from the cache first;
   the day's pages from the network first, the last good copy when there is none. Writes are not
   touched here: the page's own script queues them (app.js). */
"use strict";
var CACHE = "rantang-pages-v2";
var PAGES = ["/warung", "/relawan", "/relawan/makan"];
var PAGE_PREFIXES = ["/relawan/klaim/"];  /* a claimed person's page, where visits are logged */

function kept(path) {
  return PAGES.indexOf(path) !== -1 || PAGE_PREFIXES.some(function (prefix) { return path.indexOf(prefix) === 0; });
}

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) { return; }
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(caches.open(CACHE).then(function (cache) {
      return cache.match(request).then(function (found) {
        return found || fetch(request).then(function (response) {
          if (response.ok) { cache.put(request, response.clone()); }
          return response;
        });
      });
    }));
  } else if (request.mode === "navigate" && kept(url.pathname)) {
    event.respondWith(caches.open(CACHE).then(function (cache) {
      return fetch(request).then(function (response) {
        if (response.ok && !response.redirected) { cache.put(url.pathname, response.clone()); }
        return response;
      }, function () {
        return cache.match(url.pathname).then(function (found) { return found || Response.error(); });
      });
    }));
  }
});
