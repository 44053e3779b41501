/* The warning centre's map: open warnings per county as circles (size by count, colour by the highest
   level) on a plain background — intranets have no tile server and we ship no boundaries. A county is
   placed where its registered entities (or its complaints) are. The table beside it says the same. */
(function () {
  "use strict";
  var COLOURS = { red: "#b91c1c", yellow: "#ca8a04", blue: "#1d4ed8" };

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  ready(function () {
    var node = document.getElementById("warning-map");
    if (!node || !window.L) return;
    var points = JSON.parse(node.getAttribute("data-points") || "[]");
    if (!points.length) return;
    node.hidden = false;
    var map = window.L.map(node, { attributionControl: false, zoomSnap: 0.25 });
    var bounds = [];
    points.forEach(function (p) {
      var radius = 8 + Math.sqrt(p.total) * 4;
      var marker = window.L.circleMarker([p.lat, p.lng], {
        radius: radius, color: COLOURS[p.top], weight: 2, fillColor: COLOURS[p.top], fillOpacity: 0.35
      }).addTo(map);
      marker.bindTooltip(p.name + " " + p.total + "（红 " + p.levels.red + " / 黄 " + p.levels.yellow +
                         " / 蓝 " + p.levels.blue + "）", { permanent: points.length <= 15, direction: "top" });
      bounds.push([p.lat, p.lng]);
    });
    if (bounds.length === 1) map.setView(bounds[0], 11);
    else map.fitBounds(bounds, { padding: [40, 40] });
  });
})();
