/*
 * The dashboard's "Your tracks" panel: while a track is processing, the list is fetched
 * again every few seconds and replaced in place, so processing turns into ready or failed
 * (with its reason) without a reload. Without JS a reload shows the same.
 *
 * Markup: [data-uploads] with data-url (the list alone) and data-refresh-ms, holding
 * [data-uploads-list], whose table carries data-processing while a track processes.
 */
(function () {
  "use strict";

  var panel = document.querySelector("[data-uploads]");
  if (!panel) return;
  var list = panel.querySelector("[data-uploads-list]");
  var every = parseInt(panel.dataset.refreshMs, 10) || 2000;

  function processing() {
    return !!list.querySelector("[data-processing]");
  }

  function refresh() {
    if (!processing()) return;
    fetch(panel.dataset.url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        list.innerHTML = html;
      })
      .catch(function () { /* try again on the next tick */ })
      .then(function () {
        if (processing()) window.setTimeout(refresh, every);
      });
  }

  window.setTimeout(refresh, every);
})();
