// Draws one stacked bar chart per team on the workload page (open tickets of each agent by
// priority) from the JSON the page carries in a script tag: no inline script under the CSP.
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("workload-data");
    if (!source || typeof Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    document.querySelectorAll("canvas[data-workload-chart]").forEach(function (canvas) {
      var part = data[canvas.getAttribute("data-workload-chart")];
      if (!part || !part.labels.length) return;
      new Chart(canvas, {
        type: "bar",
        data: { labels: part.labels, datasets: part.datasets },
        options: {
          indexAxis: "y",
          maintainAspectRatio: false,
          animation: false,
          plugins: { legend: { position: "bottom" } },
          scales: { x: { stacked: true, ticks: { precision: 0 } }, y: { stacked: true } }
        }
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
