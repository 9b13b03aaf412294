// The timeline map page, wiring the modules together: map (markers, clusters, popups), feed (the view's data),
// list (server-paged), permalink (state in the URL) and timeline (histogram, brush, play). Fed by #map-config.
import { downloadBbox, LatestJson, viewParams } from "./feed.js";
import { IncidentList } from "./list.js";
import { IncidentMap } from "./map.js";
import { matchesNothing, Permalink, requestParams } from "./permalink.js";
import { Timeline, toDay, toIso } from "./timeline.js";
import { safeColor } from "./dom.js";
import { RegionView } from "./regions.js";
import { Trends } from "./trends.js";
import { EmbedLinks } from "./embed.js";

const config = JSON.parse(document.getElementById("map-config").textContent);
const strings = config.strings;
const lang = document.documentElement.lang === "en" ? "en-GB" : document.documentElement.lang;
const form = document.getElementById("filters");
const mapElement = document.getElementById("incident-map");

window.addEventListener("map:init", (event) => {
  const map = event.detail.map;
  const permalink = new Permalink(form, config.filterKeys);
  const incidentMap = new IncidentMap(map, { config, strings, mapElement });
  const feed = new LatestJson(config.feedUrl);
  const timelineFeed = new LatestJson(config.timelineUrl, { delay: 0 });
  const list = new IncidentList({ url: config.listUrl, strings, onSelect: showIncident, onError: showLoadError });
  const embedLinks = new EmbedLinks({ config, strings });
  // Embedded, the list is never shown: it is not asked for.
  const listShown = !config.embed;
  const summary = document.getElementById("summary");
  const notice = document.getElementById("cluster-notice");
  let timelineDomain = null;
  let timelineKey = null;
  let viewRequests = 0;

  document.querySelectorAll("[data-color]").forEach((swatch) => swatch.style.setProperty("--c", safeColor(swatch.dataset.color)));
  const phone = window.matchMedia("(max-width: 800px)");
  // The legend starts open where there is room for it, folded on a phone (one line until asked for).
  document.getElementById("legend").open = !phone.matches;
  const scopeBoxes = [...document.querySelectorAll('input[name="scope"]')];
  // By region: the shaded areas replace the markers and circles (the same incidents, counted by area).
  const regionView = new RegionView(map, {
    config,
    strings,
    lang,
    onToggle(enabled, { record }) {
      for (const layer of [incidentMap.markers, incidentMap.clusters]) {
        if (enabled) map.removeLayer(layer);
        else map.addLayer(layer);
      }
      if (record) permalink.write(state());
    },
  });
  const trends = new Trends(document.getElementById("trends"), { strings, lang });
  const wholeArea = () => scopeBoxes.some((box) => box.checked && box.value === "all");

  const timeline = new Timeline(document.getElementById("timeline-chart"), {
    caption: document.getElementById("timeline-bucket"),
    eventTypes: config.eventTypes,
    strings,
    lang,
    onRange(start, end, { final, transient }) {
      form.elements.start.value = toIso(start);
      form.elements.end.value = toIso(end);
      showRange();
      if (final) return commit({ push: !transient }); // settles once the map shows the range (playback waits)
      refreshView();
    },
  });

  const state = () => ({ timelineDomain, map, scope: wholeArea() ? "all" : "", show: regionView.enabled ? "regions" : "points" });

  function readUrl() {
    const read = permalink.read();
    timelineDomain = read.timelineDomain;
    for (const box of scopeBoxes) box.checked = box.value === (read.scope === "all" ? "all" : "view");
    regionView.show(read.show === "regions");
    if (read.view) map.setView(read.view.center, read.view.zoom, { animate: false });
  }

  function writeUrl({ push }) {
    permalink.write(state(), { push });
    embedLinks.update();
  }

  function commit({ push = true } = {}) {
    writeUrl({ push });
    return refresh();
  }

  function showErrors(errors) {
    const box = document.getElementById("filter-errors");
    box.textContent = Object.entries(errors).map(([name, messages]) => `${name}: ${messages.join(" ")}`).join(" · ");
    form.querySelectorAll("[aria-invalid]").forEach((field) => field.removeAttribute("aria-invalid"));
    for (const name of Object.keys(errors)) form.querySelector(`[name="${CSS.escape(name)}"]`)?.setAttribute("aria-invalid", "true");
  }

  function showLoadError(error) {
    showErrors(error.errors || { "": [strings.loadFailed] });
  }

  // The markers or clusters, the summary and the list, all for the same filters and view. The map's request is
  // sent first: one busy server worker answers in order, and the map is what the visitor is waiting for.
  // While the timeline plays, cells one zoom level coarser keep each step's answer small, and the list waits for
  // each drawn step and loads only if the next step leaves it time (measured by bench/first_paint.py: at 1 M
  // incidents and the fast speed, a list request per step made the map miss steps on one server worker).
  async function refreshView({ now = false } = {}) {
    const filters = permalink.formParams();
    const params = matchesNothing(filters) ? null : requestParams(filters, viewParams(map));
    const playing = timeline.playing;
    const feedParams = params && requestParams(filters, viewParams(map, { coarser: playing ? 1 : 0 }));
    const request = ++viewRequests;
    mapElement.setAttribute("aria-busy", "true");
    const answer = feedParams ? feed.get(feedParams, { now }) : Promise.resolve({ mode: "points", incidents: [], total: 0, summary: strings.noIncidents });
    if (playing || !listShown) list.hold();
    else list.load(params, 1, { now });
    try {
      const body = await answer;
      if (!body) return; // superseded by a newer view
      showErrors({});
      incidentMap.draw(body);
      summary.textContent = body.summary;
      summary.dataset.total = String(body.total);
      notice.hidden = body.mode !== "clusters";
      lastView = { key: filterKey(filters), bbox: downloadBbox(map), total: body.total, noDates: !filters.get("start") && !filters.get("end") };
      if (decideView() && !timeline.playing) refreshTimeline();
      updateDownloads(scopedParams(filters));
      regionView.update(matchesNothing(filters) ? null : requestParams(filters));
      if (!playing) trends.update(scopedParams(filters));
      if (playing && listShown) list.load(params, 1); // after the list's delay, unless the next step cancels it first
    } catch (error) {
      showLoadError(error);
    } finally {
      if (request === viewRequests) mapElement.removeAttribute("aria-busy"); // only the latest view ends the wait
    }
  }

  // The filters, plus the map's view unless "the whole area" is chosen: what the histogram and downloads count.
  // A view that holds every incident under the filters needs no bbox (same rows, and the histogram is then read
  // from the kept tables rather than counted live): known once the map's total for the view equals the
  // histogram's whole-area total, both without dates. Until then the histogram asks for the whole area
  // (`optimistic`) and the downloads for the view.
  const viewHoldsAll = new Map();
  let wholeTotal = { key: null, total: null };
  let lastView = null;
  const filterKey = (filters) => {
    const params = requestParams(filters);
    params.delete("start");
    params.delete("end");
    return String(params);
  };

  function scopedParams(filters, { optimistic = false } = {}) {
    const params = requestParams(filters);
    if (wholeArea()) return params;
    const bbox = downloadBbox(map);
    const holdsAll = viewHoldsAll.get(`${filterKey(filters)}|${bbox}`);
    if (holdsAll === true || (holdsAll === undefined && optimistic)) return params;
    params.set("bbox", bbox);
    return params;
  }

  // Returns true when this settles, for the view last drawn, whether it holds every incident.
  function decideView() {
    if (!lastView || !lastView.noDates || wholeTotal.key !== lastView.key) return false;
    const key = `${lastView.key}|${lastView.bbox}`;
    if (viewHoldsAll.has(key)) return false;
    viewHoldsAll.set(key, lastView.total === wholeTotal.total);
    return true;
  }

  // The histogram shows the whole span (or the zoomed one) under every filter except the brushed range itself.
  async function refreshTimeline() {
    const filters = permalink.formParams();
    const params = scopedParams(filters, { optimistic: true });
    params.delete("start");
    params.delete("end");
    if (timelineDomain) {
      params.set("start", toIso(timelineDomain[0]));
      params.set("end", toIso(timelineDomain[1]));
    }
    const key = matchesNothing(filters) ? "nothing" : String(params);
    if (key !== timelineKey) {
      timelineKey = key;
      try {
        const body = key === "nothing" ? { bucket: "day", buckets: [] } : await timelineFeed.get(params, { now: true });
        if (body) timeline.render(body, timelineDomain);
        if (body && key !== "nothing" && !params.has("bbox") && !timelineDomain) {
          wholeTotal = { key: filterKey(filters), total: body.total };
          if (decideView()) {
            updateDownloads(scopedParams(filters));
            refreshTimeline(); // with the view's bbox now, if the view turned out to hold only some of them
          }
        }
      } catch {
        timelineKey = null;
      }
    }
    const start = form.elements.start.value;
    const end = form.elements.end.value;
    timeline.setSelection(start || end ? [start ? toDay(start) : timeline.domain?.[0] ?? toDay(end), end ? toDay(end) : (timeline.domain?.[1] ?? toDay(start) + 1) - 1] : null);
    showRange();
  }

  // The view's promise: it settles once the map is drawn (or its answer superseded or refused).
  function refresh() {
    const view = refreshView({ now: true });
    refreshTimeline();
    return view;
  }

  function showRange() {
    const start = form.elements.start.value;
    const end = form.elements.end.value;
    const range = document.getElementById("timeline-range");
    if (start && end) range.textContent = timeline.rangeLabel(toDay(start), toDay(end));
    else range.textContent = start || end ? `${start ? timeline.label(toDay(start)) : "…"} – ${end ? timeline.label(toDay(end)) : "…"}` : "";
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
    // The Atom feed of the same filters and view; the page's <link rel="alternate"> follows for feed readers.
    const feed = `${config.atomUrl}${String(params) ? `?${params}` : ""}`;
    document.getElementById("atom-feed").href = feed;
    const alternate = document.querySelector('link[rel="alternate"][type="application/atom+xml"]');
    if (alternate) alternate.href = feed;
  }

  function showIncident(point) {
    closePanelOnPhone();
    incidentMap.showIncident(point);
  }

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
    permalink.setForm(new URLSearchParams());
    timelineDomain = null;
    commit();
  });

  // Pan and zoom fetch again for the new view (debounced in the feed; a stale answer is aborted).
  map.on("moveend", () => {
    writeUrl({ push: false });
    refreshView();
    if (!wholeArea() && !timeline.playing) refreshTimeline();
  });
  for (const box of scopeBoxes) box.addEventListener("change", () => commit());

  // The skip link lands on the filters, or on a phone (where they are in a drawer) on the button that opens them.
  document.querySelector('.skip-link[href="#side-panel"]')?.addEventListener("click", (event) => {
    if (!phone.matches) return;
    event.preventDefault();
    panelToggle.focus();
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
    history.pushState(null, "", permalink.url(state()));
    embedLinks.update();
    refreshView(); // at full detail again
  });
  document.getElementById("play-speed").addEventListener("change", (event) => {
    if (!timeline.playing) return;
    timeline.pause();
    timeline.play(Number(event.target.value));
    setPlayLabel();
  });
  document.getElementById("zoom-range").addEventListener("click", () => {
    if (!timeline.selection) return;
    timelineDomain = [...timeline.selection];
    commit();
  });
  document.getElementById("reset-range").addEventListener("click", () => {
    if (timeline.playing) timeline.pause();
    form.elements.start.value = "";
    form.elements.end.value = "";
    timelineDomain = null;
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
    embedLinks.update();
    refresh();
  });

  readUrl();
  history.replaceState(null, "", permalink.url(state()));
  embedLinks.update();
  refresh();
});
