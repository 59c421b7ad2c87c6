// One review pair: both records side by side, the match weights, and the verdict.

import { gql } from "./api.js";
import { field, h, loading, outcome, route, section, show, table, when } from "./dom.js";
import { QUEUE_QUERY, queueFilter, queueParams } from "./queue.js";

const REVIEW_QUERY = `
query Review($id: ID!) {
  review(id: $id) {
    id status score explanation createdAt resolvedAt resolvedBy note
    left { source sourceKey customerId raw standardized }
    right { source sourceKey customerId raw standardized }
  }
}`;

const RESOLVE = `
mutation Resolve($id: ID!, $decision: ReviewDecision!, $note: String) {
  resolveReview(id: $id, decision: $decision, note: $note) {
    customerId
    userErrors { field message code }
  }
}`;

// Pairs skipped in this tab are not offered again until the page reloads.
const skipped = new Set();

const HIDDEN_RAW = new Set(["source", "source_key"]);

/** {"address": {"city": "苏州"}} → [["address.city", "苏州"]]; lists stay whole. */
function flatten(value, prefix = "", out = new Map()) {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) flatten(inner, prefix ? `${prefix}.${key}` : key, out);
  } else if (prefix) {
    out.set(prefix, value);
  }
  return out;
}

function blank(value) {
  return value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length);
}

/** Rows of attribute | left | right, each marked same, differs or one-sided. */
function comparisonRows(left, right, skip = new Set()) {
  const names = [...new Set([...left.keys(), ...right.keys()])].filter((n) => !skip.has(n));
  return names
    .filter((name) => !(blank(left.get(name)) && blank(right.get(name))))
    .map((name) => {
      const a = left.get(name);
      const b = right.get(name);
      let state = "same";
      if (blank(a) || blank(b)) state = "one-sided";
      else if (JSON.stringify(a) !== JSON.stringify(b)) state = "differs";
      const marker = { same: "", differs: "≠ differs", "one-sided": "one side" }[state];
      return h(
        "tr",
        { class: state, "data-field": name },
        h("th", { scope: "row" }, name),
        h("td", {}, show(a)),
        h("td", {}, show(b)),
        h("td", { class: "marker" }, marker),
      );
    });
}

/** One horizontal bar per comparison around a zero line: right for evidence of a match. */
function weightChart(explanation) {
  const comparisons = explanation?.comparisons ?? [];
  const largest = Math.max(1, ...comparisons.map((c) => Math.abs(c.weight)));
  const rows = comparisons.map((c) => {
    const share = `${(Math.abs(c.weight) / largest) * 50}%`;
    const bar = h("span", {
      class: `bar ${c.weight >= 0 ? "positive" : "negative"}`,
      style: c.weight >= 0 ? { left: "50%", width: share } : { right: "50%", width: share },
    });
    return h(
      "li",
      { class: c.weight === 0 ? "weight zero" : "weight", "data-comparison": c.comparison },
      h("span", { class: "label" }, c.comparison, h("span", { class: "muted" }, ` ${c.level}`)),
      h("span", { class: "track", role: "img", "aria-label": `${c.comparison}: weight ${c.weight}` }, bar),
      h("span", { class: "num" }, `${c.weight > 0 ? "+" : ""}${Number(c.weight).toFixed(2)}`),
    );
  });
  const summary = h(
    "p",
    { class: "muted" },
    `prior ${show(explanation?.prior)} · total weight ${show(explanation?.weight)} · probability ${show(explanation?.probability)}`,
  );
  const constraints = explanation?.constraints?.length
    ? h("p", { class: "warning" }, `Constraints: ${explanation.constraints.join(", ")}`)
    : null;
  // Comparisons without evidence either way (mostly missing values) are folded away.
  const evidence = rows.filter((row) => !row.classList.contains("zero"));
  const silent = rows.filter((row) => row.classList.contains("zero"));
  return h(
    "div",
    { class: "explanation" },
    summary,
    constraints,
    h("ol", { class: "weights" }, evidence),
    silent.length
      ? h(
          "details",
          {},
          h("summary", {}, `${silent.length} comparison${silent.length === 1 ? "" : "s"} without evidence`),
          h("ol", { class: "weights" }, silent),
        )
      : null,
  );
}

function sideHeading(side, label) {
  return h(
    "span",
    {},
    `${label}: ${side.source} · ${side.sourceKey} `,
    side.customerId ? h("a", { href: `#/customer/${encodeURIComponent(side.customerId)}` }, side.customerId) : null,
  );
}

