// Draws the SLA report's charts (% met per group, the monthly trend) from the JSON the page
// carries in a script tag (json_script), so no inline script is needed under the CSP.
(function () {
  "use strict";
  var MET = "#198754";
  var MEASURED = "#adb5bd";
  function percentAxis() {
    return { min: 0, max: 100, ticks: { callback: function (value) { return value + " %"; } } };
  }
  function bars(canvas, part) {
    new Chart(canvas, {
      type: "bar",
      data: { labels: part.labels, datasets: [{ label: "% met", data: part.pct_met, backgroundColor: MET }] },
      options: {
        indexAxis: "y",
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: false } },
        scales: { x: percentAxis() }
      }
    });
  }
  function trend(canvas, part) {
    new Chart(canvas, {
      data: {
        labels: part.labels,
        datasets: [
          { type: "line", label: "% met", data: part.pct_met, borderColor: MET, backgroundColor: MET, yAxisID: "pct", spanGaps: true },
          { type: "bar", label: "Timers measured", data: part.measured, backgroundColor: MEASURED, yAxisID: "count" }
        ]
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { position: "bottom" } },
        scales: {
          pct: Object.assign(percentAxis(), { position: "left" }),
          count: { position: "right", beginAtZero: true, ticks: { precision: 0 }, grid: { drawOnChartArea: false } }
        }
      }
    });
  }
  function draw() {
    var source = document.getElementById("sla-report-data");
    if (!source || typeof Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    document.querySelectorAll("canvas[data-sla-chart]").forEach(function (canvas) {
      var name = canvas.getAttribute("data-sla-chart");
      var part = data[name];
      if (!part || !part.labels.length) return;
      if (name === "bars") bars(canvas, part);
      else trend(canvas, part);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
