// The incident page's small map: one marker, an uncertainty circle when only "near" a place or the region is known.
const box = document.querySelector(".incident-map");
const RADIUS_METRES = { 2: 5000, 3: 40000 };

window.addEventListener("map:init", (event) => {
  const map = event.detail.map;
  const latlng = [Number(box.dataset.lat), Number(box.dataset.lon)];
  const color = /^#[0-9a-f]{6}$/i.test(box.dataset.color) ? box.dataset.color : "#666666";
  if (box.dataset.hasTiles !== "true") {
    map.getContainer().classList.add("offline-base");
    fetch(box.dataset.outlines)
      .then((response) => response.json())
      .then((topology) =>
        L.geoJSON(topojson.feature(topology, topology.objects.countries), {
          interactive: false,
          style: { color: "#8a8577", weight: 0.8, fillColor: "#f3f0e6", fillOpacity: 1 },
        }).addTo(map).bringToBack(),
      );
  }
  const radius = RADIUS_METRES[box.dataset.precision];
  if (radius) L.circle(latlng, { radius, color, weight: 1, dashArray: "4 4", fillOpacity: 0.15 }).addTo(map);
  L.circleMarker(latlng, { radius: 8, color: "#fff", weight: 2, fillColor: color, fillOpacity: 1 }).addTo(map);
  map.setView(latlng, radius ? 8 : 9);
});
