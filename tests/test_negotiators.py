"""User negotiators: the interface, the state view, kinds from entry points, batches on the per-run path."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from negotiation.bargaining.engine import run_many
from negotiation.bargaining.protocol import DEAL, WALKOUT
from negotiation.batch.rows import simulate
from negotiation.commands.main import main
from negotiation.errors import InputError, ScenarioError
from negotiation.model import NegotiationModel, prepare, run_once
from negotiation.negotiators.interface import Negotiator, PrivateInformation, Response
from negotiation.negotiators.mechanism import NegotiatorError
from negotiation.scenario.kinds import registered_kinds
from negotiation.scenario.loading import load_scenario

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "negotiator-example"
NEGOTIATION = [sys.executable, "-m", "negotiation"]


class Acceptor(Negotiator):
    """Accepts every offer; proposes its own ideal."""

    def propose(self, state):
        return state.outcome_space.normalised(np.round(state.ufun.ideal))

    def respond(self, state, offer):
        return Response.ACCEPT


class Leaver(Acceptor):
    """Walks out of every offer."""

    def respond(self, state, offer):
        return Response.WALK_OUT


def _install_example(site: Path) -> None:
    """Put the example package on a path as an installed distribution (what ``pip install`` writes)."""
    spec = importlib.util.spec_from_file_location("example_on_path", EXAMPLE / "on_path.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.put_on_path(site)


@pytest.fixture
def example_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    _install_example(site)
    monkeypatch.syspath_prepend(str(site))
    return site


# -- the protocol with user negotiators ---------------------------------------------------------


def test_an_acceptor_takes_the_openers_first_offer_at_every_table() -> None:
    """Against a responder that accepts everything, each table ends in its opening round with the
    opener's first offer: a time-dependent or tit-for-tat opener asks for (nearly) everything."""
    compiled = prepare(None, {})
    scenario = compiled.scenario
    responders = {(table.parties[1], t): Acceptor for t, table in scenario.tables.items()}
    arrays = run_once(compiled, 7, negotiators=responders)
    two = ~compiled.stacked  # a table of more than two plays the built-in strategies (no seats)
    assert (arrays.status[two] == DEAL).all()
    np.testing.assert_array_equal(arrays.end_round[two], compiled.opens[two])
    for t, actor_id in enumerate(compiled.actor_ids[a] for a in compiled.parties[:, 0]):
        if compiled.stacked[t]:
            continue
        kind = scenario.actors[actor_id].strategy.kind
        expected = (
            1.0 - scenario.actors[actor_id].strategy.initial_concession if kind == "tit_for_tat" else 1.0
        )
        assert arrays.utilities[t, 0] == pytest.approx(expected, abs=1e-9)


def test_a_walk_out_ends_the_table_at_its_disagreement_point() -> None:
    compiled = prepare(None, {})
    arrays = run_once(compiled, 7, negotiators={"china": Leaver})
    china = compiled.actor_ids.index("china")
    at_china = (compiled.parties == china).any(axis=1)
    responds_first = compiled.parties[:, 1] == china
    assert (arrays.status[responds_first] == WALKOUT).all()
    np.testing.assert_array_equal(arrays.end_round[responds_first], compiled.opens[responds_first])
    np.testing.assert_array_equal(arrays.utilities[at_china], arrays.reservation[at_china])


def test_api_table_seat_wins_over_actor_and_other_seats_keep_their_strategy() -> None:
    model = NegotiationModel(None, seed=2, negotiators={"us": Acceptor, ("us", "us-china"): Leaver})
    seats = model.agent("us").negotiators
    assert isinstance(seats["us-china"], Leaver)
    assert all(isinstance(n, Acceptor) for t, n in seats.items() if t != "us-china")
    assert type(model.agent("china").negotiators["us-china"]).__name__ == "BuiltinStrategy"


