"""Standardization and probabilistic matching for Chinese customer records.

A pure library: department records in; standardized records, candidate pairs,
scored and explained decisions and clusters out. No database, no network.
"""

from __future__ import annotations

from matching.block import (
    DEFAULT_RULES,
    BlockingRule,
    CandidatePairs,
    blocking_keys,
    candidate_pairs,
)
from matching.cluster import Clustering, cluster_id, cluster_links
from matching.compare import (
    COMPARISONS,
    Columns,
    ComparisonVectors,
    Constraint,
    TermFrequencies,
    compare_pairs,
)
from matching.decide import (
    ComparisonExplanation,
    Decision,
    Explanation,
    Rule,
    ScoredPair,
    Thresholds,
    decide,
    explain,
)
from matching.incremental import CandidateCluster, MatchIndex, score_candidates
from matching.model import Model, default_model, estimate_model
from matching.pipeline import Assignment, MatchConfig, MatchResult, MatchStats, match_records
from matching.record import Identifier, PartyType, RecordError, SourceRecord, parse_record
from matching.standardize import (
    ResidentId,
    standard_record_from_dict,
    standard_record_to_dict,
    standardize_address,
    standardize_email,
    standardize_gender,
    standardize_identifier,
    standardize_latin_name,
    standardize_name,
    standardize_national_id,
    standardize_org_name,
    standardize_person_name,
    standardize_phone,
    standardize_postal_code,
    standardize_record,
    standardize_uscc,
)
from matching.train import train_model
from matching.types import (
    Flag,
    PhoneKind,
    StandardAddress,
    Standardized,
    StandardName,
    StandardPhone,
    StandardRecord,
)

__all__ = [
    "COMPARISONS",
    "DEFAULT_RULES",
    "Assignment",
    "BlockingRule",
    "CandidateCluster",
    "CandidatePairs",
    "Clustering",
    "Columns",
    "ComparisonExplanation",
    "ComparisonVectors",
    "Constraint",
    "Decision",
    "Explanation",
    "Flag",
    "Identifier",
    "MatchConfig",
    "MatchIndex",
    "MatchResult",
    "MatchStats",
    "Model",
    "PartyType",
    "PhoneKind",
    "RecordError",
    "ResidentId",
    "Rule",
    "ScoredPair",
    "SourceRecord",
    "StandardAddress",
    "StandardName",
    "StandardPhone",
    "StandardRecord",
    "Standardized",
    "TermFrequencies",
    "Thresholds",
    "blocking_keys",
    "candidate_pairs",
    "cluster_id",
    "cluster_links",
    "compare_pairs",
    "decide",
    "default_model",
    "estimate_model",
    "explain",
    "match_records",
    "parse_record",
    "score_candidates",
    "standard_record_from_dict",
    "standard_record_to_dict",
    "standardize_address",
    "standardize_email",
    "standardize_gender",
    "standardize_identifier",
    "standardize_latin_name",
    "standardize_name",
    "standardize_national_id",
    "standardize_org_name",
    "standardize_person_name",
    "standardize_phone",
    "standardize_postal_code",
    "standardize_record",
    "standardize_uscc",
    "train_model",
]
