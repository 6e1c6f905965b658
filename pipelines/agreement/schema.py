"""The JSON Schema of an agreement file, generated from the model and shipped in the package."""

from __future__ import annotations

import json
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema


class _AgreementSchema(GenerateJsonSchema):
    def decimal_schema(self, schema: core_schema.DecimalSchema) -> JsonSchemaValue:
        # pydantic offers any string beside the number, as it would parse "0.30"; the model
        # refuses text for a number (model.Number), and the editor must too: with the string
        # it passed `rate: "0.30"` and `rate: 30%`, which validate then refused.
        json_schema = super().decimal_schema(schema)
        return next((s for s in json_schema.get("anyOf", ()) if s.get("type") == "number"), json_schema)


def build_schema() -> dict[str, Any]:
    from pipelines.agreement.model import RESERVED_STAGE_VALUES, Agreement
    from pipelines.agreement.plan import PLAN_OWN_COLUMNS

    schema = Agreement.model_json_schema(by_alias=True, mode="validation", schema_generator=_AgreementSchema)
    schema["properties"].pop("source_file", None)
    # The ids validate refuses for a stage, refused in the editor too: `recycled` (a rejected
    # lead's event, not a stage) passed the schema and failed only at validate.
    stage_id = schema["$defs"]["Stage"]["properties"]["id"]
    reserved = [*RESERVED_STAGE_VALUES, *PLAN_OWN_COLUMNS]
    stage_id["not"] = {"enum": reserved}
    stage_id["description"] += f" Not one of {', '.join(reserved)}: rejected leads' events and the plan's own columns."
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://funnelpact.dev/schemas/agreement-v1.json"
    schema["title"] = "funnelpact Agreement (apiVersion funnelpact/v1)"
    return schema


def render_schema() -> str:
    return json.dumps(build_schema(), indent=2, sort_keys=True) + "\n"
