/* Rantang Kasih's service worker: the day's list and the pages' files stay on the phone, so that
   the page opens with no network. Files (hashed names, never changed) come from the cache first;
   the day's pages from the network first, the last good copy when there is none. Writes are not
   touched here: the page's own script queues them (app.js). */
"use strict";
var CACHE = "rantang-pages-v1";
var PAGES = ["/warung", "/relawan", "/relawan/makan"];

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
  } else if (request.mode === "navigate" && PAGES.indexOf(url.pathname) !== -1) {
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
