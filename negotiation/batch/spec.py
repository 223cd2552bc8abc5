"""Experiment specs: a TOML file in, a frozen, validated :class:`ExperimentSpec` out. No running here.

An experiment names the scenario, what is held fixed, what varies, how many runs and the master
seed (docs/experiments.md is the reference)::

    [experiment]
    name = "china_resolve_sweep"          # also the default output folder results/<name>
    description = "Deal probabilities as China's resolve rises"
    scenario = "default"                   # or a scenario file, relative to this spec
    seed = 20251030                        # master seed: every run's seed derives from it
    replications = 400                     # runs per design point ...
    # precision = 0.02                     # ... or adaptive: +/-2 points (Wilson 95%) per table
    # max_replications = 20000             #     with a cap per design point
    block = 500                            # replications per work unit (chunk file)
    outputs = ["summary", "charts", "report"]

    [fixed]                                # parameter paths held at one value, as with --set
    "tables.us-china.deadline" = 20

    [[parameters]]                         # a list of values: full factorial with other lists
    path = "actors.china.resolve"
    values = [0.55, 0.65, 0.75, 0.85, 0.95]

    [[parameters]]                         # a range: sampled jointly with the other ranges
    path = "actors.china.leverage"
    low = 0.4
    high = 1.0

    [sampling]                             # how ranges are sampled (required when there are any)
    method = "lhs"                         # "lhs", "sobol" (points a power of two) or "random"
    points = 16

Design points are the full factorial of the value lists, crossed with the sampled points of the
ranges (the same sample for every factorial combination). Sampling uses ``scipy.stats.qmc`` seeded
from the master seed through ``numpy.random.SeedSequence``, so the design is reproducible.

The API other modules use (calibration and sensitivity analysis read the declared ranges):

- ``load_experiment(path) -> ExperimentSpec``; ``experiment_from_dict(data, source, base_dir)``.
- ``spec.parameters``: tuple of :class:`Parameter` with ``path``, ``values`` (tuple or None),
  ``low``/``high`` (floats or None) and ``is_integer``; ``spec.parameter_paths``.
- ``spec.design_points() -> list[dict[path, value]]`` (one dict per point, in point order).
- ``spec.base_scenario()``: the scenario with the fixed overrides applied (no varied parameter).
- ``spec.point_scenario(i)``: design point ``i`` as a scenario, ready for ``compile_scenario``.
- ``spec.with_replications(n)``, ``spec.with_precision(p)``: copies for ``--runs``/``--precision``;
  ``spec.with_outputs([...])``: a copy asking for other outputs.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, Strict, ValidationError

from negotiation.documents import read_json
from negotiation.errors import MISSING, ExperimentError, InputError
from negotiation.scenario.loading import load_scenario, read_toml
from negotiation.scenario.schema import Scenario
from negotiation.scenario.validation import validation_error

DEFAULT_BLOCK = 500
"""Replications per work unit when a spec does not say (also the first block in adaptive mode)."""

DEFAULT_MAX_REPLICATIONS = 20_000
"""Cap on the replications of one design point in adaptive mode when a spec does not say."""

MAX_REPLICATIONS = 10_000_000
"""Most replications of one design point (``replications``, ``max_replications``, ``--runs``)."""

MAX_BLOCK = 100_000
"""Most replications in one chunk: a chunk is held in memory whole, by a worker and by the writer."""

MAX_POINTS = 100_000
"""Most design points of an experiment (value lists multiplied, times the sampled points)."""

MAX_RUNS = 100_000_000
"""Most runs of a batch: design points times replications (or their cap, in adaptive mode)."""

OUTPUTS = ("summary", "charts", "report")
"""Outputs a spec gets by default besides the results themselves (which are always written)."""

ALL_OUTPUTS = (*OUTPUTS, "svg")
"""Every output a spec may ask for: ``svg`` adds an SVG copy of every chart to the PNG files."""

DESIGN_STREAM = (0x5EED, 0xDE51)
"""SeedSequence spawn key of the design sampler; run seeds use one-element keys, so never collide."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

