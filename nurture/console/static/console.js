// nurture console: the funnel chart, the broadcast and bulk progress bars. Plain JavaScript, no build step.
(function () {
  "use strict";

  function drawFunnel() {
    var canvas = document.getElementById("funnel-chart");
    var data = document.getElementById("funnel-data");
    if (!canvas || !data || typeof Chart === "undefined") return;
    var chart = JSON.parse(data.textContent);
    var colours = ["#1f3a5f", "#3c6e9f", "#5b9bd5", "#2e7d4f", "#e08a1e", "#b0b7bf"];
    var datasets = chart.series.map(function (pair, i) {
      return { label: pair[0], data: pair[1], backgroundColor: colours[i % colours.length] };
    });
    var drawn = new Chart(canvas, {
      type: "bar",
      data: { labels: chart.labels, datasets: datasets },
      options: { responsive: true, maintainAspectRatio: false, animation: false,
                 scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
    canvas.dataset.drawn = String(drawn.data.datasets.length);
  }

  function text(id, value) { var el = document.getElementById(id); if (el) el.textContent = value; }

  // One poller for every live progress bar: fetch the box's JSON, move its bar, let the page show its own
  // figures, and stop once the work is finished.
  function pollProgress(box, every, retry, show, finish) {
    function poll() {
      fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (p) {
          box.querySelector(".fill").style.width = p.percent + "%";
          box.querySelector(".bar").setAttribute("aria-valuenow", p.percent);
          show(p);
          if (p.finished) { box.dataset.finished = "true"; finish(p); return; }
          setTimeout(poll, every);
        })
        .catch(function () { setTimeout(poll, retry); });
    }
    setTimeout(poll, every);
  }

  function watchProgress() {
    var box = document.getElementById("progress");
    if (!box || box.dataset.finished === "true" || box.dataset.state === "draft") return;
    pollProgress(box, 1000, 3000, function (p) {
      text("progress-percent", p.percent); text("progress-state", p.state);
      text("progress-delivered", p.delivered); text("progress-total", p.total);
      text("progress-acted", p.acted); text("progress-skipped", p.skipped); text("progress-failed", p.failed);
      box.dataset.state = p.state;
    }, function () { window.location.reload(); });
  }

  function watchBulk() {
    var box = document.getElementById("bulk-progress");
    if (!box || box.dataset.finished === "true") return;
    pollProgress(box, 500, 2000, function (p) {
      text("bulk-percent", p.percent); text("bulk-state", p.state);
      text("bulk-done", p.done); text("bulk-total", p.total);
    }, function () {
      var more = document.getElementById("bulk-continue-button");
      if (more) more.closest("form").remove();
    });
  }

  function reloadWhileComputing() {  // the uplift panel is computed in the background: look again shortly
    var box = document.getElementById("uplift-computing");
    if (box) setTimeout(function () { window.location.reload(); }, 1500);
  }

  drawFunnel();
  reloadWhileComputing();
  watchProgress();
  watchBulk();
})();
