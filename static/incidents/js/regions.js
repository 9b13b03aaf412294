// The map's region view: governorates (and districts when zoomed in) shaded by incidents or fatalities under the
// current filters, a legend stating its classes, and a table of the same numbers (the keyboard and screen-reader
// way in, with its CSV and JSON). The boundaries are fetched once per level; a filter change fetches only numbers.
import { element, interpolate, isolated } from "./dom.js";
import { LatestJson } from "./feed.js";

// Districts from this zoom level on: below it a district is a few pixels wide.
const DISTRICT_ZOOM = 8;
// ColorBrewer YlOrRd, five classes (light to dark), and the colour of a region with none.
const COLOURS = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"];
const NONE = "#f2f2f2";

// Class breaks for the values: quantiles of the regions with at least one (five classes at most, no class repeated),
// each class [low, high] of whole numbers. Exported for the tests.
export function quantileClasses(values, count = COLOURS.length) {
  const sorted = values.filter((value) => value > 0).sort((a, b) => a - b);
  if (!sorted.length) return [];
  const classes = [];
  let low = sorted[0];
  for (let index = 1; index <= count; index += 1) {
    const high = sorted[Math.min(sorted.length - 1, Math.ceil((index * sorted.length) / count) - 1)];
    if (high >= low) {
      classes.push([low, high]);
      low = high + 1;
    }
  }
  return classes;
}

export class RegionView {
  constructor(map, { config, strings, lang, onToggle }) {
    this.map = map;
    this.config = config;
    this.strings = strings;
    this.number = new Intl.NumberFormat(lang);
    this.arabic = document.documentElement.lang === "ar";
    this.onToggle = onToggle;
    this.counts = new LatestJson(config.regionsUrl, { delay: 100 });
    this.boundaries = new Map(); // level → Promise of the FeatureCollection
    this.layer = null;
    this.level = null;
    this.params = null;
    this.box = document.getElementById("region-view");
    this.toggle = document.getElementById("region-toggle");
    this.measure = document.getElementById("region-measure");
    this.legend = document.getElementById("region-legend");
    this.table = document.getElementById("region-rows");
    this.caption = document.getElementById("region-caption");
    this.toggle.addEventListener("change", () => this.switched());
    this.measure.addEventListener("change", () => this.draw());
    map.on("zoomend", () => {
      if (this.enabled && this.levelForZoom() !== this.level) this.refresh();
    });
    map.createPane("regions").style.zIndex = 390; // above the tiles, under the markers (400) and popups
  }

  // The view in the URL (`show=regions`): set without a change event, then switched as a click would.
  show(enabled) {
    if (this.toggle.checked === enabled) return;
    this.toggle.checked = enabled;
    this.switched({ record: false });
  }

  switched({ record = true } = {}) {
    this.box.hidden = !this.enabled;
    this.onToggle(this.enabled, { record });
    if (this.enabled) this.refresh();
    else this.clear();
  }

  get enabled() {
    return this.toggle.checked;
  }

  levelForZoom() {
    return this.map.getZoom() >= DISTRICT_ZOOM ? "admin2" : "admin1";
  }

  // params: the filters (URLSearchParams, no map view: a region is counted whole).
  async update(params) {
    // A pan keeps the same filters: the areas are counted whole, so there is nothing new to fetch.
    const changed = String(params) !== String(this.params) || this.levelForZoom() !== this.level;
    this.params = params;
    if (this.enabled && changed) await this.refresh();
  }

  async refresh() {
    if (!this.params) return;
    const level = this.levelForZoom();
    const params = new URLSearchParams(this.params);
    params.set("level", level);
    this.updateDownloads(params);
    try {
      const [boundaries, counts] = await Promise.all([this.boundariesOf(level), this.counts.get(params, { now: true })]);
      if (!counts || !this.enabled) return;
      this.level = level;
      this.rows = counts.regions;
      this.total = counts.total;
      this.shapes = boundaries;
      this.draw();
    } catch (error) {
      this.caption.textContent = this.strings.loadFailed;
    }
  }

  boundariesOf(level) {
    if (!this.boundaries.has(level)) {
      const url = `${this.config.regionBoundariesUrl}?level=${level}`;
      this.boundaries.set(level, fetch(url).then((response) => response.json()));
    }
    return this.boundaries.get(level);
  }

