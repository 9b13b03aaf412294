// The incident admin's place search: suggestions from the gazetteer as an editor types, keyboard-usable
// (a WAI-ARIA combobox), filling the point, coded place, admin1, country and precision; a click on the map
// sets the point and reverse-geocodes admin1 and country. Hooked on django-leaflet's map:init; no globals.
(function () {
  "use strict";

  var DEBOUNCE_MS = 200;
  var MIN_CHARS = 2;

  function byId(id) {
    return document.getElementById(id);
  }

  function setValue(id, value) {
    var input = byId(id);
    if (!input) return;
    input.value = value === null || value === undefined ? "" : String(value);
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function PlaceSearch(input, map) {
    this.input = input;
    this.map = map;
    this.field = null; // django-leaflet's geometry field, once it has loaded
    this.results = [];
    this.active = -1;
    this.timer = null;
    this.request = null;
    this.drawing = false;
    this.text = {
      noResults: input.dataset.textNoResults,
      failed: input.dataset.textFailed,
      ambiguous: input.dataset.textAmbiguous,
      sameName: input.dataset.textSameName,
      similar: input.dataset.textSimilar,
      nearest: input.dataset.textNearest,
      noneNear: input.dataset.textNoneNear,
    };
    this.list = document.createElement("ul");
    this.list.id = input.id + "-listbox";
    this.list.className = "place-search-list";
    this.list.setAttribute("role", "listbox");
    this.list.hidden = true;
    this.status = document.createElement("p");
    this.status.className = "place-search-status";
    this.status.setAttribute("aria-live", "polite");
    input.setAttribute("aria-controls", this.list.id);
    input.insertAdjacentElement("afterend", this.status);
    input.insertAdjacentElement("afterend", this.list);
    this.bind();
  }

  PlaceSearch.prototype.bind = function () {
    var self = this;
    this.input.addEventListener("input", function () {
      window.clearTimeout(self.timer);
      self.timer = window.setTimeout(function () {
        self.search(self.input.value.trim());
      }, DEBOUNCE_MS);
    });
    this.input.addEventListener("keydown", function (event) {
      self.onKey(event);
    });
    this.input.addEventListener("blur", function () {
      window.setTimeout(function () {
        self.close();
      }, 150);
    });
    // mousedown, not click: it comes before the input's blur closes the list.
    this.list.addEventListener("mousedown", function (event) {
      var option = event.target.closest("[role=option]");
      if (!option) return;
      event.preventDefault();
      self.choose(Number(option.dataset.index));
    });
    this.map.on("map:loadfield", function (event) {
      if (event.fieldid === "id_location") self.field = event.field;
    });
    this.map.on("draw:drawstart", function () {
      self.drawing = true;
    });
    this.map.on("draw:drawstop", function () {
      self.drawing = false;
    });
    this.map.on("draw:created draw:edited", function (event) {
      var layer = event.layer || (event.layers && event.layers.getLayers()[0]);
      if (layer && layer.getLatLng) self.pointChosen(layer.getLatLng(), false);
    });
    this.map.on("click", function (event) {
      if (!self.drawing) self.pointChosen(event.latlng, true);
    });
  };

  PlaceSearch.prototype.onKey = function (event) {
    var open = !this.list.hidden && this.results.length > 0;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!open) return;
      event.preventDefault();
      var step = event.key === "ArrowDown" ? 1 : -1;
      this.highlight((this.active + step + this.results.length) % this.results.length);
    } else if (event.key === "Enter") {
      // Enter in the search box picks a place; it must never submit the incident form.
      event.preventDefault();
      if (open) this.choose(this.active >= 0 ? this.active : 0);
    } else if (event.key === "Escape" && open) {
      event.preventDefault();
      this.close();
    }
  };

  PlaceSearch.prototype.search = function (query) {
    var self = this;
    if (this.request) this.request.abort();
    if (query.length < MIN_CHARS) {
      this.close();
      this.say("");
      return;
    }
    this.request = new AbortController();
    var url = this.input.dataset.searchUrl + "?" + new URLSearchParams({ q: query, limit: "8" });
    fetch(url, { signal: this.request.signal, credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().then(function (body) {
          return { ok: response.ok, body: body };
        });
      })
      .then(function (reply) {
        if (!reply.ok) {
          self.close();
          self.say(reply.body.error || self.text.failed);
          return;
        }
        var results = reply.body.results || [];
        self.show(results);
        var unsure = results.length && results[0].ambiguous ? self.text.ambiguous : "";
        self.say((reply.body.warnings || []).join(" ") || unsure || (results.length ? "" : self.text.noResults));
      })
      .catch(function (error) {
        if (error.name !== "AbortError") self.say(self.text.failed);
      });
  };

  PlaceSearch.prototype.show = function (results) {
    this.results = results;
    this.active = -1;
    this.list.replaceChildren();
    var self = this;
    results.forEach(function (result, index) {
      var option = document.createElement("li");
      option.id = self.list.id + "-" + index;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.dataset.index = String(index);
      var name = document.createElement("strong");
      name.textContent = result.name;
      var detail = document.createElement("span");
      detail.className = "place-search-detail";
      // Region and district tell same-named villages apart; the note says why the editor has to choose.
      var note = result.ambiguous ? self.text.sameName : result.match === "fuzzy" ? self.text.similar : "";
      detail.textContent =
        " " + [result.admin2, result.admin1, result.country].filter(Boolean).join(", ") + " · " + result.precision +
        (note ? " · " + note : "") +
        (result.provider !== "gazetteer" ? " · " + result.provider : "");
      option.append(name, detail);
      self.list.append(option);
    });
    this.list.hidden = results.length === 0;
    this.input.setAttribute("aria-expanded", String(results.length > 0));
    this.input.removeAttribute("aria-activedescendant");
  };

  PlaceSearch.prototype.highlight = function (index) {
    this.active = index;
    Array.prototype.forEach.call(this.list.children, function (option, i) {
      option.setAttribute("aria-selected", String(i === index));
    });
    var current = this.list.children[index];
    this.input.setAttribute("aria-activedescendant", current.id);
    current.scrollIntoView({ block: "nearest" });
  };

  PlaceSearch.prototype.close = function () {
    this.list.hidden = true;
    this.active = -1;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  };

  PlaceSearch.prototype.say = function (message) {
    this.status.textContent = message;
  };

  PlaceSearch.prototype.choose = function (index) {
    var place = this.results[index];
    if (!place) return;
    this.close();
    this.input.value = place.name;
    setValue("id_place", place.place_id);
    // An online provider's answer has no place yet: saving the incident keeps it as one.
    setValue("id_online_provider", place.place_id ? "" : place.provider);
    setValue("id_place_name", place.name);
    setValue("id_admin1", place.admin1);
    setValue("id_admin2", place.admin2);
    setValue("id_country", place.country);
    setValue("id_location_precision", place.location_precision);
    this.setPoint(L.latLng(place.latitude, place.longitude));
    this.map.setView([place.latitude, place.longitude], place.precision === "region" ? 8 : 11);
    this.say([place.name, place.admin1, place.country].filter(Boolean).join(", ") + " · " + place.precision);
  };

  // Puts the marker in django-leaflet's field (which writes the geometry) and the typed coordinates.
  PlaceSearch.prototype.setPoint = function (latlng) {
    setValue("id_latitude", latlng.lat.toFixed(6));
    setValue("id_longitude", latlng.lng.toFixed(6));
    if (!this.field) return;
    var field = this.field;
    field.drawnItems.eachLayer(function (layer) {
      field._map.removeLayer(layer);
    });
    field.drawnItems.clearLayers();
    field.drawnItems.addLayer(L.marker(latlng));
    field.store.save(field.drawnItems);
  };

  PlaceSearch.prototype.pointChosen = function (latlng, moveMarker) {
    var self = this;
    if (moveMarker) this.setPoint(latlng);
    else {
      setValue("id_latitude", latlng.lat.toFixed(6));
      setValue("id_longitude", latlng.lng.toFixed(6));
    }
    var url = this.input.dataset.reverseUrl + "?" + new URLSearchParams({ lat: latlng.lat, lon: latlng.lng });
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json();
      })
      .then(function (body) {
        var place = body.result;
        if (!place) {
          self.say(body.error || self.text.noneNear);
          return;
        }
        setValue("id_admin1", place.admin1);
        setValue("id_admin2", place.admin2);
        setValue("id_country", place.country);
        setValue("id_online_provider", "");
        // The point is the editor's; the nearest place is its coded place only when the point is on it.
        setValue("id_place", place.precision === "exact" ? place.place_id : "");
        self.say(
          self.text.nearest + ": " + place.name + " (" + place.distance_km + " km), " +
          [place.admin2, place.admin1, place.country].filter(Boolean).join(", ")
        );
      })
      .catch(function () {
        self.say(self.text.failed);
      });
  };

  window.addEventListener("map:init", function (event) {
    var input = byId("id_place_search");
    if (input && !input.dataset.ready) {
      input.dataset.ready = "1";
      new PlaceSearch(input, event.detail.map);
    }
  });
})();
