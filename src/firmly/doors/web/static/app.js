// firmly's own browser code: draws the charts whose figures the page carries as JSON.
// Chart.js and htmx come from the npm registry (scripts/_venv.sh); without them the tables still hold it all.
(function () {
  "use strict";
  var COLOURS = {
    reminder: "#9fb3d1", thanks: "#3d9b6a", feedback: "#6c8ebf", warning: "#e0a030", fee: "#d9663b",
    surcharge: "#c48a5a", require_prepayment: "#b5542d", suspend: "#b42318", terminate: "#6b0f0a",
    grace_approved: "#4fae7f", grace_denied: "#8c2d4f", earn_back: "#7cc4a0", bill: "#8068b0",
    top_up_invoice: "#4a7fd0", refused: "#555f6e"
  };
  var PALETTE = ["#1f5fbf", "#d9663b", "#3d9b6a", "#8068b0", "#e0a030", "#555f6e"];

  function data(canvas) {
    var node = document.getElementById(canvas.dataset.source);
    return node ? JSON.parse(node.textContent) : null;
  }

  var makers = {
    trend: function (d) {
      return {
        type: "bar",
        data: {
          labels: d.labels,
          datasets: d.series.map(function (s, i) {
            return { label: s.label, data: s.data, backgroundColor: COLOURS[s.key] || PALETTE[i % PALETTE.length] };
          })
        },
        options: { maintainAspectRatio: false, responsive: true, animation: false,
          scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
          plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } } }
      };
    },
    scatter: function (d) {
      function set(flagged, label, colour) {
        return { label: label, backgroundColor: colour, pointRadius: flagged ? 6 : 4,
          data: d.points.filter(function (p) { return p.flagged === flagged; }) };
      }
      return {
        type: "scatter",
        data: { datasets: [set(false, d.labels.others, "#6c8ebf"), set(true, d.labels.flagged, "#b42318")] },
        options: { maintainAspectRatio: false, responsive: true, animation: false,
          scales: { x: { title: { display: true, text: d.labels.x }, beginAtZero: true },
                    y: { title: { display: true, text: d.labels.y }, beginAtZero: true } },
          plugins: { legend: { position: "bottom" }, tooltip: { callbacks: { label: function (c) {
            var p = c.raw; return p.name + ": " + p.y + " / " + p.x + " " + p.currency; } } } } }
      };
    },
    bar: function (d) {
      return {
        type: "bar",
        data: { labels: d.labels, datasets: [{ label: d.label, data: d.values, backgroundColor: "#1f5fbf" }] },
        options: { maintainAspectRatio: false, responsive: true, animation: false, indexAxis: "y",
          plugins: { legend: { display: false } } }
      };
    },
    line: function (d) {
      return {
        type: "line",
        data: { labels: d.labels, datasets: [{ label: d.label, data: d.values, borderColor: "#1f5fbf",
          backgroundColor: "#1f5fbf", stepped: true, pointRadius: 2 }] },
        options: { maintainAspectRatio: false, responsive: true, animation: false,
          plugins: { legend: { display: false } } }
      };
    }
  };

  function draw() {
    if (typeof window.Chart === "undefined") { return; }
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (canvas.dataset.drawn) { return; }
      var d = data(canvas), make = makers[canvas.dataset.chart];
      if (!d || !make) { return; }
      canvas.dataset.drawn = "1";
      new window.Chart(canvas, make(d));
    });
  }

  // A button with data-copy="ID" copies that field's value (the link to a client's own page)
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-copy]") : null;
    if (!button) { return; }
    var field = document.getElementById(button.dataset.copy);
    if (!field) { return; }
    field.select();
    var done = function () { button.textContent = button.dataset.copied || button.textContent; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); });
    } else {
      document.execCommand("copy");
      done();
    }
  });

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSwap", draw);
})();
