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

  function watchProgress() {
    var box = document.getElementById("progress");
    if (!box || box.dataset.finished === "true" || box.dataset.state === "draft") return;
    function set(id, value) { var el = document.getElementById(id); if (el) el.textContent = value; }
    function poll() {
      fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (p) {
          box.querySelector(".fill").style.width = p.percent + "%";
          box.querySelector(".bar").setAttribute("aria-valuenow", p.percent);
          set("progress-percent", p.percent); set("progress-state", p.state);
          set("progress-delivered", p.delivered); set("progress-total", p.total);
          set("progress-acted", p.acted); set("progress-skipped", p.skipped); set("progress-failed", p.failed);
          box.dataset.state = p.state;
          if (p.finished) { box.dataset.finished = "true"; window.location.reload(); return; }
          setTimeout(poll, 1000);
        })
        .catch(function () { setTimeout(poll, 3000); });
    }
    setTimeout(poll, 1000);
  }

  function watchBulk() {
    var box = document.getElementById("bulk-progress");
    if (!box || box.dataset.finished === "true") return;
    function set(id, value) { var el = document.getElementById(id); if (el) el.textContent = value; }
    function poll() {
      fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (p) {
          box.querySelector(".fill").style.width = p.percent + "%";
          box.querySelector(".bar").setAttribute("aria-valuenow", p.percent);
          set("bulk-percent", p.percent); set("bulk-state", p.state);
          set("bulk-done", p.done); set("bulk-total", p.total);
          if (p.finished) {
            box.dataset.finished = "true";
            var more = document.getElementById("bulk-continue-button");
            if (more) more.closest("form").remove();
            return;
          }
          setTimeout(poll, 500);
        })
        .catch(function () { setTimeout(poll, 2000); });
    }
    setTimeout(poll, 500);
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