def test_state_hides_the_opponents_private_preferences() -> None:
    seen = {}

    class Spy(Acceptor):
        def respond(self, state, offer):
            opponent = state.opponent
            seen["public"] = (opponent.ideal.copy(), opponent.curvature, opponent.reserved_value)
            for name in ("weights", "discount", "delay_cost"):
                with pytest.raises(PrivateInformation):
                    getattr(opponent, name)
            with pytest.raises(ValueError, match="read-only"):
                state.ufun.weights[0] = 1.0
            seen["own"] = state.ufun(offer)
            return Response.ACCEPT

    run_once(prepare(None, {}), 1, negotiators={("china", "us-china"): Spy})
    assert "own" in seen and 0.0 <= seen["own"] <= 1.0


def test_complete_information_is_the_equilibrium_strategys_only() -> None:
    seen = {}

    class Informed(Acceptor):
        def respond(self, state, offer):
            seen["weights"] = state.opponent.weights.copy()
            return Response.ACCEPT

    compiled = prepare(None, {"actors.china.strategy.kind": "equilibrium"})
    run_once(compiled, 1, negotiators={("china", "us-china"): Informed})
    model = NegotiationModel(compiled, seed=1)
    us_china = compiled.table_ids.index("us-china")
    np.testing.assert_array_equal(seen["weights"], model.negotiation.derived.weights[us_china, 0])


def test_a_negotiator_that_breaks_the_protocol_is_named_in_one_line() -> None:
    class Muddled(Acceptor):
        def respond(self, state, offer):
            return "yes"

    class Crashing(Acceptor):
        def propose(self, state):
            raise KeyError("oops")

    class OutOfRange(Acceptor):
        def propose(self, state):
            return {issue: 1e9 for issue in state.outcome_space.issues}

    compiled = prepare(None, {})
    with pytest.raises(NegotiatorError, match=r"Muddled.respond returned 'yes'; expected a Response"):
        run_once(compiled, 1, negotiators={("china", "us-china"): Muddled})
    with pytest.raises(NegotiatorError, match=r"Crashing.propose at us-china, round 0 raised KeyError"):
        run_once(compiled, 1, negotiators={("us", "us-china"): Crashing})
    with pytest.raises(NegotiatorError, match=r"OutOfRange.propose returned .* outside its range"):
        run_once(compiled, 1, negotiators={("us", "us-china"): OutOfRange})


def test_offers_in_real_units_round_trip() -> None:
    model = NegotiationModel(None, seed=1, negotiators="reference")
    state = model.seats.state(0, 0, 0, 0.5)
    space = state.outcome_space
    values = {issue: (space.low[k] + space.high[k]) / 2 for k, issue in enumerate(space.issues)}
    offer = space.offer(values)
    assert offer.values == pytest.approx(values)
    assert offer.outcome == pytest.approx(tuple(values.values()))
    with pytest.raises(ValueError, match="not on this table"):
        space.offer({**values, "no_such_issue": 1.0})


# -- kinds from entry points ---------------------------------------------------------------------


def test_the_built_in_kinds_are_registered() -> None:
    assert {"builtin", "time_dependent", "tit_for_tat", "hardliner", "equilibrium"} <= set(registered_kinds())


