"""The JSON Schema of an agreement file, generated from the model and shipped in the package."""

from __future__ import annotations

import json
from typing import Any

def build_schema() -> dict[str, Any]:
    from pipelines.agreement.model import Agreement

    schema = Agreement.model_json_schema(by_alias=True, mode="validation")
    schema["properties"].pop("source_file", None)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://funnelpact.dev/schemas/agreement-v1.json"
    schema["title"] = "funnelpact Agreement (apiVersion funnelpact/v1)"
    return schema


def render_schema() -> str:
    return json.dumps(build_schema(), indent=2, sort_keys=True) + "\n"
