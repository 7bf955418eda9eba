/* The staff scanner's service worker: keeps the page and its scripts so the desk works offline.
   Network first (a desk online always gets the current page), the cache when the network fails.
   The API (/api/…) is never touched here: its data lives in IndexedDB, and a failed sync must fail. */
const CACHE = "__CACHE__";
const ASSETS = __ASSETS__;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(ASSETS)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  const path = url.pathname;
  if (!ASSETS.includes(path)) return;
  event.respondWith(
    fetch(event.request).then((response) => {
      if (response.ok) {
        const copy = response.clone();
        caches.open(CACHE).then((cache) => cache.put(path, copy));
      }
      return response;
    }).catch(() => caches.match(path).then((hit) => hit || Response.error()))
  );
});
