// Draws the target-group charts from the JSON the page embeds (no inline script, no CDN).
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("chart-data");
    if (!source || typeof Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    function lines(canvasId, key) {
      new Chart(document.getElementById(canvasId), {
        type: "line",
        data: {
          labels: data.buckets,
          datasets: data.series.map(function (s) { return { label: s.label, data: s[key], tension: 0.2 }; })
        },
        options: { responsive: true, interaction: { mode: "index", intersect: false },
                   scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
      });
    }
    lines("chart-opt-ins", "opt_ins");
    lines("chart-opt-outs", "opt_outs");
    new Chart(document.getElementById("chart-sizes"), {
      type: "bar",
      data: { labels: data.sizes.labels, datasets: [{ label: "mailable members", data: data.sizes.values }] },
      options: { indexAxis: "y", responsive: true, plugins: { legend: { display: false } },
                 scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
