// One golden customer: values with lineage, records, history, interactions,
// classification, credit (when the key may see it) and the steward's actions.

import { gql } from "./api.js";
import { empty, field, h, loading, outcome, section, show, table, when } from "./dom.js";

const INTERACTIONS_PAGE = 10;

const CUSTOMER_QUERY = `
query Customer($id: ID!, $first: Int!) {
  customer(id: $id) {
    id requestedId partyType status version name nameEn createdAt updatedAt
    attributes
    lineage {
      attribute rule rulesVersion source sourceKey recordVersion valid setBy at
      contributors { source sourceKey }
    }
    sourceRecords { source sourceKey version retired linkKind score }
    history { version status change validFrom sourceRecordCount name mergedInto }
    metrics {
      transactionCount transactionAmount revenue12m firstTransactionAt lastTransactionAt
      averageDaysLate openComplaints openReceivables lastContactAt
    }
    classification { dimension value rule ruleSetVersion computedAt }
    interactions(first: $first) { ...Interactions }
  }
}
fragment Interactions on InteractionConnection {
  totalCount
  pageInfo { hasNextPage endCursor }
  edges { node { id source type occurredAt channel amount currency summary customerKey } }
}`;

const MORE_INTERACTIONS = `
query MoreInteractions($id: ID!, $first: Int!, $after: String) {
  customer(id: $id) {
    interactions(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id source type occurredAt channel amount currency summary customerKey } }
    }
  }
}`;

const CREDIT_QUERY = `
query Credit($id: ID!) {
  customer(id: $id) {
    credit {
      rating currentLimit effectiveLimit recommendedLimit limitSource settlementTerms
      openReceivables utilization updatedAt
    }
  }
}`;

const OTHER_CUSTOMER = `query Other($id: ID!) { customer(id: $id) { id name status version partyType } }`;

const MERGE = `
mutation Merge($ids: [ID!]!, $note: String, $expectedVersions: [Int!]) {
  mergeCustomers(ids: $ids, note: $note, expectedVersions: $expectedVersions) {
    customerId userErrors { field message code }
  }
}`;

const SPLIT = `
mutation Split($source: String!, $sourceKey: String!, $into: ID, $note: String, $expectedVersion: Int) {
  splitRecord(source: $source, sourceKey: $sourceKey, into: $into, note: $note, expectedVersion: $expectedVersion) {
    customerId otherCustomerId userErrors { field message code }
  }
}`;

const OVERRIDE = `
mutation Override($id: ID!, $attribute: String!, $value: JSON, $note: String, $expectedVersion: Int) {
  overrideAttribute(id: $id, attribute: $attribute, value: $value, note: $note, expectedVersion: $expectedVersion) {
    customerId userErrors { field message code }
  }
}`;

// The golden attributes in the order of the archive card (what overrideAttribute accepts).
const ATTRIBUTES = [
  "name", "name_en", "uscc", "national_id", "identifiers", "phones", "emails", "address",
  "province", "city", "district", "postal_code", "region", "birth_date", "gender",
  "contact_name", "industry", "ownership", "category",
];
const LISTS = new Set(["identifiers", "phones", "emails"]);

