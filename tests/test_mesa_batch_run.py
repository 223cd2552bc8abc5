"""Mesa interop: mesa.batch_run drives NegotiationModel through its flat keyword parameters.

Mesa 3.3 (Python 3.11) and Mesa 3.4+ (Python 3.12+) take seeds differently; batch_run_kwargs
builds the call for the installed one, and these tests run on whichever is installed (make test
runs both).
"""

from __future__ import annotations

from typing import Any

import mesa
import pytest

from negotiation.model import NegotiationModel, batch_run_kwargs

SEEDS = (0, 2, 6)  # seeds whose runs of the default scenario end in different numbers of deals
PARAMETERS = {"actors.china.resolve": [0.5, 0.9], "trace": True}


def run_batch() -> list[dict[str, Any]]:
    return mesa.batch_run(
        NegotiationModel,
        **batch_run_kwargs(PARAMETERS, seeds=SEEDS),
        max_steps=100,
        number_processes=1,
        data_collection_period=-1,
        display_progress=False,
    )


def test_mesa_batch_run_sweeps_a_parameter_path_with_reproducible_seeds() -> None:
    rows = run_batch()
    assert len(rows) == 6
    assert all(row["seed"] is not None for row in rows)
    assert {(row["actors.china.resolve"], row["seed"]) for row in rows} == {
        (value, seed) for value in (0.5, 0.9) for seed in SEEDS
    }
    for row in rows:
        model = NegotiationModel(seed=row["seed"], **{"actors.china.resolve": row["actors.china.resolve"]})
        outcomes = model.run()
        assert row["deals"] == sum(o.deal for o in outcomes)
        assert row["open_tables"] == 0
    # each row ran with its own seed: these three seeds end in three different numbers of deals
    assert len({row["deals"] for row in rows if row["actors.china.resolve"] == 0.5}) == len(SEEDS)


def test_mesa_batch_run_gives_the_same_rows_twice_in_a_row() -> None:
    first, second = run_batch(), run_batch()
    key = lambda row: (row["seed"], row["actors.china.resolve"])  # noqa: E731
    assert sorted(first, key=key) == sorted(second, key=key)


def test_batch_run_kwargs_uses_what_the_installed_mesa_takes() -> None:
    kwargs = batch_run_kwargs({"actors.china.resolve": [0.5, 0.9]}, seeds=range(2))
    if tuple(int(part) for part in mesa.__version__.split(".")[:2]) >= (3, 4):  # rng came in Mesa 3.4
        assert kwargs == {"parameters": {"actors.china.resolve": [0.5, 0.9]}, "rng": [0, 1]}
    else:  # Mesa 3.3
        assert kwargs == {"parameters": {"actors.china.resolve": [0.5, 0.9], "seed": [0, 1]}, "iterations": 1}


def old_batch_run(
    model_cls,
    parameters,
    number_processes=1,
    iterations=1,
    data_collection_period=-1,
    max_steps=1000,
    display_progress=True,
):  # Mesa 3.3's signature
    raise AssertionError("not called")


def new_batch_run(
    model_cls,
    parameters,
    number_processes=1,
    iterations=None,
    data_collection_period=-1,
    max_steps=1000,
    display_progress=True,
    rng=None,
):  # Mesa 3.4+'s signature
    raise AssertionError("not called")


@pytest.mark.parametrize(
    ("batch_run", "expected"),
    [
        (old_batch_run, {"parameters": {"trace": True, "seed": [7, 8]}, "iterations": 1}),
        (new_batch_run, {"parameters": {"trace": True}, "rng": [7, 8]}),
    ],
)
def test_batch_run_kwargs_follows_the_signature_of_either_mesa(
    monkeypatch: pytest.MonkeyPatch, batch_run: Any, expected: dict[str, Any]
) -> None:
    monkeypatch.setattr(mesa, "batch_run", batch_run)
    parameters = {"trace": True}
    assert batch_run_kwargs(parameters, seeds=iter([7, 8])) == expected
    assert parameters == {"trace": True}, "the caller's dict is not changed"


@pytest.mark.parametrize("name", ["seed", "rng"])
def test_batch_run_kwargs_refuses_seeds_among_the_parameters(name: str) -> None:
    with pytest.raises(ValueError, match=f"not as parameter '{name}'"):
        batch_run_kwargs({name: [1, 2]}, seeds=[1])


def test_batch_run_kwargs_needs_integer_seeds() -> None:
    with pytest.raises(ValueError, match="seeds is empty"):
        batch_run_kwargs({}, seeds=[])
    with pytest.raises(TypeError):
        batch_run_kwargs({}, seeds=[1.5])
