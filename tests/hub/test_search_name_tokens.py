"""A name's search tokens: Han bigrams, pinyin prefixes (also after a place), Latin prefixes."""

from __future__ import annotations

from hub.services.search import MAX_PREFIX, MIN_PREFIX, name_tokens


def prefixes(word: str) -> set[str]:
    return {f"p:{word[:n]}" for n in range(MIN_PREFIX, min(len(word), MAX_PREFIX) + 1)}


def test_a_chinese_name_gives_its_bigrams_and_the_prefixes_of_its_pinyin() -> None:
    assert name_tokens("华为") == {"h:华为"} | prefixes("huawei")


def test_pinyin_prefixes_also_start_after_a_leading_place_name() -> None:
    assert name_tokens("北京华为") == (
        {"h:北京", "h:京华", "h:华为"} | prefixes("beijinghuawei") | prefixes("huawei")
    )
    # After two characters and after three (黑龙江…), while two characters remain.
    assert name_tokens("黑龙江华为") == (
        {"h:黑龙", "h:龙江", "h:江华", "h:华为"}
        | prefixes("heilongjianghuawei")
        | prefixes("jianghuawei")
        | prefixes("huawei")
    )


def test_prefixes_stop_at_twelve_letters() -> None:
    tokens = name_tokens("Technologies Internationalization")
    assert "p:internationa" in tokens
    assert "p:internation" in tokens
    assert not any(len(token) > len("p:") + MAX_PREFIX for token in tokens)


def test_a_single_character_and_a_short_latin_word_are_tokens_whole() -> None:
    assert name_tokens("王") == {"h:王"} | prefixes("wang")
    assert name_tokens("AB Group") == {"p:ab"} | prefixes("group")


def test_the_name_is_normalized_first() -> None:
    assert name_tokens("華為 （北京）") == name_tokens("华为(北京)")
