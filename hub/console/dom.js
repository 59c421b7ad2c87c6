// Building the page from data without ever parsing data as markup: every text goes
// through textContent or a text node, so a customer called "<img onerror=…>" is just a name.

/** An element with properties and children (strings become text nodes). */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") el.className = value;
    else if (name === "text") el.textContent = String(value);
    else if (name === "style") Object.assign(el.style, value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "value" || name === "checked" || name === "disabled") el[name] = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** A value as people read it: lists joined, objects as compact JSON, nothing as a dash. */
export function show(value) {
  if (value === null || value === undefined || value === "") return "—";
  if (Array.isArray(value)) return value.length ? value.map(show).join("; ") : "—";
  if (typeof value === "object") {
    const parts = Object.entries(value).filter(([, inner]) => !blankValue(inner));
    return parts.length ? parts.map(([key, inner]) => `${key}: ${show(inner)}`).join(" · ") : "—";
  }
  return String(value);
}

function blankValue(value) {
  return value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length);
}

export function when(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString("zh-CN", { hour12: false });
}

export function table(headers, rows, { caption, className } = {}) {
  return h(
    "table",
    { class: className },
    caption ? h("caption", {}, caption) : null,
    h("thead", {}, h("tr", {}, headers.map((text) => h("th", { scope: "col" }, text)))),
    h("tbody", {}, rows),
  );
}

export function section(title, ...children) {
  const id = `s-${title.toLowerCase().replace(/[^a-z]+/g, "-")}`;
  return h("section", { class: "panel", "aria-labelledby": id }, h("h2", { id }, title), children);
}

/** A labelled form control: label text, then the control. */
export function field(labelText, control) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, labelText), control);
}

export function loading(what) {
  return h("p", { class: "state loading", role: "status", "aria-busy": "true" }, `Loading ${what}…`);
}

export function empty(text) {
  return h("p", { class: "state empty", role: "status" }, text);
}

/** userErrors of a mutation payload as a list, or a success line. */
export function outcome(errors, success) {
  if (errors && errors.length) {
    return h(
      "ul",
      { class: "user-errors", role: "alert" },
      errors.map((e) => h("li", {}, `${e.code}${e.field ? ` (${e.field})` : ""}: ${e.message}`)),
    );
  }
  return h("p", { class: "success", role: "status" }, success);
}

/** A hash route with its query, without a dangling "?" when there is none. */
export function route(path, params) {
  const query = new URLSearchParams(params).toString();
  return query ? `${path}?${query}` : path;
}
