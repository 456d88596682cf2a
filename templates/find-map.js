// The map beside the list on /find (served as /-/find-map.js by plugins/find.py). Leaflet comes
// from datasette-leaflet and its marker clusters from datasette-cluster-map, loaded as that
// plugin loads them; the markers are the cards of the list itself (li.card with data-lat and
// data-lon), so the map shows the same rows. Names and addresses are scraped text: they are read
// with textContent and go into the popups with textContent, never as HTML.
(function () {
  "use strict";
  const box = document.getElementById("find-map");
  if (!box) return;
  const details = box.closest("details");
  const filters = document.getElementById("filters");
  const wide = window.matchMedia("(min-width: 64rem)");
  if (wide.matches) {
    // Beside the list there is room: open what a phone keeps folded above it.
    if (details) details.open = true;
    if (filters) filters.open = true;
  }

  function stylesheet(href) {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = href;
    document.head.appendChild(link);
  }

  function popup(point) {
    const content = document.createElement("div");
    const name = document.createElement("a");
    name.href = point.url;
    name.textContent = point.name;
    const where = document.createElement("div");
    where.textContent = point.where + " · " + Number(point.miles).toFixed(1) + " " + (box.dataset.milesWord || "miles");
    const inList = document.createElement("a");
    inList.href = "#program-" + point.id;
    inList.textContent = box.dataset.inList || "In the list";
    content.append(name, where, inList);
    return content;
  }

  function cardPoint(card) {
    const name = card.querySelector("h2 a");
    return {
      id: card.dataset.programId, lat: Number(card.dataset.lat), lon: Number(card.dataset.lon),
      name: name.textContent, url: name.href, where: card.querySelector(".where").textContent.trim(),
      miles: card.querySelector(".distance").dataset.miles,
    };
  }

  function draw() {
    const points = Array.from(document.querySelectorAll("li.card[data-lat][data-lon]"), cardPoint);
    const centre = [Number(box.dataset.lat), Number(box.dataset.lon)];
    const map = L.map(box, { scrollWheelZoom: false });
    L.tileLayer(box.dataset.tiles, {
      maxZoom: 19,
      attribution: '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
    }).addTo(map);
    const radius = Number(box.dataset.miles) * 1609.344;
    L.circle(centre, { radius: radius, fill: false, weight: 1 }).addTo(map);
    const cluster = L.markerClusterGroup({ maxClusterRadius: 40 });
    points.forEach((point) => {
      const marker = L.marker([point.lat, point.lon], { title: point.name, alt: point.name });
      // Popups keep clear of the zoom buttons in the top-left corner (the map pans to make room).
      marker.bindPopup(popup(point), { autoPanPaddingTopLeft: L.point(56, 96), autoPanPaddingBottomRight: L.point(16, 16) });
      cluster.addLayer(marker);
    });
    map.addLayer(cluster);
    const bounds = points.length ? cluster.getBounds().extend(centre) : L.latLng(centre).toBounds(2 * radius);
    map.fitBounds(bounds, { padding: [48, 48], maxZoom: 15 });
    box.dataset.markers = String(points.length);
    // For the browser tests (tests/test_phone_first.py): the map and its markers, to open a popup
    // at a corner as a person's tap would and see that the zoom buttons leave it readable.
    box.leafletMap = map;
    box.leafletMarkers = cluster;
    box.dataset.programIds = points.map((point) => point.id).join(" ");
  }

  let started = false;
  function start() {
    if (started) return;
    started = true;
    stylesheet(box.dataset.leafletCss);
    stylesheet(box.dataset.clusterCss);
    import(box.dataset.leaflet)
      .then(() => import(box.dataset.cluster))
      .then(draw);
  }
  if (!details || details.open) start();
  else details.addEventListener("toggle", () => { if (details.open) start(); });
  // The "Map" link beside the count opens the folded map it leads to.
  const link = document.getElementById("map-link");
  if (link && details) link.addEventListener("click", () => { details.open = true; });
})();
