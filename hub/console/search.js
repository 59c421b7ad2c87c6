// Search by Chinese name, pinyin, English name, phone, e-mail or identifier.

import { gql } from "./api.js";
import { empty, field, h, loading, route, section, show, table } from "./dom.js";

const PAGE_SIZE = 20;

const SEARCH_QUERY = `
query Search($text: String!, $partyType: PartyType, $first: Int!, $after: String) {
  search(text: $text, partyType: $partyType, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      score matchedOn
      customer { id name nameEn partyType region phones { value } emails { value } }
    } }
  }
}`;

export async function showSearch(ctx, params) {
  const text = params.get("q") ?? "";
  const partyType = params.get("party") || null;
  const after = params.get("after") || null;
  const back = params.getAll("back");

  const input = h("input", {
    type: "search",
    name: "q",
    placeholder: "名称, pinyin, English name, phone, e-mail, USCC or ID number",
    autocomplete: "off",
  });
  input.value = text;
  const party = h(
    "select",
    { name: "party" },
    h("option", { value: "" }, "any"),
    h("option", { value: "ORGANIZATION" }, "organization"),
    h("option", { value: "PERSON" }, "person"),
  );
  party.value = partyType ?? "";
  const form = h(
    "form",
    {
      class: "filters",
      role: "search",
      "aria-label": "Search customers",
      onsubmit: (event) => {
        event.preventDefault();
        const next = new URLSearchParams({ q: input.value.trim() });
        if (party.value) next.set("party", party.value);
        ctx.go(route("#/search", next));
      },
    },
    field("Search text", input),
    field("Party type", party),
    h("button", { type: "submit" }, "Search"),
  );
  const results = h("div", { class: "results" });
  ctx.view.replaceChildren(section("Search customers", form, results));
  if (!text) {
    results.append(empty("Type a name, pinyin, English name, phone, e-mail or identifier."));
    input.focus();
    return;
  }
  results.append(loading("search results"));
  const data = await gql(SEARCH_QUERY, { text, partyType, first: PAGE_SIZE, after });
  if (!ctx.isCurrent()) return;
  const hits = data.search;
  const count = h("p", { class: "count", role: "status" }, `${hits.totalCount} hit${hits.totalCount === 1 ? "" : "s"}`);
  // Marks which search these results answer (tests and assistive tech wait on it).
  results.dataset.query = text;
  if (!hits.edges.length) {
    results.replaceChildren(count, empty(`No customer matches “${text}”.`));
    return;
  }
  const rows = hits.edges.map(({ node }) =>
    h(
      "tr",
      { "data-customer-id": node.customer.id },
      h("td", { class: "num" }, node.score.toFixed(2)),
      h("td", {}, node.matchedOn),
      h("td", {}, h("a", { href: `#/customer/${encodeURIComponent(node.customer.id)}` }, node.customer.id)),
      h("td", { class: "name" }, node.customer.name),
      h("td", {}, show(node.customer.nameEn)),
      h("td", {}, node.customer.partyType.toLowerCase()),
      h("td", {}, show(node.customer.region)),
      h("td", {}, show(node.customer.phones.map((p) => p.value))),
      h("td", {}, show(node.customer.emails.map((e) => e.value))),
    ),
  );
  const base = new URLSearchParams({ q: text });
  if (partyType) base.set("party", partyType);
  const pager = h("nav", { class: "pager", "aria-label": "Result pages" });
  if (back.length) {
    const previous = new URLSearchParams(base);
    back.slice(0, -1).forEach((cursor) => previous.append("back", cursor));
    if (back.at(-1)) previous.set("after", back.at(-1));
    pager.append(h("a", { href: route("#/search", previous), class: "button" }, "← Previous page"));
  }
  if (hits.pageInfo.hasNextPage) {
    const next = new URLSearchParams(base);
    [...back, after ?? ""].forEach((cursor) => next.append("back", cursor));
    next.set("after", hits.pageInfo.endCursor);
    pager.append(h("a", { href: route("#/search", next), class: "button" }, "Next page →"));
  }
  results.replaceChildren(
    count,
    table(["Score", "Matched on", "Id", "Name", "English name", "Party", "Region", "Phones", "E-mails"], rows, {
      className: "hits",
    }),
    pager,
  );
}
