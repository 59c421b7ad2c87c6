"""The review queue and the pair view, driven in Chromium, checked in the database."""

from __future__ import annotations

import re
from typing import Any

from tests.console.harness import skip_without_browser

skip_without_browser()

from playwright.async_api import expect  # noqa: E402

from tests.console.harness import Console, LiveHub  # noqa: E402


def org(key: str, name: str, **values: Any) -> dict[str, Any]:
    return {"source_key": key, "party_type": "organization", "name": name, **values}


# A legal name from finance and the bare trade name sales uses, in the same city:
# similar enough to queue for a steward, not enough to link on their own (a trade
# name without its industry term may be another company of the same brand).
PAIRS = [
    (
        org("F-1", "苏州华达电子有限公司", phones=["0512-66881234"], city="苏州"),
        org("S-1", "华达", city="苏州", contact_name="周杰"),
    ),
    (org("F-2", "杭州绿源物流有限公司", city="杭州"), org("S-2", "绿源", city="杭州")),
    (org("F-3", "无锡金盛纺织有限公司", city="无锡"), org("S-3", "金盛", city="无锡")),
]

REVIEW = """query($id: ID!) { review(id: $id) {
  status resolvedBy
  left { sourceKey customerId }
  right { sourceKey customerId } } }"""


async def queue_pairs(hub: LiveHub, pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    """Submit each pair from two departments; the second record of each lands in review."""
    await hub.submit("finance", *(left for left, _ in pairs))
    results = await hub.submit("sales", *(right for _, right in pairs))
    assert [r["decision"] for r in results] == ["review"] * len(pairs), results


async def review(hub: LiveHub, id_: str) -> dict[str, Any]:
    found: dict[str, Any] = (await hub.call(REVIEW, {"id": id_}, role="steward"))["review"]
    return found


async def test_a_pair_matched_with_the_keyboard_merges_the_two_customers(
    hub: LiveHub, console: Console
) -> None:
    await queue_pairs(hub, PAIRS)
    page = console.page
    await console.sign_in()
    await expect(page.get_by_test_id("queue-count")).to_have_text("3 open pairs")
    await expect(page.locator("tr[data-review-id]")).to_have_count(3)
    await console.screenshot("review-queue")

    first = page.locator("tr[data-review-id]").first
    first_id = await first.get_attribute("data-review-id")
    assert first_id is not None
    await first.get_by_role("link", name=f"Review pair {first_id}").click()
    heading = page.get_by_role("heading", level=1)
    await expect(heading).to_have_text(f"Pair {first_id}")
    # The names differ (legal vs short name) and are marked; the city agrees.
    await expect(page.locator("table.pair.raw tr.differs[data-field=name]")).to_have_count(1)
    await expect(page.locator("table.pair.raw tr.same[data-field=city]")).to_have_count(1)
    await expect(
        page.locator("table.pair.standardized tr[data-field='name.pinyin']")
    ).to_have_count(1)
    # One bar per comparison; an exact name pulls towards a match.
    await expect(page.locator("li.weight[data-comparison=name] .bar.positive")).to_be_visible()
    await console.screenshot("pair")

    await page.keyboard.press("m")
    # The page moves on to the next open pair by itself.
    await expect(page.locator("#flash")).to_contain_text(f"Pair {first_id}: Matched")
    await expect(heading).not_to_have_text(f"Pair {first_id}")
    await expect(heading).to_have_text(re.compile(r"^Pair \d+$"))

    resolved = await review(hub, first_id)
    assert resolved["status"] == "matched"
    assert resolved["resolvedBy"] is not None
    survivor = resolved["left"]["customerId"]
    assert survivor == resolved["right"]["customerId"]
    merged = await hub.customer(survivor)
    keys = {r["sourceKey"] for r in merged["sourceRecords"]}
    assert {resolved["left"]["sourceKey"], resolved["right"]["sourceKey"]} <= keys
    queue = await hub.call("{ reviewQueue { totalCount } }", role="steward")
    assert queue["reviewQueue"]["totalCount"] == 2


async def test_not_a_match_and_skip_move_on_until_the_queue_is_empty(
    hub: LiveHub, console: Console
) -> None:
    await queue_pairs(hub, PAIRS[:2])
    page = console.page
    await console.sign_in(hash_="#/queue?order=AGE")
    rows = page.locator("tr[data-review-id]")
    await expect(rows).to_have_count(2)
    oldest, newest = [await row.get_attribute("data-review-id") for row in await rows.all()]
    assert oldest is not None
    assert newest is not None
    assert int(oldest) < int(newest)

    await rows.first.get_by_role("link").click()
    heading = page.get_by_role("heading", level=1)
    await expect(heading).to_have_text(f"Pair {oldest}")
    await page.get_by_label("Note").fill("different companies")
    await page.get_by_label("Note").press("Tab")  # shortcuts are off while typing
    await page.keyboard.press("n")
    await expect(heading).to_have_text(f"Pair {newest}")
    await page.keyboard.press("s")
    # Nothing left but the skipped pair: back to the queue, which still holds it.
    await expect(page.locator("#flash")).to_contain_text("No more open pairs")
    await expect(page.get_by_test_id("queue-count")).to_have_text("1 open pair")

    kept_apart = await review(hub, oldest)
    assert kept_apart["status"] == "not_matched"
    assert kept_apart["left"]["customerId"] != kept_apart["right"]["customerId"]
    assert (await review(hub, newest))["status"] == "open"


async def test_the_queue_filters_by_source_and_party_type_and_pages(
    hub: LiveHub, console: Console
) -> None:
    await queue_pairs(hub, PAIRS)
    await hub.submit("logistics", org("L-1", "厦门海联贸易有限公司", city="厦门"))
    results = await hub.submit("web", org("W-1", "海联", city="厦门"))
    assert results[0]["decision"] == "review"
    page = console.page
    await console.sign_in()
    count = page.get_by_test_id("queue-count")
    await expect(count).to_have_text("4 open pairs")

    await page.get_by_label("Source").fill("web")
    await page.get_by_role("button", name="Apply").click()
    await expect(count).to_have_text("1 open pair")
    await expect(page.locator("tr[data-review-id]")).to_contain_text("海联贸易")

    await page.get_by_label("Party type").select_option("person")
    await page.get_by_role("button", name="Apply").click()
    await expect(count).to_have_text("0 open pairs")
    await expect(page.get_by_text("Nothing to review with these filters.")).to_be_visible()
    await console.screenshot("review-queue-empty")

    # Pages of two: 4 pairs are two pages, and Previous returns to the first.
    await page.goto(f"{hub.console_url}#/queue?size=2")
    rows = page.locator("tr[data-review-id]")
    await expect(rows).to_have_count(2)
    first_page = await rows.first.get_attribute("data-review-id")
    await page.get_by_role("link", name="Next page").click()
    await expect(rows).to_have_count(2)
    await expect(rows.first).not_to_have_attribute("data-review-id", first_page or "")
    await expect(page.get_by_role("link", name="Next page")).to_have_count(0)
    await page.get_by_role("link", name="Previous page").click()
    await expect(rows.first).to_have_attribute("data-review-id", first_page or "")
