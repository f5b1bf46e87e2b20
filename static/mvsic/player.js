/*
 * Mvsic player: counts the seconds a fan actually listened and reports one play per playback,
 * then one listening summary ("heard": the ranges of the track played) when the playback ends
 * or the page is hidden; the heart sends like/unlike. Progressive: without JS the
 * <audio controls> still plays.
 *
 * Markup: [data-player] with data-track, data-duration, data-threshold,
 * data-events-url, data-source, and inside an <audio>, a [data-like] button, a [data-status].
 */
(function () {
  "use strict";

  // Gaps in currentTime larger than this between two timeupdates are seeks, not listening.
  var MAX_STEP_SECONDS = 2;
  // Floating point slack when the whole (short) track is the requirement.
  var END_SLACK_SECONDS = 0.25;
  var RETRY_DELAYS_MS = [1000, 3000, 8000];
  // The events API takes 1 to 100 [start, end] ranges in a summary.
  var MAX_RANGES = 100;
  // What the events API takes as a referrer: a DNS host name (labels of letters, digits and
  // hyphens, no hyphen at either end), at most 253 characters. Anything else is left out
  // rather than have the whole event refused.
  var HOST_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
  var MAX_HOST_NAME = 253;

  var eventTime = window.MvsicEvents.time;
  var eventId = window.MvsicEvents.id;

  // POST one event; the same id is reused on retry, so the server counts it at most once.
  function sendEvent(url, event, attempt) {
    attempt = attempt || 0;
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(event),
      credentials: "same-origin",
      keepalive: true,
    }).then(function (response) {
      // 4xx other than 429 will not get better by retrying.
      if (response.ok) return response;
      var error = new Error("HTTP " + response.status);
      error.retry = response.status >= 500 || response.status === 429;
      throw error;
    }).catch(function (error) {
      if (error.retry === false || attempt >= RETRY_DELAYS_MS.length) throw error;
      return new Promise(function (resolve) {
        setTimeout(resolve, RETRY_DELAYS_MS[attempt]);
      }).then(function () {
        return sendEvent(url, event, attempt + 1);
      });
    });
  }

  // The host of the page that linked here when it is another site, lower case; "" otherwise.
  function externalReferrer() {
    var url;
    if (!document.referrer) return "";
    try {
      url = new URL(document.referrer);
    } catch (e) {
      return "";
    }
    if (url.host.toLowerCase() === window.location.host.toLowerCase()) return "";
    var host = url.hostname.toLowerCase().replace(/\.$/, "");
    return host.length <= MAX_HOST_NAME && HOST_NAME.test(host) ? host : "";
  }

  // Hand one event to the browser for delivery even as the page goes away. A beacon carries
  // all the API needs from a same-origin page (the listener cookie, Content-Type, an Origin of
  // this site); no CSRF token is asked of events. It cannot be retried, and neither can a
  // request that outlives its page.
  function sendBeaconEvent(url, event) {
    var body = JSON.stringify(event);
    var queued = false;
    if (navigator.sendBeacon) {
      try {
        queued = navigator.sendBeacon(url, new Blob([body], { type: "application/json" }));
      } catch (e) {
        queued = false; // a browser that refuses a JSON Blob in a beacon
      }
    }
    if (queued || !window.fetch) return queued;
    fetch(url, {
      method: "POST",
      keepalive: true,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: body,
    }).catch(function () { /* the page is going away: nothing left to tell the fan */ });
    return true;
  }

  // Add [start, end] to sorted, disjoint ranges, merging where they overlap or touch.
  function rangesAdd(ranges, start, end) {
    var merged = [];
    var i = 0;
    while (i < ranges.length && ranges[i][1] < start) merged.push(ranges[i++]);
    while (i < ranges.length && ranges[i][0] <= end) {
      start = Math.min(start, ranges[i][0]);
      end = Math.max(end, ranges[i][1]);
      i++;
    }
    merged.push([start, end]);
    while (i < ranges.length) merged.push(ranges[i++]);
    // Past the API's limit, close the smallest gap: a few unplayed moments count as heard.
    while (merged.length > MAX_RANGES) {
      var best = 1;
      for (var k = 2; k < merged.length; k++) {
        if (merged[k][0] - merged[k - 1][1] < merged[best][0] - merged[best - 1][1]) best = k;
      }
      merged.splice(best - 1, 2, [merged[best - 1][0], merged[best][1]]);
    }
    return merged;
  }

  function secondsRound(value) {
    return Math.round(value * 1000) / 1000;
  }

  var storage = {
    get: function (key) {
      try { return window.localStorage.getItem(key); } catch (e) { return null; }
    },
    set: function (key, value) {
      try { window.localStorage.setItem(key, value); } catch (e) { /* private mode */ }
    },
  };

  function Player(root) {
    this.root = root;
    this.audio = root.querySelector("audio");
    this.likeButton = root.querySelector("[data-like]");
    this.status = root.querySelector("[data-status]");
    this.track = parseInt(root.dataset.track, 10);
    this.threshold = parseFloat(root.dataset.threshold) || 30;
    this.fallbackDuration = parseFloat(root.dataset.duration) || Infinity;
    this.eventsUrl = root.dataset.eventsUrl;
    this.source = root.dataset.source || "track-page";
    this.referrer = externalReferrer();
    this.likeQueue = Promise.resolve();
    this.likesPending = 0;
    this.resetPlayback();
    this.resetHeard();
    if (this.audio) {
      this.bindAudio();
      this.bindPageHide();
    }
    if (this.likeButton) this.bindLike();
  }

  Player.prototype.resetPlayback = function () {
    this.listened = 0;
    this.lastTime = null;
    this.counted = false;
  };

  // The parts of the track played since the last summary, in seconds of the track.
  Player.prototype.resetHeard = function () {
    this.heard = [];
  };

  Player.prototype.required = function () {
    var duration = this.audio.duration;
    if (!isFinite(duration) || duration <= 0) duration = this.fallbackDuration;
    if (duration <= this.threshold) return Math.max(duration - END_SLACK_SECONDS, 0.1);
    return this.threshold;
  };

  Player.prototype.setStatus = function (text, state) {
    if (!this.status) return;
    this.status.textContent = text;
    if (state) this.status.dataset.state = state;
    else delete this.status.dataset.state;
  };

  Player.prototype.bindAudio = function () {
    var self = this;
    var audio = this.audio;
    audio.addEventListener("playing", function () {
      self.lastTime = audio.currentTime;
      if (!self.counted) self.setStatus("Listening…", "listening");
    });
    audio.addEventListener("pause", function () {
      self.lastTime = null;
    });
    audio.addEventListener("seeking", function () {
      self.lastTime = null;
    });
    audio.addEventListener("seeked", function () {
      self.lastTime = audio.paused ? null : audio.currentTime;
    });
    audio.addEventListener("timeupdate", function () {
      if (audio.paused || audio.seeking) return;
      var now = audio.currentTime;
      if (self.lastTime !== null) {
        var step = now - self.lastTime;
        if (step > 0 && step <= MAX_STEP_SECONDS * Math.max(1, audio.playbackRate)) {
          self.listened += step;
          self.heard = rangesAdd(self.heard, self.lastTime, now);
        }
      }
      self.lastTime = now;
      self.maybeCount();
    });
    audio.addEventListener("ended", function () {
      self.maybeCount();
      self.sendSummary();
      // The next press of play is a new playback and may count again.
      self.resetPlayback();
    });
  };

  Player.prototype.bindPageHide = function () {
    var self = this;
    // The page may never be seen again (tab closed, app switched, navigation): summarise now.
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") self.sendSummary();
    });
    window.addEventListener("pagehide", function () {
      self.sendSummary();
    });
  };

  // One summary of what was played since the last one, if anything was.
  Player.prototype.sendSummary = function () {
    var ranges = [];
    for (var i = 0; i < this.heard.length; i++) {
      var start = secondsRound(this.heard[i][0]);
      var end = secondsRound(this.heard[i][1]);
      var last = ranges[ranges.length - 1];
      if (last && start <= last[1]) last[1] = Math.max(last[1], end); // met by rounding
      else if (end > start) ranges.push([start, end]);
    }
    // Sent once: listening on (e.g. after the page is shown again) gets a later summary of the new part only.
    this.resetHeard();
    if (!ranges.length) return;
    var event = {
      id: eventId(),
      ts: eventTime(),
      type: "heard",
      track: this.track,
      ranges: ranges,
      source: this.source,
    };
    if (this.referrer) event.referrer = this.referrer;
    if (sendBeaconEvent(this.eventsUrl, event)) {
      this.root.dataset.summariesSent = String((parseInt(this.root.dataset.summariesSent, 10) || 0) + 1);
    }
  };

  Player.prototype.maybeCount = function () {
    if (this.counted || this.listened < this.required()) return;
    this.counted = true;
    var self = this;
    var event = {
      id: eventId(),
      ts: eventTime(),
      type: "play",
      track: this.track,
      seconds: Math.round(this.listened * 10) / 10,
      source: this.source,
    };
    if (this.referrer) event.referrer = this.referrer;
    this.setStatus("Sending play…", "sending");
    sendEvent(this.eventsUrl, event).then(
      function () {
        self.root.dataset.playsSent = String((parseInt(self.root.dataset.playsSent, 10) || 0) + 1);
        self.setStatus("Play counted. Thanks for listening!", "counted");
      },
      function (error) {
        self.setStatus("Could not send the play (" + error.message + ").", "error");
      }
    );
  };

  Player.prototype.likeKey = function () {
    return "mvsic.liked." + this.track;
  };

  Player.prototype.renderLike = function (liked) {
    var button = this.likeButton;
    button.setAttribute("aria-pressed", liked ? "true" : "false");
    button.title = liked ? "Unlike" : "Like";
    button.querySelector(".heart").textContent = liked ? "♥" : "♡";
    button.querySelector(".like-label").textContent = liked ? "Liked" : "Like";
  };

  Player.prototype.bindLike = function () {
    var self = this;
    this.renderLike(storage.get(this.likeKey()) === "1");
    this.likeButton.addEventListener("click", function () {
      var liked = self.likeButton.getAttribute("aria-pressed") !== "true";
      self.renderLike(liked);
      storage.set(self.likeKey(), liked ? "1" : "0");
      var event = {
        id: eventId(),
        ts: eventTime(),
        type: liked ? "like" : "unlike",
        track: self.track,
        source: self.source,
      };
      self.likesPending += 1;
      self.likeButton.dataset.sync = "pending";
      // One at a time, so the server sees like/unlike in the order they were clicked.
      self.likeQueue = self.likeQueue.then(function () {
        return sendEvent(self.eventsUrl, event).then(
          function () {
            self.likesPending -= 1;
            if (self.likesPending === 0) self.likeButton.dataset.sync = "sent";
          },
          function (error) {
            self.likesPending -= 1;
            self.likeButton.dataset.sync = "failed";
            self.setStatus("Could not save your like (" + error.message + ").", "error");
          }
        );
      });
    });
  };

  function init() {
    var players = Array.prototype.map.call(document.querySelectorAll("[data-player]"), function (root) {
      return new Player(root);
    });
    // One track at a time: starting a player pauses the others.
    document.addEventListener("play", function (event) {
      players.forEach(function (player) {
        if (player.audio && player.audio !== event.target && !player.audio.paused) player.audio.pause();
      });
    }, true);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();

/*
 * Level and waveform. Every track plays at about the same loudness: its measured integrated
 * loudness (data-loudness, LUFS) is brought towards TARGET_LUFS by the volume, never above
 * 1.0 (a quiet track is left as it is). The waveform (data-peaks on a [data-waveform]
 * canvas) shows the track's peak levels with the part played so far, and a click seeks.
 */
(function () {
  "use strict";

  var TARGET_LUFS = -14;

  function levelApply(root, audio) {
    var loudness = parseFloat(root.dataset.loudness);
    if (!isFinite(loudness)) return;
    audio.volume = Math.min(1, Math.pow(10, (TARGET_LUFS - loudness) / 20));
    root.dataset.gain = audio.volume.toFixed(3);
  }

  function Waveform(canvas, audio) {
    this.canvas = canvas;
    this.audio = audio;
    this.peaks = canvas.dataset.peaks.split(",").map(parseFloat);
    var self = this;
    ["timeupdate", "seeked", "loadedmetadata", "ended"].forEach(function (name) {
      audio.addEventListener(name, function () { self.draw(); });
    });
    window.addEventListener("resize", function () { self.draw(); });
    canvas.addEventListener("click", function (event) {
      var duration = audio.duration;
      if (!isFinite(duration) || duration <= 0) return;
      var box = canvas.getBoundingClientRect();
      audio.currentTime = Math.max(0, Math.min(1, (event.clientX - box.left) / box.width)) * duration;
    });
    this.draw();
  }

  Waveform.prototype.draw = function () {
    var canvas = this.canvas;
    var ratio = window.devicePixelRatio || 1;
    var width = canvas.clientWidth || 300;
    var height = canvas.clientHeight || 48;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    var context = canvas.getContext("2d");
    if (!context) return;
    context.scale(ratio, ratio);
    context.clearRect(0, 0, width, height);
    var duration = this.audio.duration;
    var played = isFinite(duration) && duration > 0 ? this.audio.currentTime / duration : 0;
    var count = this.peaks.length;
    var bar = width / count;
    for (var i = 0; i < count; i++) {
      var level = Math.max(0.02, Math.min(1, this.peaks[i] || 0));
      var barHeight = level * height;
      context.fillStyle = (i + 0.5) / count <= played ? "#6d28d9" : "#c4b5fd";
      context.fillRect(i * bar, (height - barHeight) / 2, Math.max(1, bar - 1), barHeight);
    }
    this.canvas.dataset.drawn = String(count);
  };

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-player]"), function (root) {
      var audio = root.querySelector("audio");
      if (!audio) return;
      levelApply(root, audio);
      var canvas = root.querySelector("[data-waveform]");
      if (canvas && canvas.dataset.peaks) new Waveform(canvas, audio);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