function overrideValue(attribute, text) {
  const trimmed = text.trim();
  if (!trimmed) return null;
  if (/^[[{]/.test(trimmed)) {
    try {
      return JSON.parse(trimmed);
    } catch {
      // Not JSON after all: taken as text below.
    }
  }
  if (LISTS.has(attribute)) return trimmed.split(/[;；]/).map((s) => s.trim()).filter(Boolean);
  return trimmed;
}

function origin(entry) {
  if (!entry) return "—";
  if (entry.setBy) return `override by ${entry.setBy}`;
  if (entry.contributors?.length) return entry.contributors.map((c) => `${c.source} · ${c.sourceKey}`).join("; ");
  if (!entry.source) return "—";
  return `${entry.source} · ${entry.sourceKey}${entry.recordVersion ? ` v${entry.recordVersion}` : ""}`;
}

function goldenValues(customer) {
  const lineage = new Map(customer.lineage.map((entry) => [entry.attribute, entry]));
  const extra = Object.keys(customer.attributes).filter((name) => !ATTRIBUTES.includes(name)).sort();
  const rows = [...ATTRIBUTES, ...extra]
    .filter((name) => customer.attributes[name] !== undefined || lineage.has(name))
    .map((name) => {
      const entry = lineage.get(name);
      return h(
        "tr",
        { "data-attribute": name, class: entry?.rule === "override" ? "override" : null },
        h("th", { scope: "row" }, name),
        h("td", { class: "value" }, show(customer.attributes[name])),
        h("td", {}, entry ? entry.rule : "—", entry && entry.valid === false ? h("span", { class: "warning" }, " invalid") : null),
        h("td", {}, origin(entry)),
        h("td", {}, when(entry?.at)),
      );
    });
  return rows.length
    ? table(["Attribute", "Golden value", "Rule", "From", "Chosen"], rows, { className: "golden" })
    : empty("No golden values.");
}

function interactionRows(edges) {
  return edges.map(({ node }) =>
    h(
      "tr",
      {},
      h("td", {}, when(node.occurredAt)),
      h("td", {}, node.type.toLowerCase()),
      h("td", {}, `${node.source} · ${node.customerKey}`),
      h("td", {}, show(node.channel)),
      h("td", { class: "num" }, node.amount ? `${node.amount} ${node.currency ?? ""}` : "—"),
      h("td", {}, show(node.summary)),
    ),
  );
}

function interactionsPanel(ctx, customer) {
  const connection = customer.interactions;
  if (!connection.totalCount) return section("Interactions", empty("No interactions recorded."));
  const body = h("tbody", {}, interactionRows(connection.edges));
  const list = h(
    "table",
    { class: "interactions" },
    h("thead", {}, h("tr", {}, ["When", "Type", "Department", "Channel", "Amount", "Summary"].map((t) => h("th", { scope: "col" }, t)))),
    body,
  );
  const counter = h("p", { class: "count" }, `${connection.edges.length} of ${connection.totalCount}`);
  let cursor = connection.pageInfo.endCursor;
  let shown = connection.edges.length;
  const more = h("button", { type: "button" }, "Show more interactions");
  more.hidden = !connection.pageInfo.hasNextPage;
  more.addEventListener("click", async () => {
    more.disabled = true;
    more.textContent = "Loading…";
    let data;
    try {
      data = await gql(MORE_INTERACTIONS, { id: customer.id, first: INTERACTIONS_PAGE, after: cursor });
    } catch (error) {
      ctx.fail(error);
      return;
    }
    const page = data.customer.interactions;
    body.append(...interactionRows(page.edges));
    shown += page.edges.length;
    cursor = page.pageInfo.endCursor;
    counter.textContent = `${shown} of ${page.totalCount}`;
    more.disabled = false;
    more.textContent = "Show more interactions";
    more.hidden = !page.pageInfo.hasNextPage;
  });
  return section("Interactions", counter, list, more);
}

function metricsList(metrics) {
  if (!metrics) return empty("No figures yet.");
  const items = [
    ["Orders", metrics.transactionCount],
    ["Order amount", metrics.transactionAmount],
    ["Revenue (12 months)", metrics.revenue12m],
    ["First order", when(metrics.firstTransactionAt)],
    ["Latest order", when(metrics.lastTransactionAt)],
    ["Average days late", metrics.averageDaysLate],
    ["Open complaints", metrics.openComplaints],
    ["Open receivables", metrics.openReceivables],
    ["Latest contact", when(metrics.lastContactAt)],
  ];
  return h("dl", { class: "facts" }, items.map(([term, value]) => [h("dt", {}, term), h("dd", {}, show(value))]));
}

async function creditPanel(ctx, id) {
  const panel = h("div", { "data-testid": "credit" }, loading("credit"));
  gql(CREDIT_QUERY, { id })
    .then(({ customer }) => {
      const credit = customer.credit;
      if (!credit) {
        panel.replaceChildren(empty("No credit record."));
        return;
      }
      const items = [
        ["Rating", credit.rating],
        ["Effective limit", credit.effectiveLimit],
        ["Approved limit", credit.currentLimit],
        ["Recommended limit", credit.recommendedLimit],
        ["Limit from", credit.limitSource],
        ["Settlement terms", credit.settlementTerms],
        ["Open receivables", credit.openReceivables],
        ["Utilization", credit.utilization],
        ["Updated", when(credit.updatedAt)],
      ];
      panel.replaceChildren(h("dl", { class: "facts" }, items.map(([t, v]) => [h("dt", {}, t), h("dd", {}, show(v))])));
    })
    .catch((error) => {
      if (error.kind === "forbidden") {
        panel.replaceChildren(h("p", { class: "state forbidden" }, "No credit access: this key's role may not see credit terms."));
      } else if (error.kind === "unauthenticated") {
        ctx.fail(error);
      } else {
        panel.replaceChildren(h("p", { class: "state error", role: "alert" }, `Credit could not be loaded: ${error.message}`));
      }
    });
  return panel;
}

/** A form whose submit runs `action` and shows its userErrors or success line. */
function actionForm(ctx, label, controls, submitText, action) {
  const result = h("div", { class: "result", "aria-live": "polite" });
  const submit = h("button", { type: "submit" }, submitText);
  const form = h("form", { class: "action", "aria-label": label }, controls, submit, result);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    result.replaceChildren(loading(label.toLowerCase()));
    try {
      const shown = await action(result);
      if (shown) result.replaceChildren(shown);
      if (result.querySelector(".user-errors")?.textContent.includes("CONFLICT")) {
        // The customer changed since the page loaded: offer the fresh version.
        result.append(h("button", { type: "button", onclick: () => ctx.reload() }, "Reload the customer"));
      }
    } catch (error) {
      if (error.kind === "unauthenticated") ctx.fail(error);
      else result.replaceChildren(h("p", { class: "state error", role: "alert" }, error.message));
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function mergeForm(ctx, customer) {
  const other = h("input", { name: "other", placeholder: "C123", autocomplete: "off", required: true });
  const note = h("input", { name: "note", placeholder: "optional" });
  return actionForm(
    ctx,
    "Merge with another customer",
    [field("Other customer id", other), field("Note", note)],
    "Merge…",
    async (result) => {
      const otherId = other.value.trim();
      const { customer: found } = await gql(OTHER_CUSTOMER, { id: otherId });
      if (found.id === customer.id) {
        return outcome([{ code: "INVALID", field: "ids", message: `${otherId} already is this customer.` }]);
      }
      const confirm = h("button", { type: "button", class: "danger" }, "Confirm merge");
      const cancel = h("button", { type: "button" }, "Cancel");
      cancel.addEventListener("click", () => result.replaceChildren());
      confirm.addEventListener("click", async () => {
        confirm.disabled = true;
        let mergeCustomers;
        try {
          ({ mergeCustomers } = await gql(MERGE, {
            ids: [customer.id, found.id],
            note: note.value.trim() || null,
            expectedVersions: [customer.version, found.version],
          }));
        } catch (error) {
          if (error.kind === "unauthenticated") ctx.fail(error);
          else result.replaceChildren(h("p", { class: "state error", role: "alert" }, error.message));
          return;
        }
        if (mergeCustomers.userErrors.length) {
          result.replaceChildren(outcome(mergeCustomers.userErrors));
          return;
        }
        ctx.go(`#/customer/${encodeURIComponent(mergeCustomers.customerId)}`, `Merged ${customer.id} and ${found.id} into ${mergeCustomers.customerId}.`);
      });
      return h(
        "div",
        { class: "confirm", role: "alertdialog", "aria-label": "Confirm the merge" },
        h("p", {}, `Merge ${found.id} “`, h("span", { class: "name" }, found.name), `” (${found.partyType.toLowerCase()}, ${found.status}) with this customer? The older id survives; the other keeps resolving to it.`),
        confirm,
        cancel,
      );
    },
  );
}

function overrideForm(ctx, customer) {
  const attribute = h("select", { name: "attribute" }, ATTRIBUTES.map((name) => h("option", { value: name }, name)));
  const value = h("input", { name: "value", placeholder: "empty removes the override; lists: a; b" });
  const note = h("input", { name: "note", placeholder: "optional" });
  return actionForm(
    ctx,
    "Override a value",
    [field("Attribute", attribute), field("Value", value), field("Note", note)],
    "Override",
    async () => {
      const { overrideAttribute } = await gql(OVERRIDE, {
        id: customer.id,
        attribute: attribute.value,
        value: overrideValue(attribute.value, value.value),
        note: note.value.trim() || null,
        expectedVersion: customer.version,
      });
      if (overrideAttribute.userErrors.length) return outcome(overrideAttribute.userErrors);
      ctx.go(`#/customer/${encodeURIComponent(customer.id)}`, `${attribute.value} of ${customer.id} overridden.`);
      return null;
    },
  );
}

function splitForm(ctx, customer, record) {
  const into = h("input", { name: "into", placeholder: "empty: a new customer", autocomplete: "off" });
  const note = h("input", { name: "note", placeholder: "optional" });
  return actionForm(
    ctx,
    `Split ${record.source} ${record.sourceKey} out`,
    [field("Into customer", into), field("Note", note)],
    "Confirm split",
    async () => {
      const { splitRecord } = await gql(SPLIT, {
        source: record.source,
        sourceKey: record.sourceKey,
        into: into.value.trim() || null,
        note: note.value.trim() || null,
        expectedVersion: customer.version,
      });
      if (splitRecord.userErrors.length) return outcome(splitRecord.userErrors);
      ctx.go(
        `#/customer/${encodeURIComponent(customer.id)}`,
        `${record.source} · ${record.sourceKey} moved to ${splitRecord.otherCustomerId}.`,
      );
      return null;
    },
  );
}

function sourceRecords(ctx, customer) {
  const slot = h("div", { class: "split-slot" });
  const rows = customer.sourceRecords.map((record) => {
    const split = h(
      "button",
      { type: "button", "aria-label": `Split ${record.source} ${record.sourceKey} out` },
      "Split out…",
    );
    split.disabled = customer.sourceRecords.length < 2;
    split.addEventListener("click", () => slot.replaceChildren(splitForm(ctx, customer, record)));
    return h(
      "tr",
      { "data-record": `${record.source}/${record.sourceKey}` },
      h("td", {}, record.source),
      h("td", {}, record.sourceKey),
      h("td", { class: "num" }, `v${record.version}`),
      h("td", {}, record.linkKind),
      h("td", { class: "num" }, record.score == null ? "—" : record.score.toFixed(2)),
      h("td", {}, record.retired ? "retired" : "current"),
      h("td", {}, split),
    );
  });
  return section(
    "Source records",
    table(["Department", "Key", "Version", "Joined by", "Score", "State", ""], rows),
    slot,
  );
}

function historyTimeline(customer) {
  const items = [...customer.history].reverse().map((v) =>
    h(
      "li",
      {},
      h("span", { class: "when" }, when(v.validFrom)),
      h("span", { class: "badge" }, v.change),
      ` v${v.version} · ${v.status} · ${v.sourceRecordCount} record${v.sourceRecordCount === 1 ? "" : "s"}`,
      v.name ? [" · ", h("span", { class: "name" }, v.name)] : null,
      v.mergedInto ? ` → merged into ${v.mergedInto}` : null,
    ),
  );
  return section("History", h("ol", { class: "timeline", reversed: true }, items));
}

function classificationTable(customer) {
  if (!customer.classification.length) return empty("Not classified yet.");
  return table(
    ["Dimension", "Class", "Rule"],
    customer.classification.map((c) => h("tr", {}, h("td", {}, c.dimension), h("td", {}, h("strong", {}, c.value)), h("td", {}, c.rule))),
  );
}

export async function showCustomer(ctx, id) {
  ctx.view.replaceChildren(loading(`customer ${id}`));
  const { customer } = await gql(CUSTOMER_QUERY, { id, first: INTERACTIONS_PAGE });
  if (!ctx.isCurrent()) return;
  const credit = await creditPanel(ctx, customer.id);
  const redirected =
    customer.requestedId && customer.requestedId !== customer.id
      ? h("p", { class: "warning", role: "status" }, `${customer.requestedId} was merged into ${customer.id}.`)
      : null;
  ctx.view.replaceChildren(
    h(
      "div",
      { class: "customer-view" },
      h(
        "div",
        { class: "customer-header" },
        h("h1", { class: "name", "data-testid": "customer-name" }, customer.name),
        h("span", { class: "badge" }, customer.id),
        h("span", { class: "badge" }, customer.partyType.toLowerCase()),
        h("span", { class: "badge" }, customer.status),
        h("span", { class: "muted" }, ` version ${customer.version} · updated ${when(customer.updatedAt)}`),
      ),
      redirected,
      h(
        "div",
        { class: "columns" },
        h(
          "div",
          {},
          section("Golden values and lineage", goldenValues(customer)),
          sourceRecords(ctx, customer),
          interactionsPanel(ctx, customer),
        ),
        h(
          "div",
          {},
          section("Steward actions", mergeForm(ctx, customer), overrideForm(ctx, customer)),
          section("Classification", classificationTable(customer)),
          section("Figures", metricsList(customer.metrics)),
          section("Credit", credit),
          historyTimeline(customer),
        ),
      ),
    ),
  );
}
