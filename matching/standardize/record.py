"""A whole source record standardized: every field's standardizer, flags collected."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from functools import partial
from typing import TypeVar

from matching.record import PartyType, SourceRecord
from matching.standardize.addresses import standardize_address
from matching.standardize.divisions import division_table
from matching.standardize.emails import standardize_email
from matching.standardize.identifiers import (
    ResidentId,
    standardize_gender,
    standardize_identifier,
    standardize_national_id,
    standardize_uscc,
)
from matching.standardize.industries import standardize_industry
from matching.standardize.names import standardize_latin_name, standardize_name
from matching.standardize.phones import area_code_of, is_local_number, standardize_phone
from matching.standardize.text import load_readings, normalize_text, romanize
from matching.types import (
    Flag,
    StandardAddress,
    Standardized,
    StandardName,
    StandardRecord,
)

__all__ = ["standardize_record"]

T = TypeVar("T")


def standardize_record(record: SourceRecord) -> StandardRecord:
    """The record in the form every matching stage reads, with all data-quality flags.

    Organizations and persons take different name standardizers; ``name_en`` is
    read as an English or romanised name. Birth date and gender missing from
    the record are taken from a valid resident id; when the record gives them
    and they disagree with the id, the disagreement is flagged. A USCC or
    resident id given only among ``identifiers`` fills the dedicated slot.
    """
    flags: list[Flag] = []
    name = _collect(standardize_name(record.name, record.party_type), "name", flags)
    name_en = None
    if record.name_en is not None:
        latin = standardize_latin_name(record.name_en, record.party_type)
        name_en = _collect(latin, "name_en", flags)
    uscc = None
    if record.uscc is not None:
        uscc = _collect(standardize_uscc(record.uscc), "uscc", flags)
    resident = None
    if record.national_id is not None:
        resident = _collect(standardize_national_id(record.national_id), "national_id", flags)
    identifiers = _identifiers(record, flags)
    if uscc is None and record.uscc is None:
        uscc = next((value for kind, value in identifiers if kind == "uscc"), None)
    if resident is None and record.national_id is None:
        resident = _resident_from_identifiers(identifiers)
    address = standardize_address(
        record.address, record.province, record.city, record.district, record.postal_code
    )
    # Address flags already name their own field (province, city, postal_code ...).
    flags.extend(address.flags)
    # A landline written without its area code is in the record's own city.
    area_code = None
    if address.value is not None and any(is_local_number(phone) for phone in record.phones):
        area_code = area_code_of(address.value.city)
    phones = _each(record.phones, partial(standardize_phone, area_code=area_code), "phones", flags)
    emails = _each(record.emails, standardize_email, "emails", flags)
    contact = _contact_name(record.contact_name)
    industry = None
    if record.industry is not None:
        industry = _collect(standardize_industry(record.industry), "industry", flags)
    return StandardRecord(
        source=record.source,
        source_key=record.source_key,
        party_type=record.party_type,
        name=name or _unparsed_name(record.name),
        name_en=name_en,
        uscc=uscc,
        national_id=resident.number if resident is not None else None,
        identifiers=identifiers,
        phones=phones,
        emails=emails,
        address=address.value or StandardAddress(),
        birth_date=_birth_date(record.birth_date, resident, record.party_type, flags),
        gender=_gender(record.gender, resident, record.party_type, flags),
        contact_name=contact,
        flags=tuple(flags),
        contact_pinyin=romanize(contact) if contact else None,
        industry=industry,
    )


def _collect(result: Standardized[T], field: str, flags: list[Flag]) -> T | None:
    if result.flags:
        flags.extend(replace(flag, field=field) for flag in result.flags)
    return result.value


def _each(
    values: tuple[str, ...],
    standardizer: Callable[[str], Standardized[T]],
    field: str,
    flags: list[Flag],
) -> tuple[T, ...]:
    """Standardize every item of a list field, dropping invalid ones and duplicates."""
    out: list[T] = []
    for i, value in enumerate(values):
        result = standardizer(value)
        # The item's field name is only spelt out for a flag.
        found = _collect(result, f"{field}[{i}]", flags) if result.flags else result.value
        if found is not None and found not in out:
            out.append(found)
    return tuple(out)


def _identifiers(record: SourceRecord, flags: list[Flag]) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    for i, identifier in enumerate(record.identifiers):
        result = standardize_identifier(identifier.type, identifier.value)
        found = _collect(result, f"identifiers[{i}]", flags)
        if found is not None and found not in out:
            out.append(found)
    return tuple(out)


def _resident_from_identifiers(identifiers: tuple[tuple[str, str], ...]) -> ResidentId | None:
    number = next((value for kind, value in identifiers if kind == "national_id"), None)
    return None if number is None else standardize_national_id(number).value


def _unparsed_name(raw: str) -> StandardName:
    """A name with nothing to compare (only punctuation): kept raw, every key empty."""
    normalized = normalize_text(raw)
    return StandardName(
        raw=raw, normalized=normalized, core="", trade="", pinyin="", trade_pinyin=""
    )


def _birth_date(
    given: date | None,
    resident: ResidentId | None,
    party_type: PartyType,
    flags: list[Flag],
) -> date | None:
    # An individual business may carry its owner's id: that says nothing of the firm.
    if resident is None or party_type is not PartyType.PERSON:
        return given
    if given is not None and given != resident.birth_date:
        flags.append(
            Flag(
                "birth_date",
                "conflicts_with_national_id",
                f"birth date {given.isoformat()} but the resident id says "
                f"{resident.birth_date.isoformat()}",
            )
        )
    return given or resident.birth_date


def _gender(
    given: str | None,
    resident: ResidentId | None,
    party_type: PartyType,
    flags: list[Flag],
) -> str | None:
    gender = _collect(standardize_gender(given), "gender", flags) if given else None
    if resident is None or party_type is not PartyType.PERSON:
        return gender
    if gender is not None and gender != resident.gender:
        flags.append(
            Flag(
                "gender",
                "conflicts_with_national_id",
                f"gender {gender} but the resident id says {resident.gender}",
            )
        )
    return gender or resident.gender


def _contact_name(text: str | None) -> str | None:
    if text is None:
        return None
    return normalize_text(text) or None


def load_reference_tables() -> None:
    """Load every table standardization reads (divisions, area codes, pinyin readings).

    They load on first use otherwise, which puts a few hundred milliseconds
    into whichever request standardizes first; a server calls this at startup.
    """
    division_table()
    area_code_of("北京")
    load_readings()
    # OpenCC, pypinyin's phrase tables and cleanco load on their first call.
    standardize_record(
        SourceRecord(
            source="warm-up",
            source_key="0",
            party_type=PartyType.ORGANIZATION,
            name="北京华为技術有限公司 Huawei Technologies Co., Ltd.",
            phones=("2437843",),
            city="厦门",
            address="广东省深圳市南山区科技园",
            contact_name="张伟",
        )
    )
