"""Standardization: raw department values → comparable values plus data-quality flags.

One module per field family (names, identifiers, phones, emails, addresses,
industries);
:func:`standardize_record` combines them for a whole source record.
"""

from __future__ import annotations

from matching.standardize.addresses import standardize_address, standardize_postal_code
from matching.standardize.emails import standardize_email
from matching.standardize.identifiers import (
    ResidentId,
    standardize_gender,
    standardize_identifier,
    standardize_national_id,
    standardize_uscc,
)
from matching.standardize.industries import standardize_industry
from matching.standardize.names import (
    standardize_latin_name,
    standardize_name,
    standardize_org_name,
    standardize_person_name,
)
from matching.standardize.phones import standardize_phone
from matching.standardize.record import load_reference_tables, standardize_record
from matching.standardize.serialize import (
    standard_record_from_dict,
    standard_record_json,
    standard_record_to_dict,
)

__all__ = [
    "ResidentId",
    "load_reference_tables",
    "standard_record_from_dict",
    "standard_record_json",
    "standard_record_to_dict",
    "standardize_address",
    "standardize_email",
    "standardize_gender",
    "standardize_identifier",
    "standardize_industry",
    "standardize_latin_name",
    "standardize_name",
    "standardize_national_id",
    "standardize_org_name",
    "standardize_person_name",
    "standardize_phone",
    "standardize_postal_code",
    "standardize_record",
    "standardize_uscc",
]
