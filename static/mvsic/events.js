/*
 * What the player and the follow button stamp their events with (window.MvsicEvents):
 *   time(): when it happened, on a clock that only moves forward: the server's time when the
 *     page was made plus the page's monotonic time since (performance.now). A wrong clock on
 *     the fan's device, or a step of the server's, cannot reorder a like and an unlike.
 *   id(): a new event id, a UUIDv7 (RFC 9562): 48 bits of milliseconds, then random bits.
 *     Ids made close in time are close in the deduplication index, so counting appends to
 *     it instead of writing pages at random (docs/scaling.md).
 */
(function () {
  "use strict";

  var pageTime = document.querySelector("[data-server-time]");
  var serverOrigin = pageTime ? Date.parse(pageTime.dataset.serverTime) : NaN;
  var perfOrigin = window.performance ? performance.now() : 0;

  function time() {
    var now = window.performance ? performance.now() : perfOrigin;
    var base = isNaN(serverOrigin) ? Date.now() - now : serverOrigin - perfOrigin;
    return new Date(base + now).toISOString();
  }

  function id() {
    // getRandomValues works outside a secure context too (randomUUID does not).
    var bytes = new Uint8Array(16);
    if (window.crypto && window.crypto.getRandomValues) {
      window.crypto.getRandomValues(bytes);
    } else {
      for (var i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
    }
    var ms = Date.now();
    for (var b = 5; b >= 0; b--) {
      bytes[b] = ms % 256;
      ms = Math.floor(ms / 256);
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x70;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (v) {
      return (v < 16 ? "0" : "") + v.toString(16);
    }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  window.MvsicEvents = { time: time, id: id };
})();
