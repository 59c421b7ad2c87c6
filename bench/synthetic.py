"""Synthetic customers and interactions at scale, generated set-based inside PostgreSQL.

Loading a million customers through the matcher takes far longer than what the
history benchmarks measure, so this fills a freshly migrated hub database
directly, in a few statements: golden customers, the department records they
are made of (1 to 3 per customer) with their cross references, and
interactions spread over those records.

The rows are the hub's own tables, as the hub writes them; only metrics,
classification and credit are left for ``hub recompute`` to derive. The
interactions look like bench/interactions.py's: each department records its
kind (finance: payments with due and paid dates; sales: orders and visits;
call centre: calls, a few asking to close the account, and complaints, most
resolved; web: registrations and promotion responses;
logistics: deliveries as orders), dated over the last 1,000 days, with
log-normal amounts. How many a record carries is skewed: most have a few, a
few have hundreds, as key accounts do; in all about as many as asked for.
Deterministic for a given seed.
"""

from __future__ import annotations

import subprocess

SOURCES = ("finance", "sales", "callcenter", "web", "logistics")
# Where a customer's first record comes from: most customers buy.
FIRST_SOURCES = ("sales", "logistics", "finance", "sales", "callcenter", "logistics", "web")
REGIONS = ("华北", "东北", "华东", "华中", "华南", "西南", "西北")
INDUSTRIES = ("汽车", "建筑", "家电", "物流", "机械", "船舶", "冶金", "信息技术", "零售")
OWNERSHIPS = ("国有企业", "中外合资", "私营企业", "合伙企业", "外商独资", "政府机关")
CATEGORIES = ("最终客户", "潜在客户", "大客户", "第三方直供", "战略客户", "重点客户", "合作客户")
SPAN_DAYS = 1000


def _array(values: tuple[str, ...]) -> str:
    return "ARRAY[" + ", ".join(f"'{v}'" for v in values) + "]"