Number = int | float


class _Strict(BaseModel):
    """Strict about unknown fields and types (a number is never read from a string or a boolean)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, strict=True)


class Parameter(_Strict):
    """One varied parameter: a list of values, or a range to sample."""

    path: str = Field(description="Scenario parameter path, e.g. 'actors.china.resolve'.")
    values: tuple[Number, ...] | None = Field(None, description="Values to sweep (full factorial).")
    low: float | None = Field(None, description="Lower end of a sampled range.")
    high: float | None = Field(None, description="Upper end of a sampled range.")
    is_integer: bool = Field(False, description="Integer parameter (sampled values are rounded).")

    @property
    def is_range(self) -> bool:
        """True if sampled from [low, high], False if swept over ``values``."""
        return self.values is None


class Sampling(_Strict):
    """How the ranges are sampled: the method and the number of points."""

    method: Literal["lhs", "sobol", "random"] = Field(description="Latin hypercube, Sobol or random.")
    points: Annotated[int, Field(ge=1, le=MAX_POINTS)] = Field(description="Number of sampled points.")


class _ExperimentTable(_Strict):
    """The ``[experiment]`` table as written in the file."""

    name: str
    description: str = ""
    scenario: str = "default"
    seed: Annotated[int, Field(ge=0)]
    replications: Annotated[int, Field(ge=1, le=MAX_REPLICATIONS)] | None = None
    precision: Annotated[float, Field(gt=0.0, lt=0.5)] | None = None
    max_replications: Annotated[int, Field(ge=1, le=MAX_REPLICATIONS)] | None = None
    block: Annotated[int, Field(ge=1, le=MAX_BLOCK)] = DEFAULT_BLOCK
    outputs: Annotated[tuple[Literal["summary", "charts", "report", "svg"], ...], Strict(False)] = OUTPUTS


class _ParameterEntry(_Strict):
    path: str
    values: list[Any] | None = None
    low: Any = None
    high: Any = None


class _SpecFile(_Strict):
    """The whole file as written."""

    experiment: _ExperimentTable
    fixed: dict[str, Any] = Field(default_factory=dict)
    parameters: list[_ParameterEntry] = Field(default_factory=list)
    sampling: Sampling | None = None


class ExperimentSpec(_Strict):
    """A validated experiment: scenario, fixed and varied parameters, replications, seed, outputs.

    Build it with :func:`load_experiment` or :func:`experiment_from_dict`; every field has already
    been checked against the scenario, so the runner can trust it.
    """

    name: str = Field(description="Experiment name; also the default output folder results/<name>.")
    description: str = Field("", description="What the experiment asks, in a sentence or two.")
    scenario: str = Field("default", description="'default' or the scenario file (absolute path).")
    source: str = Field("<experiment>", description="Where the spec came from, for messages.")
    seed: int = Field(description="Master seed of every run.")
    replications: int | None = Field(None, description="Runs per design point (fixed mode).")
    precision: float | None = Field(None, description="Target Wilson 95% half-width (adaptive mode).")
    max_replications: int | None = Field(None, description="Cap per design point (adaptive mode).")
    block: int = Field(DEFAULT_BLOCK, description="Replications per work unit (chunk).")
    outputs: tuple[str, ...] = Field(OUTPUTS, description="Summary, charts and/or report.")
    fixed: dict[str, Any] = Field(default_factory=dict, description="Fixed overrides by path.")
    parameters: tuple[Parameter, ...] = Field((), description="Varied parameters, in order.")
    sampling: Sampling | None = Field(None, description="Sampling of the ranges, if any.")

    _base: Scenario | None = PrivateAttr(None)
    _points: tuple[dict[str, Number], ...] = PrivateAttr(())

    @property
    def parameter_paths(self) -> list[str]:
        """Paths of the varied parameters, in declaration order (the results' parameter columns)."""
        return [p.path for p in self.parameters]

    @property
    def adaptive(self) -> bool:
        """True when runs are added until a precision target is met."""
        return self.precision is not None

    def design_points(self) -> list[dict[str, Number]]:
        """Every design point as ``{path: value}``, in point order (point i is element i)."""
        return [dict(point) for point in self._points]

    def base_scenario(self) -> Scenario:
        """The scenario with the fixed overrides applied (and no varied parameter)."""
        assert self._base is not None, "build specs with load_experiment or experiment_from_dict"
        return self._base

    def point_scenario(self, point: int) -> Scenario:
        """Design point ``point`` as a validated scenario."""
        from negotiation.scenario.paths import apply_overrides

        return apply_overrides(self.base_scenario(), self._points[point], self.source)

    def with_replications(self, runs: int, source: str = "--runs") -> ExperimentSpec:
        """A copy with a fixed number of replications per point (adaptive mode switched off)."""
        if isinstance(runs, bool) or not isinstance(runs, int) or not 1 <= runs <= MAX_REPLICATIONS:
            raise ExperimentError(
                source, "", runs, f"a whole number of runs per design point, 1 to {MAX_REPLICATIONS:,}"
            )
        return self._copy(replications=runs, precision=None, max_replications=None)._checked_runs(source, "")

    def with_precision(self, precision: float, source: str = "--precision") -> ExperimentSpec:
        """A copy in adaptive mode with this target half-width (the spec's cap, or the default)."""
        if not (isinstance(precision, float | int) and 0 < precision < 0.5):
            raise ExperimentError(source, "", precision, "a half-width between 0 and 0.5, e.g. 0.02")
        cap = self.max_replications or max(DEFAULT_MAX_REPLICATIONS, self.block)
        copy = self._copy(replications=None, precision=float(precision), max_replications=cap)
        return copy._checked_runs(source, "")

    def _checked_runs(self, source: str, field: str) -> ExperimentSpec:
        """This spec, if its runs (points times replications, or their cap) are within :data:`MAX_RUNS`."""
        runs = len(self._points) * (self.replications or self.max_replications or 0)
        if runs > MAX_RUNS:
            raise ExperimentError(
                source,
                field,
                f"{len(self._points):,} design points x {runs // max(len(self._points), 1):,} runs",
                f"at most {MAX_RUNS:,} runs in one batch (fewer points or replications)",
            )
        return self

    def with_fixed(self, overrides: dict[str, Any], source: str = "--set") -> ExperimentSpec:
        """A copy with more parameters held fixed (``--set``, or a calibrated ``--overlay`` file).

        Raises:
            ExperimentError: An override names a parameter the experiment varies.
            OverrideError: An override names no parameter or has a bad value.
        """
        from negotiation.scenario.paths import apply_overrides

        for path, value in overrides.items():
            if path in self.parameter_paths:
                raise ExperimentError(source, path, value, "a parameter the experiment does not vary")
        spec = self._copy(fixed={**self.fixed, **overrides})
        spec._base = apply_overrides(self.base_scenario(), overrides, source)
        return spec

    def with_outputs(self, outputs: tuple[str, ...] | list[str]) -> ExperimentSpec:
        """A copy asking for these outputs (a subset of summary, charts, report, svg; empty for none)."""
        unknown = [o for o in outputs if o not in ALL_OUTPUTS]
        if unknown:
            raise ExperimentError("outputs", "", unknown[0], "one of " + ", ".join(ALL_OUTPUTS))
        return self._copy(outputs=tuple(dict.fromkeys(outputs)))

    def to_toml(self, scenario: str | None = None) -> str:
        """The spec as TOML that :func:`load_experiment` reads back to an equal spec.

        Args:
            scenario: What to write as the scenario (default: the spec's own, an absolute path).
        """
        head: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "scenario": scenario if scenario is not None else self.scenario,
            "seed": self.seed,
        }
        if self.adaptive:
            head |= {"precision": self.precision, "max_replications": self.max_replications}
        else:
            head["replications"] = self.replications
        head |= {"block": self.block, "outputs": list(self.outputs)}
        lines = ["[experiment]", *(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in head.items())]
        if self.fixed:
            lines += ["", "[fixed]", *(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in self.fixed.items())]
        for p in self.parameters:
            lines += ["", "[[parameters]]", f"path = {_toml_value(p.path)}"]
            if p.values is not None:
                lines.append(f"values = {_toml_value(list(p.values))}")
            else:
                lines += [f"low = {_toml_value(p.low)}", f"high = {_toml_value(p.high)}"]
        if self.sampling is not None:
            lines += ["", "[sampling]", f"method = {_toml_value(self.sampling.method)}"]
            lines.append(f"points = {self.sampling.points}")
        return "\n".join(lines) + "\n"

    def _copy(self, **update: Any) -> ExperimentSpec:
        spec = self.model_copy(update=update)
        spec._base, spec._points = self._base, self._points
        return spec