/** The first open pair of the queue (same filters) that is neither this one nor skipped. */
async function nextPair(params, currentId) {
  const { orderBy, filter } = queueFilter(params);
  const data = await gql(QUEUE_QUERY, { filter, orderBy, first: 50, after: null });
  const next = data.reviewQueue.edges
    .map((edge) => edge.node.id)
    .find((id) => id !== currentId && !skipped.has(id));
  return next ?? null;
}

export async function showPair(ctx, id, params) {
  ctx.view.replaceChildren(loading(`pair ${id}`));
  const { review } = await gql(REVIEW_QUERY, { id });
  if (!ctx.isCurrent()) return;
  const base = queueParams(params);
  const moveOn = async (message) => {
    const next = await nextPair(params, review.id);
    if (!ctx.isCurrent()) return;
    if (next) ctx.go(route(`#/review/${encodeURIComponent(next)}`, base), message);
    else ctx.go(route("#/queue", base), `${message} No more open pairs.`);
  };

  const note = h("textarea", { name: "note", rows: 2, placeholder: "optional" });
  const status = h("div", { class: "decision-status", "aria-live": "polite" });
  const open = review.status === "open";
  let busy = false;

  const decide = async (decision) => {
    if (busy || !open) return;
    busy = true;
    buttons.forEach((b) => (b.disabled = true));
    status.replaceChildren(loading("decision"));
    try {
      const { resolveReview } = await gql(RESOLVE, { id: review.id, decision, note: note.value || null });
      if (resolveReview.userErrors.length) {
        status.replaceChildren(outcome(resolveReview.userErrors));
        busy = false;
        buttons.forEach((b) => (b.disabled = false));
        return;
      }
      const verb = decision === "MATCH" ? `Matched: now ${resolveReview.customerId}.` : "Kept apart.";
      await moveOn(`Pair ${review.id}: ${verb}`);
    } catch (error) {
      busy = false;
      buttons.forEach((b) => (b.disabled = false));
      ctx.fail(error);
    }
  };
  const skip = async () => {
    if (busy) return;
    busy = true;
    skipped.add(review.id);
    try {
      await moveOn(`Pair ${review.id} skipped.`);
    } catch (error) {
      busy = false;
      ctx.fail(error);
    }
  };

  const buttons = [
    h("button", { type: "button", class: "match", "aria-keyshortcuts": "m", onclick: () => decide("MATCH") }, "Match (m)"),
    h(
      "button",
      { type: "button", class: "not-match", "aria-keyshortcuts": "n", onclick: () => decide("NOT_MATCH") },
      "Not a match (n)",
    ),
    h("button", { type: "button", class: "skip", "aria-keyshortcuts": "s", onclick: skip }, "Skip (s)"),
  ];
  if (!open) buttons.slice(0, 2).forEach((b) => (b.disabled = true));
  ctx.onKey((key) => {
    if (key === "m") decide("MATCH");
    else if (key === "n") decide("NOT_MATCH");
    else if (key === "s") skip();
    else return false;
    return true;
  });

  const rawTable = table(
    ["Field", sideHeading(review.left, "Arrived"), sideHeading(review.right, "Resembles"), ""],
    comparisonRows(flatten(review.left.raw), flatten(review.right.raw), HIDDEN_RAW),
    { className: "pair raw" },
  );
  const standardized = table(
    ["Field", "Arrived", "Resembles", ""],
    comparisonRows(flatten(review.left.standardized), flatten(review.right.standardized), HIDDEN_RAW),
    { className: "pair standardized" },
  );

  const resolved = open
    ? null
    : h(
        "p",
        { class: "warning", role: "status" },
        `This pair is ${review.status}${review.resolvedBy ? ` by ${review.resolvedBy}` : ""} (${when(review.resolvedAt)})${review.note ? `: ${review.note}` : ""}.`,
      );

  ctx.view.replaceChildren(
    h(
      "div",
      { class: "pair-view" },
      h(
        "div",
        { class: "pair-header" },
        h("h1", {}, `Pair ${review.id}`),
        h("span", { class: "badge" }, review.status),
        h("span", { class: "muted" }, ` score ${review.score.toFixed(2)} · queued ${when(review.createdAt)}`),
        h("a", { href: route("#/queue", base), class: "back" }, "← Back to the queue"),
      ),
      resolved,
      h(
        "form",
        { class: "decision", "aria-label": "Decision", onsubmit: (e) => e.preventDefault() },
        buttons,
        field("Note", note),
        status,
      ),
      h(
        "div",
        { class: "columns" },
        h(
          "div",
          {},
          section("Records as sent", rawTable),
          section("Standardized (what matching reads)", standardized),
        ),
        section("Match explanation", weightChart(review.explanation)),
      ),
    ),
  );
}
