"""YAML for configuration and policy files: PyYAML's safe loader, except that a key given twice
in one mapping is an error. PyYAML keeps the last one silently, so a policy with `max_per_day`
twice, or a config with `brand_id` twice, would load with a value its author may not have meant
(the webhooks' JSON refuses duplicate keys for the same reason: oracle/ingest/strict_json.py)."""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode


class _UniqueKeyLoader(yaml.SafeLoader):
    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _value in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *defaults`: a key given here overrides a merged one, as it should
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key, e.g. `? [1, 2]`
                raise ConstructorError("while reading a mapping", node.start_mark,
                                       "found a key that is a list or a mapping", key_node.start_mark) from None
            if duplicate:
                raise ConstructorError("while reading a mapping", node.start_mark,
                                       f"found the key {key!r} twice", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def load_unique(text: str | bytes) -> Any:
    """Like yaml.safe_load; raises a yaml.YAMLError naming a key given twice, and where."""
    return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
