/* The risk profile's two charts (ECharts, served locally): what makes up the score, and the score
   over time with the red and yellow thresholds. The data is the JSON block the page carries; the tables
   beside the charts say the same, so without JavaScript nothing is lost. */
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  function show(id, option) {
    var node = document.getElementById(id);
    if (!node || !window.echarts) return null;
    node.hidden = false;
    var chart = window.echarts.init(node, null, { renderer: "svg" });
    chart.setOption(option);
    window.addEventListener("resize", function () { chart.resize(); });
    return chart;
  }

  ready(function () {
    var source = document.getElementById("risk-chart-data");
    if (!source) return;
    var data = JSON.parse(source.textContent || "{}");
    var parts = (data.parts || []).slice().reverse();  // the largest on top
    if (parts.length) {
      show("risk-parts-chart", {
        grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
        xAxis: { type: "value", max: function (v) { return Math.max(10, Math.ceil(v.max)); } },
        yAxis: { type: "category", data: parts.map(function (p) { return p.name; }),
                 axisLabel: { width: 150, overflow: "truncate" } },
        tooltip: { trigger: "item" },
        series: [{ type: "bar", data: parts.map(function (p) { return p.value; }), itemStyle: { color: "#c2410c" },
                   label: { show: true, position: "right" } }]
      });
    }
    var history = data.history || [];
    if (history.length > 1) {
      var t = data.thresholds || {};
      show("risk-history-chart", {
        grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: history.map(function (h) { return h.at; }) },
        yAxis: { type: "value", min: 0, max: 100 },
        tooltip: { trigger: "axis" },
        series: [{ type: "line", step: "end", data: history.map(function (h) { return h.score; }),
                   itemStyle: { color: "#1e3a8a" },
                   markLine: { symbol: "none", silent: true, data: [
                     { yAxis: t.red, lineStyle: { color: "#b91c1c", type: "dashed" }, label: { formatter: "红 {c}" } },
                     { yAxis: t.yellow, lineStyle: { color: "#a16207", type: "dashed" }, label: { formatter: "黄 {c}" } }
                   ] } }]
      });
    }
  });
})();
