"""JSON Schema of the definition format, shipped so editors can check YAML as it is typed."""
from __future__ import annotations

import json
from importlib import resources

from .model import IndicatorSpec, TargetSetSpec
from pathlib import Path


def definition_schema() -> dict:
    schema = IndicatorSpec.model_json_schema()
    schema["$id"] = "https://qcindicators/definition.schema.json"
    schema["title"] = "qcindicators indicator definition / 指标定义"
    return schema


def target_set_schema() -> dict:
    schema = TargetSetSpec.model_json_schema()
    schema["title"] = "qcindicators target set / 目标集"
    return schema


def shipped(name: str) -> dict:
    return json.loads(resources.files("qcindicators.data").joinpath(name).read_text(encoding="utf-8"))


def write_schemas(directory) -> None:
    """Maintainer helper: python -c 'from qcindicators.spec.schema import write_schemas; write_schemas("qcindicators/data")'"""
    for name, schema in (("definition.schema.json", definition_schema()), ("target_set.schema.json", target_set_schema())):
        (Path(directory) / name).write_text(json.dumps(schema, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
