// A region's page: its trends (trends.js) under the region's filter, from the data-* attributes and #trends-strings.
import { Trends } from "./trends.js";

const strings = JSON.parse(document.getElementById("trends-strings").textContent);
const lang = document.documentElement.lang === "en" ? "en-GB" : document.documentElement.lang;
const box = document.querySelector(".region-trends");
new Trends(document.getElementById("trends"), { strings, lang }).update(new URLSearchParams(box.dataset.filters));
