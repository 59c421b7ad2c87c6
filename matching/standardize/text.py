"""Text clean-up shared by every standardizer: one script, one width, one set of brackets.

Department data mixes full-width and half-width characters, traditional and
simplified script, several kinds of brackets and stray control characters.
:func:`normalize_text` folds all of that into one canonical form before any
field-specific parsing. The functions are pure, so their answers are cached.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache

import opencc
from pypinyin.constants import PHRASES_DICT, PINYIN_DICT, RE_HANS
from pypinyin.pinyin_dict import pinyin_dict

__all__ = [
    "has_han",
    "load_readings",
    "normalize_text",
    "romanize",
    "romanize_syllables",
    "to_simplified",
    "tone_readings",
]

# Built once: the converter is pure and its dictionaries are costly to load.
_T2S = opencc.OpenCC("t2s")

# Control and format characters, line separators and lone surrogates (which
# cannot even be encoded) are noise in every field.
_NOISE = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ud800-\udfff]"
)
_SPACES = re.compile(r"\s+")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
_NOT_LATIN_WORD = re.compile(r"[^a-z0-9]+")

# NFKC already folds full-width （） and ［］; these are the brackets it keeps.
_PUNCTUATION_MAP: dict[str, str] = {
    **dict.fromkeys("【〔〖〈《「『[{", "("),
    **dict.fromkeys("】〕〗〉》」』]}", ")"),
    **dict.fromkeys("•・‧∙⋅･", "·"),
    **dict.fromkeys("–—―−", "-"),
    **dict.fromkeys("、，", ","),
    **dict.fromkeys("。", "."),
    **dict.fromkeys('“”‘’"`', ""),
}
_PUNCTUATION = str.maketrans(_PUNCTUATION_MAP)
# Translating is slow for non-Latin text; most text holds none of these marks.
_ANY_PUNCTUATION = re.compile(f"[{re.escape(''.join(_PUNCTUATION_MAP))}]")


def has_han(text: str) -> bool:
    """Whether ``text`` contains at least one Chinese character."""
    return _HAN.search(text) is not None


@lru_cache(maxsize=65_536)
def to_simplified(text: str) -> str:
    """Traditional → simplified script (OpenCC ``t2s``); other text unchanged."""
    return _T2S.convert(text) if has_han(text) else text


@lru_cache(maxsize=131_072)
def normalize_text(text: str) -> str:
    """NFKC, simplified script, unified brackets and punctuation, single spaces, lower case."""
    cleaned = _NOISE.sub(" ", text)
    cleaned = unicodedata.normalize("NFKC", cleaned)
    cleaned = to_simplified(cleaned)
    if _ANY_PUNCTUATION.search(cleaned) is not None:
        cleaned = cleaned.translate(_PUNCTUATION)
    return _SPACES.sub(" ", cleaned).strip().lower()


@lru_cache(maxsize=65_536)
def romanize_syllables(text: str) -> tuple[str, ...]:
    """Toneless pinyin syllables of ``text``; Latin runs kept as lower-case words.

    pypinyin segments the text into known phrases first, so heteronyms take the
    reading of the word they stand in (银行 → yin hang, 重庆 → chong qing).
    ü is written ``u`` as on passports and in English company names. Text made
    only of characters with a single toneless reading needs no segmentation:
    it is read character by character from a table (same answer, much faster).
    """
    readings = _single_readings()
    fast = [readings.get(char) for char in text]
    if text and None not in fast:
        return tuple(fast)  # type: ignore[arg-type]  # None was just ruled out
    out: list[str] = []
    # Tone marks are stripped here: pypinyin's own toneless style is slower.
    for chunk in tone_readings(text):
        for word in _NOT_LATIN_WORD.split(chunk.translate(_TONE_MARKS).lower()):
            if word:
                out.append(word)
    return tuple(out)


def tone_readings(text: str) -> list[str]:
    """``pypinyin.lazy_pinyin(text, style=Style.TONE)``, without its converter's overhead.

    The same steps: runs of Han characters cut into pypinyin's phrases as its
    segmenter cuts them (runs without Han characters kept whole), a phrase's
    readings from its phrase table, other characters' first reading from its
    character table (the character itself when it has none). The tone style
    leaves readings as the tables write them: the converter's hooks add
    nothing but time.
    """
    out: list[str] = []
    for run in _HAN_RUNS.split(text):
        if not run:
            continue
        if RE_HANS.match(run) is None:
            out.append(run)
            continue
        for word in _phrases(run):
            phrase = PHRASES_DICT.get(word)
            if phrase is not None:
                out.extend(readings[0] for readings in phrase)
                continue
            for char in word:
                readings = PINYIN_DICT.get(ord(char))
                out.append(readings.split(",", 1)[0] if readings is not None else char)
    return out


def _han_class() -> str:
    # pypinyin tells Han characters by RE_HANS, a run of one character class.
    pattern: str = RE_HANS.pattern
    if not (pattern.startswith("^(?:[") and pattern.endswith("])+$")):
        raise RuntimeError(f"pypinyin's RE_HANS has an unexpected form: {pattern[:40]}")
    return pattern[len("^(?:") : -len(")+$")]


# Splits text into runs of Han characters (captured) and runs of other text.
_HAN_RUNS = re.compile(f"({_han_class()}+)")


def _phrases(run: str) -> Iterator[str]:
    """A Han run cut as pypinyin's segmenter cuts it (``mmseg.seg``: strict phrases).

    At each position the longest phrase of its table is taken, looking no
    further than the text stays a phrase's prefix; without one, a single
    character. When the rest of the run is all a prefix but holds no
    phrase, every character of it stands alone.
    """
    prefixes = _phrase_prefixes()
    pos, size = 0, len(run)
    while pos < size:
        end = pos + 1
        longest = 0
        while end <= size and run[pos:end] in prefixes:
            if run[pos:end] in PHRASES_DICT:
                longest = end
            end += 1
        if longest:
            yield run[pos:longest]
            pos = longest
        elif end > size:
            yield from run[pos:]
            return
        else:
            yield run[pos]
            pos += 1


@lru_cache(maxsize=1)
def _phrase_prefixes() -> frozenset[str]:
    """Every prefix of every phrase in pypinyin's phrase table."""
    return frozenset(phrase[:end] for phrase in PHRASES_DICT for end in range(1, len(phrase) + 1))


