// The histogram under the map: bars from /api/timeline, a brush with keyboard-operable handles, and play.
// Dates are whole UTC days (days since 1970-01-01) so bucket maths never meets time zones.

const SVG = "http://www.w3.org/2000/svg";
const DAY_MS = 86400000;
const HEIGHT = 110;
const AXIS = 18;

export const toDay = (iso) => Math.round(Date.parse(iso + "T00:00:00Z") / DAY_MS);
export const toIso = (day) => new Date(day * DAY_MS).toISOString().slice(0, 10);

function nextBucket(day, bucket) {
  const date = new Date(day * DAY_MS);
  if (bucket === "day") return day + 1;
  if (bucket === "week") return day + 7;
  if (bucket === "month") return Math.round(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1) / DAY_MS);
  return Math.round(Date.UTC(date.getUTCFullYear() + 1, 0, 1) / DAY_MS);
}

// The narrowest span the histogram shows, in days, per bucket: one incident is a bar among empty neighbours, not a
// bar as wide as the chart under three identical date labels.
const MIN_SPAN_DAYS = { day: 14, week: 70, month: 365, year: 5 * 365 };

// Gridline spacing for counts up to `max`: 1, 2 or 5 times a power of ten, at most three lines.
function niceStep(max) {
  const power = 10 ** Math.floor(Math.log10(Math.max(1, max / 3)));
  return [1, 2, 5, 10].map((factor) => factor * power).find((step) => max / step <= 3) || 10 * power;
}

function svgNode(name, attributes = {}, parent = null) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (parent) parent.appendChild(node);
  return node;
}

