"""Read a batch output folder back: its results, metadata and scenario, with one-line errors.

The folder layout is the batch runner's contract (see docs/charts-and-reports.md)::

    OUTDIR/metadata.json   experiment name, seed, varied parameters, design points, run counts and
                           the record (rows, SHA-256) of every chunk file
    OUTDIR/scenario.json   the resolved base scenario (``Scenario.model_dump_json()``)
    OUTDIR/results/*.parquet   one row per run and table (schema in ``negotiation.batch.rows``)

Everything here only reads; statistics, charts and the report build on these functions. The
results are only used once the folder checks out against its record (:func:`result_files`): the
batch finished, every chunk recorded is there with the bytes it was written with, no file is
there that the batch did not write, and each design point's chunks cover its replications once.
A damaged or missing chunk is one line naming it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import ValidationError

from negotiation.batch.chunks import check_chunk, coverage_gap, valid_record
from negotiation.documents import parse_json, read_json, read_text
from negotiation.errors import MISSING, ExperimentError, reason
from negotiation.scenario.schema import Scenario
from negotiation.scenario.validation import validation_error

METADATA_FILE = "metadata.json"
SCENARIO_FILE = "scenario.json"
RESULTS_DIR = "results"

RESULT_COLUMNS = (
    "point",
    "replication",
    "table",
    "party_0",
    "party_1",
    "status",
    "deal",
    "round",
    "utility_0",
    "utility_1",
    "reservation_0",
    "reservation_1",
    "pareto_distance",
    "nash_distance",
)
"""Columns every results folder must have (issue columns depend on the scenario)."""


def output_folder(outdir: str | Path) -> Path:
    """Check that ``outdir`` is an existing folder and return it as a Path.

    Raises:
        ExperimentError: It does not exist or is not a folder.
    """
    path = Path(outdir)
    if not path.is_dir():
        raise ExperimentError(str(path), "", MISSING, "a batch output folder (made by `negotiation batch`)")
    return path


def load_metadata(outdir: str | Path) -> dict[str, Any]:
    """Read ``OUTDIR/metadata.json``.

    Args:
        outdir: The batch output folder.

    Returns:
        The metadata, with ``parameters`` (list of varied parameter paths) and ``points`` (list of
        design points) always present.

    Raises:
        ExperimentError: The folder or file is missing, is not JSON, or its fields have the wrong type.
    """
    path = output_folder(outdir) / METADATA_FILE
    source = str(path)
    if not path.is_file():
        raise ExperimentError(source, "", MISSING, "the batch metadata file")
    metadata = read_json(path, ExperimentError)
    if not isinstance(metadata, dict):
        raise ExperimentError(source, "", type(metadata).__name__, "a JSON object")
    parameters = metadata.setdefault("parameters", [])
    if not isinstance(parameters, list) or not all(isinstance(p, str) for p in parameters):
        raise ExperimentError(source, "parameters", parameters, "a list of parameter paths")
    points = metadata.setdefault("points", [])
    if not isinstance(points, list) or not all(isinstance(p, dict) for p in points):
        raise ExperimentError(source, "points", points, "a list of design points (objects)")
    return metadata


def load_scenario_json(outdir: str | Path) -> Scenario:
    """Read and validate ``OUTDIR/scenario.json``.

    Raises:
        ExperimentError: The file is missing, unreadable, or not a valid scenario.
    """
    path = output_folder(outdir) / SCENARIO_FILE
    source = str(path)
    if not path.is_file():
        raise ExperimentError(source, "", MISSING, "the resolved scenario of the batch")
    data = parse_json(read_text(path, ExperimentError, "JSON"), source, ExperimentError)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, data, source, ExperimentError) from None


def result_files(outdir: str | Path) -> list[Path]:
    """The chunk files of a finished batch, sorted by name, once the folder checks out.

    Checked against metadata.json: the batch finished; the chunk records cover each design point's
    replications exactly once; every recorded chunk is in ``OUTDIR/results`` with the bytes it was
    written with (SHA-256); no other Parquet file is there.

    Raises:
        ExperimentError: One line naming the first problem (the chunk, or the metadata) and that
            ``negotiation batch OUTDIR --resume`` mends a damaged or missing chunk.
    """
    folder = output_folder(outdir)
    metadata = load_metadata(folder)
    source = str(folder / METADATA_FILE)
    repair = f"run `negotiation batch {folder} --resume` to re-run it"
    if not metadata.get("finished"):
        raise ExperimentError(
            str(folder), "", "an unfinished batch", f"a finished batch: `negotiation batch {folder} --resume`"
        )
    records = metadata.get("chunks")
    if not isinstance(records, dict) or not all(valid_record(r) for r in records.values()):
        raise ExperimentError(
            source,
            "chunks",
            MISSING if records is None else records,
            "the record of every chunk file (rows and sha256), as negotiation batch writes it",
        )
    tables = metadata.get("tables")
    gap = coverage_gap(records, metadata["points"], len(tables) if isinstance(tables, list) else 0)
    if gap is not None:
        raise ExperimentError(source, "chunks", gap, "chunks covering every design point's replications once")
    results = folder / RESULTS_DIR
    if not results.is_dir():
        raise ExperimentError(str(results), "", MISSING, f"the batch's results folder: {repair}")
    for path in sorted(results.glob("*.parquet")):
        if path.name not in records and not path.name.startswith((".", "_")):
            raise ExperimentError(
                str(path),
                "",
                "a file that metadata.json does not record",
                "only the chunk files of the batch in results/ (move this one elsewhere)",
            )
    for name in sorted(records):
        problem = check_chunk(results, name, records[name])
        if problem is not None:
            raise ExperimentError(
                str(problem.path), "", problem.value, f"the chunk as the batch wrote it: {repair}"
            )
    return [results / name for name in sorted(records)]


def load_results(outdir: str | Path, columns: Iterable[str] = RESULT_COLUMNS) -> pd.DataFrame:
    """Read every results part file of a batch into one DataFrame.

    Rows are ordered by design point and replication, keeping the scenario's table order within a run,
    so that the result does not depend on how the batch was chunked. String columns become
    categoricals and booleans pandas' nullable booleans: about 200 bytes per row (run and table).

    Args:
        outdir: The batch output folder.
        columns: Columns that must be present.

    Returns:
        One row per run and table.

    Raises:
        ExperimentError: The folder, the results or a required column is missing, or a file is not
            readable Parquet.
    """
    parts = []
    for path in result_files(outdir):
        try:
            parts.append(pq.read_table(path))
        except (OSError, pa.ArrowException) as exc:
            raise ExperimentError(str(path), "", reason(exc), "a readable Parquet file") from None
    try:
        table = pa.concat_tables(parts, promote_options="default")
    except pa.ArrowException as exc:
        source = str(Path(outdir) / RESULTS_DIR)
        raise ExperimentError(source, "", reason(exc), "part files with one schema") from None
    frame = table.to_pandas(strings_to_categorical=True, types_mapper=_NULLABLE_BOOL.get)
    require_columns(frame, columns, str(Path(outdir) / RESULTS_DIR))
    keys = [name for name in ("point", "replication") if name in frame.columns]
    return frame.sort_values(keys, kind="stable", ignore_index=True) if keys else frame


def check_against_scenario(frame: pd.DataFrame, scenario: Scenario, source: str) -> None:
    """Check that every table and issue in the results is one of the scenario's.

    Args:
        frame: The results table.
        scenario: The batch's scenario (from ``scenario.json``).
        source: The results folder, for the message.

    Raises:
        ExperimentError: A table id or an issue column that the scenario does not have.
    """
    for table in pd.unique(frame["table"]):
        if table not in scenario.tables:
            raise ExperimentError(source, "table", table, f"a table of the scenario in {SCENARIO_FILE}")
    for column in frame.columns:
        if column.startswith("moved_") and column.removeprefix("moved_") not in scenario.issues:
            raise ExperimentError(
                source, f"column {column}", MISSING, f"an issue of the scenario in {SCENARIO_FILE}"
            )


_NULLABLE_BOOL = {pa.bool_(): pd.BooleanDtype()}
"""Arrow booleans (``deal``, ``moved_*`` with nulls off the table) as pandas' 2-byte nullable booleans."""


def require_columns(frame: pd.DataFrame, columns: Iterable[str], source: str) -> None:
    """Raise a one-line error naming the first column of ``columns`` missing from ``frame``.

    Args:
        frame: The table to check.
        columns: Column names it must have.
        source: The file or folder it came from, for the message.

    Raises:
        ExperimentError: A column is missing.
    """
    missing = [name for name in columns if name not in frame.columns]
    if missing:
        also = f"; also missing: {', '.join(missing[1:])}" if len(missing) > 1 else ""
        expected = f"a results column (see negotiation.batch.rows){also}"
        raise ExperimentError(source, f"column {missing[0]}", MISSING, expected)