  value(row) {
    return this.measure.value === "fatalities" ? row.fatalities_best : row.incidents;
  }

  name(row) {
    return (this.arabic && row.name_ar) || row.name || this.strings.noRegion;
  }

  draw() {
    if (!this.rows) return;
    const byKey = new Map(this.rows.map((row) => [row.key, row]));
    const classes = quantileClasses(this.rows.filter((row) => row.region_id !== null).map((row) => this.value(row)));
    const colour = (value) => {
      if (!value) return NONE;
      const index = classes.findIndex(([, high]) => value <= high);
      return COLOURS[Math.max(0, index) + COLOURS.length - classes.length];
    };
    this.clear();
    this.layer = L.geoJSON(this.shapes, {
      pane: "regions",
      style: (feature) => ({
        color: "#555",
        weight: 1,
        fillOpacity: 0.75,
        fillColor: colour(byKey.has(feature.id) ? this.value(byKey.get(feature.id)) : 0),
      }),
      onEachFeature: (feature, shape) => {
        const row = byKey.get(feature.id);
        shape.bindTooltip(() => this.tooltip(row, feature.properties), { sticky: true });
      },
    }).addTo(this.map);
    this.drawLegend(classes, colour);
    this.drawTable();
    Object.assign(this.box.dataset, { level: this.level, total: String(this.total), regionSum: String(this.rows.reduce((sum, row) => sum + row.incidents, 0)) });
  }

  tooltip(row, properties) {
    const name = (this.arabic && properties.name_ar) || properties.name;
    if (!row) return `${name}: ${interpolate(this.strings.regionNone, {})}`;
    return `${name}: ${interpolate(this.strings.regionTooltip, {
      n: this.number.format(row.incidents),
      f: this.number.format(row.fatalities_best),
      low: this.number.format(row.fatalities_low),
      high: this.number.format(row.fatalities_high),
    })}`;
  }

  drawLegend(classes, colour) {
    this.legend.replaceChildren();
    const measure = this.measure.value === "fatalities" ? this.strings.regionFatalities : this.strings.regionIncidents;
    element("p", { text: interpolate(this.strings.regionLegend, { measure, level: this.level === "admin2" ? this.strings.districts : this.strings.governorates }) }, this.legend);
    const list = element("ul", {}, this.legend);
    const swatch = (fill, text) => {
      const item = element("li", {}, list);
      element("span", { className: "legend-swatch", attrs: { "aria-hidden": "true" } }, item).style.background = fill;
      element("span", { text }, item);
    };
    swatch(NONE, this.number.format(0));
    for (const [low, high] of classes) swatch(colour(high), low === high ? this.number.format(low) : `${this.number.format(low)}–${this.number.format(high)}`);
  }

  drawTable() {
    this.table.replaceChildren();
    this.caption.textContent = interpolate(this.strings.regionCaption, { n: this.number.format(this.total) });
    for (const row of this.rows) {
      const tr = element("tr", {}, this.table);
      const cell = element("th", { attrs: { scope: "row" } }, tr);
      if (row.lat !== null) {
        const button = element("button", { className: "link-button", attrs: { type: "button" } }, cell);
        isolated(this.name(row), button);
        button.addEventListener("click", () => this.map.setView([row.lat, row.lon], Math.max(this.map.getZoom(), row.admin2 ? 9 : 7)));
        if (this.level === "admin1") {
          const href = this.config.regionPageUrl.replace(/\/0\/$/, `/${row.region_id}/`);
          element("a", { text: " ↗", className: "region-page", attrs: { href, "aria-label": interpolate(this.strings.regionPage, { name: this.name(row) }) } }, cell);
        }
      } else isolated(this.name(row), cell);
      element("td", { text: this.number.format(row.incidents) }, tr);
      element("td", { text: `${this.number.format(row.fatalities_best)} (${this.number.format(row.fatalities_low)}–${this.number.format(row.fatalities_high)})` }, tr);
    }
  }

  updateDownloads(params) {
    document.getElementById("region-csv").href = `${this.config.regionsCsvUrl}?${params}`;
    document.getElementById("region-json").href = `${this.config.regionsUrl}?${params}`;
  }

  clear() {
    if (this.layer) this.map.removeLayer(this.layer);
    this.layer = null;
  }
}