export class Timeline {
  constructor(container, { eventTypes, strings, lang, onRange, caption = null }) {
    this.container = container;
    this.caption = caption;
    this.eventTypes = eventTypes;
    this.strings = strings;
    this.onRange = onRange;
    this.dateFormat = new Intl.DateTimeFormat(lang, { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
    this.dayMonthFormat = new Intl.DateTimeFormat(lang, { day: "numeric", month: "short", timeZone: "UTC" });
    this.dayFormat = new Intl.DateTimeFormat(lang, { day: "numeric", timeZone: "UTC" });
    this.selection = null; // [startDay, endDay], both inclusive
    this.showFatalities = false;
    this.data = null;
    this.timer = null;
    this.svg = svgNode("svg", { class: "timeline-svg", role: "group", "aria-label": strings.timeline || "Timeline" });
    container.appendChild(this.svg);
    this.svg.addEventListener("pointerdown", (event) => this.pointerDown(event));
    new ResizeObserver(() => this.draw()).observe(container);
  }

  label(day) {
    return this.dateFormat.format(new Date(day * DAY_MS));
  }

  // "18–20 Apr 2019", "28 Mar – 6 May 2019", "30 Dec 2019 – 2 Jan 2020": as the server says an incident's dates
  // (incidents/templatetags/incident_format.py dates_label).
  rangeLabel(startDay, endDay) {
    if (startDay === endDay) return this.label(startDay);
    const [start, end] = [new Date(startDay * DAY_MS), new Date(endDay * DAY_MS)];
    if (start.getUTCFullYear() !== end.getUTCFullYear()) return `${this.label(startDay)} – ${this.label(endDay)}`;
    if (start.getUTCMonth() !== end.getUTCMonth()) return `${this.dayMonthFormat.format(start)} – ${this.label(endDay)}`;
    return `${this.dayFormat.format(start)}–${this.label(endDay)}`;
  }

  // data: the /api/timeline body; domain: [firstDay, lastDay] to zoom into, or null for the whole span.
  render(data, domain) {
    this.data = data;
    const buckets = data.buckets.map((entry) => ({ ...entry, day: toDay(entry.date) }));
    for (const entry of buckets) entry.next = nextBucket(entry.day, data.bucket);
    this.buckets = buckets;
    if (domain) this.domain = [domain[0], domain[1] + 1];
    else if (buckets.length) {
      const [first, last] = [buckets[0].day, buckets[buckets.length - 1].next];
      const missing = (MIN_SPAN_DAYS[data.bucket] || 14) - (last - first);
      this.domain = missing > 0 ? [first - Math.floor(missing / 2), last + Math.ceil(missing / 2)] : [first, last];
    } else this.domain = null;
    this.draw();
  }

  setSelection(selection) {
    this.selection = selection;
    this.drawBrush();
  }

  x(day) {
    const [from, to] = this.domain;
    return ((day - from) / Math.max(1, to - from)) * this.width;
  }

  dayAt(px) {
    const [from, to] = this.domain;
    const day = Math.round(from + (px / this.width) * (to - from));
    return Math.min(to, Math.max(from, day));
  }

  draw() {
    const svg = this.svg;
    svg.replaceChildren();
    this.width = Math.max(100, this.container.clientWidth);
    svg.setAttribute("width", this.width);
    svg.setAttribute("height", HEIGHT);
    svg.setAttribute("viewBox", `0 0 ${this.width} ${HEIGHT}`);
    if (this.caption) this.caption.textContent = this.data ? this.bucketCaption() : "";
    if (!this.domain) return;
    svg.dataset.total = String(this.data.total ?? "");
    svg.dataset.domainStart = toIso(this.domain[0]);
    svg.dataset.domainEnd = toIso(this.domain[1]); // exclusive
    const key = this.showFatalities ? "fatalities" : "counts";
    const totalKey = this.showFatalities ? "total_fatalities" : "total";
    const max = Math.max(1, ...this.buckets.map((entry) => entry[totalKey]));
    const plot = HEIGHT - AXIS;
    // The y axis: light gridlines at round counts, labelled at their left end.
    const grid = svgNode("g", { class: "y-axis", "aria-hidden": "true" }, svg);
    const step = niceStep(max);
    for (let value = step; value <= max; value += step) {
      const y = plot - (value / max) * (plot - 4);
      svgNode("line", { x1: 0, x2: this.width, y1: y, y2: y, class: "grid" }, grid);
      svgNode("text", { x: 2, y: y - 2, class: "y-tick" }, grid).textContent = value.toLocaleString(this.dateFormat.resolvedOptions().locale);
    }
    const bars = svgNode("g", { class: "bars", "aria-hidden": "true" }, svg);
    for (const entry of this.buckets) {
      if (entry.next <= this.domain[0] || entry.day >= this.domain[1]) continue;
      const x0 = this.x(Math.max(entry.day, this.domain[0]));
      const width = Math.max(1, this.x(Math.min(entry.next, this.domain[1])) - x0 - 1);
      let y = plot;
      for (const kind of this.eventTypes) {
        const value = entry[key][kind.slug] || 0;
        if (!value) continue;
        const height = Math.max(1, (value / max) * (plot - 4));
        y -= height;
        const bar = svgNode("rect", { x: x0, y, width, height, fill: kind.color }, bars);
        svgNode("title", {}, bar).textContent = `${this.label(entry.day)} · ${kind.name}: ${value}`;
      }
    }
    svgNode("line", { x1: 0, x2: this.width, y1: plot, y2: plot, class: "axis" }, svg);
    const ticks = Math.max(1, Math.min(Math.floor(this.width / 140), this.domain[1] - 1 - this.domain[0]));
    let previous = null;
    for (let i = 0; i <= ticks; i += 1) {
      const day = Math.round(this.domain[0] + ((this.domain[1] - 1 - this.domain[0]) * i) / ticks);
      if (this.label(day) === previous) continue;
      previous = this.label(day);
      const anchor = i === 0 ? "start" : i === ticks ? "end" : "middle";
      const text = svgNode("text", { x: this.x(day), y: HEIGHT - 4, "text-anchor": anchor, class: "tick" }, svg);
      text.textContent = previous;
    }
    this.brushLayer = svgNode("g", { class: "brush" }, svg);
    this.drawBrush();
  }

  // "Bars: incidents per month" — what one bar counts, in the visitor's language.
  bucketCaption() {
    const labels = this.strings.buckets || {};
    return (labels[this.showFatalities ? "fatalities" : "incidents"] || {})[this.data.bucket] || "";
  }

  drawBrush() {
    if (!this.brushLayer || !this.domain) return;
    this.brushLayer.replaceChildren();
    if (!this.selection) return;
    const [start, end] = this.selection;
    const x0 = this.x(start);
    const x1 = this.x(end + 1);
    svgNode("rect", { x: x0, y: 0, width: Math.max(1, x1 - x0), height: HEIGHT - AXIS, class: "selection" }, this.brushLayer);
    [
      ["start", x0, this.strings.rangeStart, start],
      ["end", x1, this.strings.rangeEnd, end],
    ].forEach(([edge, x, label, day]) => {
      const handle = svgNode("g", {
        class: `handle handle-${edge}`,
        tabindex: "0",
        role: "slider",
        "aria-label": label,
        "aria-valuemin": this.domain[0],
        "aria-valuemax": this.domain[1] - 1,
        "aria-valuenow": day,
        "aria-valuetext": this.label(day),
        "data-edge": edge,
      }, this.brushLayer);
      svgNode("rect", { x: x - 5, y: 8, width: 10, height: HEIGHT - AXIS - 16, rx: 3 }, handle);
      handle.addEventListener("keydown", (event) => this.handleKey(event, edge));
    });
  }

  step() {
    const bucket = this.data ? this.data.bucket : "day";
    return { day: 1, week: 7, month: 30, year: 365 }[bucket] || 1;
  }

  handleKey(event, edge) {
    const moves = { ArrowLeft: -1, ArrowDown: -1, ArrowRight: 1, ArrowUp: 1, PageDown: -this.step(), PageUp: this.step() };
    let [start, end] = this.selection;
    if (event.key in moves) {
      const delta = moves[event.key] * (event.shiftKey ? this.step() : 1);
      if (edge === "start") start = Math.min(end, Math.max(this.domain[0], start + delta));
      else end = Math.max(start, Math.min(this.domain[1] - 1, end + delta));
    } else if (event.key === "Home") {
      if (edge === "start") start = this.domain[0];
      else end = start;
    } else if (event.key === "End") {
      if (edge === "end") end = this.domain[1] - 1;
      else start = end;
    } else return;
    event.preventDefault();
    this.selection = [start, end];
    this.drawBrush();
    this.brushLayer.querySelector(`.handle-${edge}`).focus();
    this.onRange(start, end, { final: true });
  }

  pointerDown(event) {
    if (!this.domain || event.button !== 0) return;
    const box = this.svg.getBoundingClientRect();
    const px = event.clientX - box.left;
    const edge = event.target.closest(".handle")?.dataset.edge;
    const inside = event.target.classList.contains("selection");
    const origin = this.selection ? [...this.selection] : null;
    const anchorDay = this.dayAt(px);
    this.svg.setPointerCapture(event.pointerId);
    event.preventDefault();
    const move = (moveEvent) => {
      const day = this.dayAt(moveEvent.clientX - box.left);
      if (edge === "start") this.selection = [Math.min(day, origin[1]), origin[1]];
      else if (edge === "end") this.selection = [origin[0], Math.max(origin[0], day - 1)];
      else if (inside) {
        const shift = Math.min(this.domain[1] - 1 - origin[1], Math.max(this.domain[0] - origin[0], day - anchorDay));
        this.selection = [origin[0] + shift, origin[1] + shift];
      } else {
        if (day === anchorDay) return;
        this.selection = [Math.min(day, anchorDay), Math.max(day, anchorDay) - 1];
      }
      this.drawBrush();
      this.onRange(...this.selection, { final: false });
    };
    const up = () => {
      this.svg.removeEventListener("pointermove", move);
      this.svg.removeEventListener("pointerup", up);
      this.svg.removeEventListener("pointercancel", up);
      if (this.selection && String(this.selection) !== String(origin)) this.onRange(...this.selection, { final: true });
    };
    this.svg.addEventListener("pointermove", move);
    this.svg.addEventListener("pointerup", up);
    this.svg.addEventListener("pointercancel", up);
  }

  get playing() {
    return this.timer !== null;
  }

  // Slides the selected window (or a tenth of the span) forward one bucket per tick; pause keeps its place.
  // onRange may return a promise that settles once the map shows the step: until then ticks wait, so a slow
  // answer holds the brush where the map is instead of skipping steps (and stale requests never pile up on the
  // server; bench/first_paint.py measures the steps at a million incidents).
  play(intervalMs) {
    if (!this.domain) return;
    const span = this.domain[1] - this.domain[0];
    if (!this.selection || this.selection[1] >= this.domain[1] - 1) {
      this.selection = [this.domain[0], this.domain[0] + Math.max(this.step(), Math.round(span / 10)) - 1];
    }
    let showing = null;
    const show = () => {
      showing = Promise.resolve(this.onRange(...this.selection, { final: true, transient: true })).finally(() => {
        showing = null;
      });
    };
    const tick = () => {
      if (showing) return;
      const [start, end] = this.selection;
      const shift = Math.min(this.step(), this.domain[1] - 1 - end);
      if (shift <= 0) return this.pause();
      this.selection = [start + shift, end + shift];
      this.drawBrush();
      show();
    };
    this.drawBrush();
    show();
    this.timer = setInterval(tick, intervalMs);
  }

  pause() {
    clearInterval(this.timer);
    this.timer = null;
    this.container.dispatchEvent(new CustomEvent("timeline:paused", { bubbles: true }));
  }
}