def load_experiment(path: str | Path) -> ExperimentSpec:
    """Read and validate an experiment spec file.

    Args:
        path: A TOML file with an ``[experiment]`` table.

    Returns:
        The validated spec; its scenario path is resolved relative to the spec file.

    Raises:
        ExperimentError: The file is unreadable, or a field is missing, unknown or invalid.
        ScenarioError: The scenario it names does not load.
        OverrideError: A fixed override does not apply to the scenario.
    """
    path = Path(path)
    data = read_toml(path, ExperimentError)
    return experiment_from_dict(data, str(path), path.parent)


def experiment_from_dict(data: dict[str, Any], source: str, base_dir: str | Path = ".") -> ExperimentSpec:
    """Validate a parsed experiment document (see the module docstring for the format).

    Args:
        data: The parsed TOML document.
        source: Where it came from, for error messages.
        base_dir: Folder that a relative scenario path is relative to.

    Returns:
        The validated spec.
    """
    if not isinstance(data.get("experiment"), dict):
        raise ExperimentError(
            source,
            "experiment",
            data.get("experiment", MISSING),
            "an [experiment] table with name, seed and replications",
        )
    try:
        raw = _SpecFile.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, data, source, ExperimentError) from None
    head = raw.experiment
    if not _NAME.match(head.name):
        raise ExperimentError(
            source,
            "experiment.name",
            head.name,
            "a name of letters, digits, '-', '_' or '.' (it names the output folder)",
        )
    _check_replications(head, source)
    scenario_ref, base = _load_base(head.scenario, raw.fixed, source, Path(base_dir))
    parameters = tuple(
        _parameter(entry, i, base, raw.fixed, source) for i, entry in enumerate(raw.parameters)
    )
    _check_sampling(parameters, raw.sampling, source)
    _check_size(parameters, raw.sampling, source)
    adaptive = head.precision is not None
    spec = ExperimentSpec(
        name=head.name,
        description=head.description,
        scenario=scenario_ref,
        source=source,
        seed=head.seed,
        replications=head.replications,
        precision=head.precision,
        max_replications=(head.max_replications or max(DEFAULT_MAX_REPLICATIONS, head.block))
        if adaptive
        else None,
        block=head.block,
        outputs=tuple(dict.fromkeys(head.outputs)),
        fixed=dict(raw.fixed),
        parameters=parameters,
        sampling=raw.sampling,
    )
    spec._base = base
    spec._points = tuple(_design(parameters, raw.sampling, head.seed))
    return spec._checked_runs(
        source, "experiment.replications" if head.replications else "experiment.max_replications"
    )


