// Live progress for ModelHub's admin pages. The server renders every bar, badge and number; this script
// refreshes them in place from the progress endpoint: every 1.5 s while something is queued or running,
// every 5 s otherwise (and not while the tab is hidden), so a download started anywhere else (command
// line, another admin, a schedule) shows up within seconds. The tab title carries the overall progress.
// It also turns the job page's Cancel/Retry forms into in-page requests.
(function () {
  "use strict";
  var script = document.currentScript;
  var url = script && script.dataset.progressUrl;
  if (!url) { return; }
  var since = script.dataset.since || "";
  var ACTIVE = ["queued", "running", "verifying"];
  var INTERVAL = 1500;
  var IDLE = 5000;
  var MAX_BACKOFF = 60000;
  var timer = null;
  var failures = 0;
  var baseTitle = document.title;
  var body = document.body.classList;
  var isList = body.contains("change-list");
  var isJobList = isList && body.contains("model-downloadjob");

  function isActive(state) { return ACTIVE.indexOf(state) !== -1; }

  // Same units as settings_app.sizes.format_size: powers of 1000, one decimal above bytes.
  function formatSize(n) {
    var units = ["B", "KB", "MB", "GB", "TB"];
    var i = 0;
    n = Number(n) || 0;
    while (Math.abs(n) >= 1000 && i < units.length - 1) { n /= 1000; i += 1; }
    return i === 0 ? Math.round(n) + " B" : n.toFixed(1) + " " + units[i];
  }

  function formatEta(s) {
    if (s === null || s === undefined) { return ""; }
    s = Math.round(s);
    var pad = function (x) { return (x < 10 ? "0" : "") + x; };
    if (s < 60) { return s + " s left"; }
    if (s < 3600) { return Math.floor(s / 60) + " min " + pad(s % 60) + " s left"; }
    return Math.floor(s / 3600) + " h " + pad(Math.floor((s % 3600) / 60)) + " min left";
  }

  function each(selector, fn) { Array.prototype.forEach.call(document.querySelectorAll(selector), fn); }

  function ids(selector, key) {
    var found = {};
    each(selector, function (node) { found[node.dataset[key]] = true; });
    return Object.keys(found);
  }

  // Active jobs on the page (their numbers move), and every variant on it: a download started
  // elsewhere for one of them is found through that variant's latest job.
  function watched() {
    var jobs = {};
    each("[data-mh-job][data-mh-state]", function (node) {
      if (isActive(node.dataset.mhState)) { jobs[node.dataset.mhJob] = true; }
    });
    return { jobs: Object.keys(jobs), variants: ids("[data-mh-variant]", "mhVariant") };
  }

  function el(tag, cls, job, field) {
    var node = document.createElement(tag);
    node.className = cls;
    node.dataset.mhJob = job;
    node.dataset.mhField = field;
    return node;
  }

  // A variant row whose latest job changed (a new download, a retry): rebuild its bar for that job.
  function bindVariantBar(box, item) {
    box.textContent = "";
    box.hidden = false;
    box.dataset.mhJob = item.job_id;
    box.dataset.mhField = "progress";
    var bar = el("a", "mh-bar", item.job_id, "bar");
    bar.href = item.url;
    bar.setAttribute("role", "progressbar");
    bar.appendChild(el("span", "mh-bar-fill", item.job_id, "fill"));
    box.appendChild(bar);
    ["pct", "bytes", "speed", "eta"].forEach(function (field) {
      box.appendChild(document.createTextNode(" "));
      box.appendChild(el("span", "mh-" + field, item.job_id, field));
    });
    queueLine(box, item);
  }

  // Why a queued job waits, its place in line and its size, under a bar that has no such line yet (a
  // variant row's bar): pages rendered by the server carry it already.
  function queueLine(box, item) {
    if (document.querySelector('[data-mh-job="' + item.job_id + '"][data-mh-field="queue"]')) { return; }
    var line = el("span", "mh-queue mh-sub", item.job_id, "queue");
    line.textContent = item.queue ? item.queue.text : "";
    line.hidden = !item.queue;
    box.appendChild(line);
  }

  function capitalized(text) { return text ? text.charAt(0).toUpperCase() + text.slice(1) : text; }

  function updateJob(item) {
    var active = isActive(item.state);
    each('[data-mh-job="' + item.job_id + '"]', function (node) {
      switch (node.dataset.mhField) {
        case "state":
          node.textContent = item.state_label;
          node.className = "mh-badge mh-state-" + item.state;
          node.dataset.mhState = item.state;
          break;
        case "progress":
          node.dataset.mhState = item.state;
          queueLine(node, item);
          break;
        case "queue":
          node.textContent = item.queue ? item.queue.text : "";
          node.hidden = !item.queue;
          break;
        case "title":  // the job page's tab title starts with the state
          baseTitle = capitalized(item.state_label) + " · " + node.dataset.mhRest;
          showTitle(lastOverall);
          break;
        case "bar":
          node.setAttribute("aria-valuenow", item.percent);
          break;
        case "fill":
          node.style.width = item.percent + "%";
          node.className = "mh-bar-fill mh-fill-" + item.state;
          break;
        case "pct":
          node.textContent = Number(item.percent).toFixed(1) + "%";
          break;
        case "bytes":
          // not "0 B / 0 B" before the size is known (a queued job's line says what it expects)
          node.textContent = item.bytes_total ? formatSize(item.bytes_done) + " / " + formatSize(item.bytes_total) : "";
          break;
        case "speed":
          node.textContent = active && item.speed_bps ? formatSize(item.speed_bps) + "/s" : "";
          break;
        case "eta":
          node.textContent = formatEta(item.eta_seconds);
          break;
        case "files":
          node.textContent = item.files_done + " / " + item.files_total + " files";
          node.hidden = !item.files_total;
          break;
      }
      if (node.dataset.mhShowStates) {  // the states a button makes sense in (Retry: failed, cancelled)
        node.hidden = node.dataset.mhShowStates.split(" ").indexOf(item.state) === -1;
      } else if (node.dataset.mhShowWhen) {
        node.hidden = (node.dataset.mhShowWhen === "active") !== active;
      }
    });
    if (!active && item.state !== "cancelled" &&
        document.querySelector('[data-mh-reload-on-finish="' + item.job_id + '"]')) {
      // A job that ended by itself: reload once so the page shows its verification report or guidance.
      // A cancel came from this page, so it is shown in place (the buttons already switched).
      window.location.reload();
    }
  }

  function apply(data) {
    var byJob = {};
    (data.jobs || []).forEach(function (item) { byJob[item.job_id] = item; });
    (data.variants || []).forEach(function (v) {
      each('[data-mh-variant="' + v.id + '"][data-mh-field="status"]', function (node) {
        node.textContent = v.status_label;
        node.className = "mh-badge mh-status-" + v.status;
        node.dataset.mhStatus = v.status;
      });
      var item = byJob[v.job_id];
      each('[data-mh-variant-progress="' + v.id + '"]', function (box) {
        // A new job of this variant: show its bar while it is active (a finished one only if the bar
        // was already following the variant, so it ends where it finished).
        if (item && box.dataset.mhJob !== String(v.job_id) && (isActive(item.state) || box.dataset.mhJob)) {
          bindVariantBar(box, item);
        }
      });
    });
    (data.jobs || []).forEach(updateJob);
  }

  var lastOverall = null;

  function showTitle(all) {
    lastOverall = all;
    if (!all || !all.active) { document.title = baseTitle; return; }
    var what = all.running && all.percent !== null ? Math.floor(all.percent) + "%" : "queued";
    var count = all.active > 1 ? " · " + all.active + " downloads" : "";
    document.title = "(" + what + count + ") " + baseTitle;
  }

  function canReload() {
    var form = document.getElementById("changelist-form");
    var busy = document.activeElement && /^(INPUT|SELECT|TEXTAREA)$/.test(document.activeElement.tagName);
    return !busy && !(form && form.querySelector("input.action-select:checked"));
  }

  function notice(unseen) {
    var box = document.getElementById("mh-live-notice");
    if (!box) {
      box = document.createElement("p");
      box.id = "mh-live-notice";
      box.className = "mh-live-notice";
      box.setAttribute("role", "status");
      var content = document.getElementById("content");
      if (!content) { return; }
      content.insertBefore(box, content.firstChild);
    }
    box.textContent = (unseen.length > 1 ? unseen.length + " downloads started: " : "Download started: ");
    unseen.slice(0, 3).forEach(function (job, i) {
      if (i) { box.appendChild(document.createTextNode(", ")); }
      var a = document.createElement("a");
      a.href = job.url;
      a.textContent = "job " + job.job_id + " (" + job.label + ")";
      box.appendChild(a);
    });
    if (isList) {
      var again = document.createElement("a");
      again.href = window.location.href;
      again.textContent = "show them in this list";
      box.appendChild(document.createTextNode(" — "));
      box.appendChild(again);
    }
  }

  // Jobs created since the page was made that it does not show: a list reloads to show them (unless
  // the person is choosing rows or typing), any other page says so with links.
  function news(list) {
    var unseen = (list || []).filter(function (job) {
      var shown = document.querySelector('[data-mh-job="' + job.job_id + '"]');
      var row = !isJobList && isList && document.querySelector('[data-mh-variant="' + job.variant_id + '"]');
      return !shown && !row;
    });
    if (!unseen.length) { return; }
    var key = "mh-reloaded-for:" + window.location.pathname + window.location.search;
    var tag = unseen.map(function (job) { return job.job_id; }).join(",");
    var reloadable = isList || document.querySelector("[data-mh-reload-on-news]");
    if (reloadable && canReload() && window.sessionStorage.getItem(key) !== tag) {
      window.sessionStorage.setItem(key, tag);  // at most once for the same jobs (clocks may differ)
      window.location.reload();
      return;
    }
    notice(unseen);
  }

  function poll() {
    timer = null;
    if (document.hidden) { schedule(IDLE); return; }
    var w = watched();
    var query = "?ids=" + w.jobs.join(",") + "&variants=" + w.variants.join(",") + "&since=" + since;
    fetch(url + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.json();
      })
      .then(function (data) {
        failures = 0;
        apply(data);
        showTitle(data.overall);
        news(data.new_jobs);
        schedule(data.active || (data.overall && data.overall.active) ? INTERVAL : IDLE);
      })
      .catch(function () {
        failures += 1;
        schedule(Math.min(MAX_BACKOFF, INTERVAL * Math.pow(2, failures)));
      });
  }

  function schedule(delay) {
    if (timer === null) { timer = window.setTimeout(poll, delay); }
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && timer !== null) {
      window.clearTimeout(timer);
      timer = null;
      schedule(200);
    }
  });

  function showMessage(form, text, link) {
    var box = form.closest(".mh-panel");
    var out = box && box.querySelector(".mh-action-message");
    if (!out) { return; }
    out.textContent = text + " ";
    if (link) {
      var a = document.createElement("a");
      a.href = link;
      a.textContent = "Open the new job";
      out.appendChild(a);
    }
  }

  // Cancel / Retry without a reload; without this script the forms post and redirect as usual.
  each("form.mh-job-action", function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button");
      if (button) { button.disabled = true; }
      fetch(form.action, {
        method: "POST", body: new FormData(form), credentials: "same-origin",
        headers: { Accept: "application/json" }
      })
        .then(function (r) {
          if (r.status === 403) { throw new Error("You are not allowed to do this."); }
          if (!r.ok) { throw new Error("The server answered HTTP " + r.status + "."); }
          return r.json();
        })
        .then(function (data) {
          showMessage(form, data.message, data.follow_url);
          // A resumed job is active again: reload so the paused panel gives way to the live one.
          if (data.ok && form.dataset.mhReloadAfter) { window.location.reload(); return; }
          if (data.job) { apply({ jobs: [data.job], variants: [] }); }
          schedule(INTERVAL);
        })
        .catch(function (err) { showMessage(form, err.message); })
        .then(function () { if (button) { button.disabled = false; } });
    });
  });

  schedule(INTERVAL);
})();
