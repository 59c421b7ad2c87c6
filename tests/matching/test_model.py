from __future__ import annotations

import json

import numpy as np
import pytest

from matching.compare import (
    COMPARISONS,
    NAME_LEVELS,
    PARTIES,
    PHONE_LEVELS,
    ComparisonVectors,
    TermFrequencies,
)
from matching.model import (
    FIXED_M_LEVELS,
    MAX_TF_RAISE,
    MODEL_VERSION,
    ComparisonParameters,
    Model,
    PartyParameters,
    default_model,
    estimate_model,
    estimate_u,
    prior_parameters,
)
from matching.record import PartyType
from tests.matching.standard_records import person, person_name

NAME = [c.name for c in COMPARISONS].index("name")
PHONES = [c.name for c in COMPARISONS].index("phones")
ADDRESS = [c.name for c in COMPARISONS].index("address")
SWITCHBOARD = PHONE_LEVELS.index("shared_switchboard")
SHARED_MOBILE = PHONE_LEVELS.index("shared_mobile")


def _vectors(
    levels: np.ndarray, party: int = 1, tf: dict[str, np.ndarray] | None = None
) -> ComparisonVectors:
    n = len(levels)
    tf_arrays = {c.name: np.zeros(n, dtype=np.float32) for c in COMPARISONS if c.term_frequency}
    tf_arrays.update(tf or {})
    return ComparisonVectors(
        left=np.arange(n, dtype=np.int64),
        right=np.arange(n, dtype=np.int64) + n,
        party=np.full(n, party, dtype=np.int8),
        levels=levels.astype(np.int8),
        tf=tf_arrays,
        constraints=np.zeros(n, dtype=np.uint8),
        name_holders=np.zeros(n, dtype=np.int32),
    )


def _synthetic_pairs(
    rng: np.random.Generator, matches: int, non_matches: int
) -> tuple[np.ndarray, np.ndarray]:
    """Level vectors drawn from known m (matches) and u (non-matches) distributions."""
    true_m = {
        "name": [0, 0.05, 0.02, 0.03, 0.05, 0.1, 0.05, 0.7],
        "phones": [0, 0.3, 0, 0, 0, 0.1, 0.6],
        "address": [0, 0.05, 0.15, 0.1, 0.3, 0.4],
    }
    true_u = {
        "name": [0, 0.6, 0.1, 0.05, 0.05, 0.05, 0.05, 0.1],
        "phones": [0, 0.97, 0, 0, 0, 0.02, 0.01],
        "address": [0, 0.6, 0.3, 0.06, 0.02, 0.02],
    }
    rows = []
    labels = []
    for is_match, n, table in ((True, matches, true_m), (False, non_matches, true_u)):
        block = np.zeros((n, len(COMPARISONS)), dtype=np.int8)
        for name, probs in table.items():
            column = [c.name for c in COMPARISONS].index(name)
            block[:, column] = rng.choice(len(probs), size=n, p=probs)
        rows.append(block)
        labels.append(np.full(n, is_match))
    return np.concatenate(rows), np.concatenate(labels)


def test_em_separates_matches_from_non_matches_on_synthetic_pairs() -> None:
    rng = np.random.default_rng(5)
    candidates, is_match = _synthetic_pairs(rng, 3_000, 3_000)
    random_levels, _ = _synthetic_pairs(rng, 0, 20_000)
    model = estimate_model(
        _vectors(candidates), _vectors(random_levels), populations={PartyType.PERSON: 10_000}
    )
    weights = model.match_weights(_vectors(candidates))
    # Matches outscore non-matches: a random match beats a random non-match
    # nearly always, and the estimated m is near the true m.
    auc = (weights[is_match][:, None] > weights[~is_match][None, :]).mean()
    assert auc > 0.95
    m_name = model.parties[PartyType.PERSON].comparisons[NAME].m
    assert m_name[7] == pytest.approx(0.7, abs=0.1)


def test_common_name_agreement_weighs_less_than_rare() -> None:
    model = default_model()
    levels = np.zeros((2, len(COMPARISONS)), dtype=np.int8)
    levels[:, NAME] = 7  # exact
    tf = {"name": np.array([0.01, 0.0], dtype=np.float32)}  # 王伟 vs a rare name
    common, rare = model.match_weights(_vectors(levels, tf=tf))
    assert common < rare


