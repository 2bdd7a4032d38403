// Draws the catalogue figures' bar charts from the JSON the page carries in a script tag
// (json_script), so no inline script or style is needed under the CSP. Each entry is one
// horizontal bar chart: {labels, values, label, percent}.
(function () {
  "use strict";
  var COLOUR = "#0d6efd";
  var HEIGHT = "18rem";
  function axis(percent) {
    if (!percent) return { beginAtZero: true };
    return { min: 0, max: 100, ticks: { callback: function (value) { return value + " %"; } } };
  }
  function bars(canvas, part) {
    // Chart.js fills its parent: give the parent a fixed height (CSSOM, allowed by the CSP).
    canvas.parentElement.style.position = "relative";
    canvas.parentElement.style.height = HEIGHT;
    new Chart(canvas, {
      type: "bar",
      data: { labels: part.labels, datasets: [{ label: part.label, data: part.values, backgroundColor: COLOUR }] },
      options: {
        indexAxis: "y",
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: false } },
        scales: { x: axis(part.percent) }
      }
    });
  }
  function draw() {
    var source = document.getElementById("catalog-report-data");
    if (!source || typeof Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    document.querySelectorAll("canvas[data-catalog-chart]").forEach(function (canvas) {
      var part = data[canvas.getAttribute("data-catalog-chart")];
      if (!part || !part.labels.length) {
        canvas.replaceWith(Object.assign(document.createElement("p"), {
          className: "text-body-secondary small mb-0",
          textContent: "Nothing to draw yet: the table below shows why."
        }));
        return;
      }
      bars(canvas, part);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
