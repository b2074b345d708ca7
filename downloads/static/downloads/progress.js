// Live progress for ModelHub's admin pages. The server renders every bar, badge and number; this script
// only refreshes them in place from the progress endpoint while something is queued or running, and
// stops polling when nothing is. It also turns the job page's Cancel/Retry forms into in-page requests.
(function () {
  "use strict";
  var script = document.currentScript;
  var url = script && script.dataset.progressUrl;
  if (!url) { return; }
  var ACTIVE = ["queued", "running", "verifying"];
  var BUSY = ["queued", "downloading"];
  var INTERVAL = 1500;
  var timer = null;
  var failures = 0;

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

  function watched() {
    var jobs = {}, variants = {};
    each("[data-mh-job][data-mh-state]", function (el) {
      if (isActive(el.dataset.mhState)) { jobs[el.dataset.mhJob] = true; }
    });
    each('[data-mh-variant][data-mh-field="status"]', function (el) {
      if (BUSY.indexOf(el.dataset.mhStatus) !== -1) { variants[el.dataset.mhVariant] = true; }
    });
    return { jobs: Object.keys(jobs), variants: Object.keys(variants) };
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
  }

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
          node.textContent = formatSize(item.bytes_done) + " / " + formatSize(item.bytes_total);
          break;
        case "speed":
          node.textContent = active && item.speed_bps ? formatSize(item.speed_bps) + "/s" : "";
          break;
        case "eta":
          node.textContent = formatEta(item.eta_seconds);
          break;
        case "files":
          node.textContent = item.files_done + " / " + item.files_total;
          break;
      }
      if (node.dataset.mhShowWhen) {
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
        if (item && box.dataset.mhJob !== String(v.job_id)) { bindVariantBar(box, item); }
      });
    });
    (data.jobs || []).forEach(updateJob);
  }

  function poll() {
    timer = null;
    var w = watched();
    if (!w.jobs.length && !w.variants.length) { return; }
    var query = "?ids=" + w.jobs.join(",") + "&variants=" + w.variants.join(",");
    fetch(url + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.json();
      })
      .then(function (data) {
        failures = 0;
        apply(data);
        if (data.active) { schedule(INTERVAL); }
      })
      .catch(function () {
        failures += 1;
        if (failures < 5) { schedule(INTERVAL * Math.pow(2, failures)); }
      });
  }

  function schedule(delay) {
    if (timer === null) { timer = window.setTimeout(poll, delay); }
  }

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
          if (data.job) { apply({ jobs: [data.job], variants: [] }); }
          schedule(INTERVAL);
        })
        .catch(function (err) { showMessage(form, err.message); })
        .then(function () { if (button) { button.disabled = false; } });
    });
  });

  schedule(INTERVAL);
})();
