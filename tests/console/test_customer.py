"""Search and the customer view in Chromium: lineage, credit as permitted, steward actions."""

from __future__ import annotations

from typing import Any

from tests.console.harness import skip_without_browser

skip_without_browser()

from playwright.async_api import expect  # noqa: E402

from tests.console.harness import Console, LiveHub  # noqa: E402

HUADA: dict[str, Any] = {
    "source_key": "F-1",
    "party_type": "organization",
    "name": "苏州华达电子有限公司",
    "name_en": "Suzhou Huada Electronics Co., Ltd.",
    "uscc": "91330106MA2H4Q7R5Q",
    "phones": ["0512-66881234"],
    "emails": ["info@huada-sz.cn"],
    "city": "苏州",
    "industry": "electronics",
}
# The same company as the call centre keeps it: different key, short name, a mobile.
HUADA_CALLS: dict[str, Any] = {
    "source_key": "CC-9",
    "party_type": "organization",
    "name": "华达电子",
    "phones": ["13912345678"],
}
ORDERS = [
    {
        "interaction_key": f"O-{n}",
        "customer_key": "F-1",
        "type": "order",
        "occurred_at": f"2026-0{n}-10T10:00:00+08:00",
        "amount": f"{n}000.00",
        "currency": "CNY",
        "summary": f"order {n}",
    }
    for n in range(1, 4)
]


async def seed(hub: LiveHub) -> tuple[str, str]:
    """Two customers for one company; returns (finance customer, call-centre customer)."""
    [finance] = await hub.submit("finance", HUADA)
    [calls] = await hub.submit("callcenter", HUADA_CALLS)
    assert finance["customerId"] != calls["customerId"], "the records were linked on arrival"
    data = await hub.call(
        """mutation($interactions: [JSON!]!) {
             recordInteractions(source: "finance", interactions: $interactions) {
               created userErrors { message } } }""",
        {"interactions": ORDERS},
    )
    assert data["recordInteractions"]["created"] == len(ORDERS)
    return finance["customerId"], calls["customerId"]


async def test_search_finds_a_customer_by_every_kind_of_text(
    hub: LiveHub, console: Console
) -> None:
    finance_id, _ = await seed(hub)
    page = console.page
    await console.sign_in(hash_="#/search")
    await expect(page.get_by_text("Type a name, pinyin")).to_be_visible()
    queries = {
        "华达电子": "name",
        "huada": "pinyin",
        "Suzhou Huada Electronics": None,
        "0512-66881234": "identifier or contact",
        "info@huada-sz.cn": "identifier or contact",
        "91330106MA2H4Q7R5Q": "identifier or contact",
    }
    for text, matched_on in queries.items():
        await page.get_by_label("Search text").fill(text)
        await page.get_by_role("button", name="Search").click()
        # Wait for this search's results before reading rows or typing the next one.
        await expect(page.locator(".results")).to_have_attribute("data-query", text)
        hit = page.locator(f"tr[data-customer-id={finance_id}]")
        await expect(hit).to_contain_text("苏州华达电子有限公司")
        if matched_on:
            await expect(hit).to_contain_text(matched_on)
    await console.screenshot("search")

    await page.get_by_label("Search text").fill("完全没有这个客户")
    await page.get_by_role("button", name="Search").click()
    await expect(page.get_by_text("No customer matches")).to_be_visible()


async def test_the_customer_view_shows_lineage_records_history_and_no_credit_for_stewards(
    hub: LiveHub, console: Console
) -> None:
    finance_id, _ = await seed(hub)
    page = console.page
    await console.sign_in(hash_="#/search?q=huada")
    await page.get_by_role("link", name=finance_id, exact=True).click()
    await expect(page.get_by_test_id("customer-name")).to_have_text("苏州华达电子有限公司")
    name_row = page.locator("table.golden tr[data-attribute=name]")
    await expect(name_row).to_contain_text("source_priority")
    await expect(name_row).to_contain_text("finance · F-1 v1")
    await expect(page.locator("table.golden tr[data-attribute=phones]")).to_contain_text(
        "+8651266881234"
    )
    await expect(page.locator("tr[data-record='finance/F-1']")).to_contain_text("new")
    await expect(page.locator("table.interactions tbody tr")).to_have_count(3)
    await expect(page.locator("ol.timeline li")).to_have_count(1)
    # Stewards may not see credit terms: said plainly, the rest of the page intact.
    await expect(page.get_by_test_id("credit")).to_have_text(
        "No credit access: this key's role may not see credit terms."
    )
    await console.screenshot("customer")


