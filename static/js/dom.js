// Safe DOM helpers: every user string goes in through textContent, never as HTML; the one
// exception is a message body's HTML, rendered and sanitized by the server (`serverHtml`).

/**
 * Create an element. `attrs` keys: "class", "text", "dataset" (object), "hidden"
 * (boolean), "on" (object of event listeners); anything else becomes an attribute.
 * Children may be nodes or strings (added as text nodes); null/false are skipped.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "hidden") node.hidden = Boolean(value);
    else if (key === "on") for (const [type, fn] of Object.entries(value)) node.addEventListener(type, fn);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, ...children);
  return node;
}

/** Append nodes or strings (as text) to a parent. */
export function append(parent, ...children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Remove every child of a node. */
export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

export const qs = (selector, root = document) => root.querySelector(selector);
export const qsa = (selector, root = document) => Array.from(root.querySelectorAll(selector));

/** An integer from a data attribute or a string, or `fallback`. */
export function toInt(value, fallback = 0) {
  const n = Number.parseInt(value, 10);
  return Number.isFinite(n) ? n : fallback;
}

/** The CSRF token rendered into the page's forms (the cookie is HttpOnly). */
export function csrfToken() {
  const input = qs("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

/** A random UUID (crypto.randomUUID needs a secure context; plain http on a LAN is not one). */
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Replace a node's children with HTML the server rendered and sanitized (a message's `html`,
 * messaging/rendering.py): parsed in an inert document, so nothing in it runs while parsing.
 */
export function serverHtml(node, html) {
  const parsed = new DOMParser().parseFromString(`<body>${html || ""}</body>`, "text/html");
  node.replaceChildren(...parsed.body.childNodes);
  return node;
}
