"""Validate a parsed document as a Scenario, turning pydantic's errors into one-line InputErrors."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from negotiation.errors import MISSING, ScenarioError
from negotiation.scenario.checks import FieldProblem
from negotiation.scenario.schema import Scenario


def scenario_from_dict(data: dict[str, Any], source: str) -> Scenario:
    """Validate a parsed scenario document.

    Args:
        data: The parsed TOML document.
        source: Where it came from, for error messages.

    Returns:
        The validated scenario.

    Raises:
        ScenarioError: The first problem found, naming field path, value and expectation.
    """
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, data, source, ScenarioError) from None


def validation_error(
    exc: ValidationError, data: Any, source: str, error: type[ScenarioError]
) -> ScenarioError:
    """Turn pydantic's first validation error into a one-line InputError.

    Args:
        exc: The pydantic error.
        data: The document that was validated, to fetch the offending value.
        source: File name or flag, for the message.
        error: The InputError subclass to build.

    Returns:
        The error to raise.
    """
    first = exc.errors(include_url=False)[0]
    more = len(exc.errors()) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more > 0 else ""
    problem = first.get("ctx", {}).get("error")
    if isinstance(problem, FieldProblem):
        return error(source, problem.field, problem.value, problem.expected + suffix)
    loc = [str(part) for part in first["loc"] if not str(part).startswith("function-")]
    field = ".".join(
        part for part in loc if part not in {"str", "float", "int", "literal['increase','decrease']"}
    )
    value = _lookup(data, field.split(".")) if field else MISSING
    if first["type"] == "missing":
        value = MISSING
    message = first["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return error(source, field, value, _expectation(first["type"], message) + suffix)


TYPE_EXPECTATIONS = {
    "int_type": "an integer (a whole number, not in quotes)",
    "float_type": "a number (not in quotes, not true/false)",
    "bool_type": "true or false",
    "string_type": "a string (in quotes)",
    "tuple_type": "an array",
    "dict_type": "a table",
    "model_type": "a table",
}
"""What a field of each type accepts, for pydantic's strict-mode type errors."""


def _expectation(kind: str, message: str) -> str:
    if kind == "missing":
        return "this required field"
    if kind == "extra_forbidden":
        return "no such field (check the spelling against docs/scenario-format.md)"
    if kind in TYPE_EXPECTATIONS:
        return TYPE_EXPECTATIONS[kind]
    if ";" in message:
        return message.split(";", 1)[1].strip()
    message = message.removeprefix("Input should be ")
    return message[0].lower() + message[1:] if message else "a valid value"


def _lookup(data: Any, parts: list[str]) -> Any:
    if len(parts) > 1 and parts[0] == "uncertainty" and isinstance(data, dict):
        # uncertainty keys are parameter paths, themselves dotted
        table = data.get("uncertainty", {})
        for cut in range(len(parts), 1, -1):
            key = ".".join(parts[1:cut])
            if key in table:
                return _lookup(table[key], parts[cut:])
    for part in parts:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list | tuple) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return MISSING
    return data
