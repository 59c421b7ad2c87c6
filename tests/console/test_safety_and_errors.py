"""Hostile data shows as text; a bad key, a forbidden role and a dead network are told plainly."""

from __future__ import annotations

from tests.console.harness import skip_without_browser

skip_without_browser()

from playwright.async_api import Route, expect  # noqa: E402

from tests.console.harness import Console, LiveHub  # noqa: E402

MARKUP = "<img src=x onerror=alert(1)>"
SQL = "'; DROP TABLE x; --"


async def test_injection_strings_in_names_show_as_text_and_run_nothing(
    hub: LiveHub, console: Console
) -> None:
    await hub.submit(
        "finance",
        {
            "source_key": "F-1",
            "party_type": "organization",
            "name": f"{MARKUP}贸易有限公司",
            "city": "厦门",
            "phones": ["0592-5551234"],
        },
        {"source_key": "F-2", "party_type": "organization", "name": SQL, "city": "成都"},
    )
    results = await hub.submit(
        "sales",
        {
            "source_key": "S-1",
            "party_type": "organization",
            "name": f"{MARKUP}贸易",
            "city": "厦门",
            # Another line in the same city: alike, not surely the same (a steward decides).
            "phones": ["0592-5559876"],
        },
        {"source_key": "S-2", "party_type": "organization", "name": SQL, "city": "成都"},
    )
    assert [r["decision"] for r in results] == ["review", "review"], results
    page = console.page
    await console.sign_in()
    queue = page.locator("table.queue")
    await expect(queue).to_contain_text(f"{MARKUP}贸易")
    await expect(queue).to_contain_text(SQL)

    await page.locator("tr[data-review-id]").first.get_by_role("link").click()
    await expect(page.locator("table.pair.raw tr[data-field=name]")).to_contain_text(MARKUP)

    await page.goto(f"{hub.console_url}#/search?q=贸易")
    await expect(page.locator("table.hits td.name").first).to_have_text(f"{MARKUP}贸易有限公司")

    customer_id = results[0]["customerId"]
    await page.goto(f"{hub.console_url}#/customer/{customer_id}")
    await expect(page.get_by_test_id("customer-name")).to_have_text(f"{MARKUP}贸易")
    await console.screenshot("customer-injection")
    await page.goto(f"{hub.console_url}#/customer/{results[1]['customerId']}")
    await expect(page.get_by_test_id("customer-name")).to_have_text(SQL)

    # No element was made from the data and no handler ran (the fixture also checks
    # that no dialog opened); the database kept its tables.
    assert await page.locator("#view img").count() == 0
    assert await page.evaluate("document.querySelectorAll('[onerror]').length") == 0
    assert console.dialogs == []
    data = await hub.call("{ customers { totalCount } }")
    assert data["customers"]["totalCount"] == 4


async def test_a_rejected_key_is_asked_for_again_and_can_be_forgotten(
    hub: LiveHub, console: Console
) -> None:
    page = console.page
    await page.goto(hub.console_url)
    await console.screenshot("key")
    await page.get_by_label("Steward API key").fill("not-a-key")
    await page.get_by_role("button", name="Use key").click()
    await expect(page.get_by_role("alert")).to_contain_text("did not accept the key")
    assert await page.evaluate("sessionStorage.length") == 0

    await page.get_by_label("Steward API key").fill(hub.keys["steward"])
    await page.get_by_role("button", name="Use key").click()
    await expect(page.get_by_test_id("queue-count")).to_have_text("0 open pairs")
    await expect(page.get_by_text("Nothing to review with these filters.")).to_be_visible()
    # Kept for the tab: a reload needs no key.
    await page.reload()
    await expect(page.get_by_test_id("queue-count")).to_have_text("0 open pairs")

    await page.get_by_role("button", name="Forget key").click()
    await expect(page.get_by_label("Steward API key")).to_be_visible()
    assert await page.evaluate("sessionStorage.length") == 0


async def test_a_role_without_access_sees_forbidden(hub: LiveHub, console: Console) -> None:
    page = console.page
    await console.sign_in(role="reader")
    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text("Forbidden")
    await expect(alert).to_contain_text("reader")
    await console.screenshot("forbidden")


async def test_a_network_failure_is_shown_with_a_retry(hub: LiveHub, console: Console) -> None:
    page = console.page
    await console.sign_in()
    await expect(page.get_by_test_id("queue-count")).to_be_visible()

    async def cut(route: Route) -> None:
        await route.abort("internetdisconnected")

    await page.route("**/graphql", cut)
    await page.goto(f"{hub.console_url}#/search?q=huada")
    await expect(page.get_by_role("alert")).to_contain_text("The hub cannot be reached.")
    await console.screenshot("network-error")
    await page.unroute("**/graphql", cut)
    await page.get_by_role("button", name="Try again").click()
    await expect(page.get_by_text("0 hits")).to_be_visible()
