/* The complaint queue's map. Intranets have no tile server, so the points sit on a plain background
   with a graticule, a scale and the counties' names; where they are dense they gather by the grid
   square (the complaints' own ``cell``, doubled until a cluster is big enough to tap) with a count.
   Points come from the map endpoint under the list's filters: place, category and state only.
   Without JavaScript (or Leaflet) the panel stays hidden and the list is the page. */
(function () {
  "use strict";

  var ROW = 100000;  // service.cell_of: cell = row * 100000 + column
  var CLUSTER_PX = 44;  // a cluster at least this wide: a finger can hit it, and clusters rarely overlap

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  function say(panel, name, values) {
    var text = panel.getAttribute("data-" + name) || "";
    Object.keys(values || {}).forEach(function (key) {
      text = text.split("{" + key + "}").join(String(values[key]));
    });
    return text;
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  ready(function () {
    var panel = document.getElementById("complaint-map-panel");
    var box = document.getElementById("complaint-map");
    if (!panel || !box || !window.L || !window.fetch) return;
    var L = window.L;
    panel.hidden = false;
    var note = document.getElementById("map-note");
    var chooser = document.getElementById("map-colour");
    var palette = {};
    Array.prototype.forEach.call(panel.querySelectorAll(".legend"), function (list) {
      var by = list.getAttribute("data-by");
      palette[by] = {};
      Array.prototype.forEach.call(list.querySelectorAll("li"), function (item) {
        palette[by][item.getAttribute("data-code")] = {
          colour: item.getAttribute("data-colour"), label: item.textContent.trim()
        };
      });
    });
    var by = chooser ? chooser.value : "state";

    var map = L.map(box, {attributionControl: false, preferCanvas: true, minZoom: 4, maxZoom: 17,
                          zoomSnap: 0.5, scrollWheelZoom: false});
    L.control.scale({imperial: false, position: "bottomleft"}).addTo(map);
    map.createPane("labels").style.zIndex = 650;  // county names above the points, never hidden by them
    map.getPane("labels").style.pointerEvents = "none";
    var grid = L.layerGroup().addTo(map);
    var names = L.layerGroup().addTo(map);
    var dots = L.layerGroup().addTo(map);
    var data = null;

    function colour(point) {
      var code = by === "category" ? point.category : point.state;
      return (palette[by][code] || {colour: "#64748b"}).colour;
    }

    function label(kind, code) {
      return (palette[kind] && palette[kind][code] || {label: code}).label;
    }

    function describe(point) {
      return point.number + " · " + label("category", point.category) + " · " + label("state", point.state);
    }

    function open(point) {
      window.location.href = "/complaints/" + point.id;
    }

    // Lines every 0.01°–1° by zoom: a sense of distance where there are no streets to see.
    function graticule() {
      grid.clearLayers();
      var zoom = map.getZoom();
      var step = zoom >= 14 ? 0.01 : zoom >= 12 ? 0.02 : zoom >= 10 ? 0.1 : zoom >= 8 ? 0.25 : 1;
      var b = map.getBounds().pad(0.3);
      var style = {color: "#cfd6e0", weight: 1, interactive: false};
      for (var lat = Math.floor(b.getSouth() / step) * step; lat <= b.getNorth(); lat += step) {
        grid.addLayer(L.polyline([[lat, b.getWest()], [lat, b.getEast()]], style));
      }
      for (var lng = Math.floor(b.getWest() / step) * step; lng <= b.getEast(); lng += step) {
        grid.addLayer(L.polyline([[b.getSouth(), lng], [b.getNorth(), lng]], style));
      }
    }

    // County names where there is room: the busiest first, the others only if they do not collide.
    function regions() {
      names.clearLayers();
      var placed = [];
      (data.regions || []).slice().sort(function (a, b) { return b.n - a.n; }).forEach(function (region) {
        var at = map.latLngToContainerPoint([region.lat, region.lng]);
        var width = 14 * region.name.length + 8;
        var free = placed.every(function (other) {
          return Math.abs(other.x - at.x) > (width + other.width) / 2 || Math.abs(other.y - at.y) > 20;
        });
        if (!free) return;
        placed.push({x: at.x, y: at.y, width: width});
        names.addLayer(L.marker([region.lat, region.lng], {
          icon: L.divIcon({className: "map-region", html: element("span", "", region.name).outerHTML, iconSize: null}),
          interactive: false, keyboard: false, pane: "labels"
        }));
      });
    }

    function popupList(points) {
      var wrap = element("div");
      wrap.appendChild(element("strong", "", say(panel, "here", {n: points.length})));
      var list = element("ul", "map-list");
      points.slice(0, 30).forEach(function (point) {
        var item = element("li");
        var link = element("a", "", point.number);
        link.href = "/complaints/" + point.id;
        item.appendChild(link);
        item.appendChild(document.createTextNode(" " + label("category", point.category) + " · " +
                                                 label("state", point.state)));
        list.appendChild(item);
      });
      if (points.length > 30) list.appendChild(element("li", "", say(panel, "others", {n: points.length - 30})));
      wrap.appendChild(list);
      return wrap;
    }

    function dot(point) {
      var marker = L.circleMarker([point.lat, point.lng], {
        radius: 6, color: "#ffffff", weight: 1.5, fillColor: colour(point), fillOpacity: 0.92
      });
      marker.bindTooltip(describe(point), {direction: "top", offset: [0, -4]});
      marker.on("click", function () { open(point); });
      dots.addLayer(marker);
    }

    // A ring split by state (or category) around the count: open and closed ones both show.
    function cluster(points) {
      var lat = 0, lng = 0, counts = {};
      points.forEach(function (point) {
        lat += point.lat;
        lng += point.lng;
        var code = by === "category" ? point.category : point.state;
        counts[code] = (counts[code] || 0) + 1;
      });
      var stops = [], done = 0;
      Object.keys(palette[by]).concat(Object.keys(counts)).forEach(function (code) {
        if (!counts[code]) return;
        var from = done * 100 / points.length;
        done += counts[code];
        var hue = (palette[by][code] || {colour: "#64748b"}).colour;
        stops.push(hue + " " + from.toFixed(1) + "% " + (done * 100 / points.length).toFixed(1) + "%");
        counts[code] = 0;
      });
      var size = Math.round(26 + 9 * Math.log10(points.length));
      var ring = element("span");
      ring.style.background = "conic-gradient(" + stops.join(", ") + ")";
      ring.appendChild(element("b", "", String(points.length)));
      var marker = L.marker([lat / points.length, lng / points.length], {
        icon: L.divIcon({className: "map-cluster", html: ring.outerHTML, iconSize: [size, size]}),
        title: say(panel, "cluster", {n: points.length}), keyboard: true, riseOnHover: true
      });
      var bounds = L.latLngBounds(points.map(function (p) { return [p.lat, p.lng]; }));
      marker.on("click", function () {
        var span = map.project(bounds.getNorthEast(), map.getMaxZoom())
          .distanceTo(map.project(bounds.getSouthWest(), map.getMaxZoom()));
        if (map.getZoom() >= map.getMaxZoom() - 1 || span < 40) {
          L.popup({maxWidth: 320}).setLatLng(marker.getLatLng()).setContent(popupList(points)).openOn(map);
        } else {
          map.fitBounds(bounds, {padding: [40, 40], maxZoom: map.getMaxZoom()});
        }
      });
      dots.addLayer(marker);
    }

    // Points gather by the grid square, squares by 2 × 2, 4 × 4 … until a cluster is CLUSTER_PX wide.
    function draw() {
      dots.clearLayers();
      if (!data || !data.points.length) return;
      var centre = map.getCenter();
      var across = map.project([centre.lat, centre.lng + data.cell_degrees]).x - map.project(centre).x;
      var k = 1;
      while (k * across < CLUSTER_PX && k < 65536) k *= 2;
      var groups = {};
      data.points.forEach(function (point) {
        var key = Math.floor(Math.floor(point.cell / ROW) / k) + ":" + Math.floor((point.cell % ROW) / k);
        (groups[key] = groups[key] || []).push(point);
      });
      merged(groups).forEach(function (points) {
        if (points.length === 1) dot(points[0]);
        else if (k === 1 && spread(points) > 14) points.forEach(dot);
        else cluster(points);
      });
    }

    // Squares cut a busy place in two now and then: groups whose middles are closer than a cluster's
    // width become one, the bigger taking the smaller.
    function merged(groups) {
      var kept = [];
      Object.keys(groups).map(function (key) { return groups[key]; })
        .sort(function (a, b) { return b.length - a.length; })
        .forEach(function (points) {
          var at = map.latLngToLayerPoint(middle(points));
          var near = null;
          kept.forEach(function (other) {
            if (!near && other.at.distanceTo(at) < CLUSTER_PX) near = other;
          });
          if (near) near.points = near.points.concat(points);
          else kept.push({at: at, points: points});
        });
      return kept.map(function (group) { return group.points; });
    }

    function middle(points) {
      var lat = 0, lng = 0;
      points.forEach(function (p) { lat += p.lat; lng += p.lng; });
      return L.latLng(lat / points.length, lng / points.length);
    }

    function spread(points) {  // the widest distance between them, in pixels now
      var b = L.latLngBounds(points.map(function (p) { return [p.lat, p.lng]; }));
      return map.latLngToLayerPoint(b.getNorthEast()).distanceTo(map.latLngToLayerPoint(b.getSouthWest()));
    }

    function summary() {
      if (!data.total || !data.with_place) {
        note.textContent = say(panel, "none");
        return;
      }
      var text = say(panel, "summary", {shown: data.shown, total: data.total, missing: data.total - data.with_place});
      if (data.with_place > data.shown) text += " " + say(panel, "more", {shown: data.shown});
      note.textContent = text;
    }

    if (chooser) {
      chooser.addEventListener("change", function () {
        by = chooser.value;
        Array.prototype.forEach.call(panel.querySelectorAll(".legend"), function (list) {
          list.hidden = list.getAttribute("data-by") !== by;
        });
        draw();
      });
    }

    map.setView([35, 105], 4);
    map.on("moveend", graticule);
    map.on("zoomend", function () { draw(); if (data) regions(); });
    graticule();
    fetch(panel.getAttribute("data-url"), {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (body) {
        data = body;
        var places = data.points.map(function (p) { return [p.lat, p.lng]; })
          .concat((data.regions || []).map(function (r) { return [r.lat, r.lng]; }));
        map.invalidateSize();  // the panel was hidden until now: measure it again
        if (places.length) {  // room for the zoom buttons, the names above the points and the scale
          map.fitBounds(L.latLngBounds(places),
                        {paddingTopLeft: [52, 44], paddingBottomRight: [28, 36], maxZoom: 15});
        }
        regions();
        draw();
        summary();
      })
      .catch(function () {
        box.hidden = true;
        note.textContent = say(panel, "failed");
      });
  });
})();