def test_a_rare_person_name_weighs_more_than_the_average_one_up_to_a_cap() -> None:
    model = default_model()
    levels = np.zeros((4, len(COMPARISONS)), dtype=np.int8)
    levels[:, NAME] = NAME_LEVELS.index("exact")
    u = model.parties[PartyType.PERSON].tf_u_table()[NAME][NAME_LEVELS.index("exact")]
    shares = np.array([0.0, u, u / 4, u / 1e6], dtype=np.float32)
    plain, average, rare, unique = model.match_weights(_vectors(levels, tf={"name": shares}))
    assert average == pytest.approx(plain)
    assert rare == pytest.approx(plain + 2, abs=1e-3)
    assert unique == pytest.approx(plain + MAX_TF_RAISE)


def test_a_rare_company_name_is_not_raised() -> None:
    model = default_model()
    levels = np.zeros((2, len(COMPARISONS)), dtype=np.int8)
    levels[:, NAME] = NAME_LEVELS.index("exact")
    tf = {"name": np.array([0.0, 1e-9], dtype=np.float32)}
    plain, rare = model.match_weights(_vectors(levels, party=0, tf=tf))
    assert rare == pytest.approx(plain)


def test_rare_share_of_a_value_without_a_count_is_bounded_by_the_cutoff() -> None:
    frequencies = TermFrequencies(
        totals={"person": 1000}, counts={"person:name": {"王伟": 9}}, min_count=5
    )
    assert frequencies.rare_share(PartyType.PERSON, "name", "王伟") == pytest.approx(8 / 1000)
    assert frequencies.fraction(PartyType.PERSON, "name", "欧阳修") == 0.0
    assert frequencies.rare_share(PartyType.PERSON, "name", "欧阳修") == pytest.approx(3 / 1000)
    assert TermFrequencies.from_dict(frequencies.to_dict()) == frequencies


def test_shared_switchboard_weighs_less_than_a_rare_landline() -> None:
    model = default_model()
    levels = np.zeros((2, len(COMPARISONS)), dtype=np.int8)
    levels[:, PHONES] = 4  # shared_landline
    tf = {"phones": np.array([0.02, 0.0], dtype=np.float32)}
    common, rare = model.match_weights(_vectors(levels, party=0, tf=tf))
    assert common < rare


def test_model_round_trips_through_json() -> None:
    model = Model(
        parties={p: prior_parameters() for p in PARTIES},
        frequencies=TermFrequencies.from_records(
            [person(str(i), person_name("王伟")) for i in range(3)]
        ),
    )
    text = model.to_json()
    assert json.loads(text)["version"] == MODEL_VERSION
    again = Model.from_json(text)
    assert again == model
    assert again.to_json() == text


def test_unknown_model_version_is_refused() -> None:
    data = json.loads(default_model().to_json())
    data["version"] = MODEL_VERSION + 1
    with pytest.raises(ValueError, match="version"):
        Model.from_json(json.dumps(data))


def test_parameters_are_validated() -> None:
    with pytest.raises(ValueError, match="sum to 1"):
        ComparisonParameters(
            "gender", ("missing", "different", "same"), (1, 0.5, 0.6), (1, 0.5, 0.5)
        )
    with pytest.raises(ValueError, match="prior"):
        PartyParameters(prior=1.5, comparisons=prior_parameters().comparisons)
    with pytest.raises(ValueError, match="do not match"):
        PartyParameters(prior=0.1, comparisons=prior_parameters().comparisons[:-1])


def test_refine_moves_m_towards_labelled_matches() -> None:
    model = default_model()
    levels = np.zeros((200, len(COMPARISONS)), dtype=np.int8)
    levels[:, ADDRESS] = 1  # the labelled matches all live in different cities
    refined = model.refine(_vectors(levels, party=1), np.ones(200, dtype=bool))
    before = model.parties[PartyType.PERSON].comparisons[ADDRESS].m[1]
    after = refined.parties[PartyType.PERSON].comparisons[ADDRESS].m[1]
    assert after > before
    assert refined.parties[PartyType.ORGANIZATION] == model.parties[PartyType.ORGANIZATION]


def test_default_model_is_trained() -> None:
    model = default_model()
    assert model.parties[PartyType.ORGANIZATION] != prior_parameters()
    assert model.frequencies.totals


def test_level_seen_nowhere_weighs_nothing() -> None:
    rng = np.random.default_rng(3)
    candidates, _ = _synthetic_pairs(rng, 500, 500)
    random_levels, _ = _synthetic_pairs(rng, 0, 5_000)
    model = estimate_model(
        _vectors(candidates), _vectors(random_levels), populations={PartyType.PERSON: 2_000}
    )
    params = model.parties[PartyType.PERSON]
    for c, comparison in enumerate(params.comparisons):
        weights = comparison.weights()
        for level in range(1, len(comparison.levels)):
            seen = (candidates[:, c] == level).any() or (random_levels[:, c] == level).any()
            if not seen:
                assert weights[level] == pytest.approx(0.0, abs=1e-9), (comparison.name, level)


