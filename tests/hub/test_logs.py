"""Logs are structured JSON, and API keys never appear in them."""

from __future__ import annotations

import json
import logging

import pytest

from hub.logs import JsonFormatter
from tests.conftest import Api


def test_a_log_line_is_one_json_object_with_its_extra_fields() -> None:
    record = logging.LogRecord("hub.test", logging.WARNING, __file__, 1, "走了 %s", ("路",), None)
    record.customer = "C42"
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "走了 路"
    assert line["level"] == "warning"
    assert line["customer"] == "C42"


async def test_api_keys_never_reach_the_logs(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    key = await api.key("steward")
    await api("{ customers { totalCount } }", role="steward")
    await api.client.post(
        "/graphql",
        json={"query": "{ customers { totalCount } }"},
        headers={"Authorization": f"Bearer {key}x"},
    )
    await api('{ customer(id: "C404") { id } }', role="steward")
    formatter = JsonFormatter()
    logged = "\n".join(formatter.format(record) for record in caplog.records)
    assert caplog.records, "nothing was logged at DEBUG: the test would prove nothing"
    assert key not in logged
    assert key[4:20] not in logged