def _check_replications(head: _ExperimentTable, source: str) -> None:
    if (head.replications is None) == (head.precision is None):
        raise ExperimentError(
            source,
            "experiment.replications",
            head.replications if head.replications is not None else MISSING,
            "either replications = N (runs per design point) or precision = P (adaptive), not both",
        )
    if head.precision is None and head.max_replications is not None:
        raise ExperimentError(
            source,
            "experiment.max_replications",
            head.max_replications,
            "max_replications only together with precision",
        )
    if head.max_replications is not None and head.max_replications < head.block:
        raise ExperimentError(
            source,
            "experiment.max_replications",
            head.max_replications,
            f"at least one block ({head.block} replications)",
        )


def _load_base(reference: str, fixed: dict[str, Any], source: str, base_dir: Path) -> tuple[str, Scenario]:
    from negotiation.scenario.paths import apply_overrides

    if reference == "default":
        scenario, resolved = load_scenario(None), "default"
    else:
        file = Path(reference)
        file = file if file.is_absolute() else (base_dir / file)
        if not file.is_file():
            raise ExperimentError(
                source,
                "experiment.scenario",
                reference,
                f"'default' or an existing scenario file (looked for {file})",
            )
        resolved = str(file.resolve())
        if file.suffix == ".json":
            try:
                scenario = Scenario.model_validate(read_json(file, ExperimentError))
            except ValidationError as exc:
                raise ExperimentError(
                    str(file),
                    "",
                    "invalid scenario JSON",
                    f"a scenario as written by a batch ({exc.error_count()} problems)",
                ) from None
        else:
            scenario = load_scenario(file)
    for path, value in fixed.items():
        # tables only for a distribution or a negotiator ({ kind = ..., params = { ... } })
        table_allowed = (
            path.startswith("uncertainty.") or path.endswith(".negotiator") or ".negotiators" in path
        )
        if isinstance(value, dict | list) and not table_allowed:
            raise ExperimentError(
                source,
                f"fixed.{path}",
                value,
                "a single number, string or boolean (a table only for a distribution or a negotiator)",
            )
    return resolved, apply_overrides(scenario, fixed, f"{source} [fixed]") if fixed else scenario


