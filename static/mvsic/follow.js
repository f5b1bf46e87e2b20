/*
 * Mvsic follow button: follows or unfollows the artist through the events API. The page
 * shows the fan's state as the server knew it; a click shows the new state at once and
 * sends it (the same event id on retry). Progressive: without JS the state is still shown.
 *
 * Markup: [data-follow] with data-artist, data-events-url; inside, a [data-follow-button]
 * (aria-pressed: following) and a [data-follow-status].
 */
(function () {
  "use strict";

  var RETRY_DELAYS_MS = [1000, 3000, 8000];
  var eventTime = window.MvsicEvents.time;
  var eventId = window.MvsicEvents.id;

  function send(url, event, attempt) {
    attempt = attempt || 0;
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(event),
      credentials: "same-origin",
    }).then(function (response) {
      if (response.ok) return response;
      var error = new Error("HTTP " + response.status);
      error.retry = response.status >= 500 || response.status === 429;
      throw error;
    }).catch(function (error) {
      if (error.retry === false || attempt >= RETRY_DELAYS_MS.length) throw error;
      return new Promise(function (resolve) {
        setTimeout(resolve, RETRY_DELAYS_MS[attempt]);
      }).then(function () {
        return send(url, event, attempt + 1);
      });
    });
  }

  function bind(root) {
    var button = root.querySelector("[data-follow-button]");
    var status = root.querySelector("[data-follow-status]");
    var count = root.querySelector("[data-count=followers]");
    var artist = parseInt(root.dataset.artist, 10);
    var queue = Promise.resolve();
    var pending = 0;

    function render(following) {
      button.setAttribute("aria-pressed", following ? "true" : "false");
      button.textContent = following ? "Following" : "Follow";
    }

    button.disabled = false;
    button.addEventListener("click", function () {
      var following = button.getAttribute("aria-pressed") !== "true";
      render(following);
      if (count) count.textContent = Math.max(0, parseInt(count.textContent, 10) + (following ? 1 : -1));
      var event = { id: eventId(), type: following ? "follow" : "unfollow", artist: artist, ts: eventTime() };
      pending += 1;
      button.dataset.sync = "pending";
      status.textContent = "";
      // One at a time, so the server sees follow/unfollow in the order they were clicked.
      queue = queue.then(function () {
        return send(root.dataset.eventsUrl, event).then(function () {
          pending -= 1;
          if (pending === 0) button.dataset.sync = "sent";
        }, function (error) {
          pending -= 1;
          button.dataset.sync = "failed";
          status.textContent = "Could not save your follow (" + error.message + ").";
        });
      });
    });
  }

  if (!window.fetch) return;
  Array.prototype.forEach.call(document.querySelectorAll("[data-follow]"), bind);
})();