def populate_sql(customers: int, interactions: int, seed: float = 0.42) -> str:
    """The SQL that fills an empty, migrated hub database (fixed text and integers only)."""
    if customers <= 0 or interactions < 0:
        raise ValueError("need a positive number of customers and no negative interactions")
    # About 2 records per customer, each with n interactions: at least one, a long tail
    # (mean/2 * ln(u)^2 has mean `mean`), about `mean` on average.
    mean = max(interactions / (2 * customers), 1.0)
    return f"""
    \\set ON_ERROR_STOP on
    SELECT setseed({seed});
    INSERT INTO source_system (code)
        SELECT unnest({_array(SOURCES)}) ON CONFLICT DO NOTHING;

    CREATE TEMPORARY TABLE syn_customer AS
    SELECT g, random() < 0.3 AS person,
        ({_array(REGIONS)})[1 + floor(random() * {len(REGIONS)})::int] AS region,
        ({_array(INDUSTRIES)})[1 + floor(random() * {len(INDUSTRIES)})::int] AS industry,
        ({_array(OWNERSHIPS)})[1 + floor(random() * {len(OWNERSHIPS)})::int] AS ownership,
        ({_array(CATEGORIES)})[1 + floor(random() * {len(CATEGORIES)})::int] AS category,
        1 + floor(random() * 3)::int AS records
    FROM generate_series(1, {customers}) AS g;

    INSERT INTO golden_record (id, party_type, status, version, name, region, industry,
                               attributes, lineage)
    SELECT g, CASE WHEN person THEN 'person' ELSE 'organization' END, 'active', 1,
        CASE WHEN person THEN '客户' || g ELSE '客户' || g || '有限公司' END, region, industry,
        jsonb_build_object(
            'name', CASE WHEN person THEN '客户' || g ELSE '客户' || g || '有限公司' END,
            'address', jsonb_build_object('region', region),
            'industry', industry)
        || CASE WHEN person THEN '{{}}'::jsonb
                ELSE jsonb_build_object('ownership', ownership, 'category', category) END,
        '{{}}'::jsonb
    FROM syn_customer ORDER BY g;
    SELECT setval(pg_get_serial_sequence('golden_record', 'id'), {customers});

    CREATE TEMPORARY TABLE syn_record AS
    SELECT row_number() OVER (ORDER BY c.g, j) AS r, c.g, c.person,
        CASE WHEN j = 0 THEN ({_array(FIRST_SOURCES)})[1 + c.g % {len(FIRST_SOURCES)}]
             ELSE ({_array(SOURCES)})[1 + (c.g + j) % {len(SOURCES)}] END AS source,
        1 + floor(({mean} - 0.5) / 2 * ln(1 - random()) ^ 2)::int AS n
    FROM syn_customer c, generate_series(0, c.records - 1) AS j;

    INSERT INTO source_record (id, source_id, source_key, party_type, current_version,
                               content_hash)
    SELECT r.r, s.id, upper(left(r.source, 3)) || '-' || lpad(r.r::text, 9, '0'),
        CASE WHEN r.person THEN 'person' ELSE 'organization' END, 1,
        sha256(convert_to(r.source || r.r, 'UTF8'))
    FROM syn_record r JOIN source_system s ON s.code = r.source ORDER BY r.r;
    SELECT setval(pg_get_serial_sequence('source_record', 'id'), (SELECT max(r) FROM syn_record));

    INSERT INTO source_record_version (source_record_id, version, payload, standardized)
    SELECT r.r, 1,
        jsonb_build_object('source', r.source, 'source_key', sr.source_key,
                           'party_type', sr.party_type, 'name', '客户' || r.g),
        '{{}}'::jsonb
    FROM syn_record r JOIN source_record sr ON sr.id = r.r ORDER BY r.r;

    INSERT INTO cross_reference (source_record_id, golden_id, link_kind, score)
    SELECT r, g, CASE WHEN r = min(r) OVER (PARTITION BY g) THEN 'new' ELSE 'auto' END, NULL
    FROM syn_record ORDER BY r;

    INSERT INTO interaction (source_id, interaction_key, customer_key, source_record_id, type,
                             occurred_at, channel, amount, currency, due_date, paid_date,
                             summary, attributes)
    SELECT source_id, left(type, 3) || '-' || source_key || '-' || i, source_key, r, type,
        occurred_at,
        CASE source WHEN 'sales' THEN 'direct sales' WHEN 'callcenter' THEN 'hotline'
                    WHEN 'web' THEN 'web' WHEN 'logistics' THEN 'delivery' END,
        CASE WHEN type IN ('ORDER', 'PAYMENT') THEN amount END,
        CASE WHEN type IN ('ORDER', 'PAYMENT') THEN 'CNY' END,
        CASE WHEN type = 'PAYMENT' THEN occurred_at::date + 30 END,
        CASE WHEN type = 'PAYMENT' THEN occurred_at::date + 30 + late END,
        CASE type WHEN 'VISIT' THEN '拜访' WHEN 'COMPLAINT' THEN '来电投诉'
                  WHEN 'CALL' THEN CASE WHEN asks_to_close THEN '来电申请注销账户' ELSE '来电' END
        END,
        CASE WHEN type = 'COMPLAINT'
             THEN jsonb_build_object('status', CASE WHEN resolved THEN 'resolved' ELSE 'open' END)
             ELSE '{{}}'::jsonb END
    FROM (
        SELECT r.r, r.source, sr.source_id, sr.source_key, i,
            CASE r.source
                WHEN 'finance' THEN 'PAYMENT'
                WHEN 'sales' THEN CASE WHEN random() < 0.6 THEN 'ORDER' ELSE 'VISIT' END
                WHEN 'callcenter' THEN CASE WHEN random() < 0.8 THEN 'CALL' ELSE 'COMPLAINT' END
                WHEN 'web' THEN CASE WHEN i = 1 THEN 'WEB_REGISTRATION'
                                     ELSE 'PROMOTION_RESPONSE' END
                ELSE 'ORDER'
            END AS type,
            date_trunc('minute', now() - random() * interval '{SPAN_DAYS} days') AS occurred_at,
            round(exp(9 + 1.2 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()))::numeric,
                  2) AS amount,
            greatest(0, round(3 + 10 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())))::int
                AS late,
            random() < 0.002 AS asks_to_close,
            random() < 0.85 AS resolved
        FROM syn_record r
        JOIN source_record sr ON sr.id = r.r,
        generate_series(1, r.n) AS i
        ORDER BY r.r, i
    ) AS generated;
    """


def populate(url: str, customers: int, interactions: int, seed: float = 0.42) -> None:
    """Fill the (empty, migrated) hub database at ``url``."""
    subprocess.run(
        ["psql", url, "-q", "-X"],
        input=populate_sql(customers, interactions, seed),
        text=True,
        check=True,
        stdout=subprocess.DEVNULL,
    )
