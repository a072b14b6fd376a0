/* Progressive enhancement: pages work without this script (coordinates fields and lists). */
(function () {
  "use strict";
  if (typeof L === "undefined") { return; }

  function tiles(map, element) {
    var url = element.getAttribute("data-tile-url");
    if (url) {
      L.tileLayer(url, { maxZoom: 19, attribution: element.getAttribute("data-attribution") || "" }).addTo(map);
    }
  }

  function bounds(element) {
    var raw = element.getAttribute("data-bounds");
    if (!raw) { return null; }
    var b = raw.split(",").map(Number);
    return L.latLngBounds([b[0], b[1]], [b[2], b[3]]);
  }

  function showPoints(element) {
    var items = element.querySelectorAll("[data-lat]");
    var canvas = document.createElement("div");
    canvas.className = "map-canvas";
    element.insertBefore(canvas, element.firstChild);
    var map = L.map(canvas);
    tiles(map, element);
    var markers = [];
    items.forEach(function (item) {
      var point = [Number(item.getAttribute("data-lat")), Number(item.getAttribute("data-lon"))];
      var marker = L.marker(point, { title: item.getAttribute("data-title") || "" }).addTo(map);
      var url = item.getAttribute("data-url");
      if (url) {
        var link = document.createElement("a");
        link.href = url;
        link.textContent = item.getAttribute("data-title") || url;
        link.dir = "auto";
        marker.bindPopup(link);
      }
      markers.push(point);
    });
    var area = bounds(element);
    if (markers.length === 1) { map.setView(markers[0], 16); }
    else if (markers.length) { map.fitBounds(L.latLngBounds(markers).pad(0.2)); }
    else if (area) { map.fitBounds(area); }
  }

  function picker(element) {
    var lat = document.getElementById(element.getAttribute("data-lat-field"));
    var lon = document.getElementById(element.getAttribute("data-lon-field"));
    var coordinates = document.getElementById("coordinates");
    var help = document.getElementById("map-help");
    // The map is shown only with this script; the typed coordinates then fold away, unless they
    // carry an error to correct.
    element.hidden = false;
    if (help) { help.hidden = false; }
    if (coordinates && !coordinates.querySelector(".has-error")) { coordinates.open = false; }
    var map = L.map(element);
    tiles(map, element);
    var area = bounds(element);
    var marker = null;
    function place(latlng) {
      if (marker) { marker.setLatLng(latlng); } else { marker = L.marker(latlng).addTo(map); }
    }
    if (lat.value && lon.value) {
      var start = [Number(lat.value), Number(lon.value)];
      place(start);
      map.setView(start, 16);
    } else if (area) {
      map.fitBounds(area);
    } else {
      map.setView([0, 0], 2);
    }
    if (area) { L.rectangle(area, { fill: false, weight: 2 }).addTo(map); }
    map.on("click", function (event) {
      lat.value = event.latlng.lat.toFixed(6);
      lon.value = event.latlng.lng.toFixed(6);
      place(event.latlng);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var pick = document.getElementById("map-picker");
    if (pick) { picker(pick); }
    var list = document.getElementById("proposal-map");
    if (list) { showPoints(list); }
  });
})();