def test_shared_switchboard_is_neutral() -> None:
    rng = np.random.default_rng(4)
    candidates, _ = _synthetic_pairs(rng, 500, 500)
    candidates[:50, PHONES] = SWITCHBOARD
    random_levels, _ = _synthetic_pairs(rng, 0, 5_000)
    model = estimate_model(
        _vectors(candidates), _vectors(random_levels), populations={PartyType.PERSON: 2_000}
    )
    phones = model.parties[PartyType.PERSON].comparisons[PHONES]
    assert phones.weights()[SWITCHBOARD] == pytest.approx(0.0, abs=1e-9)


def test_exact_agreement_share_sets_u() -> None:
    levels = np.zeros((10_000, len(COMPARISONS)), dtype=np.int8)
    levels[5_000:, PHONES] = 1  # half the random pairs have phones on both sides
    base = Model(parties={p: prior_parameters() for p in PARTIES})
    share = 1e-6  # of all pairs share a mobile: far below what a sample resolves
    model = estimate_u(_vectors(levels), base, {1: {"phones": {SHARED_MOBILE: share}}})
    u = model.parties[PartyType.PERSON].comparisons[PHONES].u
    assert u[SHARED_MOBILE] == pytest.approx(share / 0.5, rel=0.01)
    assert sum(u[1:]) == pytest.approx(1.0)


def test_u_leaves_out_the_duplicates_counted_in_exact_shares() -> None:
    names = [c.name for c in COMPARISONS]
    name, birth = names.index("name"), names.index("birth_date")
    # 200 duplicate pairs share a mobile, a name and a birth date; 2,000
    # namesakes share only the name.
    candidates = np.zeros((2_200, len(COMPARISONS)), dtype=np.int8)
    candidates[:, name] = 8
    candidates[:, PHONES] = 1
    candidates[:, birth] = 1
    candidates[:200, PHONES] = SHARED_MOBILE
    candidates[:200, birth] = 3
    random_levels = np.zeros((20_000, len(COMPARISONS)), dtype=np.int8)
    random_levels[:, name] = 1
    random_levels[:, PHONES] = 1
    random_levels[:, birth] = 1
    population = 1_000
    all_pairs = population * (population - 1) / 2
    model = estimate_model(
        _vectors(candidates),
        _vectors(random_levels),
        populations={PartyType.PERSON: population},
        agreement={1: {"phones": {SHARED_MOBILE: 200 / all_pairs}}},
    )
    phones = model.parties[PartyType.PERSON].comparisons[PHONES]
    assert phones.tf_u is not None
    # Raw, the share is all duplicates; without them little of it is left.
    assert phones.tf_u[SHARED_MOBILE] == pytest.approx(200 / all_pairs, rel=0.01)
    assert phones.u[SHARED_MOBILE] < 0.2 * phones.tf_u[SHARED_MOBILE]
    again = Model.from_json(model.to_json())
    assert again.parties[PartyType.PERSON].comparisons[PHONES].tf_u == phones.tf_u


def test_different_identifiers_and_birth_dates_keep_their_prior_m() -> None:
    # 2,000 namesakes agree on the name and nothing else; among candidates
    # they outnumber the 200 duplicates, yet a different birth date, resident
    # id or USCC stays what it is: evidence of two parties.
    names = [c.name for c in COMPARISONS]
    name, birth, nid = names.index("name"), names.index("birth_date"), names.index("national_id")
    candidates = np.zeros((2_200, len(COMPARISONS)), dtype=np.int8)
    candidates[:, name] = NAME_LEVELS.index("exact")
    candidates[:, birth] = 1
    candidates[:, nid] = 1
    candidates[:200, birth] = 3
    candidates[:200, nid] = 2
    random_levels = np.zeros((20_000, len(COMPARISONS)), dtype=np.int8)
    random_levels[:, name] = 1
    random_levels[:, birth] = 1
    random_levels[:, nid] = 1
    model = estimate_model(
        _vectors(candidates), _vectors(random_levels), populations={PartyType.PERSON: 1_000}
    )
    prior = prior_parameters()
    assert all(1 in FIXED_M_LEVELS[c] for c in ("birth_date", "national_id", "uscc"))
    for column in (birth, nid):
        fitted = model.parties[PartyType.PERSON].comparisons[column]
        assert fitted.m[1] == pytest.approx(prior.comparisons[column].m[1], rel=1e-6)
        assert fitted.weights()[1] < -4