async def test_a_merge_and_an_override_made_in_the_page_are_stored(
    hub: LiveHub, console: Console
) -> None:
    finance_id, calls_id = await seed(hub)
    page = console.page
    await console.sign_in(hash_=f"#/customer/{finance_id}")
    await expect(page.get_by_test_id("customer-name")).to_have_text("苏州华达电子有限公司")

    merge = page.get_by_role("form", name="Merge with another customer")
    await merge.get_by_label("Other customer id").fill(calls_id)
    await merge.get_by_label("Note").fill("same company, short name")
    await merge.get_by_role("button", name="Merge…").click()
    await expect(page.get_by_role("alertdialog", name="Confirm the merge")).to_contain_text(
        "华达电子"
    )
    await console.screenshot("customer-merge-confirm")
    await page.get_by_role("button", name="Confirm merge").click()
    await expect(page.locator("#flash")).to_contain_text(f"into {finance_id}")
    await expect(page.locator("tr[data-record='callcenter/CC-9']")).to_contain_text("merge")

    override = page.get_by_role("form", name="Override a value")
    await override.get_by_label("Attribute").select_option("industry")
    await override.get_by_label("Value").fill("semiconductors")
    await override.get_by_role("button", name="Override").click()
    await expect(page.locator("#flash")).to_contain_text(f"industry of {finance_id} overridden")
    await expect(page.locator("table.golden tr[data-attribute=industry]")).to_contain_text(
        "override by"
    )
    await console.screenshot("customer-after-merge-and-override")

    survivor = await hub.customer(calls_id)
    assert survivor["id"] == finance_id
    assert {r["sourceKey"] for r in survivor["sourceRecords"]} == {"F-1", "CC-9"}
    assert survivor["attributes"]["industry"] == "semiconductors"
    industry = next(e for e in survivor["lineage"] if e["attribute"] == "industry")
    assert industry["rule"] == "override"
    assert industry["setBy"]


async def test_a_stale_override_is_refused_and_a_split_moves_the_record_out(
    hub: LiveHub, console: Console
) -> None:
    finance_id, calls_id = await seed(hub)
    await hub.call(
        "mutation($ids: [ID!]!) { mergeCustomers(ids: $ids) { userErrors { message } } }",
        {"ids": [finance_id, calls_id]},
    )
    page = console.page
    await console.sign_in(hash_=f"#/customer/{finance_id}")

    await expect(page.get_by_test_id("customer-name")).to_have_text("苏州华达电子有限公司")
    # Someone else changes the customer meanwhile: the page's version is stale, the hub
    # refuses the override, and the page shows its userErrors.
    await hub.call(
        'mutation($id: ID!) { overrideAttribute(id: $id, attribute: "category", value: "key")'
        " { userErrors { message } } }",
        {"id": finance_id},
    )
    override = page.get_by_role("form", name="Override a value")
    await override.get_by_label("Attribute").select_option("industry")
    await override.get_by_label("Value").fill("semiconductors")
    await override.get_by_role("button", name="Override").click()
    await expect(override.locator(".user-errors")).to_contain_text("CONFLICT")
    await console.screenshot("customer-user-errors")
    await override.get_by_role("button", name="Reload the customer").click()
    await expect(page.locator("table.golden tr[data-attribute=category]")).to_contain_text("key")

    await page.get_by_role("button", name="Split callcenter CC-9 out").click()
    split = page.get_by_role("form", name="Split callcenter CC-9 out")
    await split.get_by_role("button", name="Confirm split").click()
    await expect(page.locator("#flash")).to_contain_text("callcenter · CC-9 moved to C")
    await expect(page.locator("tr[data-record='callcenter/CC-9']")).to_have_count(0)

    data = await hub.call(
        '{ customerBySourceKey(source: "callcenter", key: "CC-9") { id } }', role="steward"
    )
    assert data["customerBySourceKey"]["id"] != finance_id
    assert (await hub.customer(finance_id))["attributes"]["industry"] == "electronics"