def _parameter(
    entry: _ParameterEntry, index: int, base: Scenario, fixed: dict[str, Any], source: str
) -> Parameter:
    from negotiation.scenario.bounds import numeric_bounds
    from negotiation.scenario.paths import apply_overrides

    field = f"parameters.{index}"
    try:
        low, high, is_integer = numeric_bounds(base, entry.path)
    except KeyError as exc:
        raise ExperimentError(source, f"{field}.path", entry.path, exc.args[0]) from None
    if entry.path in fixed:
        raise ExperimentError(source, f"{field}.path", entry.path, "a path that [fixed] does not also set")
    kind = "a whole number" if is_integer else "a number"
    bounds = f"{kind} in [{_fmt(low)}, {_fmt(high)}]"

    def number(name: str, value: Any) -> Number:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        if not ok or not low <= value <= high or (is_integer and float(value) != int(value)):
            raise ExperimentError(source, f"{field}.{name}", value, bounds)
        return int(value) if is_integer else value

    if entry.values is not None:
        if entry.low is not None or entry.high is not None:
            raise ExperimentError(source, field, entry.path, "either values = [...] or low/high, not both")
        if not entry.values:
            plural = "whole numbers" if is_integer else "numbers"
            raise ExperimentError(source, f"{field}.values", [], f"a non-empty list of {plural}")
        values = tuple(number(f"values.{k}", v) for k, v in enumerate(entry.values))
        if len(set(values)) != len(values):
            raise ExperimentError(source, f"{field}.values", list(values), "distinct values")
        for k, value in enumerate(values):
            _try_override(base, entry.path, value, source, f"{field}.values.{k}", apply_overrides)
        return Parameter(path=entry.path, values=values, is_integer=is_integer)
    if entry.low is None or entry.high is None:
        missing = "low" if entry.low is None else "high"
        raise ExperimentError(source, f"{field}.{missing}", MISSING, "values = [...] or both low and high")
    lo, hi = number("low", entry.low), number("high", entry.high)
    if not lo < hi:
        raise ExperimentError(source, f"{field}.high", entry.high, f"a value above low = {_fmt(lo)}")
    for name, value in (("low", lo), ("high", hi)):
        _try_override(base, entry.path, value, source, f"{field}.{name}", apply_overrides)
    return Parameter(path=entry.path, low=float(lo), high=float(hi), is_integer=is_integer)


