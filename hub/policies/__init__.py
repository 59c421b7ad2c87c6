"""Classification and credit policies: pure functions over a customer's figures.

The rules are data — versioned TOML files in ``hub/rules/`` — parsed into
frozen, validated values. No database here: the hub's services gather a
customer's :class:`CustomerFigures`, call these functions and store the results
with the rule text, inputs and version each one carries.
"""

from __future__ import annotations

from hub.policies.classification import (
    Category,
    ClassificationResult,
    ClassificationRules,
    ContactStatus,
    Dimension,
    Lifecycle,
    Nature,
    Tier,
    TierCutoffs,
    classify,
    default_classification_rules,
    lifecycle_of,
    parse_classification_rules,
    tier_cutoffs,
    tier_of,
)
from hub.policies.credit import (
    CreditAssessment,
    CreditPolicy,
    LimitSource,
    Rating,
    Recommendation,
    RequestAssessment,
    SettlementTerms,
    assess,
    assess_request,
    default_credit_policy,
    effective_limit,
    parse_credit_policy,
    utilization,
)
from hub.policies.figures import CustomerFigures
from hub.policies.ruleset import normalise_code

__all__ = [
    "Category",
    "ClassificationResult",
    "ClassificationRules",
    "ContactStatus",
    "CreditAssessment",
    "CreditPolicy",
    "CustomerFigures",
    "Dimension",
    "Lifecycle",
    "LimitSource",
    "Nature",
    "Rating",
    "Recommendation",
    "RequestAssessment",
    "SettlementTerms",
    "Tier",
    "TierCutoffs",
    "assess",
    "assess_request",
    "classify",
    "default_classification_rules",
    "default_credit_policy",
    "effective_limit",
    "lifecycle_of",
    "normalise_code",
    "parse_classification_rules",
    "parse_credit_policy",
    "tier_cutoffs",
    "tier_of",
    "utilization",
]
