"""Turn pydantic's validation errors into problems with file, line, field and a hint."""

from __future__ import annotations

import difflib
import re
import types
from datetime import date, datetime
from decimal import Decimal
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from pipelines.agreement.currencies import not_a_currency
from pipelines.agreement.model import Agreement
from pipelines.agreement.months import is_month_field, not_a_month
from pipelines.agreement.yaml_source import PLAIN_NUMBER, SourceDocument
from pipelines.errors import Problem

# Keys people reach for when pasting a secret; the agreement only names env variables.
_SECRET_KEYS = {
    "webhook_url": "webhook_url_env",
    "url": "url_env",
    "smtp_url": "smtp_url_env",
    "password": "smtp_url_env",
    "token": "an environment variable (…_env)",
    "api_key": "an environment variable (…_env)",
    "secret": "an environment variable (…_env)",
}


def problems_from_validation(error: ValidationError, doc: SourceDocument) -> list[Problem]:
    problems = []
    for item in error.errors(include_url=False):
        path = _data_path(item["loc"], doc.data)
        if item["type"] == "union_tag_invalid":
            path = (*path, "channel")  # point at the wrong value, not the whole alert
        problems.append(doc.problem(path, _message(item, path, doc.data)))
    return problems


def _data_path(loc: tuple, data: Any) -> tuple:
    """The loc as a path into the YAML data: drops union tags pydantic inserts."""
    path: list[Any] = []
    node = data
    for part in loc:
        if part == "[key]":
            # pydantic's marker for "the key itself is wrong" (a seasonality month, say):
            # the key is already the last part of the path.
            continue
        if isinstance(node, dict) and part in node:
            # The key as the data holds it: pydantic reports a key YAML read as true (`on:`) as 1.
            part = next(key for key in node if key == part)
            node = node[part]
            path.append(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            path.append(part)
        elif isinstance(node, (dict, list)):
            # A union tag ('slack' for a discriminated union) is not in the data: skip it.
            if isinstance(node, dict) and part == node.get("channel"):
                continue
            if isinstance(node, dict) and isinstance(part, str) and part not in node and _is_field_name(part):
                path.append(part)
                node = None
            continue
        else:
            path.append(part)
            node = None
    return tuple(path)


def _is_field_name(part: str) -> bool:
    return part.islower() or "_" in part or part in {"apiVersion"}


def _message(item: dict, path: tuple, data: Any) -> str:
    kind = item["type"]
    given = item.get("input")
    if kind in ("extra_forbidden", "invalid_key"):  # the latter: a key YAML read as a number
        key = str(path[-1]) if path else "?"
        if key in _SECRET_KEYS:
            return (
                f"unknown key {key!r}: secrets never go in the agreement; name the environment "
                f"variable that holds it with {_SECRET_KEYS[key]}"
            )
        allowed = allowed_keys(path[:-1], _value_at(data, path[:-1]))
        # The refused key is never its own suggestion (it could be a key of another alert channel).
        hint = difflib.get_close_matches(key, [k for k in allowed if k != key], n=1)
        text = f"unknown key {key!r}"
        if hint:
            text += f"; did you mean {hint[0]!r}?"
        if allowed:
            text += f" (expected one of: {', '.join(allowed)})"
        return text
    if kind == "missing":
        key = str(path[-1]) if path else "?"
        about = field_description(path)
        return f"required key {key!r} is missing" + (f" ({about.rstrip('.')})" if about else "")
    if kind == "string_pattern_mismatch":
        return _pattern_message(path, given)
    if kind == "unknown_currency":
        return not_a_currency(given)
    if kind == "literal_error":
        return f"{as_yaml(given)} is not allowed: expected {item['ctx']['expected']}"
    if kind == "union_tag_invalid":
        # The channel as written: pydantic's tag is its str(), 'True' for `channel: on`.
        channel = given.get("channel") if isinstance(given, dict) else item["ctx"]["tag"]
        return f"unknown channel {as_yaml(channel)}: expected {item['ctx']['expected_tags']}"
    if kind == "union_tag_not_found":
        return "missing 'channel': expected one of 'slack', 'email', 'webhook', 'log'"
    if kind in _BOUNDS:
        last = str(path[-1]) if path else ""
        if last in _SHARES:
            return f"{as_yaml(given)} is not a rate: expected a share in (0, 1], e.g. 0.3 for 30%"
        limit = next(iter(item.get("ctx", {}).values()), "")
        return f"{as_yaml(given)} is out of range: expected a number {_BOUNDS[kind]} {as_yaml(limit)}"
    if kind in ("decimal_parsing", "decimal_type", "int_parsing", "int_type", "float_parsing", "int_from_float"):
        whole = kind.startswith("int")
        text = f"{as_yaml(given)} is not {'a whole number' if whole else 'a number'}"
        return f"{text}: expected {_instead_of_not_a_number(given, path, whole)}"
    if kind == "decimal_max_places":
        places = item.get("ctx", {}).get("decimal_places")
        return f"{as_yaml(given)} has more than {places} decimal places: expected at most {places}, e.g. 1.5"
    if kind == "finite_number":
        last = str(path[-1]) if path else ""
        if last in _SHARES:
            return f"{as_yaml(given)} is not a rate: expected a share in (0, 1], e.g. 0.3 for 30%"
        return f"{as_yaml(given)} is not a number: expected a finite number"
    if kind == "too_short":
        ctx = item.get("ctx", {})
        return f"expected at least {ctx.get('min_length')} items, got {ctx.get('actual_length')}"
    if kind == "bool_for_number":
        return f"expected a number, got {as_yaml(given)}: YAML reads yes/no/on/off/true/false as a boolean"
    if kind == "quoted_number":
        return f"expected a number, got the text {as_yaml(given)}: write it without quotes"
    if kind == "string_type" and is_month_field(path):
        if isinstance(given, date):  # YAML reads 2026-01-01 as a date
            return f"{as_yaml(given)} is a date, not a month: expected YYYY-MM (agreements run for whole months)"
        return not_a_month(as_yaml(given))
    if kind == "string_type" and isinstance(given, bool):
        return f"expected text, got {as_yaml(given)}: YAML reads yes/no/on/off/true/false as a boolean; quote the value"
    if kind == "string_type" and isinstance(given, date):  # `revision: 2026-01-01`
        what = "a date and time" if isinstance(given, datetime) else "a date"
        return f"expected text, got {as_yaml(given)}: YAML reads it as {what}; quote the value"
    if kind in ("dict_type", "model_type", "model_attributes_type"):  # the last: an alert written `- log`
        return f"expected a mapping (key: value), got {as_yaml(given)}"
    if kind == "list_type":
        return f"expected a list, got {as_yaml(given)}"
    if kind == "string_type":
        return f"expected text, got {as_yaml(given)}"
    msg = item["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if given is not None and not isinstance(given, (dict, list)) and as_yaml(given) not in msg:
        msg += f" (got {as_yaml(given)})"
    return msg


def _instead_of_not_a_number(given: Any, path: tuple, whole: bool) -> str:
    """What to write: the analyst who typed `5%`, `4h` or `$600000` is told the plain form."""
    share = str(path[-1] if path else "") in _SHARES
    if isinstance(given, str) and "," in given:  # 0,35 or 600,000
        return PLAIN_NUMBER
    percent = _PERCENT.fullmatch(given) if isinstance(given, str) else None
    if percent:  # a rate, an attainment or a tolerance written as a percentage
        decimal = format((Decimal(percent[1]) / 100).normalize(), "f")
        return f"{'a share in (0, 1]' if share else 'a share'} written as a decimal: {decimal} for {percent[1]}%"
    if share:
        return "a share in (0, 1], e.g. 0.3 for 30%"
    if whole:
        return "a whole number, e.g. 30"
    return "a plain number without a unit or currency sign, e.g. 4, 0.35 or 600000"


_PERCENT = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*%\s*")


_BOUNDS = {
    "greater_than": "greater than",
    "greater_than_equal": "at least",
    "less_than": "less than",
    "less_than_equal": "at most",
}
_SHARES = {"rate", "attainment", "max_rate"}


def as_yaml(value: Any) -> str:
    """A value as YAML writes it (null, true, [0.3], 2026-01-01), not as Python's repr
    (None, True, [Decimal('0.3')], datetime.date(2026, 1, 1)); text stays quoted."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    if isinstance(value, date):  # and datetime
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(map(as_yaml, value)) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k if isinstance(k, str) else as_yaml(k)}: {as_yaml(v)}" for k, v in value.items()) + "}"
    return repr(value)


# The variable an example names, by the key it is for: an SMTP URL was told to go in
# FUNNELPACT_SLACK_WEBHOOK.
_EXAMPLE_VARIABLE = {"webhook_url_env": "FUNNELPACT_SLACK_WEBHOOK", "smtp_url_env": "FUNNELPACT_SMTP_URL",
                     "url_env": "FUNNELPACT_ALERT_WEBHOOK"}


def _pattern_message(path: tuple, given: Any) -> str:
    last = str(path[-1]) if path else ""
    if isinstance(given, (int, Decimal)) and not isinstance(given, bool):
        given = str(given)  # `revision: 2026.10` is the text '2026.10' to its author, not Decimal('2026.10')
    if last.endswith("_env"):
        if isinstance(given, str) and ("://" in given or "@" in given):
            return (
                "this looks like a secret (a URL or credentials): secrets never go in the "
                "agreement; write the NAME of an environment variable that holds it, "
                f"e.g. {_EXAMPLE_VARIABLE.get(last, 'FUNNELPACT_SLACK_WEBHOOK')}"
            )
        if isinstance(given, str) and "_" in given and re.fullmatch(r"[a-z0-9_]+|[A-Z0-9_]+", given):
            return f"{given!r} is not an environment variable name: expected UPPER_CASE letters, digits and _"
        # Anything else may be the secret itself, pasted without its scheme (a Slack webhook's
        # path, a token): it was quoted in full in every command's output.
        return ("this is not an environment variable name (not repeated here: it may be a secret): "
                f"expected UPPER_CASE letters, digits and _, e.g. {_EXAMPLE_VARIABLE.get(last, 'FUNNELPACT_SLACK_WEBHOOK')}")
    if is_month_field(path):
        return not_a_month(repr(given))
    if last == "id":
        return (
            f"{given!r} is not a valid stage id: expected lowercase letters, digits and _ (ASCII: a-z, 0-9), "
            "starting with a letter (at most 40 characters)"
        )
    if last == "currency":
        return not_a_currency(given)
    if last == "name" and path[:1] == ("metadata",):
        return (f"{given!r} is not a valid agreement name: expected lowercase letters, digits, '_' or '-' "
                "(ASCII: a-z, 0-9), starting with a letter or digit (at most 63 characters)")
    if last == "revision" and path[:1] == ("metadata",):
        return (f"{given!r} is not a valid revision label: expected letters, digits, '_' or '-' (ASCII: "
                "A-Z, a-z, 0-9), starting with a letter or digit (at most 64 characters), e.g. 2026-h1 or v1-2")
    if len(path) >= 2 and path[-2] in ("crm_values", "ignored_crm_values"):
        return f"{given!r} is a blank CRM value: expected the lifecycle value as the CRM writes it"
    if "to" in path or last == "email" or last == "sender":
        return f"{given!r} is not an e-mail address"
    return f"{given!r} does not have the expected form"


def field_description(path: tuple) -> str | None:
    """The model's description of the field at `path`, e.g. for a missing key."""
    if not path:
        return None
    annotation: Any = Agreement
    for part in path[:-1]:
        annotation = _descend(annotation, part)
        if annotation is None:
            return None
    for model in _models_in(annotation):
        for name, info in model.model_fields.items():
            if path[-1] in (name, info.alias):
                return info.description
    return None


def _value_at(data: Any, path: tuple) -> Any:
    """The value at `path` in the data as written, or None where there is none."""
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def allowed_keys(path: tuple, written: Any = None) -> list[str]:
    """The keys a mapping at `path` accepts, found by walking the model's annotations.

    Where several models may sit at `path` (the alert channels), `written`, the mapping as
    written, picks those its tag admits: a log alert's keys, not every channel's."""
    annotation: Any = Agreement
    for part in path:
        annotation = _descend(annotation, part)
        if annotation is None:
            return []
    models = _models_in(annotation)
    if isinstance(written, dict):
        models = [m for m in models if _admits(m, written)] or models
    keys: list[str] = []
    for m in models:
        for name, info in m.model_fields.items():
            if info.exclude:
                continue
            key = info.alias or name
            if key not in keys:
                keys.append(key)
    return keys


def _admits(model: type[BaseModel], written: dict) -> bool:
    """Whether every fixed-value (Literal) field of `model` the mapping holds has a value it allows."""
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key in written and typing.get_origin(info.annotation) is typing.Literal:
            if written[key] not in typing.get_args(info.annotation):
                return False
    return True


def _descend(annotation: Any, part: Any) -> Any:
    for candidate in _unwrap(annotation):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            for name, info in candidate.model_fields.items():
                if part in (name, info.alias):
                    return info.annotation
        origin = typing.get_origin(candidate)
        args = typing.get_args(candidate)
        if origin is list and isinstance(part, int):
            return args[0]
        if origin is dict and args:
            return args[1]
    return None


def _unwrap(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        out = []
        for arg in typing.get_args(annotation):
            out.extend(_unwrap(arg))
        return out
    return [annotation]


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    return [a for a in _unwrap(annotation) if isinstance(a, type) and issubclass(a, BaseModel)]
