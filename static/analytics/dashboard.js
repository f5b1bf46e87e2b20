/*
 * Artist dashboard: the page is rendered with current numbers; this refreshes them in place
 * from GET /api/v1/artists/<slug>/stats/ every data-refresh-ms, and draws the hourly chart.
 */
(function () {
  "use strict";

  var root = document.querySelector("[data-dashboard]");
  if (!root) return;

  var statsUrl = root.dataset.statsUrl;
  var refreshMs = Math.max(parseInt(root.dataset.refreshMs, 10) || 5000, 500);
  var trackUrl = root.dataset.trackUrl; // ends with /0/; the 0 is replaced by a track id
  var filteredUrl = root.dataset.filteredUrl;
  var filteredTotal = root.querySelector("[data-filtered-total]");
  var updatedAgo = root.querySelector("[data-updated-ago]");
  var errorBox = root.querySelector("[data-refresh-error]");
  var tbody = root.querySelector("[data-tracks-table] tbody");
  var chartBox = root.querySelector("[data-chart]");
  var numberFormat = new Intl.NumberFormat();
  var FIGURES = ["plays", "likes", "listeners", "plays_24h", "likes_24h", "listeners_24h"];
  var COLUMNS = ["plays", "likes", "listeners", "plays_24h", "likes_24h", "listeners_24h"];

  var lastSuccess = Date.now();
  var failures = 0;
  var plot = null;

  function renderFigures(stats) {
    FIGURES.forEach(function (name) {
      var el = root.querySelector('[data-figure="' + name + '"]');
      if (!el) return;
      var value = Number(stats[name]) || 0;
      if (el.dataset.value !== String(value)) {
        el.classList.remove("changed");
        void el.offsetWidth; // restart the highlight animation
        el.classList.add("changed");
      }
      el.dataset.value = String(value);
      el.textContent = numberFormat.format(value);
    });
  }

  function total(byReason) {
    return Object.keys(byReason || {}).reduce(function (sum, reason) {
      return sum + (Number(byReason[reason]) || 0);
    }, 0);
  }

  function filteredCell(track) {
    var td = cell("", "num", "filtered");
    var link = document.createElement("a");
    link.href = filteredUrl + "#track-" + track.id;
    link.textContent = numberFormat.format(total(track.filtered)) + " filtered";
    td.appendChild(link);
    return td;
  }

  function cell(text, className, column) {
    var td = document.createElement("td");
    if (className) td.className = className;
    if (column) td.dataset.col = column;
    td.textContent = text;
    return td;
  }

  function renderTable(tracks) {
    var rows = document.createDocumentFragment();
    if (!tracks.length) {
      var empty = document.createElement("tr");
      empty.className = "empty-row";
      var td = cell("No tracks yet.");
      td.colSpan = 9;
      empty.appendChild(td);
      rows.appendChild(empty);
    }
    tracks.forEach(function (track) {
      var tr = document.createElement("tr");
      tr.dataset.trackId = String(track.id);
      var title = document.createElement("td");
      var link = document.createElement("a");
      link.href = trackUrl.replace(/\/0\/$/, "/" + track.id + "/");
      link.textContent = track.title;
      title.appendChild(link);
      tr.appendChild(title);
      tr.appendChild(cell(Math.round(track.duration) + " s", "num"));
      COLUMNS.forEach(function (name) {
        tr.appendChild(cell(numberFormat.format(Number(track[name]) || 0), "num", name));
      });
      tr.appendChild(filteredCell(track));
      rows.appendChild(tr);
    });
    tbody.replaceChildren(rows);
  }

  function chartData(series) {
    var xs = [], plays = [], likes = [];
    series.forEach(function (point) {
      xs.push(Date.parse(point.hour) / 1000);
      plays.push(point.plays);
      likes.push(point.likes);
    });
    return [xs, plays, likes];
  }

  function chartWidth() {
    return Math.max(chartBox.clientWidth, 280);
  }

  function renderChart(series) {
    if (!chartBox || typeof window.uPlot === "undefined") return;
    var data = chartData(series);
    if (plot) {
      plot.setData(data);
      return;
    }
    var bars = window.uPlot.paths.bars;
    plot = new window.uPlot(
      {
        width: chartWidth(),
        height: 260,
        scales: {
          // Half an hour of room on each side so the first and last bars are whole.
          x: {
            time: true,
            range: function (u, min, max) {
              return [min - 1800, max + 1800];
            },
          },
          y: {
            range: function (u, min, max) {
              return [0, Math.max(4, Math.ceil(max * 1.15))];
            },
          },
        },
        axes: [
          { stroke: "#676779", grid: { stroke: "#eeeef4" } },
          { stroke: "#676779", grid: { stroke: "#eeeef4" }, size: 44 },
        ],
        series: [
          { label: "Hour" },
          {
            label: "Plays",
            stroke: "#5b3fd1",
            fill: "rgba(91, 63, 209, 0.45)",
            width: 1,
            paths: bars ? bars({ size: [0.9, 14] }) : undefined,
            points: { show: false },
          },
          {
            label: "Likes",
            stroke: "#e0245e",
            fill: "rgba(224, 36, 94, 0.75)",
            width: 1,
            paths: bars ? bars({ size: [0.45, 7] }) : undefined,
            points: { show: false },
          },
        ],
        legend: { live: true },
      },
      data,
      chartBox
    );
    if (window.ResizeObserver) {
      new ResizeObserver(function () {
        plot.setSize({ width: chartWidth(), height: 260 });
      }).observe(chartBox);
    }
  }

  function render(stats) {
    renderFigures(stats);
    if (filteredTotal) {
      filteredTotal.textContent = numberFormat.format(total(stats.filtered)) + " filtered";
    }
    renderTable(stats.tracks || []);
    renderChart(stats.series || []);
  }

  function showError(message) {
    root.classList.add("is-stale");
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  function clearError() {
    root.classList.remove("is-stale");
    errorBox.hidden = true;
    errorBox.textContent = "";
  }

  function tick() {
    var seconds = Math.max(0, Math.floor((Date.now() - lastSuccess) / 1000));
    updatedAgo.textContent = seconds < 1 ? "updated just now" : "updated " + seconds + " s ago";
    updatedAgo.dataset.seconds = String(seconds);
  }

  function refresh() {
    fetch(statsUrl, {
      credentials: "include",
      cache: "no-store",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        if (response.status === 401 || response.status === 403) {
          var denied = new Error("Your session has ended. Log in again to see new numbers.");
          denied.fatal = true;
          throw denied;
        }
        if (!response.ok) throw new Error("The server answered " + response.status + ".");
        return response.json();
      })
      .then(function (stats) {
        lastSuccess = Date.now();
        failures = 0;
        clearError();
        render(stats);
        root.dataset.refreshes = String((parseInt(root.dataset.refreshes, 10) || 0) + 1);
        tick();
      })
      .catch(function (error) {
        failures += 1;
        var reason = error instanceof TypeError ? "The server cannot be reached." : error.message;
        showError(
          "Could not refresh the numbers: " + reason + " Showing figures from " +
          Math.floor((Date.now() - lastSuccess) / 1000) + " s ago; retrying."
        );
      })
      .then(function () {
        // Back off while failing, up to ten times the normal interval.
        setTimeout(refresh, refreshMs * Math.min(1 + failures, 10));
      });
  }

  var initial = document.getElementById("dashboard-stats");
  render(initial ? JSON.parse(initial.textContent) : { tracks: [], series: [] });
  // Numbers rendered by the server should not flash as "changed" on load.
  root.querySelectorAll(".changed").forEach(function (el) { el.classList.remove("changed"); });
  tick();
  setInterval(tick, 1000);
  setTimeout(refresh, refreshMs);
})();
