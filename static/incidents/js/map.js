// The timeline map page: markers, popups, filters, list, summary, permalink. Fed by #map-config (json_script).
import { Timeline, toDay, toIso } from "./timeline.js";

const config = JSON.parse(document.getElementById("map-config").textContent);
const strings = config.strings;
const lang = document.documentElement.lang === "en" ? "en-GB" : document.documentElement.lang;
const FILTER_KEYS = ["start", "end", "event_type", "sub_event_type", "actor", "side", "country", "admin1", "fatalities_min", "precision", "q"];
const PAGE_SIZE = 20;
const typeIndex = new Map(config.eventTypes.map((kind, index) => [kind.slug, index + 1]));
const safeColor = (color) => (/^#[0-9a-f]{6}$/i.test(color) ? color : "#666666");
const typeColor = new Map(config.eventTypes.map((kind) => [kind.slug, safeColor(kind.color)]));
const form = document.getElementById("filters");
const mapElement = document.getElementById("incident-map");

function interpolate(text, values) {
  return text.replace(/%\((\w+)\)s/g, (_, name) => values[name]);
}

// Kind and "associated" are UI words: join them the way the page's language writes a list.
const listComma = document.documentElement.dir === "rtl" ? "، " : ", ";

function element(tag, { text, className, attrs } = {}, parent = null) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  if (parent) parent.appendChild(node);
  return node;
}

// ---- filters <-> URL ------------------------------------------------------------------------------------------

// The filter part of the query string; ticking every box of a group means "no filter" and keeps URLs short.
function formToParams() {
  const params = new URLSearchParams();
  for (const key of FILTER_KEYS) {
    const fields = form.elements.namedItem(key);
    if (fields instanceof RadioNodeList) {
      const boxes = [...fields];
      const ticked = boxes.filter((box) => box.checked).map((box) => box.value);
      if (ticked.length === 0) params.append(key, "");
      else if (ticked.length < boxes.length) ticked.forEach((value) => params.append(key, value));
    } else if (fields && fields.value.trim()) params.set(key, fields.value.trim());
  }
  return params;
}

function paramsToForm(params) {
  for (const key of FILTER_KEYS) {
    const fields = form.elements.namedItem(key);
    if (fields instanceof RadioNodeList) {
      const values = params.getAll(key);
      for (const box of fields) box.checked = values.length === 0 || values.includes(box.value);
    } else if (fields) fields.value = params.get(key) || "";
  }
}

// Filters with a group all unticked match nothing; the server reads a missing parameter as "all".
const matchesNothing = (params) => [...params.entries()].some(([key, value]) => value === "" && (key === "event_type" || key === "precision"));

function fetchParams(params) {
  const cleaned = new URLSearchParams();
  for (const [key, value] of params) if (value !== "") cleaned.append(key, value);
  return cleaned;
}

// ---- page --------------------------------------------------------------------------------------------------

