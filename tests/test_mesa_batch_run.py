"""Mesa interop: mesa.batch_run drives NegotiationModel through its flat keyword parameters."""

from __future__ import annotations

import mesa

from negotiation.model import NegotiationModel


def test_mesa_batch_run_sweeps_a_parameter_path() -> None:
    rows = mesa.batch_run(
        NegotiationModel,
        parameters={"actors.china.resolve": [0.5, 0.9], "seed": range(3), "trace": True},
        iterations=1,
        max_steps=100,
        number_processes=1,
        data_collection_period=-1,
        display_progress=False,
    )
    assert len(rows) == 6
    assert {(row["actors.china.resolve"], row["seed"]) for row in rows} == {
        (value, seed) for value in (0.5, 0.9) for seed in range(3)
    }
    for row in rows:
        model = NegotiationModel(seed=row["seed"], **{"actors.china.resolve": row["actors.china.resolve"]})
        outcomes = model.run()
        assert row["deals"] == sum(o.deal for o in outcomes)
        assert row["open_tables"] == 0
