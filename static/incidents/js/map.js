// The Leaflet side of the map page: incident markers (shape by event type, size by fatalities, precision marks),
// server clusters as numbered circles, popups, and the offline country outlines.
import { element, interpolate, isolated, safeColor } from "./dom.js";

const MAX_ZOOM_FOR_A_CLUSTER = 18;

// A cluster's icon carries its own accessible name: Leaflet makes a keyboard-focusable marker a button, and a
// button needs a name for screen readers whichever code (ours or markercluster's) adds it to the map.
const NamedDivIcon = L.DivIcon.extend({
  createIcon(oldIcon) {
    const icon = L.DivIcon.prototype.createIcon.call(this, oldIcon);
    if (this.options.label) icon.setAttribute("aria-label", this.options.label);
    return icon;
  },
});

export class IncidentMap {
  constructor(map, { config, strings, mapElement }) {
    this.map = map;
    this.config = config;
    this.strings = strings;
    this.mapElement = mapElement;
    this.typeIndex = new Map(config.eventTypes.map((kind, index) => [kind.slug, index + 1]));
    this.typeColor = new Map(config.eventTypes.map((kind) => [kind.slug, safeColor(kind.color)]));
    this.listComma = document.documentElement.dir === "rtl" ? "، " : ", ";
    // Markers a few pixels apart still group on the phone-sized screen; the server only sends them when few.
    this.markers = L.markerClusterGroup({
      maxClusterRadius: 40,
      disableClusteringAtZoom: 10,
      showCoverageOnHover: false,
      iconCreateFunction: (group) => this.clusterIcon(group.getChildCount(), interpolate(this.strings.groupLabel, { n: String(group.getChildCount()) })),
    }).addTo(map);
    this.clusters = L.layerGroup().addTo(map);
    this.markerById = new Map();
    this.popupCache = new Map();
    this.pendingPopup = null;
    this.openId = null;
    this.addOutlines();
  }

  // feed: the /map/incidents.json body, either {mode: "points", incidents} or {mode: "clusters", clusters}.
  draw(feed) {
    const points = feed.mode === "clusters" ? [] : feed.incidents;
    const clusters = feed.mode === "clusters" ? feed.clusters : [];
    // Markers still in view stay as they are, so an open popup survives the refetch its own auto-pan causes.
    const wanted = new Set(points.map((point) => point.id));
    // A popup taller than the room above its marker pans the marker out of view: keep that marker while it is open.
    if (this.openId !== null) wanted.add(this.openId);
    const leaving = [...this.markerById].filter(([id]) => !wanted.has(id));
    this.markers.removeLayers(leaving.map(([, marker]) => marker));
    for (const [id] of leaving) this.markerById.delete(id);
    this.markers.addLayers(points.filter((point) => !this.markerById.has(point.id)).map((point) => this.marker(point)));
    this.clusters.clearLayers();
    for (const cluster of clusters) this.clusterMarker(cluster).addTo(this.clusters);
    Object.assign(this.mapElement.dataset, {
      mode: feed.mode || "points",
      markerCount: String(points.length),
      clusterCount: String(clusters.length),
      clusterSum: String(clusters.reduce((sum, cluster) => sum + cluster.count, 0)),
    });
    if (this.pendingPopup !== null && this.markerById.has(this.pendingPopup)) this.showIncident({ id: this.pendingPopup });
  }

  marker(point) {
    const marker = L.marker([point.lat, point.lon], { icon: this.icon(point), title: point.title, alt: point.title, keyboard: true });
    marker.bindPopup(element("p", { text: this.strings.loading }), this.popupOptions());
    marker.on("popupopen", () => {
      this.openId = point.id;
      this.loadPopup(point.id, marker);
    });
    marker.on("popupclose", () => {
      if (this.openId === point.id) this.openId = null;
    });
    this.markerById.set(point.id, marker);
    return marker;
  }

  // Popups pan clear of the zoom buttons (top left), the phone's panel button (top right) and the cluster notice,
  // and are never taller than the map leaves room for, so their title and close button stay visible.
  popupOptions() {
    const height = this.map.getSize().y;
    return {
      // The popup's frame adds about 50 px to its content; the pan keeps 56 px on one side and 16 on the other.
      maxWidth: Math.min(340, this.map.getSize().x - 130),
      minWidth: Math.min(200, this.map.getSize().x - 130),
      maxHeight: Math.max(140, Math.min(340, height - 150)),
      autoPanPaddingTopLeft: L.point(56, 96),
      autoPanPaddingBottomRight: L.point(16, 16),
    };
  }

  icon(point) {
    const fatalities = Number(point.fatalities) || 0;
    const size = fatalities > 0 ? Math.round(Math.min(46, 20 + 6 * Math.log2(1 + fatalities))) : 16;
    const body = element("span", { className: "marker-body", attrs: { "aria-hidden": "true" } });
    body.style.setProperty("--c", this.typeColor.get(point.type) || "#666666");
    element("span", { className: "marker-fill" }, body);
    element("span", { className: "marker-core", text: fatalities > 0 ? String(fatalities) : "" }, body);
    return L.divIcon({
      className: `incident-marker marker-shape-${this.typeIndex.get(point.type) || 0} precision-${Number(point.precision) || 1}`,
      html: body,
      iconSize: [size, size],
    });
  }

  clusterIcon(count, label) {
    // 26 px for one up to 46 px from 100,000: circles stay inside their 64 px cells.
    const size = Math.round(Math.min(46, 26 + 4 * Math.log10(count)));
    return new NamedDivIcon({ className: "incident-cluster", html: element("span", { text: String(count), attrs: { "aria-hidden": "true" } }), iconSize: [size, size], label });
  }