def _try_override(base: Scenario, path: str, value: Number, source: str, field: str, apply: Any) -> None:
    try:
        apply(base, {path: value}, source)
    except InputError as exc:
        raise ExperimentError(
            source, field, value, f"a value the scenario accepts ({exc.expected})"
        ) from None


def _check_sampling(parameters: tuple[Parameter, ...], sampling: Sampling | None, source: str) -> None:
    ranges = [p for p in parameters if p.is_range]
    if ranges and sampling is None:
        raise ExperimentError(
            source,
            "sampling",
            MISSING,
            'a [sampling] table with method = "lhs"|"sobol"|"random" and points = N '
            f"for the range of {ranges[0].path}",
        )
    if sampling is not None and not ranges:
        raise ExperimentError(
            source,
            "sampling",
            sampling.method,
            "no [sampling] table unless a [[parameters]] entry has low and high",
        )
    if sampling is not None and sampling.method == "sobol" and sampling.points & (sampling.points - 1):
        raise ExperimentError(
            source, "sampling.points", sampling.points, "a power of two for Sobol sampling, e.g. 16, 32 or 64"
        )


def _check_size(parameters: tuple[Parameter, ...], sampling: Sampling | None, source: str) -> None:
    """Refuse a design of more than :data:`MAX_POINTS` points before it is built."""
    points = math.prod(len(p.values or ()) for p in parameters if not p.is_range)
    points *= sampling.points if sampling is not None else 1
    if points > MAX_POINTS:
        raise ExperimentError(
            source,
            "parameters",
            f"a design of {points:,} points",
            f"at most {MAX_POINTS:,} design points (value lists multiplied, times the sampled points)",
        )


def _design(
    parameters: tuple[Parameter, ...], sampling: Sampling | None, seed: int
) -> list[dict[str, Number]]:
    grid = [p for p in parameters if not p.is_range]
    ranges = [p for p in parameters if p.is_range]
    combos = list(itertools.product(*(p.values or () for p in grid)))
    samples = sample_ranges(ranges, sampling, seed) if ranges and sampling is not None else [()]
    points = []
    for combo in combos:
        for sample in samples:
            values = dict(zip([p.path for p in grid], combo, strict=True))
            values |= dict(zip([p.path for p in ranges], sample, strict=True))
            points.append({p.path: values[p.path] for p in parameters})
    return points


def sample_ranges(ranges: list[Parameter], sampling: Sampling, seed: int) -> list[tuple[Number, ...]]:
    """Sample points in the box of the ranges with scipy.stats.qmc, seeded from the master seed.

    Args:
        ranges: Parameters with low/high.
        sampling: Method and number of points.
        seed: The experiment's master seed.

    Returns:
        One tuple of values (in the order of ``ranges``) per point; integer parameters rounded.
    """
    from scipy.stats import qmc

    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=DESIGN_STREAM))
    d = len(ranges)
    if sampling.method == "lhs":
        unit = qmc.LatinHypercube(d=d, rng=rng).random(sampling.points)
    elif sampling.method == "sobol":
        unit = qmc.Sobol(d=d, scramble=True, rng=rng).random_base2(int(math.log2(sampling.points)))
    else:
        unit = rng.random((sampling.points, d))
    lows = np.array([p.low for p in ranges], dtype=float)
    highs = np.array([p.high for p in ranges], dtype=float)
    scaled = qmc.scale(unit, lows, highs)
    return [
        tuple(round(float(v)) if p.is_integer else float(v) for p, v in zip(ranges, row, strict=True))
        for row in scaled
    ]


def _fmt(value: float) -> str:
    return "inf" if math.isinf(value) else f"{value:g}"


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")
