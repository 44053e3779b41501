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

/* The model page: ROC and lift curves of the learned model against the rule score. */
(function () {
  "use strict";
  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }
  function draw(id, option) {
    var node = document.getElementById(id);
    if (!node || !window.echarts) return;
    node.hidden = false;
    var chart = window.echarts.init(node, null, { renderer: "svg" });
    chart.setOption(option);
    window.addEventListener("resize", function () { chart.resize(); });
  }
  function line(name, points, color, dashed) {
    return { name: name, type: "line", showSymbol: false, data: points,
             lineStyle: { color: color, type: dashed ? "dashed" : "solid" }, itemStyle: { color: color } };
  }
  ready(function () {
    var source = document.getElementById("model-chart-data");
    if (!source) return;
    var data = JSON.parse(source.textContent || "{}");
    var names = { model: "预筛模型", rule: "风险评分", random: "随机" };
    if (data.roc) {
      draw("model-roc-chart", {
        legend: { top: 0 }, grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
        xAxis: { type: "value", min: 0, max: 1, name: "FPR" }, yAxis: { type: "value", min: 0, max: 1, name: "TPR" },
        tooltip: { trigger: "axis" },
        series: [line(names.model, data.roc.model, "#c2410c"), line(names.rule, data.roc.rule, "#1e3a8a"),
                 line(names.random, [[0, 0], [1, 1]], "#9ca3af", true)]
      });
    }
    if (data.gain) {
      var pct = function (points) { return points.map(function (p) { return [Math.round(p[0] * 100), p[1]]; }); };
      draw("model-lift-chart", {
        legend: { top: 0 }, grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
        xAxis: { type: "value", min: 5, max: 100, name: "%" }, yAxis: { type: "value", min: 0 },
        tooltip: { trigger: "axis" },
        series: [line(names.model, pct(data.gain.model), "#c2410c"), line(names.rule, pct(data.gain.rule), "#1e3a8a"),
                 line(names.random, [[5, 1], [100, 1]], "#9ca3af", true)]
      });
    }
  });
})();
