// The console's shell: the key, the routes (#/queue, #/review/ID, #/search, #/customer/ID),
// keyboard shortcuts and the error states every view shares.

import { apiKey } from "./api.js";
import { showCustomer } from "./customer.js";
import { field, h } from "./dom.js";
import { showPair } from "./pair.js";
import { showQueue } from "./queue.js";
import { showSearch } from "./search.js";

const view = document.getElementById("view");
const flash = document.getElementById("flash");
const forget = document.getElementById("forget-key");
const lookup = document.getElementById("customer-lookup");

let renders = 0;
let keyHandler = null;
let pendingFlash = null;

function keyForm(message) {
  const input = h("input", { type: "password", name: "key", autocomplete: "off", required: true });
  const form = h(
    "form",
    { class: "key-form panel", "aria-label": "API key" },
    h("h1", {}, "Data steward console"),
    message ? h("p", { class: "state error", role: "alert" }, message) : h("p", {}, "Enter your steward API key. It is kept in this tab only, until you forget it or close the tab."),
    field("Steward API key", input),
    h("button", { type: "submit" }, "Use key"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    apiKey.set(input.value.trim());
    route();
  });
  view.replaceChildren(form);
  forget.hidden = true;
  input.focus();
}

function showFailure(error, retry) {
  if (error.kind === "unauthenticated") {
    apiKey.forget();
    keyForm(`The hub did not accept the key (${error.message}). Enter it again.`);
    return;
  }
  const titles = {
    forbidden: "Forbidden: this key's role may not do that.",
    network: "The hub cannot be reached.",
    graphql: "The hub refused the request.",
  };
  view.replaceChildren(
    h(
      "div",
      { class: `panel state error ${error.kind ?? "bug"}`, role: "alert" },
      h("h1", {}, titles[error.kind] ?? "Something went wrong in the console."),
      h("p", {}, error.message),
      h("button", { type: "button", onclick: retry }, "Try again"),
    ),
  );
}

/** The current hash as a route: a path and its query parameters. */
function parseHash() {
  const [path, query = ""] = (location.hash.slice(1) || "/queue").split("?");
  return { parts: path.split("/").filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(query) };
}

async function route() {
  const token = ++renders;
  keyHandler = null;
  if (!apiKey.get()) {
    keyForm(null);
    return;
  }
  forget.hidden = false;
  flash.replaceChildren(pendingFlash ? document.createTextNode(pendingFlash) : "");
  flash.hidden = !pendingFlash;
  pendingFlash = null;
  const { parts, params } = parseHash();
  const [name, id] = parts;
  document.querySelectorAll("header nav a").forEach((a) => {
    a.toggleAttribute("aria-current", a.dataset.route === name);
  });
  const ctx = {
    view,
    isCurrent: () => token === renders,
    go(hash, message = null) {
      pendingFlash = message;
      if (location.hash === hash) route();
      else location.hash = hash;
    },
    fail: (error) => token === renders && showFailure(error, route),
    reload: () => route(),
    onKey(handler) {
      keyHandler = handler;
    },
  };
  try {
    if (name === "review" && id) await showPair(ctx, id, params);
    else if (name === "search") await showSearch(ctx, params);
    else if (name === "customer" && id) await showCustomer(ctx, id);
    else await showQueue(ctx, params);
    if (ctx.isCurrent()) document.title = `${view.querySelector("h1, h2")?.textContent ?? "Console"} · Customer hub`;
  } catch (error) {
    if (!ctx.isCurrent()) return;
    if (!error.kind) console.error(error);
    showFailure(error, route);
  }
}

document.addEventListener("keydown", (event) => {
  if (!keyHandler || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.target.closest?.("input, textarea, select, [contenteditable]")) return;
  if (keyHandler(event.key.toLowerCase())) event.preventDefault();
});

forget.addEventListener("click", () => {
  apiKey.forget();
  keyForm(null);
});

lookup.addEventListener("submit", (event) => {
  event.preventDefault();
  const id = new FormData(lookup).get("id").trim();
  if (id) location.hash = `#/customer/${encodeURIComponent(id)}`;
});

window.addEventListener("hashchange", route);
route();
