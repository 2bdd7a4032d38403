// Draws the cost view's bar charts from the JSON the page carries in a script tag
// (json_script), so no inline script is needed under the CSP.
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("cost-data");
    if (!source || typeof Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    var money = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
    document.querySelectorAll("canvas[data-cost-chart]").forEach(function (canvas) {
      var part = data[canvas.getAttribute("data-cost-chart")];
      if (!part || !part.labels.length) return;
      new Chart(canvas, {
        type: "bar",
        data: {
          labels: part.labels,
          datasets: [
            { label: "Cost per year", data: part.cost, backgroundColor: "#e8833a" },
            { label: "Price per year", data: part.price, backgroundColor: "#2f6fed" }
          ]
        },
        options: {
          indexAxis: "y",
          maintainAspectRatio: false,
          animation: false,
          plugins: {
            legend: { position: "bottom" },
            tooltip: { callbacks: { label: function (item) { return item.dataset.label + ": " + money.format(item.raw); } } }
          },
          scales: { x: { ticks: { callback: function (value) { return money.format(value); } } } }
        }
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
