"""Keyed random streams and structural reach: a change leaves the tables it cannot reach untouched.

Issue "charts and comparisons that never mislead", item 1: before keyed streams, all uncertain
parameters came from one ``rng.random(U)`` call in order, so fixing China's US-China reservation
shifted every other draw and `compare` reported hundreds of changed runs at us-korea.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from negotiation.bargaining import streams
from negotiation.bargaining.compiled import compile_scenario
from negotiation.bargaining.reach import changed_paths, tables_reached, unreachable_tables
from negotiation.batch.rows import simulate
from negotiation.batch.seeding import run_seed, run_seeds
from negotiation.scenario.bounds import numeric_bounds
from negotiation.scenario.loading import load_scenario
from negotiation.tuning.compare import compare_scenarios

DEFAULT = load_scenario(None)
UNCERTAIN = list(DEFAULT.uncertainty)
OUTCOME_COLUMNS = ["status", "round", "utility_0", "utility_1", "reservation_0", "reservation_1"]


@settings(max_examples=25, deadline=None)
@given(
    seeds=st.lists(st.integers(0, 2**63 - 1), min_size=1, max_size=4),
    names=st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=3, unique=True),
    count=st.integers(1, 11),
)
def test_streams_are_numpys_philox_keyed_by_run_and_name(seeds, names, count):
    keys = streams.run_keys(seeds)
    ids = streams.stream_ids(tuple(names))
    got = streams.uniforms(keys, ids, count)
    for i, key in enumerate(keys):
        for j, stream in enumerate(ids):
            counter = np.zeros(4, np.uint64)
            counter[2:] = stream
            expected = np.random.Generator(np.random.Philox(key=key, counter=counter)).random(count)
            np.testing.assert_array_equal(got[i, j], expected)


@settings(max_examples=25, deadline=None)
@given(
    seeds=st.lists(st.integers(0, 2**63 - 1), min_size=1, max_size=4),
    names=st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=3, unique=True),
    block=st.integers(0, 12),
    data=st.data(),
)
def test_a_block_of_numbers_for_chosen_pairs_is_numpys_philox(seeds, names, block, data):
    """``block_uniforms`` (the walk-out numbers of the tables still open) gives numpy's numbers."""
    keys, ids = streams.run_keys(seeds), streams.stream_ids(tuple(names))
    pairs = data.draw(st.lists(st.tuples(st.integers(0, len(keys) - 1), st.integers(0, len(ids) - 1))))
    runs = np.array([run for run, _ in pairs], np.intp)
    named = np.array([name for _, name in pairs], np.intp)
    got = streams.block_uniforms(keys[runs], ids[named], block)
    assert got.shape == (len(pairs), 4)
    for row, (run, name) in enumerate(pairs):
        counter = np.zeros(4, np.uint64)
        counter[2:] = ids[name]
        expected = np.random.Generator(np.random.Philox(key=keys[run], counter=counter)).random(4 * block + 4)
        np.testing.assert_array_equal(got[row], expected[4 * block :])


@settings(max_examples=25, deadline=None)
@given(
    seeds=st.lists(st.integers(0, 2**63 - 1), min_size=1, max_size=3),
    names=st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=3, unique=True),
    count=st.integers(1, 300),
)
def test_few_streams_from_numpys_generator_are_the_vectorised_numbers(seeds, names, count):
    keys, ids = streams.run_keys(seeds), streams.stream_ids(tuple(names))
    np.testing.assert_array_equal(
        streams._native_uniforms(keys, ids, count), streams._vectorised_uniforms(keys, ids, count)
    )


@settings(max_examples=50, deadline=None)
@given(
    seeds=st.lists(
        st.one_of(st.integers(0, 2**32), st.integers(0, 2**64 - 1), st.integers(0, 2**80)), max_size=12
    )
)
def test_run_keys_are_seed_sequences_state_computed_all_at_once(seeds):
    expected = [np.random.SeedSequence(seed).generate_state(2, np.uint64).tolist() for seed in seeds]
    assert streams.run_keys(seeds).tolist() == expected
    if all(seed < 2**63 for seed in seeds):  # as the batch passes them: an int64 array
        assert streams.run_keys(np.array(seeds, dtype=np.int64)).tolist() == expected


