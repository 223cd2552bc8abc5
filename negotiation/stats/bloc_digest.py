"""The blocs' per-run columns of a results table, folded into counts bounded by the design.

A scenario with blocs adds per-run columns to every row of a run (``negotiation.batch.rows``):
whether the bloc has a common position at the end and where, and whether and when each member
defected. Each run is counted once (on its row of the first table). Per design point and bloc member
the digest keeps the runs, the defections and a count of the defections by round; per design point,
bloc and bloc issue the runs, the runs with a common position, its sum and a
:data:`POSITION_BINS`-bin histogram over the issue's range.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from negotiation.scenario.schema import Scenario

POSITION_BINS = 25
"""Bins of the final common position's histogram over the bloc issue's range."""
_EXISTS = re.compile(r"^bloc_(.+)_exists$")


@dataclass(frozen=True)
class BlocColumns:
    """One bloc as the results columns show it."""

    bloc: str
    members: tuple[str, ...]
    issues: tuple[str, ...]
    ranges: np.ndarray
    """(issues, 2) low and high of each bloc issue (real units)."""

    def columns(self) -> list[str]:
        """The bloc's results columns."""
        prefix = f"bloc_{self.bloc}"
        names = [f"{prefix}_exists", *(f"{prefix}_position_{issue}" for issue in self.issues)]
        for member in self.members:
            names += [f"{prefix}_{member}_defected", f"{prefix}_{member}_defected_round"]
        return names


def bloc_specs(names: list[str], scenario: Scenario | None) -> list[BlocColumns]:
    """The blocs whose columns a results table has (their issues' ranges from the scenario if given)."""
    specs = []
    for name in names:
        match = _EXISTS.match(name)
        if match is None:
            continue
        bloc = match.group(1)
        prefix = f"bloc_{bloc}_"
        declared = scenario.blocs.get(bloc) if scenario is not None else None
        if declared is not None:
            members, issues = tuple(declared.members), declared.issues
        else:
            members = tuple(
                n.removeprefix(prefix).removesuffix("_defected_round")
                for n in names
                if n.startswith(prefix) and n.endswith("_defected_round")
            )
            issues = tuple(
                n.removeprefix(f"{prefix}position_") for n in names if n.startswith(f"{prefix}position_")
            )
        ranges = np.array(
            [
                (scenario.issues[i].low, scenario.issues[i].high)
                if scenario is not None and i in scenario.issues
                else (np.nan, np.nan)
                for i in issues
            ],
            float,
        ).reshape(-1, 2)
        specs.append(BlocColumns(bloc, members, issues, ranges))
    return specs


class BlocAccumulator:
    """Counts of defections and common positions, per design point (see the module docstring)."""

    def __init__(self, specs: list[BlocColumns], points: np.ndarray, last_round: int) -> None:
        self.specs = specs
        self.points = points
        self.member_keys = [(s.bloc, m) for s in specs for m in s.members]
        self.issue_keys = [(s.bloc, i, s.ranges[k]) for s in specs for k, i in enumerate(s.issues)]
        p, m, q = len(points), len(self.member_keys), len(self.issue_keys)
        self.runs = np.zeros(p, np.int64)
        self.defected = np.zeros((p, m), np.int64)
        self.rounds = np.zeros((p, m, last_round + 2), np.int64)
        self.exists = np.zeros((p, q), np.int64)
        self.value_sum = np.zeros((p, q))
        self.bins = np.zeros((p, q, POSITION_BINS), np.int64)

    def columns(self) -> list[str]:
        """Every bloc column the accumulator reads."""
        return [name for spec in self.specs for name in spec.columns()]

    def add(self, frame: pd.DataFrame, pi: np.ndarray, first: np.ndarray) -> None:
        """Fold in the runs of a batch of rows (``first`` marks each run's row of the first table)."""
        if not self.specs or not first.any():
            return
        pi = pi[first]
        np.add.at(self.runs, pi, 1)
        j = 0
        for spec in self.specs:
            for member in spec.members:
                prefix = f"bloc_{spec.bloc}_{member}"
                defected = frame[f"{prefix}_defected"].to_numpy(dtype=bool, na_value=False)[first]
                when = frame[f"{prefix}_defected_round"].to_numpy(dtype=float, na_value=np.nan)[first]
                np.add.at(self.defected[:, j], pi[defected], 1)
                last = self.rounds.shape[2] - 1
                rounds = np.clip(np.nan_to_num(when[defected], nan=last), 0, last).astype(np.int64)
                np.add.at(self.rounds[:, j], (pi[defected], rounds), 1)
                j += 1
        for q, (bloc, issue, (low, high)) in enumerate(self.issue_keys):
            value = frame[f"bloc_{bloc}_position_{issue}"].to_numpy(dtype=float, na_value=np.nan)[first]
            present = ~np.isnan(value)
            np.add.at(self.exists[:, q], pi[present], 1)
            np.add.at(self.value_sum[:, q], pi[present], value[present])
            if np.isfinite(low) and high > low:
                b = np.clip(
                    np.floor((value[present] - low) / (high - low) * POSITION_BINS), 0, POSITION_BINS - 1
                )
                np.add.at(self.bins[:, q], (pi[present], b.astype(np.int64)), 1)

    def finish(self) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame, np.ndarray]:
        """The member table and its defection rounds, the position table and its histograms."""
        p, m, q = len(self.points), len(self.member_keys), len(self.issue_keys)
        members = pd.DataFrame(
            {
                "point": np.repeat(self.points, m),
                "bloc": np.tile(np.array([b for b, _ in self.member_keys], dtype=object), p),
                "member": np.tile(np.array([x for _, x in self.member_keys], dtype=object), p),
                "runs": np.repeat(self.runs, m),
                "defected": self.defected.reshape(-1),
            }
        )
        positions = pd.DataFrame(
            {
                "point": np.repeat(self.points, q),
                "bloc": np.tile(np.array([b for b, _, _ in self.issue_keys], dtype=object), p),
                "issue": np.tile(np.array([i for _, i, _ in self.issue_keys], dtype=object), p),
                "low": np.tile(np.array([r[0] for _, _, r in self.issue_keys], float), p),
                "high": np.tile(np.array([r[1] for _, _, r in self.issue_keys], float), p),
                "runs": np.repeat(self.runs, q),
                "exists": self.exists.reshape(-1),
                "value_sum": self.value_sum.reshape(-1),
            }
        )
        keep_members = (members["runs"] > 0).to_numpy()
        keep_positions = (positions["runs"] > 0).to_numpy()
        return (
            members[keep_members].reset_index(drop=True),
            self.rounds.reshape(p * m, self.rounds.shape[2])[keep_members],
            positions[keep_positions].reset_index(drop=True),
            self.bins.reshape(p * q, POSITION_BINS)[keep_positions],
        )
