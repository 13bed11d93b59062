"""Configuration YAML refuses a key given twice (PyYAML keeps the last one silently) and still
reads what YAML users write: anchors and merge keys, whose own keys override merged ones."""

from __future__ import annotations

import pytest
import yaml

from oracle.strict_yaml import load_unique


def test_merge_keys_work_and_a_key_given_here_overrides_a_merged_one() -> None:
    text = "defaults: &d {timeout_seconds: 10, max_attempts: 3}\nfulfilment:\n  <<: *d\n  max_attempts: 5\n"
    assert load_unique(text)["fulfilment"] == {"timeout_seconds": 10, "max_attempts": 5}
    assert load_unique(text) == yaml.safe_load(text)


@pytest.mark.parametrize("text, says", [
    ("brand_id: 1\nbrand_id: 2\n", "found the key 'brand_id' twice"),
    ("m:\n  <<: {x: 1}\n  x: 2\n  x: 3\n", "found the key 'x' twice"),
    ("? [1, 2]\n: 3\n", "found a key that is a list or a mapping"),
])
def test_a_duplicate_or_unhashable_key_is_a_yaml_error_naming_it(text: str, says: str) -> None:
    with pytest.raises(yaml.YAMLError, match=says):
        load_unique(text)