def test_an_unknown_kind_is_one_line_naming_file_field_value_and_the_kinds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (Path(__file__).resolve().parents[1] / "negotiation/scenario/data/asia_tour_2025.toml").read_text()
    scenario = tmp_path / "bad.toml"
    scenario.write_text(text + '\n[actors.china.negotiator]\nkind = "no-such-kind"\n')
    assert main(["validate", str(scenario)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert str(scenario) in err and "actors.china.negotiator.kind" in err and "'no-such-kind'" in err
    assert "builtin" in err and "negotiation.negotiators" in err


def test_a_table_names_negotiators_only_for_its_parties() -> None:
    with pytest.raises(InputError, match=r"tables.us-china.negotiators: got 'japan'; expected a party"):
        load_scenario(None, {"tables.us-china.negotiators": {"japan": {"kind": "builtin"}}})


def test_bad_parameters_are_one_line(example_site: Path) -> None:
    compiled = prepare(
        None, {"actors.china.negotiator": {"kind": "firmness-learner", "params": {"speed": 2}}}
    )
    with pytest.raises(
        ScenarioError, match=r"field actors.china.negotiator: .*expected parameters \(e: float"
    ):
        run_once(compiled, 1)


def test_the_example_package_registers_a_learning_negotiator(example_site: Path) -> None:
    assert "firmness-learner" in registered_kinds()
    spec = {"kind": "firmness-learner", "params": {"e": 0.3}}
    compiled = prepare(None, {"actors.china.negotiator": spec})
    model = NegotiationModel(compiled, seed=5)
    learners = model.agent("china").negotiators
    assert learners and all(type(n).__name__ == "FirmnessLearner" for n in learners.values())
    assert type(model.agent("us").negotiators["us-china"]).__name__ == "BuiltinStrategy"
    model.run()
    learner = learners["us-china"]
    assert learner.firmness.min() < 1.0  # it learned: the US moved some issue
    # the learner decides: its tables come out otherwise than with China's own strategy
    fast = run_many(prepare(None, {}), [5])
    china = compiled.actor_ids.index("china")
    at_china = (compiled.parties == china).any(axis=1)
    assert not np.array_equal(model.arrays().utilities[at_china], fast.utilities[0][at_china])


def test_a_table_seat_overrides_the_actors_kind(example_site: Path) -> None:
    overrides = {
        "actors.china.negotiator": {"kind": "firmness-learner"},
        "tables.us-china.negotiators": {"china": {"kind": "hardliner"}},
    }
    model = NegotiationModel(prepare(None, overrides), seed=5)
    seats = model.agent("china").negotiators
    assert type(seats["us-china"]).__name__ == "Hardliner"
    assert all(type(n).__name__ == "FirmnessLearner" for t, n in seats.items() if t != "us-china")


def test_simulate_takes_the_per_run_path_with_the_same_rows(example_site: Path) -> None:
    compiled = prepare(None, {"actors.china.negotiator": {"kind": "firmness-learner"}})
    rows = simulate(compiled, 6, master_seed=11).to_pandas()
    again = simulate(compiled, range(3, 6), master_seed=11).to_pandas()
    pd.testing.assert_frame_equal(rows.iloc[3 * compiled.n_tables :].reset_index(drop=True), again)
    seed = int(rows["seed"].iloc[0])
    first = run_once(compiled, seed)
    np.testing.assert_array_equal(rows["utility_0"].to_numpy()[: compiled.n_tables], first.utilities[:, 0])


@pytest.mark.slow
def test_batch_with_the_example_negotiator_is_worker_count_independent(
    example_site: Path, tmp_path: Path
) -> None:
    """``negotiation batch`` with a registered user negotiator: runs on the per-run path in worker
    processes (which find the package on their path), same rows on 1 and 2 workers."""
    env = {**os.environ, "PYTHONPATH": str(example_site)}
    spec = tmp_path / "learner.toml"
    spec.write_text(
        '[experiment]\nname = "learner"\nscenario = "default"\nseed = 5\nreplications = 12\n'
        'block = 3\noutputs = ["summary", "report"]\n'
    )  # four chunks: the two workers share them
    setting = 'actors.china.negotiator={kind = "firmness-learner", params = {e = 0.3}}'
    frames = []
    for workers in (1, 2):
        out = tmp_path / f"out{workers}"
        done = subprocess.run(
            [*NEGOTIATION, "batch", str(spec), "--workers", str(workers), "--out", str(out),
             "--no-progress", "--set", setting],
            env=env, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        frames.append(pd.read_parquet(out / "results").sort_values(["seed", "table"]).reset_index(drop=True))
    pd.testing.assert_frame_equal(frames[0], frames[1])
    assert len(frames[0]) == 12 * len(load_scenario().tables)
    chunks = sorted((out / "results").glob("*.parquet"))
    assert len(chunks) == 4
    assert (out / "report.html").exists()
    # resume re-runs a lost chunk on the per-run path, to the same rows
    chunks[1].unlink()
    done = subprocess.run(
        [*NEGOTIATION, "batch", str(out), "--resume", "--workers", "2", "--no-progress"],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    resumed = pd.read_parquet(out / "results").sort_values(["seed", "table"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(resumed, frames[0])
