"""Build small batch output folders (the batch runner's contract) for the stats/plots/report tests."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from negotiation.batch.chunks import chunk_key, chunk_name, record_of
from negotiation.batch.rows import simulate
from negotiation.model import prepare
from negotiation.scenario.loading import load_scenario
from negotiation.scenario.schema import Scenario

MASTER_SEED = 20251030


def make_outdir(
    folder: Path,
    points: Sequence[dict[str, float]] = ({},),
    replications: int = 20,
    tables: Sequence[str] | None = None,
    experiment: str = "test-batch",
) -> Path:
    """Run every design point in-process and write results/, metadata.json and scenario.json.

    Args:
        folder: The output folder to create.
        points: The varied parameter values of each design point (all with the same paths).
        replications: Runs per point.
        tables: Keep only these tables' rows (fewer charts, faster tests); default all.
        experiment: Experiment name in the metadata.

    Returns:
        The folder.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results").mkdir(exist_ok=True)
    scenario = load_scenario(None)
    scenario_text = scenario.model_dump_json()
    (folder / "scenario.json").write_text(scenario_text, encoding="utf-8")
    parameters = list(points[0])
    kept = list(tables) if tables is not None else list(scenario.tables)
    for i, values in enumerate(points):
        compiled = prepare(scenario, dict(values))
        rows = simulate(compiled, replications, MASTER_SEED, point=i, parameters=dict(values))
        rows = rows.filter(pc.is_in(rows.column("table"), value_set=pa.array(kept)))
        pq.write_table(rows, folder / "results" / chunk_name(i, 0, replications))
    metadata = {
        "experiment": experiment,
        "description": "A small batch made by the tests.",
        "scenario_hash": hashlib.sha256(scenario_text.encode()).hexdigest(),
        "package_version": "0.1.0",
        "master_seed": MASTER_SEED,
        "parameters": parameters,
        "points": [
            {"point": i, "parameters": dict(values), "replications": replications}
            for i, values in enumerate(points)
        ],
        "runs": replications * len(points),
        "tables": kept,
        "started": "2026-11-28T17:00:00+00:00",
        "finished": "2026-11-28T17:00:05+00:00",
        "backend": "local",
        "workers": 1,
    }
    (folder / "metadata.json").write_text(json.dumps(metadata, indent=2), encoding="utf-8")
    return seal(folder)


def seal(folder: Path) -> Path:
    """Record every chunk file in ``results/`` (rows and SHA-256) in metadata.json, as a batch does.

    Tests that build or edit a results folder by hand call this afterwards, so that the readers'
    check of the folder against its record passes. The run counts are set from the chunks.
    """
    path = folder / "metadata.json"
    metadata = json.loads(path.read_text(encoding="utf-8"))
    records, reps = {}, {}
    for chunk in sorted((folder / "results").glob("*.parquet")):
        key = chunk_key(chunk.name)
        assert key is not None, f"{chunk.name} is not a chunk file name"
        records[chunk.name] = record_of(chunk.read_bytes(), pq.read_metadata(chunk).num_rows)
        reps[key[0]] = max(reps.get(key[0], 0), key[2])
    metadata["chunks"] = records
    for entry in metadata["points"]:
        entry["replications"] = reps.get(entry["point"], 0)
    metadata["runs"] = sum(reps.values())
    metadata.setdefault("finished", "2026-11-28T17:00:05+00:00")
    path.write_text(json.dumps(metadata, indent=2), encoding="utf-8")
    return folder


def make_repeated_outdir(folder: Path, runs: int, block: int, tables: Sequence[str] | None = None) -> Path:
    """A baseline folder of ``runs`` runs written as ``runs / block`` part files, quickly.

    One block of ``block`` runs is simulated and written again for every part, with the replication
    indices shifted, so that a large folder costs one block's simulation (the statistics do not
    mind that the parts repeat each other).

    Args:
        folder: The output folder to create.
        runs: Total runs (a multiple of ``block``).
        block: Runs per part file.
        tables: Keep only these tables' rows; default all.

    Returns:
        The folder.
    """
    make_outdir(folder, replications=block, tables=tables, experiment="repeated")
    first = folder / "results" / chunk_name(0, 0, block)
    rows = pq.read_table(first)
    replication = rows.column("replication")
    for part in range(1, runs // block):
        shifted = pc.add(replication, pa.scalar(part * block, replication.type))
        index = rows.schema.get_field_index("replication")
        pq.write_table(
            rows.set_column(index, "replication", shifted),
            first.with_name(chunk_name(0, part * block, (part + 1) * block)),
        )
    return seal(folder)


def hand_made_outdir(folder: Path, parts: Sequence[pa.Table], like: Path) -> Path:
    """A folder holding ``parts`` as the chunk files of one design point, recorded as a batch would.

    The scenario and metadata come from the batch folder ``like``; each row counts as one run (the
    metadata lists one table), so that parts of any content and length check out, and the readers'
    content checks (columns, tables, schemas) are what the tests meet.
    """
    (folder / "results").mkdir(parents=True)
    (folder / "scenario.json").write_bytes((like / "scenario.json").read_bytes())
    metadata = json.loads((like / "metadata.json").read_text(encoding="utf-8"))
    metadata |= {"tables": ["(hand-made)"], "points": [{"point": 0, "parameters": {}, "replications": 0}]}
    (folder / "metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
    start = 0
    for part in parts:
        pq.write_table(part, folder / "results" / chunk_name(0, start, start + part.num_rows))
        start += part.num_rows
    return seal(folder)


def frame_outdir(
    folder: Path, frame: pd.DataFrame, scenario: Scenario | None = None, parameters: Sequence[str] = ()
) -> Path:
    """A batch folder of the rows of ``frame``: one chunk file per design point, recorded.

    Args:
        folder: The folder to create.
        frame: Result rows with at least ``point``, ``replication`` and ``table``; every point has a
            row for every table in each of its replications ``0 .. n-1``.
        scenario: Written as scenario.json when given.
        parameters: The varied parameter columns (listed in the metadata).
    """
    (folder / "results").mkdir(parents=True)
    points = []
    for point, rows in frame.groupby("point", sort=True):
        reps = int(rows["replication"].max()) + 1
        table = pa.Table.from_pandas(rows.reset_index(drop=True), preserve_index=False)
        pq.write_table(table, folder / "results" / chunk_name(int(point), 0, reps))
        values = {p: float(rows[p].iloc[0]) for p in parameters if p in rows}
        points.append({"point": int(point), "parameters": values, "replications": reps})
    if scenario is not None:
        (folder / "scenario.json").write_text(scenario.model_dump_json(), encoding="utf-8")
    metadata = {
        "experiment": "hand-made",
        "parameters": list(parameters),
        "master_seed": 1,
        "points": points,
        "tables": list(dict.fromkeys(frame["table"])),
        "finished": "2026-11-28T17:00:05+00:00",
    }
    (folder / "metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
    return seal(folder)
