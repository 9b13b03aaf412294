// "N in view": the incidents in the map view under the filters, newest first, paged by the server.
import { element, interpolate, isolated } from "./dom.js";
import { LatestJson } from "./feed.js";

export class IncidentList {
  constructor({ url, strings, onSelect, onError }) {
    this.strings = strings;
    this.onSelect = onSelect;
    this.onError = onError;
    this.request = new LatestJson(url);
    this.params = null;
    this.page = 1;
    this.pages = 1;
    this.rows = document.getElementById("incident-rows");
    this.table = this.rows.closest("table");
    this.count = document.getElementById("list-count");
    this.label = document.getElementById("page-label");
    this.previous = document.getElementById("page-prev");
    this.next = document.getElementById("page-next");
    this.previous.addEventListener("click", () => this.load(this.params, this.page - 1, { now: true }));
    this.next.addEventListener("click", () => this.load(this.params, this.page + 1, { now: true }));
  }

  // params: filters and view (URLSearchParams), or null when the filters match nothing.
  async load(params, page = 1, { now = false } = {}) {
    this.params = params;
    if (params === null) return this.render({ total: 0, page: 1, pages: 1, incidents: [] });
    const query = new URLSearchParams(params);
    query.set("page", String(page));
    try {
      const body = await this.request.get(query, { now });
      if (body) this.render(body);
    } catch (error) {
      this.onError(error);
    }
  }

  // While the timeline plays: no request of the list's competes with the map's next step; the rows show as out of
  // date until load() is called again.
  hold() {
    this.request.cancel();
    this.table.setAttribute("aria-busy", "true");
  }

  render(body) {
    this.table.removeAttribute("aria-busy");
    this.page = body.page;
    this.pages = body.pages;
    this.rows.replaceChildren();
    for (const point of body.incidents) {
      const row = element("tr", { attrs: { "data-id": point.id, "data-type": point.type } }, this.rows);
      element("td", { text: point.when }, row);
      const title = element("td", {}, row);
      const button = element("button", { text: point.title, className: "row-link", attrs: { type: "button", dir: "auto", lang: point.title_lang } }, title);
      if (point.title_mark) element("span", { text: point.title_mark, className: "original-mark" }, title);
      button.addEventListener("click", () => this.onSelect(point));
      isolated(point.place, element("td", {}, row));
      element("td", { text: point.fatalities_label, className: "number" }, row);
    }
    if (!body.incidents.length) element("td", { text: this.strings.noIncidents, attrs: { colspan: 4 } }, element("tr", {}, this.rows));
    this.count.dataset.total = String(body.total);
    this.count.textContent = `(${interpolate(this.strings.inView, { n: body.total })})`;
    this.label.textContent = interpolate(this.strings.page, { page: body.page, pages: body.pages });
    this.previous.disabled = body.page <= 1;
    this.next.disabled = body.page >= body.pages;
  }
}