# Tone-marked pinyin letters → plain ones (ü is written u); combining marks go.
_TONE_MARKS = str.maketrans(
    {
        **dict.fromkeys("āáǎà", "a"),
        **dict.fromkeys("ēéěèêếề", "e"),
        **dict.fromkeys("īíǐì", "i"),
        **dict.fromkeys("ōóǒò", "o"),
        **dict.fromkeys("ūúǔùüǖǘǚǜ", "u"),
        "ḿ": "m",
        **dict.fromkeys("ńňǹ", "n"),
        **{chr(mark): None for mark in range(0x300, 0x370)},
    }
)


def load_readings() -> None:
    """Load the tables of readings and phrases (on first use otherwise)."""
    _single_readings()
    _phrase_prefixes()


@lru_cache(maxsize=1)
def _single_readings() -> dict[str, str]:
    """Han characters whose readings all lose their tone to one syllable (张 → zhang)."""
    table: dict[str, str] = {}
    for code, readings in pinyin_dict.items():
        toneless = {reading.translate(_TONE_MARKS) for reading in readings.split(",")}
        if len(toneless) == 1:
            syllable = toneless.pop()
            if syllable.isascii() and syllable.isalpha():
                table[chr(code)] = syllable
    return table


def romanize(text: str) -> str:
    """Toneless pinyin of ``text`` without spaces (``华为`` → ``huawei``)."""
    return "".join(romanize_syllables(text))
