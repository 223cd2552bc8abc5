"""Build small batch output folders (the batch runner's contract) for the stats/plots/report tests."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from negotiation.batch.rows import simulate
from negotiation.model import prepare
from negotiation.scenario.loading import load_scenario

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
        pq.write_table(rows, folder / "results" / f"part-{i:05d}.parquet")
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
    first = folder / "results" / "part-00000.parquet"
    rows = pq.read_table(first)
    replication = rows.column("replication")
    for part in range(1, runs // block):
        shifted = pc.add(replication, pa.scalar(part * block, replication.type))
        index = rows.schema.get_field_index("replication")
        pq.write_table(
            rows.set_column(index, "replication", shifted), first.with_name(f"part-{part:05d}.parquet")
        )
    path = folder / "metadata.json"
    metadata = json.loads(path.read_text(encoding="utf-8"))
    metadata["runs"] = runs
    metadata["points"][0]["replications"] = runs
    path.write_text(json.dumps(metadata, indent=2), encoding="utf-8")
    return folder
