// Trends: small bar charts of incidents (or fatalities) over time by event type or by actor, the top few and
// "other", for the current selection; drawn as SVG here (no library), each with a table of its numbers.
// Fed by the container's data-* attributes (URLs) and the caller's filters; used under the map and on region pages.
import { element, interpolate, isolated } from "./dom.js";
import { LatestJson } from "./feed.js";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 240;
const HEIGHT = 56;

function svg(tag, attrs, parent) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  parent?.appendChild(node);
  return node;
}

export class Trends {
  constructor(container, { strings, lang }) {
    this.container = container;
    this.strings = strings;
    this.number = new Intl.NumberFormat(lang);
    this.arabic = document.documentElement.lang === "ar";
    this.url = container.dataset.trendsUrl;
    this.csvUrl = container.dataset.trendsCsvUrl;
    this.feed = new LatestJson(this.url, { delay: 200 });
    this.by = container.querySelector('[name="trends_by"]');
    this.period = container.querySelector('[name="trends_period"]');
    this.measure = container.querySelector('[name="trends_measure"]');
    this.charts = container.querySelector(".trend-charts");
    this.params = new URLSearchParams();
    for (const control of [this.by, this.period]) control.addEventListener("change", () => this.refresh());
    this.measure.addEventListener("change", () => this.draw());
    container.addEventListener("toggle", () => {
      if (container.open && !this.body) this.refresh();
    });
  }

  // Fetched only while the charts are open (a closed box costs the server nothing).
  update(params) {
    const changed = String(params) !== String(this.params);
    this.params = new URLSearchParams(params);
    if (changed) this.body = null;
    if (this.container.open && !this.body) return this.refresh();
    return Promise.resolve();
  }

  async refresh() {
    const params = new URLSearchParams(this.params);
    params.set("by", this.by.value);
    params.set("period", this.period.value);
    this.container.querySelector(".trends-csv").href = `${this.csvUrl}?${params}`;
    this.container.querySelector(".trends-json").href = `${this.url}?${params}`;
    try {
      const body = await this.feed.get(params);
      if (!body) return;
      this.body = body;
      this.draw();
    } catch {
      this.charts.replaceChildren(element("p", { text: this.strings.loadFailed }));
    }
  }

  draw() {
    if (!this.body) return;
    const measure = this.measure.value === "fatalities" ? "fatalities_best" : "incidents";
    const periods = [...new Set(this.body.series.flatMap((series) => series.points.map((point) => point.period)))].sort();
    const slot = new Map(periods.map((period, index) => [period, index]));
    // One scale for every chart, so the small multiples compare at a glance.
    const top = Math.max(1, ...this.body.series.flatMap((series) => series.points.map((point) => point[measure])));
    this.charts.replaceChildren();
    this.container.dataset.series = String(this.body.series.length);
    if (!this.body.series.length) {
      element("p", { className: "trend-none", text: this.strings.noIncidents }, this.charts);
      return;
    }
    const barWidth = WIDTH / Math.max(1, periods.length);
    for (const series of this.body.series) {
      const label = (this.arabic && series.label_ar) || series.label;
      const figure = element("figure", { className: "trend" }, this.charts);
      const caption = element("figcaption", {}, figure);
      isolated(label, caption);
      const total = measure === "incidents" ? series.incidents : series.fatalities_best;
      element("span", { className: "trend-total", text: ` ${this.number.format(total)}` }, caption);
      const description = interpolate(measure === "incidents" ? this.strings.trendIncidents : this.strings.trendFatalities, {
        name: label,
        n: this.number.format(total),
        first: periods[0],
        last: periods[periods.length - 1],
      });
      const chart = svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-label": description, class: "trend-chart" }, figure);
      for (const point of series.points) {
        const height = (point[measure] / top) * (HEIGHT - 2);
        const x = slot.get(point.period) * barWidth;
        const bar = svg("rect", { x: x.toFixed(2), y: (HEIGHT - height).toFixed(2), width: Math.max(0.5, barWidth - 0.5).toFixed(2), height: height.toFixed(2) }, chart);
        svg("title", {}, bar).textContent = `${point.period}: ${this.number.format(point[measure])}`;
      }
      // Time runs left to right in every language, as in the timeline; the first and last periods under the bars.
      const axis = element("p", { className: "trend-axis", attrs: { "aria-hidden": "true" } }, figure);
      element("span", { text: periods[0] }, axis);
      element("span", { text: periods[periods.length - 1] }, axis);
      const details = element("details", { className: "trend-table" }, figure);
      element("summary", { text: this.strings.trendTable }, details);
      const table = element("table", {}, details);
      const head = element("tr", {}, element("thead", {}, table));
      for (const text of [this.strings.trendPeriod, this.strings.incidents, this.strings.fatalities]) element("th", { text, attrs: { scope: "col" } }, head);
      const rows = element("tbody", {}, table);
      for (const point of series.points) {
        const row = element("tr", {}, rows);
        element("th", { text: point.period, attrs: { scope: "row" } }, row);
        element("td", { text: this.number.format(point.incidents) }, row);
        element("td", { text: `${this.number.format(point.fatalities_best)} (${this.number.format(point.fatalities_low)}–${this.number.format(point.fatalities_high)})` }, row);
      }
    }
  }
}
