// The review queue: open pairs by score or age, filtered by source and party type.

import { gql } from "./api.js";
import { empty, field, h, loading, route, section, table, when } from "./dom.js";

const PAGE_SIZES = [10, 20, 50];
const DEFAULT_PAGE_SIZE = 20;
const SOURCES = ["finance", "sales", "logistics", "callcenter", "web"];

export const QUEUE_QUERY = `
query Queue($filter: ReviewFilter, $orderBy: ReviewOrder!, $first: Int!, $after: String) {
  reviewQueue(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      id score createdAt
      left { source sourceKey customerId raw }
      right { source sourceKey customerId raw }
    } }
  }
}`;

/** The queue's filter as the URL carries it (shared with the pair view). */
export function queueFilter(params) {
  return {
    orderBy: params.get("order") === "AGE" ? "AGE" : "SCORE",
    filter: {
      status: "open",
      source: params.get("source") || null,
      partyType: params.get("party") || null,
    },
  };
}

export function queueParams(params) {
  const kept = new URLSearchParams();
  for (const name of ["order", "source", "party", "size"]) {
    if (params.get(name)) kept.set(name, params.get(name));
  }
  return kept;
}

function sideLabel(side) {
  return h(
    "span",
    { class: "side" },
    h("span", { class: "name" }, side.raw?.name ?? "—"),
    h("span", { class: "muted" }, ` ${side.source} · ${side.sourceKey}`),
  );
}

export async function showQueue(ctx, params) {
  const { orderBy, filter } = queueFilter(params);
  const after = params.get("after") || null;
  const back = params.getAll("back");
  const pageSize = Math.min(Number(params.get("size")) || DEFAULT_PAGE_SIZE, 200);

  const order = h(
    "select",
    { name: "order" },
    h("option", { value: "SCORE" }, "Score (highest first)"),
    h("option", { value: "AGE" }, "Age (oldest first)"),
  );
  order.value = orderBy;
  const source = h("input", { name: "source", list: "known-sources", placeholder: "any" });
  source.value = filter.source ?? "";
  const party = h(
    "select",
    { name: "party" },
    h("option", { value: "" }, "any"),
    h("option", { value: "organization" }, "organization"),
    h("option", { value: "person" }, "person"),
  );
  party.value = filter.partyType ?? "";
  const size = h("select", { name: "size" }, PAGE_SIZES.map((n) => h("option", { value: String(n) }, String(n))));
  if (!PAGE_SIZES.includes(pageSize)) size.append(h("option", { value: String(pageSize) }, String(pageSize)));
  size.value = String(pageSize);
  const form = h(
    "form",
    {
      class: "filters",
      role: "search",
      "aria-label": "Filter the review queue",
      onsubmit: (event) => {
        event.preventDefault();
        const next = new URLSearchParams();
        if (order.value !== "SCORE") next.set("order", order.value);
        if (source.value.trim()) next.set("source", source.value.trim());
        if (party.value) next.set("party", party.value);
        if (Number(size.value) !== DEFAULT_PAGE_SIZE) next.set("size", size.value);
        ctx.go(route("#/queue", next));
      },
    },
    field("Order by", order),
    field("Source", source),
    h("datalist", { id: "known-sources" }, SOURCES.map((s) => h("option", { value: s }))),
    field("Party type", party),
    field("Per page", size),
    h("button", { type: "submit" }, "Apply"),
  );
  const results = h("div", { class: "results" }, loading("review queue"));
  ctx.view.replaceChildren(section("Review queue", form, results));

  const data = await gql(QUEUE_QUERY, { filter, orderBy, first: pageSize, after });
  if (!ctx.isCurrent()) return;
  const queue = data.reviewQueue;
  const base = queueParams(params);
  const count = h(
    "p",
    { class: "count", role: "status", "data-testid": "queue-count" },
    `${queue.totalCount} open pair${queue.totalCount === 1 ? "" : "s"}`,
  );
  if (!queue.edges.length) {
    results.replaceChildren(count, empty("Nothing to review with these filters."));
    return;
  }
  const rows = queue.edges.map(({ node }) =>
    h(
      "tr",
      { "data-review-id": node.id },
      h("td", { class: "num" }, node.score.toFixed(2)),
      h("td", {}, when(node.createdAt)),
      h("td", {}, node.left.raw?.party_type ?? "—"),
      h("td", {}, sideLabel(node.left)),
      h("td", {}, sideLabel(node.right)),
      h(
        "td",
        {},
        h(
          "a",
          {
            href: route(`#/review/${encodeURIComponent(node.id)}`, base),
            "aria-label": `Review pair ${node.id}`,
          },
          "Review",
        ),
      ),
    ),
  );
  const pager = h("nav", { class: "pager", "aria-label": "Queue pages" });
  if (back.length) {
    const previous = new URLSearchParams(base);
    const trail = back.slice(0, -1);
    trail.forEach((cursor) => previous.append("back", cursor));
    if (back.at(-1)) previous.set("after", back.at(-1));
    pager.append(h("a", { href: route("#/queue", previous), class: "button" }, "← Previous page"));
  }
  if (queue.pageInfo.hasNextPage) {
    const next = new URLSearchParams(base);
    [...back, after ?? ""].forEach((cursor) => next.append("back", cursor));
    next.set("after", queue.pageInfo.endCursor);
    pager.append(h("a", { href: route("#/queue", next), class: "button" }, "Next page →"));
  }
  results.replaceChildren(
    count,
    table(["Score", "Queued", "Party", "Arrived record", "Resembles", ""], rows, {
      className: "queue",
    }),
    pager,
  );
}