  // A server cluster: its number is how many incidents it holds; Enter or a click zooms to where they are.
  clusterMarker(cluster) {
    const label = interpolate(this.strings.clusterLabel, { n: String(cluster.count), f: String(cluster.fatalities) });
    const marker = L.marker([cluster.lat, cluster.lon], { icon: this.clusterIcon(cluster.count, label), title: label, keyboard: true });
    marker.on("click", () => this.zoomToCluster(cluster));
    // Leaflet gives focusable markers the button role but only opens popups on Enter; a cluster has none.
    marker.on("keypress", (event) => {
      if (event.originalEvent.key === "Enter" || event.originalEvent.key === " ") this.zoomToCluster(cluster);
    });
    marker.cluster = cluster;
    return marker;
  }

  zoomToCluster(cluster) {
    const [west, south, east, north] = cluster.bounds;
    const bounds = L.latLngBounds([south, west], [north, east]);
    // All at one spot: zoom in around it rather than to a box of no size.
    if (west === east && south === north) this.map.setView(bounds.getCenter(), Math.min(MAX_ZOOM_FOR_A_CLUSTER, this.map.getZoom() + 3));
    else this.map.fitBounds(bounds, { padding: [24, 24], maxZoom: MAX_ZOOM_FOR_A_CLUSTER });
  }

  // A list row: open its marker, or, while clusters are drawn, go to the place and open it once markers arrive.
  showIncident(point) {
    const marker = this.markerById.get(point.id);
    if (marker) {
      this.pendingPopup = null;
      this.markers.zoomToShowLayer(marker, () => marker.openPopup());
    } else if (point.lat !== undefined) {
      this.pendingPopup = point.id;
      this.map.setView([point.lat, point.lon], Math.max(this.map.getZoom(), 11));
    }
  }

  // Popups are fetched when opened: the feed stays small, and the detail (actors, sources) comes from one incident.
  async loadPopup(id, marker) {
    this.pendingPopup = null;
    if (!this.popupCache.has(id)) {
      try {
        const response = await fetch(this.config.incidentJsonUrl.replace(/0\.json$/, `${id}.json`));
        this.popupCache.set(id, await response.json());
      } catch {
        marker.setPopupContent(element("p", { text: this.strings.loadFailed }));
        return;
      }
    }
    const box = element("div", { className: "incident-popup" });
    this.buildPopup(box, this.popupCache.get(id));
    marker.setPopupContent(box);
  }

  buildPopup(box, detail) {
    const strings = this.strings;
    element("h3", { text: detail.title, attrs: { dir: "auto", lang: detail.title_lang } }, box);
    if (detail.title_mark) element("p", { text: detail.title_mark, className: "original-mark" }, box);
    element("p", { text: detail.when, className: "popup-when" }, box);
    const where = element("p", { className: "popup-where" }, box);
    [detail.place, detail.region].filter(Boolean).forEach((part, index) => {
      if (index) where.append(" — ");
      isolated(part, where);
    });
    where.append(` (${detail.precision_label})`);
    element("p", { text: [detail.event_type, detail.sub_event_type].filter(Boolean).join(" › "), className: "popup-type" }, box);
    const sides = element("dl", { className: "popup-actors" });
    for (const [side, label] of [["a", strings.sideA], ["b", strings.sideB]]) {
      const actors = detail.actors.filter((actor) => actor.side === side);
      if (!actors.length) continue;
      element("dt", { text: label }, sides);
      for (const actor of actors) {
        const line = element("dd", {}, sides);
        isolated(actor.name, line);
        line.append(` (${actor.kind}${actor.associated ? `${this.listComma}${strings.associated}` : ""})`);
      }
    }
    if (sides.childElementCount) box.appendChild(sides);
    element("p", { text: `${strings.fatalities}: ${detail.fatalities}`, className: "popup-fatalities" }, box);
    // Worded by the server in the page's language: independent sources and clarity (docs/editors.md, "Confidence").
    if (detail.confidence) element("p", { text: detail.confidence, className: "popup-confidence" }, box);
    if (detail.sources.length) {
      element("h4", { text: strings.sources }, box);
      const list = element("ul", { className: "popup-sources" }, box);
      for (const source of detail.sources) {
        const item = element("li", {}, list);
        const holder = /^https?:\/\//i.test(source.url) ? element("a", { attrs: { href: source.url, rel: "noopener noreferrer", target: "_blank" } }, item) : item;
        isolated(`${source.publisher}: ${source.title}`, holder);
      }
    }
    element("a", { text: strings.openPage, className: "popup-link", attrs: { href: detail.url } }, box);
  }

  // Natural Earth country outlines shipped with the app (npm world-atlas). Their pane sits below the tile pane (200),
  // so tiles cover them once they load, and a missing, slow or unreachable tile server still leaves a readable map.
  addOutlines() {
    this.map.createPane("outlines").style.zIndex = 150;
    fetch(this.config.outlinesUrl)
      .then((response) => response.json())
      .then((topology) => {
        L.geoJSON(topojson.feature(topology, topology.objects.countries), {
          pane: "outlines",
          interactive: false,
          style: { color: "#8a8577", weight: 0.8, fillColor: "#f3f0e6", fillOpacity: 1 },
        }).addTo(this.map);
        this.mapElement.classList.add("offline-base");
      });
  }
}
