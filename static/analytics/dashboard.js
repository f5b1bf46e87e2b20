/*
 * Artist dashboard: the page is rendered with current numbers for the chosen period; this
 * refreshes them in place from GET /api/v1/artists/<slug>/stats/?<the same period query>
 * every data-refresh-ms, and draws the chart, the deltas, the tables and retention bars.
 */
(function () {
  "use strict";

  var root = document.querySelector("[data-dashboard]");
  if (!root) return;

  var query = root.dataset.query || "";
  var statsUrl = root.dataset.statsUrl + (query ? "?" + query : "");
  var compare = root.dataset.compare || "previous";
  var refreshMs = Math.max(parseInt(root.dataset.refreshMs, 10) || 5000, 500);
  var trackUrl = root.dataset.trackUrl; // ends with /0/; the 0 is replaced by a track id
  var filteredUrl = root.dataset.filteredUrl;
  var filteredTotal = root.querySelector("[data-filtered-total]");
  var updatedAgo = root.querySelector("[data-updated-ago]");
  var errorBox = root.querySelector("[data-refresh-error]");
  var tbody = root.querySelector("[data-tracks-table] tbody");
  var chartBox = root.querySelector("[data-chart]");
  var numberFormat = new Intl.NumberFormat();
  var percentFormat = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 0 });
  var FIGURES = ["plays", "likes", "listeners", "followers", "plays_24h", "likes_24h", "listeners_24h"];
  var PERIOD_FIGURES = ["plays", "likes", "listeners", "followers_gained"];
  var PERIOD_WORDS = {
    "24h": "24 hours", "7d": "7 days", "28d": "28 days", "12m": "12 months",
  };

  var lastSuccess = Date.now();
  var failures = 0;
  var plot = null;

  function setFigure(name, raw) {
    var el = root.querySelector('[data-figure="' + name + '"]');
    if (!el) return;
    var value = Number(raw) || 0;
    if (el.dataset.value !== String(value)) {
      el.classList.remove("changed");
      void el.offsetWidth; // restart the highlight animation
      el.classList.add("changed");
    }
    el.dataset.value = String(value);
    el.textContent = numberFormat.format(value);
  }

  function share(part, whole) {
    whole = Number(whole) || 0;
    return whole > 0 ? (Number(part) || 0) / whole : 0;
  }

  function comparedWith(stats) {
    if (compare === "year") return "the same days a year earlier";
    var words = PERIOD_WORDS[(stats.period || {}).name];
    return words ? "the previous " + words : "the previous period";
  }

  // "+12% vs the previous 7 days": the sign and the words say it, the colour only repeats it.
  function deltaText(current, previous, against) {
    current = Number(current) || 0;
    previous = Number(previous) || 0;
    if (previous === 0) {
      return current === 0
        ? { text: "no change vs " + against, trend: "flat" }
        : { text: "new vs " + against + " (none before)", trend: "up" };
    }
    var change = Math.round(((current - previous) / previous) * 100);
    if (change === 0) return { text: "no change vs " + against, trend: "flat" };
    return {
      text: (change > 0 ? "+" : "−") + numberFormat.format(Math.abs(change)) + "% vs " + against,
      trend: change > 0 ? "up" : "down",
    };
  }

  // Net new followers may be negative: "+3 vs ...", the difference, not a percentage.
  function differenceText(current, previous, against) {
    var change = (Number(current) || 0) - (Number(previous) || 0);
    if (change === 0) return { text: "no change vs " + against, trend: "flat" };
    return {
      text: (change > 0 ? "+" : "−") + numberFormat.format(Math.abs(change)) + " vs " + against,
      trend: change > 0 ? "up" : "down",
    };
  }

  function renderFigures(stats) {
    FIGURES.forEach(function (name) {
      setFigure(name, stats[name]);
    });
    var period = stats.period || {};
    var previous = stats.previous;
    var against = comparedWith(stats);
    PERIOD_FIGURES.forEach(function (name) {
      setFigure("period_" + name, period[name]);
      var el = root.querySelector('[data-delta="' + name + '"]');
      if (!el) return;
      if (!previous) {
        el.textContent = "";
        el.dataset.trend = "";
        return;
      }
      var delta = (name === "followers_gained" ? differenceText : deltaText)(
        period[name], previous[name], against);
      el.textContent = delta.text;
      el.dataset.trend = delta.trend;
      el.title = "Compared with " + previous.from + " – " + previous.to + ": " +
        numberFormat.format(Number(previous[name]) || 0);
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

  function percentOf(part, whole) {
    return (Number(whole) || 0) > 0 ? percentFormat.format(share(part, whole)) : "–";
  }

  // Twenty inline-block bars, each as tall as its share (a CSS custom property).
  function renderSpark(el, shares) {
    shares = shares || [];
    if (typeof shares === "string") {
      shares = shares ? shares.split(",").map(Number) : [];
    }
    var bars = document.createDocumentFragment();
    shares.forEach(function (value) {
      var bar = document.createElement("span");
      bar.className = "spark-bar";
      bar.style.setProperty("--share", String(Math.max(0, Math.min(1, Number(value) || 0))));
      bars.appendChild(bar);
    });
    el.replaceChildren(bars);
    el.setAttribute("role", "img");
    el.setAttribute(
      "aria-label",
      shares.length
        ? "Retention: " + percentFormat.format(shares[0] || 0) + " at the start, " +
          percentFormat.format(shares[Math.floor(shares.length / 2)] || 0) + " halfway, " +
          percentFormat.format(shares[shares.length - 1] || 0) + " at the end"
        : "No retention yet"
    );
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
      tr.appendChild(cell(numberFormat.format(Number(track.period_plays) || 0), "num", "period_plays"));
      tr.appendChild(cell(numberFormat.format(Number(track.period_likes) || 0), "num", "period_likes"));
      var completion = track.completion || {};
      tr.appendChild(cell(percentOf(completion.complete, completion.starts), "num", "completion"));
      var retention = cell("", "", "retention");
      var spark = document.createElement("span");
      spark.className = "spark";
      renderSpark(spark, track.retention);
      retention.appendChild(spark);
      tr.appendChild(retention);
      tr.appendChild(cell(numberFormat.format(Number(track.plays) || 0), "num", "plays"));
      tr.appendChild(cell(numberFormat.format(Number(track.likes) || 0), "num", "likes"));
      tr.appendChild(filteredCell(track));
      rows.appendChild(tr);
    });
    tbody.replaceChildren(rows);
  }

  function rowOf(cells) {
    var tr = document.createElement("tr");
    cells.forEach(function (td) { tr.appendChild(td); });
    return tr;
  }

  function headerCell(text) {
    var th = document.createElement("th");
    th.scope = "row";
    th.textContent = text;
    return th;
  }

  function renderBreakdowns(stats) {
    var breakdowns = stats.breakdowns || {};
    var periodPlays = (stats.period || {}).plays;
    root.querySelectorAll("[data-breakdown]").forEach(function (table) {
      var rows = breakdowns[table.dataset.breakdown] || [];
      var body = document.createDocumentFragment();
      if (!rows.length) {
        var td = cell("No plays in this period.");
        td.colSpan = 3;
        var empty = rowOf([td]);
        empty.className = "empty-row";
        body.appendChild(empty);
      }
      rows.forEach(function (row) {
        body.appendChild(rowOf([
          cell(row.value),
          cell(numberFormat.format(Number(row.plays) || 0), "num"),
          cell(percentOf(row.plays, periodPlays), "num"),
        ]));
      });
      table.tBodies[0].replaceChildren(body);
    });
    var listenersTable = root.querySelector("[data-listeners-table]");
    if (listenersTable) {
      var listeners = breakdowns.listeners || {};
      var all = (stats.period || {}).listeners;
      var listenerRows = [
        rowOf([headerCell("New"), cell(numberFormat.format(Number(listeners.new) || 0), "num"),
               cell(percentOf(listeners.new, all), "num")]),
        rowOf([headerCell("Returning"), cell(numberFormat.format(Number(listeners.returning) || 0), "num"),
               cell(percentOf(listeners.returning, all), "num")])
      ];
      // The top 1% of listeners by plays and their share of the plays (7d, 28d, 12m).
      if (listeners.super) {
        listenerRows.push(rowOf([headerCell("Top 1%: share of plays"),
          cell(numberFormat.format(Number(listeners.super.listeners) || 0), "num"),
          cell(Math.round((Number(listeners.super.share) || 0) * 100) + "%", "num")]));
      }
      listenersTable.tBodies[0].replaceChildren.apply(listenersTable.tBodies[0], listenerRows);
    }
    var completionTable = root.querySelector("[data-completion-table]");
    if (completionTable) {
      var c = stats.completion || {};
      completionTable.tBodies[0].replaceChildren(rowOf([
        cell(numberFormat.format(Number(c.starts) || 0), "num"),
        cell(percentOf(c.complete, c.starts), "num"),
        cell(percentOf(c.partial, c.starts), "num"),
        cell(percentOf(c.skip, c.starts), "num"),
      ]));
    }
    var overall = root.querySelector("[data-overall-retention]");
    if (overall) renderSpark(overall, stats.retention);
  }

  function isDaily(stats) {
    return stats.granularity === "day";
  }

  // x: the instants the hours began, or each day's date at 00:00 UTC (shown in UTC), so a
  // day is labelled by its own date whatever the browser's zone.
  function chartData(stats) {
    var daily = isDaily(stats);
    var xs = [], plays = [], previous = [];
    var before = stats.previous_series || [];
    (stats.series || []).forEach(function (point, i) {
      xs.push((daily && point.day ? Date.parse(point.day + "T00:00:00Z") : Date.parse(point.hour)) / 1000);
      plays.push(Number(point.plays) || 0);
      previous.push(stats.previous && before[i] ? Number(before[i].plays) || 0 : null);
    });
    return [xs, plays, previous];
  }

  function chartWidth() {
    return Math.max(chartBox.clientWidth, 240);
  }

  function chartZone(stats) {
    return isDaily(stats) ? "UTC" : stats.timezone || "UTC";
  }

  function renderChart(stats) {
    if (!chartBox || typeof window.uPlot === "undefined") return;
    var data = chartData(stats);
    if (plot) {
      plot.setData(data);
      return;
    }
    var uPlot = window.uPlot;
    var bars = uPlot.paths.bars;
    var zone = chartZone(stats);
    var half = isDaily(stats) ? 43200 : 1800;
    plot = new uPlot(
      {
        width: chartWidth(),
        height: 260,
        tzDate: function (ts) {
          try {
            return uPlot.tzDate(new Date(ts * 1000), zone);
          } catch (e) {
            return new Date(ts * 1000);
          }
        },
        scales: {
          // Half a bucket of room on each side so the first and last bars are whole.
          x: {
            time: true,
            range: function (u, min, max) {
              return [min - half, max + half];
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
          { label: isDaily(stats) ? "Day" : "Hour" },
          {
            label: "Plays",
            stroke: "#5b3fd1",
            fill: "rgba(91, 63, 209, 0.45)",
            width: 1,
            paths: bars ? bars({ size: [0.9, 14] }) : undefined,
            points: { show: false },
          },
          {
            label: "Compared period",
            show: Boolean(stats.previous),
            stroke: "rgba(103, 103, 121, 0.55)",
            width: 1.5,
            dash: [4, 3],
            points: { show: false },
            spanGaps: false,
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
      filteredTotal.textContent =
        numberFormat.format(total(stats.filtered) + total(stats.filtered_follows)) + " filtered";
    }
    renderTable(stats.tracks || []);
    renderBreakdowns(stats);
    renderChart(stats);
  }

  // The picker: the dates only matter (and are only sent) for a custom period.
  function wirePicker() {
    var form = root.querySelector("[data-period-form]");
    if (!form) return;
    var select = form.querySelector("[data-period-select]");
    var dates = form.querySelectorAll("[data-custom-date]");
    function sync() {
      var custom = select.value === "custom";
      dates.forEach(function (input) {
        input.disabled = !custom;
        input.required = custom;
      });
    }
    select.addEventListener("change", sync);
    sync();
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

  wirePicker();
  var initial = document.getElementById("dashboard-stats");
  render(initial ? JSON.parse(initial.textContent) : { tracks: [], series: [] });
  // Numbers rendered by the server should not flash as "changed" on load.
  root.querySelectorAll(".changed").forEach(function (el) { el.classList.remove("changed"); });
  tick();
  setInterval(tick, 1000);
  setTimeout(refresh, refreshMs);
})();
