// Filters, timeline zoom and map view in the address bar, so a copied URL opens the same view.
import { toDay, toIso } from "./timeline.js";

export class Permalink {
  // filterKeys come from the server's one FilterSet (json_script), never a list copied here by hand.
  constructor(form, filterKeys) {
    this.form = form;
    this.filterKeys = filterKeys;
  }

  // The filter part of the query string; ticking every box of a group means "no filter" and keeps URLs short.
  formParams() {
    const params = new URLSearchParams();
    for (const key of this.filterKeys) {
      const fields = this.form.elements.namedItem(key);
      if (fields instanceof RadioNodeList) {
        const boxes = [...fields];
        const ticked = boxes.filter((box) => box.checked).map((box) => box.value);
        if (ticked.length === 0) params.append(key, "");
        else if (ticked.length < boxes.length) ticked.forEach((value) => params.append(key, value));
      } else if (fields && fields.value.trim()) params.set(key, fields.value.trim());
    }
    return params;
  }

  setForm(params) {
    for (const key of this.filterKeys) {
      const fields = this.form.elements.namedItem(key);
      if (fields instanceof RadioNodeList) {
        const values = params.getAll(key);
        for (const box of fields) box.checked = values.length === 0 || values.includes(box.value);
      } else if (fields) fields.value = params.get(key) || "";
    }
  }

  // Reads the URL into the form; returns the timeline zoom ([fromDay, toDay] or null) and the map view, if any.
  read() {
    const params = new URLSearchParams(location.search);
    this.setForm(params);
    const zoomFrom = params.get("tl_from");
    const zoomTo = params.get("tl_to");
    const at = (params.get("at") || "").split("/").map(Number);
    return {
      timelineDomain: zoomFrom && zoomTo ? [toDay(zoomFrom), toDay(zoomTo)] : null,
      scope: params.get("scope") === "all" ? "all" : "view",
      show: params.get("show") === "regions" ? "regions" : "points",
      view: at.length === 3 && at.every(Number.isFinite) ? { zoom: at[0], center: [at[1], at[2]] } : null,
    };
  }

  url({ timelineDomain, map, scope, show }) {
    const params = this.formParams();
    if (scope === "all") params.set("scope", "all");
    if (show === "regions") params.set("show", "regions");
    if (timelineDomain) {
      params.set("tl_from", toIso(timelineDomain[0]));
      params.set("tl_to", toIso(timelineDomain[1]));
    }
    const centre = map.getCenter();
    // Written by hand so the view reads "at=6/34.8000/38.9000" rather than percent-escaped slashes.
    const at = `at=${map.getZoom()}/${centre.lat.toFixed(4)}/${centre.lng.toFixed(4)}`;
    return `${location.pathname}?${params.size ? `${params}&` : ""}${at}`;
  }

  write(state, { push = true } = {}) {
    const url = this.url(state);
    if (url !== location.pathname + location.search) history[push ? "pushState" : "replaceState"](null, "", url);
  }
}

// Filters with a group all unticked match nothing; the server reads a missing parameter as "all".
export const matchesNothing = (params) => [...params.entries()].some(([key, value]) => value === "" && (key === "event_type" || key === "precision"));

// What the server is sent: empty values dropped.
export function requestParams(params, extra = {}) {
  const cleaned = new URLSearchParams();
  for (const [key, value] of params) if (value !== "") cleaned.append(key, value);
  for (const [key, value] of Object.entries(extra)) cleaned.set(key, value);
  return cleaned;
}