@settings(max_examples=50, deadline=None)
@given(
    master=st.one_of(st.integers(0, 2**32), st.integers(0, 2**130)),
    first=st.one_of(st.integers(0, 2000), st.integers(2**32 - 3, 2**32 + 3)),
    count=st.integers(0, 12),
)
def test_run_seeds_are_each_replications_seed_sequence_computed_all_at_once(master, first, count):
    replications = np.arange(first, first + count)
    expected = [run_seed(master, int(r)) for r in replications]
    assert run_seeds(master, replications).tolist() == expected
    assert run_seeds(master, range(first, first + count)).tolist() == expected


def test_a_block_of_seeds_is_computed_at_once_to_seed_sequences_words():
    seeds = [0, 1, 2**32 - 1, 2**32, 2**63 - 1, *range(100, 110)]
    expected = [np.random.SeedSequence(seed).generate_state(2, np.uint64).tolist() for seed in seeds]
    assert streams.run_keys(np.array(seeds, dtype=np.int64)).tolist() == expected
    for master in (0, 20251029, 2**100 + 3):
        assert run_seeds(master, range(2**32 - 10, 2**32)).tolist() == [
            run_seed(master, r) for r in range(2**32 - 10, 2**32)
        ]


def test_vectorised_streams_give_the_same_numbers_whatever_the_slice_of_runs(monkeypatch):
    keys, ids = streams.run_keys(range(7)), streams.stream_ids(("walkout:a", "walkout:b"))
    whole = streams._vectorised_uniforms(keys, ids, 9)
    monkeypatch.setattr(streams, "_SLICE_WORDS", 1)  # one run a slice
    np.testing.assert_array_equal(streams._vectorised_uniforms(keys, ids, 9), whole)
    np.testing.assert_array_equal(streams._native_uniforms(keys, ids, 9), whole)


def test_stream_ids_are_stable_across_processes():
    # the first 16 bytes of BLAKE2b("walkout:us-china"), little-endian: fixed forever
    assert streams.stream_id("walkout:us-china").tolist() == [
        int.from_bytes(
            __import__("hashlib").blake2b(b"walkout:us-china", digest_size=16).digest()[:8], "little"
        ),
        int.from_bytes(
            __import__("hashlib").blake2b(b"walkout:us-china", digest_size=16).digest()[8:], "little"
        ),
    ]


def _slot_values(compiled, keys):
    params = compiled.draw(keys)
    n = len(keys)
    return {s.path: params[s.array].reshape(n, -1)[:, s.index].copy() for s in compiled.slots}


@settings(max_examples=len(UNCERTAIN), deadline=None)
@given(path=st.sampled_from(UNCERTAIN), where=st.floats(0.0, 1.0))
def test_fixing_one_drawn_parameter_leaves_every_other_draw_bit_identical(path, where):
    low, high, _ = numeric_bounds(DEFAULT, path)
    dist = DEFAULT.uncertainty[path]
    low, high = (
        max(low, dist.low if dist.dist != "normal" else dist.mean - dist.sd),
        min(high, dist.high if dist.dist != "normal" else dist.mean + dist.sd),
    )
    keys = streams.run_keys(range(50))
    before = _slot_values(compile_scenario(DEFAULT), keys)
    after = _slot_values(compile_scenario(load_scenario(None, {path: low + where * (high - low)})), keys)
    assert path not in after
    assert set(before) - {path} == set(after)
    for other, values in after.items():
        np.testing.assert_array_equal(values, before[other], err_msg=other)


def test_adding_an_uncertain_parameter_leaves_the_others_bit_identical():
    keys = streams.run_keys(range(50))
    added = {"uncertainty.actors.japan.resolve": {"dist": "uniform", "low": 0.3, "high": 0.9}}
    before = _slot_values(compile_scenario(DEFAULT), keys)
    after = _slot_values(compile_scenario(load_scenario(None, added)), keys)
    assert set(after) == set(before) | {"actors.japan.resolve"}
    for path, values in before.items():
        np.testing.assert_array_equal(after[path], values, err_msg=path)


