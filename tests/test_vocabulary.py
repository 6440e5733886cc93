"""The activity-name lists a config sets, and the one rule that matches them."""

from __future__ import annotations

import pytest

from procmine import datasets, vocabulary


def test_name_lists_and_their_defaults():
    assert vocabulary.NAME_LISTS == {
        "explanation_activities": vocabulary.EXPLANATIONS,
        "closing_activities": vocabulary.CLOSINGS,
        "return_activities": vocabulary.RETURNS,
    }
    assert vocabulary.RETURNS == ("Trả lại", "Chuyển lại")


def test_config_sets_the_return_names():
    names = vocabulary.from_config({"return_activities": ["Trả về", "Chuyển trả"]})
    assert names["return_activities"] == ("Trả về", "Chuyển trả")
    assert names["explanation_activities"] == vocabulary.EXPLANATIONS
    assert vocabulary.from_config({"return_activities": None})["return_activities"] == ()
    # The sample's config does not set them: the defaults.
    sample = vocabulary.from_config(datasets.sample_path("config.yaml"))
    assert sample["return_activities"] == vocabulary.RETURNS
    with pytest.raises(ValueError, match="return_activities"):
        vocabulary.from_config({"return_activities": "Trả lại"})


def test_return_names_match_by_the_one_rule():
    activities = [
        "Trả lại hồ sơ",  # the name, then a space
        "Chuyển lại để bổ sung",
        "TRẢ LẠI",  # case-folded
        "Trả lại: thiếu giấy tờ",
        "Tra\u0309 la\u0323i hồ sơ",  # decomposed (NFD) input
        "Trả lạiX",  # a letter follows: another word
        "Không trả lại",  # does not start with it
        "Trả kết quả",  # the closing step of a one-stop shop, not a return
        None,
    ]
    assert vocabulary.matches(activities, vocabulary.RETURNS) == [
        True, True, True, True, True, False, False, False, False,
    ]  # fmt: skip