window.addEventListener("map:init", (event) => {
  const map = event.detail.map;
  const markers = L.markerClusterGroup({ maxClusterRadius: 40, disableClusteringAtZoom: 10, showCoverageOnHover: false });
  markers.addTo(map);
  const markerById = new Map();
  const popupCache = new Map();
  let feed = { incidents: [] };
  let page = 0;
  let zoomDomain = null;
  let timelineKey = null;
  let feedRequest = 0;

  document.querySelectorAll("[data-color]").forEach((swatch) => swatch.style.setProperty("--c", safeColor(swatch.dataset.color)));

  addOutlines(map);
  const timeline = new Timeline(document.getElementById("timeline-chart"), {
    eventTypes: config.eventTypes,
    strings,
    lang,
    onRange(start, end, { final, transient }) {
      form.elements.start.value = toIso(start);
      form.elements.end.value = toIso(end);
      showRange();
      if (final) commit({ push: !transient });
      else refreshFeedSoon();
    },
  });

  // ---- URL state ----
  function readUrl() {
    const params = new URLSearchParams(location.search);
    paramsToForm(params);
    const zoomFrom = params.get("tl_from");
    const zoomTo = params.get("tl_to");
    zoomDomain = zoomFrom && zoomTo ? [toDay(zoomFrom), toDay(zoomTo)] : null;
    const at = (params.get("at") || "").split("/").map(Number);
    if (at.length === 3 && at.every(Number.isFinite)) map.setView([at[1], at[2]], at[0], { animate: false });
  }

  function currentUrl() {
    const params = formToParams();
    if (zoomDomain) {
      params.set("tl_from", toIso(zoomDomain[0]));
      params.set("tl_to", toIso(zoomDomain[1]));
    }
    const centre = map.getCenter();
    // Written by hand so the view reads "at=6/34.8000/38.9000" rather than percent-escaped slashes.
    const at = `at=${map.getZoom()}/${centre.lat.toFixed(4)}/${centre.lng.toFixed(4)}`;
    return `${location.pathname}?${params.size ? `${params}&` : ""}${at}`;
  }

  function commit({ push = true } = {}) {
    const url = currentUrl();
    if (url !== location.pathname + location.search) history[push ? "pushState" : "replaceState"](null, "", url);
    refresh();
  }

  // ---- data ----
  async function getJson(url, params) {
    const response = await fetch(`${url}?${params}`, { headers: { Accept: "application/json" } });
    const body = await response.json();
    if (!response.ok) throw Object.assign(new Error("bad filters"), { errors: body.errors || {} });
    return body;
  }

  function showErrors(errors) {
    const box = document.getElementById("filter-errors");
    box.textContent = Object.entries(errors).map(([name, messages]) => `${name}: ${messages.join(" ")}`).join(" · ");
    form.querySelectorAll("[aria-invalid]").forEach((field) => field.removeAttribute("aria-invalid"));
    for (const name of Object.keys(errors)) form.querySelector(`[name="${CSS.escape(name)}"]`)?.setAttribute("aria-invalid", "true");
  }

  async function refreshFeed() {
    const request = ++feedRequest;
    const params = formToParams();
    mapElement.setAttribute("aria-busy", "true");
    try {
      const body = matchesNothing(params)
        ? { incidents: [], total: 0, total_fatalities: 0, summary: strings.noIncidents }
        : await getJson(config.feedUrl, fetchParams(params));
      if (request !== feedRequest) return;
      showErrors({});
      feed = body;
      drawMarkers();
      page = 0;
      drawList();
      document.getElementById("summary").textContent = body.summary;
      updateDownloads(fetchParams(params));
    } catch (error) {
      if (request === feedRequest) showErrors(error.errors || { "": [strings.loadFailed] });
    } finally {
      if (request === feedRequest) mapElement.removeAttribute("aria-busy");
    }
  }

  let feedTimer = null;
  function refreshFeedSoon() {
    clearTimeout(feedTimer);
    feedTimer = setTimeout(refreshFeed, 120);
  }

  // The histogram shows the whole span (or the zoomed one) under every filter except the brushed range itself.
  async function refreshTimeline() {
    const params = fetchParams(formToParams());
    params.delete("start");
    params.delete("end");
    if (zoomDomain) {
      params.set("start", toIso(zoomDomain[0]));
      params.set("end", toIso(zoomDomain[1]));
    }
    const key = matchesNothing(formToParams()) ? "nothing" : String(params);
    if (key !== timelineKey) {
      timelineKey = key;
      try {
        const body = key === "nothing" ? { bucket: "day", buckets: [] } : await getJson(config.timelineUrl, params);
        timeline.render(body, zoomDomain);
      } catch {
        timelineKey = null;
      }
    }
    const start = form.elements.start.value;
    const end = form.elements.end.value;
    timeline.setSelection(start || end ? [start ? toDay(start) : timeline.domain?.[0] ?? toDay(end), end ? toDay(end) : (timeline.domain?.[1] ?? toDay(start) + 1) - 1] : null);
    showRange();
  }

  function refresh() {
    refreshFeed();
    refreshTimeline();
  }

  function showRange() {
    const start = form.elements.start.value;
    const end = form.elements.end.value;
    document.getElementById("timeline-range").textContent = start || end ? `${start ? timeline.label(toDay(start)) : "…"} – ${end ? timeline.label(toDay(end)) : "…"}` : "";
  }

  function updateDownloads(params) {
    const links = [
      [document.getElementById("download-geojson"), config.geojsonUrl, "download=1&"],
      [document.getElementById("download-csv"), config.csvUrl, ""],
    ];
    for (const [link, url, extra] of links) {
      link.hidden = !url;
      if (url) link.href = `${url}?${extra}${params}`;
    }
    document.getElementById("downloads-pending").hidden = Boolean(config.geojsonUrl || config.csvUrl);
  }

  // ---- markers ----
  function icon(point) {
    const fatalities = Number(point.fatalities) || 0;
    const size = fatalities > 0 ? Math.round(Math.min(46, 20 + 6 * Math.log2(1 + fatalities))) : 16;
    const shape = typeIndex.get(point.type) || 0;
    // Only numbers and checked colours go into this HTML; titles and places never do.
    return L.divIcon({
      className: `incident-marker marker-shape-${shape} precision-${Number(point.precision) || 1}`,
      html: `<span class="marker-body" aria-hidden="true" style="--c:${typeColor.get(point.type) || "#666666"}"><span class="marker-fill"></span><span class="marker-core">${fatalities > 0 ? fatalities : ""}</span></span>`,
      iconSize: [size, size],
    });
  }

  function drawMarkers() {
    markers.clearLayers();
    markerById.clear();
    const layers = feed.incidents.map((point) => {
      const marker = L.marker([point.lat, point.lon], { icon: icon(point), title: point.title, alt: point.title, keyboard: true });
      marker.bindPopup(element("p", { text: strings.loading }), { maxWidth: 340, minWidth: 220 });
      marker.on("popupopen", () => loadPopup(point, marker));
      marker.incidentType = point.type;
      markerById.set(point.id, marker);
      return marker;
    });
    markers.addLayers(layers);
    mapElement.dataset.markerCount = String(layers.length);
  }

  // Popups are fetched when opened: the feed stays small, and the detail (actors, sources) comes from one incident.
  async function loadPopup(point, marker) {
    if (!popupCache.has(point.id)) {
      try {
        const response = await fetch(config.incidentJsonUrl.replace(/0\.json$/, `${point.id}.json`));
        popupCache.set(point.id, await response.json());
      } catch {
        marker.setPopupContent(element("p", { text: strings.loadFailed }));
        return;
      }
    }
    const box = element("div", { className: "incident-popup" });
    buildPopup(box, popupCache.get(point.id));
    marker.setPopupContent(box);
  }

  // User text (titles, places, actor names) is isolated in <bdi>, so English inside an Arabic page, or the reverse,
  // keeps its own word order and punctuation.
  function isolated(text, parent) {
    return element("bdi", { text }, parent);
  }

  function buildPopup(box, detail) {
    element("h3", { text: detail.title, attrs: { dir: "auto" } }, box);
    element("p", { text: detail.when, className: "popup-when" }, box);
    const where = element("p", {}, box);
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
        line.append(` (${actor.kind}${actor.associated ? `${listComma}${strings.associated}` : ""})`);
      }
    }
    if (sides.childElementCount) box.appendChild(sides);
    element("p", { text: `${strings.fatalities}: ${detail.fatalities}`, className: "popup-fatalities" }, box);
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

  // ---- list ----
  function drawList() {
    const bounds = map.getBounds();
    const visible = feed.incidents.filter((point) => bounds.contains([point.lat, point.lon]));
    const pages = Math.max(1, Math.ceil(visible.length / PAGE_SIZE));
    page = Math.min(page, pages - 1);
    const rows = document.getElementById("incident-rows");
    rows.replaceChildren();
    for (const point of visible.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE)) {
      const row = element("tr", { attrs: { "data-id": point.id, "data-type": point.type } }, rows);
      element("td", { text: point.when }, row);
      const title = element("td", {}, row);
      const button = element("button", { text: point.title, className: "row-link", attrs: { type: "button", dir: "auto" } }, title);
      button.addEventListener("click", () => showIncident(point.id));
      isolated(point.place, element("td", {}, row));
      element("td", { text: point.fatalities_label, className: "number" }, row);
    }
    if (!visible.length) element("td", { text: strings.noIncidents, attrs: { colspan: 4 } }, element("tr", {}, rows));
    document.getElementById("list-count").textContent = `(${interpolate(strings.inView, { n: visible.length })})`;
    document.getElementById("page-label").textContent = interpolate(strings.page, { page: page + 1, pages });
    document.getElementById("page-prev").disabled = page === 0;
    document.getElementById("page-next").disabled = page >= pages - 1;
  }

  function showIncident(id) {
    const marker = markerById.get(id);
    if (!marker) return;
    closePanelOnPhone();
    markers.zoomToShowLayer(marker, () => marker.openPopup());
  }

  document.getElementById("page-prev").addEventListener("click", () => {
    page -= 1;
    drawList();
  });
  document.getElementById("page-next").addEventListener("click", () => {
    page += 1;
    drawList();
  });

  // ---- controls ----
  let formTimer = null;
  form.addEventListener("input", (event) => {
    clearTimeout(formTimer);
    formTimer = setTimeout(() => commit(), event.target.type === "search" || event.target.type === "number" ? 400 : 0);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    commit();
  });
  form.addEventListener("reset", (event) => {
    event.preventDefault();
    paramsToForm(new URLSearchParams());
    zoomDomain = null;
    commit();
  });

  map.on("moveend", () => {
    drawList();
    history.replaceState(null, "", currentUrl());
  });

  const playButton = document.getElementById("play");
  const setPlayLabel = () => {
    playButton.textContent = timeline.playing ? strings.pause : strings.play;
    playButton.setAttribute("aria-pressed", String(timeline.playing));
  };
  playButton.addEventListener("click", () => {
    if (timeline.playing) timeline.pause();
    else timeline.play(Number(document.getElementById("play-speed").value));
    setPlayLabel();
  });
  document.getElementById("timeline-chart").addEventListener("timeline:paused", () => {
    setPlayLabel();
    history.pushState(null, "", currentUrl());
  });
  document.getElementById("play-speed").addEventListener("change", (event) => {
    if (!timeline.playing) return;
    timeline.pause();
    timeline.play(Number(event.target.value));
    setPlayLabel();
  });
  document.getElementById("zoom-range").addEventListener("click", () => {
    if (!timeline.selection) return;
    zoomDomain = [...timeline.selection];
    commit();
  });
  document.getElementById("reset-range").addEventListener("click", () => {
    if (timeline.playing) timeline.pause();
    form.elements.start.value = "";
    form.elements.end.value = "";
    zoomDomain = null;
    commit();
  });
  document.getElementById("show-fatalities").addEventListener("change", (event) => {
    timeline.showFatalities = event.target.checked;
    timeline.draw();
  });

  // ---- phone panel ----
  const panelToggle = document.querySelector(".panel-toggle");
  const appElement = document.getElementById("map-app");
  panelToggle.addEventListener("click", () => {
    const open = !appElement.classList.contains("panel-open");
    appElement.classList.toggle("panel-open", open);
    panelToggle.setAttribute("aria-expanded", String(open));
    map.invalidateSize();
  });
  function closePanelOnPhone() {
    if (getComputedStyle(panelToggle).display === "none") return;
    appElement.classList.remove("panel-open");
    panelToggle.setAttribute("aria-expanded", "false");
  }

  window.addEventListener("popstate", () => {
    readUrl();
    refresh();
  });

  readUrl();
  history.replaceState(null, "", currentUrl());
  refresh();
});

// Natural Earth country outlines shipped with the app (npm world-atlas). Their pane sits below the tile pane (200),
// so tiles cover them once they load, and a missing, slow or unreachable tile server still leaves a readable map.
function addOutlines(map) {
  map.createPane("outlines").style.zIndex = 150;
  fetch(config.outlinesUrl)
    .then((response) => response.json())
    .then((topology) => {
      L.geoJSON(topojson.feature(topology, topology.objects.countries), {
        pane: "outlines",
        interactive: false,
        style: { color: "#8a8577", weight: 0.8, fillColor: "#f3f0e6", fillOpacity: 1 },
      }).addTo(map);
      mapElement.classList.add("offline-base");
    });
}