def _rows(scenario, runs=150, seed=3):
    frame = simulate(compile_scenario(scenario), runs, seed).to_pandas()
    return frame.sort_values(["replication", "table"]).reset_index(drop=True)


def _assert_untouched(base, variant, tables):
    for table in tables:
        a = base[base["table"] == table].reset_index(drop=True)
        b = variant[variant["table"] == table].reset_index(drop=True)
        issues = [c for c in a.columns if c.startswith("moved_") or c in DEFAULT.issues]
        for column in [*OUTCOME_COLUMNS, *issues, "pareto_distance", "nash_distance"]:
            assert a[column].equals(b[column]), f"{table}: {column} changed"


@settings(max_examples=12, deadline=None)
@given(path=st.sampled_from(UNCERTAIN), where=st.floats(0.0, 1.0))
def test_a_table_the_fixed_parameter_cannot_reach_plays_exactly_as_before(path, where):
    dist = DEFAULT.uncertainty[path]
    low, high, _ = numeric_bounds(DEFAULT, path)
    if dist.dist == "normal":
        low, high = max(low, dist.mean - 2 * dist.sd), min(high, dist.mean + 2 * dist.sd)
    else:
        low, high = dist.low, dist.high
    variant = load_scenario(None, {path: low + where * (high - low)})
    untouched = unreachable_tables(DEFAULT, changed_paths(DEFAULT, variant))
    _assert_untouched(_rows(DEFAULT), _rows(variant), untouched)


@pytest.mark.parametrize("event", range(len(DEFAULT.events)))
def test_making_an_event_certain_leaves_the_tables_it_cannot_reach_untouched(event):
    variant = load_scenario(None, {f"events.{event}.probability": 1.0})
    untouched = unreachable_tables(DEFAULT, changed_paths(DEFAULT, variant))
    assert untouched, "every event of the default scenario leaves some table alone"
    _assert_untouched(_rows(DEFAULT), _rows(variant), untouched)


def test_reach_is_not_everything_and_reached_tables_do_move():
    # the check above would pass if reach said "every table": make sure it says less, and that a
    # reached table really changes, so the test can fail
    path = "tables.us-china.preferences.china.outside_option"
    # a US-China walk-out reaches the six US-ASEAN tables (escalation), and through the ASEAN bloc
    # (a deal there is a defection) the summit table too
    alone = ("us-japan", "us-korea", "us-north-korea", "thailand-cambodia")
    assert unreachable_tables(DEFAULT, path) == alone
    base, variant = _rows(DEFAULT), _rows(load_scenario(None, {path: 0.9}))
    us_china = (base["table"] == "us-china").to_numpy()
    assert (base.loc[us_china, "deal"].to_numpy() != variant.loc[us_china, "deal"].to_numpy()).any()


def test_reach_follows_actors_mediators_rapport_and_linkages():
    assert tables_reached(DEFAULT, "actors.japan.rapport.us") == ("us-japan", "us-korea")  # precedent link
    assert tables_reached(DEFAULT, "actors.north_korea.resolve") == ("us-north-korea",)
    assert "thailand-cambodia" in tables_reached(DEFAULT, "actors.us.leverage")  # the US mediates
    assert "thailand-cambodia" not in tables_reached(DEFAULT, "actors.us.resolve")
    assert tables_reached(DEFAULT, "model.leverage_effect") == tuple(DEFAULT.tables)
    assert tables_reached(DEFAULT, "uncertainty.actors.china.resolve.low")[0] == "us-china"


def test_compare_fixing_chinas_reservation_changes_no_run_at_tables_it_cannot_reach():
    """The issue's example: ``compare default fix.toml``, China's US-China outside option at its mean."""
    path = "tables.us-china.preferences.china.outside_option"
    variant = load_scenario(None, {path: DEFAULT.uncertainty[path].mean})
    frame = compare_scenarios(DEFAULT, variant, runs=1000, master_seed=0).set_index("table")
    for table in ("us-japan", "us-korea", "us-north-korea", "thailand-cambodia"):
        assert frame.loc[table, "base_only"] == 0 and frame.loc[table, "variant_only"] == 0, table
    assert frame.loc["us-china", ["base_only", "variant_only"]].sum() > 0
