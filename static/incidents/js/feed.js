// Fetching JSON for the current view: debounced, and a newer request aborts the one still in flight, so a slow
// answer for a view the visitor has already left never overwrites the answer for the view they are looking at.

export class LatestJson {
  constructor(url, { delay = 150 } = {}) {
    this.url = url;
    this.delay = delay;
    this.timer = null;
    this.controller = null;
  }

  // Resolves with the body, or null when a newer call superseded this one; rejects with .errors on a 400.
  get(params, { now = false } = {}) {
    this.cancel();
    const controller = new AbortController();
    this.controller = controller;
    return new Promise((resolve, reject) => {
      this.settleWaiting = resolve;
      const run = async () => {
        this.settleWaiting = null;
        try {
          const response = await fetch(`${this.url}?${params}`, { headers: { Accept: "application/json" }, signal: controller.signal });
          const body = await response.json();
          if (controller.signal.aborted) return resolve(null);
          if (!response.ok) return reject(Object.assign(new Error("bad parameters"), { errors: body.errors || {} }));
          resolve(body);
        } catch (error) {
          if (controller.signal.aborted) resolve(null);
          else reject(error);
        }
      };
      if (now) run();
      else this.timer = setTimeout(run, this.delay);
    });
  }

  // Drops the call still waiting or in flight (it resolves null, as when superseded).
  cancel() {
    clearTimeout(this.timer);
    this.controller?.abort();
    this.settleWaiting?.(null); // a call still waiting for its delay is answered "superseded", never left hanging
    this.settleWaiting = null;
  }
}

// The view as the server reads it: west,south,east,north (longitudes may run past ±180 after panning round the
// world; the server wraps them) and the zoom level that sizes the cluster cells.
export function viewParams(map, { coarser = 0 } = {}) {
  const bounds = map.getBounds();
  let west = bounds.getWest();
  let east = bounds.getEast();
  if (east - west >= 360) [west, east] = [-180, 180];
  const clampLat = (lat) => Math.max(-90, Math.min(90, lat));
  const round = (value) => Number(value.toFixed(5));
  return {
    bbox: [round(west), round(clampLat(bounds.getSouth())), round(east), round(clampLat(bounds.getNorth()))].join(","),
    zoom: String(Math.max(0, Math.round(map.getZoom()) - coarser)),
  };
}

// The view as the FilterSet's `bbox` (downloads, timeline): minLon,minLat,maxLon,maxLat within ±180. A view across
// the antimeridian keeps its larger side (the one box the parameter can say); 360° or more is the whole world.
export function downloadBbox(map) {
  const bounds = map.getBounds();
  let west = bounds.getWest();
  let east = bounds.getEast();
  if (east - west >= 360) [west, east] = [-180, 180];
  else {
    const shift = Math.floor((west + 180) / 360) * 360;
    [west, east] = [west - shift, east - shift];
    if (east > 180) [west, east] = east - 180 > 180 - west ? [-180, east - 360] : [west, 180];
  }
  const clampLat = (lat) => Math.max(-90, Math.min(90, lat));
  const round = (value) => Number(value.toFixed(5));
  return [round(west), round(clampLat(bounds.getSouth())), round(east), round(clampLat(bounds.getNorth()))].join(",");
}
