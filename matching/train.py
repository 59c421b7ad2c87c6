"""Training the shipped default model.

The default model in ``matching/data/model.json`` is estimated without labels
from the project corpus (``bench/corpus.py``, seed 7; evaluate on other seeds),
standardized by :func:`matching.standardize.standardize_record`. To regenerate
it, from the repository root::

    .venv/bin/python -c "
    from pathlib import Path
    from bench.corpus import iter_labelled_records
    from matching.record import parse_record
    from matching.standardize import standardize_record
    from matching.train import train_model
    records = [
        standardize_record(parse_record(raw))
        for raw, _ in iter_labelled_records(entities=60_000, seed=7)
    ]
    Path('matching/data/model.json').write_text(train_model(records).to_json() + '\\n')
    "

Only the model is kept, never the records: frequencies are stored for values
held by several records (common names, switchboards), not for rare ones.
"""

from __future__ import annotations

from collections.abc import Iterable

from matching.block import candidate_pairs
from matching.compare import Columns, TermFrequencies, compare_pairs
from matching.model import Model
from matching.pipeline import MatchConfig, fit_model
from matching.types import StandardRecord

__all__ = ["train_model"]

# A value needs this share of the records to be kept as "frequent": rarer
# values would never lower a weight anyway.
FREQUENT_SHARE = 5e-5
MIN_FREQUENT_COUNT = 3


def train_model(records: Iterable[StandardRecord], config: MatchConfig | None = None) -> Model:
    """Estimate a model (u, m, prior, frequent values) from unlabelled records."""
    config = config or MatchConfig()
    ordered = sorted(records, key=lambda r: r.key)
    if len(ordered) < 2:
        raise ValueError("training needs at least two records")
    pairs = candidate_pairs(ordered, config.rules, config.max_block_size)
    cols = Columns.from_records(ordered)
    model = fit_model(cols, compare_pairs(cols, pairs.left, pairs.right), config)
    min_count = max(MIN_FREQUENT_COUNT, round(FREQUENT_SHARE * len(ordered)))
    return Model(
        parties=model.parties,
        frequencies=TermFrequencies.from_records(ordered, min_count=min_count),
    )
