// Small DOM helpers shared by the map page's modules. User text only ever reaches the page through textContent.

export function interpolate(text, values) {
  return text.replace(/%\((\w+)\)s/g, (_, name) => values[name]);
}

export function element(tag, { text, className, attrs } = {}, parent = null) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  if (parent) parent.appendChild(node);
  return node;
}

// User text (titles, places, actor names) is isolated in <bdi>, so English inside an Arabic page, or the reverse,
// keeps its own word order and punctuation.
export function isolated(text, parent) {
  return element("bdi", { text }, parent);
}

export const safeColor = (color) => (/^#[0-9a-f]{6}$/i.test(color) ? color : "#666666");
