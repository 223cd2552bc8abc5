"""A bloc in the rounds: its common position, its pull on the members' tables, and defection.

The collective decision itself is :func:`negotiation.bargaining.bloc.common_position` (a spatial model
of positions, salience and capability). This module wires it into runs:

- **When.** The bloc forms its common position before round 0 and again at the start of every round
  in which its membership has changed (a member defected), over the members still in it. Positions,
  saliences and capabilities are not uncertain, so the decision depends only on who is still in the
  bloc: it is computed once per distinct membership and kept (at most ``2**members`` of them).
- **Pull on the tables.** At every table where a member still in the bloc faces a non-member, the
  member's ideal on each bloc issue at that table moves toward the common position by its cohesion
  ``c`` (``ideal + c * (common - ideal)``, on the table's range), and its value of no deal rises by
  ``leverage * c * strength``, where ``strength`` is the capability share of the members still in
  the bloc, zero when no common position exists. Tables where no member faces a non-member are
  never touched.
- **Defection.** A member leaves the bloc from the round after it signs a deal with a non-member
  while the bloc is still negotiating (before the last deadline of the members' tables with
  non-members, the bloc's *close*; where the bloc has a multilateral table, one at which two members
  or more face a non-member, while that table is open, and only a bilateral deal counts), or, by its
  drawn ``defection`` propensity, at a round drawn uniformly before the close (the multilateral
  table's deadline, if there is one): two uniform numbers from the keyed stream
  ``defection:<bloc>:<member>`` say whether (the first below the propensity) and when. A defector's
  tables lose the bloc's pull; the remaining members' strength falls.

Everything is per run and vectorised over runs; a run's bloc depends only on its own draws and
tables, so the Mesa model and the batch fast path agree bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from negotiation.bargaining import streams
from negotiation.bargaining.bloc import BlocDecision, DecisionRule, common_position
from negotiation.bargaining.status import DEAL, OPEN

if TYPE_CHECKING:
    from negotiation.scenario.schema import Scenario

NEVER = np.iinfo(np.int64).max
"""A round that never comes: a member that never defects leaves the bloc then."""
BLOC_PARAMETERS = ("ideal", "bloc_cohesion", "bloc_leverage")
"""The parameters :meth:`BlocRounds.effective` reads (all a membership change needs gathered)."""


@dataclass(frozen=True, eq=False)
class CompiledBloc:
    """One bloc's static structure, normalised like every issue in the model (0 to 1 on its range).

    Shapes: M members, K bloc issues, S seats (a member at a table where it faces a non-member),
    E moves (a seat and a bloc issue on that seat's table).
    """

    bloc_id: str
    members: tuple[str, ...]
    issues: tuple[str, ...]
    first: int
    """Offset of the bloc's members in the flat per-member parameter arrays."""
    rule: DecisionRule
    position: np.ndarray
    """(M, K) ideal points on the issues' ranges."""
    salience: np.ndarray
    """(M, K) saliences in (0, 1]."""
    capability: np.ndarray
    """(M,) capabilities."""
    acceptable: tuple[np.ndarray, np.ndarray] | None
    """(M, K) low and high of each member's acceptable range (None where they do not bind)."""
    issue_low: np.ndarray
    """(K,) lower end of each bloc issue's range, real units."""
    issue_high: np.ndarray
    """(K,) upper end, real units."""
    seat_member: np.ndarray
    """(S,) member (index in the bloc) of each seat."""
    seat_table: np.ndarray
    """(S,) table of each seat."""
    seat_side: np.ndarray
    """(S,) side the member holds there."""
    move_seat: np.ndarray
    """(E,) seat of each move."""
    move_column: np.ndarray
    """(E,) the bloc issue's column at the seat's table."""
    move_issue: np.ndarray
    """(E,) the bloc issue (index in ``issues``)."""
    move_low: np.ndarray
    """(E,) the issue's lower end at that table, real units."""
    move_high: np.ndarray
    """(E,) the issue's upper end at that table, real units."""
    faces: np.ndarray
    """(T, M) True where the member sits at the table facing a non-member."""
    multilateral: np.ndarray = field(default_factory=lambda: np.zeros(0, np.intp))
    """The bloc's multilateral tables: two members or more facing a non-member (the summit table)."""
    _decisions: dict[bytes, BlocDecision | None] = field(default_factory=dict, repr=False)

    @property
    def size(self) -> int:
        """Number of members."""
        return len(self.members)

    def decision(self, in_bloc: np.ndarray) -> BlocDecision | None:
        """The collective decision of the members still in the bloc (None if none is left).

        Args:
            in_bloc: (M,) True for the members still in the bloc.
        """
        key = np.asarray(in_bloc, bool).tobytes()
        if key not in self._decisions:
            self._decisions[key] = self._decide(np.asarray(in_bloc, bool))
        return self._decisions[key]

    def _decide(self, in_bloc: np.ndarray) -> BlocDecision | None:
        if not in_bloc.any():
            return None
        acceptable = None
        if self.acceptable is not None:
            acceptable = (self.acceptable[0][in_bloc], self.acceptable[1][in_bloc])
        return common_position(
            self.position[in_bloc], self.salience[in_bloc], self.capability[in_bloc], self.rule, acceptable
        )

    def real(self, normalised: np.ndarray) -> np.ndarray:
        """Positions on the issues' ranges (..., K) in real units."""
        return self.issue_low + normalised * (self.issue_high - self.issue_low)


def compile_blocs(
    scenario: Scenario, actor_index: dict[str, int], table_ids: tuple[str, ...]
) -> tuple[tuple[CompiledBloc, ...], dict[str, np.ndarray]]:
    """Compile a scenario's blocs and their base parameter arrays.

    Args:
        scenario: The validated scenario.
        actor_index: Actor id to index.
        table_ids: Table ids in order.

    Returns:
        The compiled blocs and the base arrays ``bloc_leverage`` (B,), ``bloc_cohesion`` and
        ``bloc_defection`` (P,), P the members of all blocs in order.
    """
    blocs, leverage, cohesion, defection = [], [], [], []
    for bloc_id, bloc in scenario.blocs.items():
        members = tuple(bloc.members)
        issues = bloc.issues
        low = np.array([scenario.issues[i].low for i in issues], float)
        high = np.array([scenario.issues[i].high for i in issues], float)
        span = high - low

        def normalised(values: np.ndarray, low: np.ndarray = low, span: np.ndarray = span) -> np.ndarray:
            return (values - low) / span

        position = normalised(np.array([[bloc.members[m].position[i] for i in issues] for m in members]))
        salience = np.array([[bloc.members[m].salience[i] for i in issues] for m in members], float)
        ranges = [
            [bloc.members[m].acceptable.get(i, (lo, hi)) for i, lo, hi in zip(issues, low, high, strict=True)]
            for m in members
        ]
        acceptable = None
        if bloc.rule == "consensus":
            acceptable = (
                normalised(np.array([[r[0] for r in row] for row in ranges], float)),
                normalised(np.array([[r[1] for r in row] for row in ranges], float)),
            )
        faces = np.zeros((len(table_ids), len(members)), bool)
        multilateral = []
        seats: list[tuple[int, int, int]] = []
        moves: list[tuple[int, int, int, float, float]] = []
        for t, table_id in enumerate(table_ids):
            table = scenario.tables[table_id]
            if all(p in bloc.members for p in table.parties):
                continue  # no non-member at the table
            if sum(p in bloc.members for p in table.parties) >= 2:
                multilateral.append(t)
            for side, party in enumerate(table.parties):
                if party not in bloc.members:
                    continue
                m = members.index(party)
                faces[t, m] = True
                seat = len(seats)
                seats.append((m, t, side))
                for k, issue_id in enumerate(issues):
                    if issue_id in table.issues:
                        lo, hi = scenario.issue_range(table_id, issue_id)
                        moves.append((seat, table.issues.index(issue_id), k, lo, hi))
        seat_array = np.array(seats, np.intp).reshape(-1, 3)
        move_array = np.array(moves, float).reshape(-1, 5)
        blocs.append(
            CompiledBloc(
                bloc_id=bloc_id,
                members=members,
                issues=issues,
                first=len(cohesion),
                rule=_rule(bloc.rule, bloc.quota),
                position=position,
                salience=salience,
                capability=np.array([bloc.members[m].capability for m in members], float),
                acceptable=acceptable,
                issue_low=low,
                issue_high=high,
                seat_member=seat_array[:, 0],
                seat_table=seat_array[:, 1],
                seat_side=seat_array[:, 2],
                move_seat=move_array[:, 0].astype(np.intp),
                move_column=move_array[:, 1].astype(np.intp),
                move_issue=move_array[:, 2].astype(np.intp),
                move_low=move_array[:, 3],
                move_high=move_array[:, 4],
                faces=faces,
                multilateral=np.array(multilateral, np.intp),
            )
        )
        leverage.append(bloc.leverage)
        cohesion += [bloc.members[m].cohesion for m in members]
        defection += [bloc.members[m].defection for m in members]
    base = {
        "bloc_leverage": np.array(leverage, float),
        "bloc_cohesion": np.array(cohesion, float),
        "bloc_defection": np.array(defection, float),
    }
    return tuple(blocs), base


def _rule(name: str, quota: float | None) -> DecisionRule:
    if name == "majority":
        return DecisionRule.majority()
    if name == "qualified_majority" and quota is not None and quota < 1.0:
        return DecisionRule.qualified(quota)
    # consensus, or a qualified majority of the whole vote: no challenge carries against opposition
    return DecisionRule.consensus()


def bloc_columns(blocs: tuple[CompiledBloc, ...]) -> tuple[tuple[str, str], ...]:
    """The per-run output columns of the blocs: (name, kind) with kind 'bool', 'float' or 'round'.

    Per bloc: ``bloc_<id>_exists`` (a common position at the end), ``bloc_<id>_strength`` (capability
    share of the members still in it, 0 without a common position), ``bloc_<id>_position_<issue>``
    (the final common position, real units; null without one); per member ``bloc_<id>_<member>_defected``
    and ``bloc_<id>_<member>_defected_round`` (the first round it was out; null if it stayed).
    """
    columns: list[tuple[str, str]] = []
    for bloc in blocs:
        prefix = f"bloc_{bloc.bloc_id}"
        columns += [(f"{prefix}_exists", "bool"), (f"{prefix}_strength", "float")]
        columns += [(f"{prefix}_position_{issue}", "float") for issue in bloc.issues]
        for member in bloc.members:
            columns += [
                (f"{prefix}_{member}_defected", "bool"),
                (f"{prefix}_{member}_defected_round", "round"),
            ]
    return tuple(columns)


class BlocRounds:
    """The blocs of one or many runs in lockstep: membership, common positions, pull on the tables."""

    def __init__(
        self, blocs: tuple[CompiledBloc, ...], params: dict[str, np.ndarray], keys: np.ndarray
    ) -> None:
        """Draw each member's defection and set up the blocs before round 0.

        Args:
            blocs: The compiled blocs.
            params: The runs' parameter arrays (after their draw), leading run axis N.
            keys: (N, 2) run keys.
        """
        self.blocs = blocs
        n_runs = len(keys)
        n_members = sum(bloc.size for bloc in blocs)
        self.n_runs = n_runs
        self.in_bloc = np.ones((n_runs, n_members), bool)
        """(N, P) True for members still in their bloc."""
        self.left = np.full((n_runs, n_members), NEVER, np.int64)
        """(N, P) the first round each member was out of its bloc (NEVER if it stayed)."""
        self.close = np.zeros((n_runs, n_members), np.int64)
        """(N, P) each member's bloc's close: the last deadline of its members' tables with non-members."""
        self._signed = np.zeros((n_runs, n_members), bool)
        deadline = params["deadline"].astype(np.int64)
        for bloc in blocs:
            tables = bloc.multilateral if bloc.multilateral.size else np.flatnonzero(bloc.faces.any(axis=1))
            close = deadline[:, tables].max(axis=1) if tables.size else np.full(n_runs, -1, np.int64)
            self.close[:, bloc.first : bloc.first + bloc.size] = close[:, None]
        names = tuple(f"defection:{bloc.bloc_id}:{member}" for bloc in blocs for member in bloc.members)
        if names:
            draws = streams.uniforms(keys, streams.stream_ids(names), 2)
            propensity = params["bloc_defection"]
            when = np.floor(draws[..., 1] * np.maximum(self.close, 0)).astype(np.int64)
            self._propensity_round = np.where((draws[..., 0] < propensity) & (self.close > 0), when, NEVER)
        else:
            self._propensity_round = np.full((n_runs, 0), NEVER, np.int64)
        self.in_bloc = self._propensity_round > 0
        self.left = np.where(self.in_bloc, NEVER, self._propensity_round)

    def update(self, round_: int, status: np.ndarray, end_round: np.ndarray) -> np.ndarray:
        """Take out of the blocs the members that have left by the start of this round.

        Args:
            round_: The round about to be played.
            status: (N * T,) table status codes, run-major.
            end_round: (N * T,) the round each table ended in.

        Returns:
            (N,) True for the runs whose membership changed.
        """
        in_bloc, left = self._membership(round_, status, end_round)
        changed = (in_bloc != self.in_bloc).any(axis=1)
        self.in_bloc, self.left = in_bloc, left
        return changed

    def _membership(
        self, round_: int, status: np.ndarray, end_round: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(N, P) who is still in the blocs at the start of this round, and when the others left."""
        if not self.blocs:
            return self.in_bloc, self.left
        status = status.reshape(self.n_runs, -1)
        end_round = end_round.reshape(self.n_runs, -1)
        left = np.minimum(self._propensity_round, self._signing_round(status, end_round, round_))
        in_bloc = left > round_
        return in_bloc, np.where(in_bloc, NEVER, np.minimum(self.left, left))

    def _signing_round(self, status: np.ndarray, end_round: np.ndarray, round_: int) -> np.ndarray:
        """(N, P) the round after each member's first deal with a non-member before its bloc's close."""
        signing = np.full(self.in_bloc.shape, NEVER, np.int64)
        signed = (status == DEAL) & (end_round < round_)
        for bloc in self.blocs:
            if bloc.multilateral.size:  # negotiating while its multilateral table is open
                ended = status[:, bloc.multilateral] != OPEN
                until = np.where(ended, end_round[:, bloc.multilateral], NEVER).max(axis=1)
            else:  # negotiating until the last deadline of its members' tables with non-members
                until = self.close[:, bloc.first]
            after = np.where(signed & (end_round < until[:, None]), end_round + 1, NEVER)  # (N, T)
            for m in range(bloc.size):
                tables = np.setdiff1d(np.flatnonzero(bloc.faces[:, m]), bloc.multilateral)  # bilateral deals
                if tables.size:
                    signing[:, bloc.first + m] = after[:, tables].min(axis=1)
        return signing

    def positions(self, bloc_index: int, in_bloc: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Each run's common position of one bloc (normalised; 0 where none) and whether it exists.

        Args:
            bloc_index: Which bloc.
            in_bloc: (N, P) membership to decide with; the current one by default.

        Returns:
            (N, K) positions and (N,) True where a common position exists.
        """
        bloc = self.blocs[bloc_index]
        in_bloc = self.in_bloc if in_bloc is None else in_bloc
        members = in_bloc[:, bloc.first : bloc.first + bloc.size]
        position = np.zeros((members.shape[0], len(bloc.issues)))
        exists = np.zeros(members.shape[0], bool)
        codes = members.astype(np.int64) @ (np.int64(1) << np.arange(bloc.size, dtype=np.int64))
        distinct, which = np.unique(codes, return_inverse=True)
        for index, code in enumerate(distinct.tolist()):
            decision = bloc.decision((code >> np.arange(bloc.size)) & 1 == 1)
            if decision is not None and decision.exists:
                runs = which == index
                position[runs] = decision.position
                exists[runs] = True
        return position, exists

    def strength(self, bloc_index: int, exists: np.ndarray, in_bloc: np.ndarray | None = None) -> np.ndarray:
        """(N,) capability share of the members still in the bloc; 0 without a common position."""
        bloc = self.blocs[bloc_index]
        in_bloc = self.in_bloc if in_bloc is None else in_bloc
        members = in_bloc[:, bloc.first : bloc.first + bloc.size]
        share = (members * bloc.capability).sum(axis=1) / bloc.capability.sum()
        return np.where(exists, share, 0.0)

    def effective(
        self, params: dict[str, np.ndarray], runs: np.ndarray | None = None
    ) -> tuple[dict[str, np.ndarray], list]:
        """The parameters the tables play with: members' ideals pulled toward the common positions.

        Args:
            params: The runs' parameter arrays (their draw and any events).
            runs: Which runs ``params`` holds (all by default).

        Returns:
            The parameters with the moved ideals (the input itself when there is no bloc), and the
            rises of the values of no deal as ``(tables, sides, (N, S) rises)`` per bloc.
        """
        if not self.blocs:
            return params, []
        ideal = params["ideal"].copy()
        in_bloc = self.in_bloc if runs is None else self.in_bloc[runs]
        rises = []
        for b, bloc in enumerate(self.blocs):
            position, exists = self.positions(b, in_bloc)
            members = slice(bloc.first, bloc.first + bloc.size)
            pull = params["bloc_cohesion"][:, members] * (in_bloc[:, members] & exists[:, None])
            if bloc.move_seat.size:
                seat = bloc.move_seat
                tables, sides = bloc.seat_table[seat], bloc.seat_side[seat]
                real = bloc.issue_low[bloc.move_issue] + position[:, bloc.move_issue] * (
                    bloc.issue_high[bloc.move_issue] - bloc.issue_low[bloc.move_issue]
                )
                target = np.clip((real - bloc.move_low) / (bloc.move_high - bloc.move_low), 0.0, 1.0)
                current = ideal[:, tables, sides, bloc.move_column]
                ideal[:, tables, sides, bloc.move_column] = current + pull[:, bloc.seat_member[seat]] * (
                    target - current
                )
            strength = self.strength(b, exists, in_bloc)
            rise = params["bloc_leverage"][:, b, None] * pull[:, bloc.seat_member] * strength[:, None]
            rises.append((bloc.seat_table, bloc.seat_side, rise))
        return {**params, "ideal": ideal}, rises

    def outputs(self, status: np.ndarray, end_round: np.ndarray) -> np.ndarray:
        """(N, C) the per-run bloc columns (:func:`bloc_columns`) at the end of the runs, as floats.

        Deals signed in the last rounds played count: membership is taken as after every round.
        """
        in_bloc, left_round = self._membership(NEVER - 1, status, end_round)
        columns = []
        for b, bloc in enumerate(self.blocs):
            position, exists = self.positions(b, in_bloc)
            columns += [exists.astype(float), self.strength(b, exists, in_bloc)]
            real = np.where(exists[:, None], bloc.real(position), np.nan)
            columns += list(real.T)
            for m in range(bloc.size):
                left = left_round[:, bloc.first + m]
                columns += [(left != NEVER).astype(float), np.where(left != NEVER, left, np.nan)]
        return np.stack(columns, axis=1) if columns else np.zeros((self.n_runs, 0))

    def snapshot(self, run: int = 0) -> list[dict]:
        """One run's blocs now: the common position and each member's stance, for the trace.

        Returns:
            Rows ``{"bloc", "issue", "actor", "position", "in_bloc"}`` with real positions; the
            common position is the row with ``actor = "common"`` (absent when none exists). A member
            still in the bloc stands where the challenges left it; a defector at its own ideal.
        """
        rows = []
        for bloc in self.blocs:
            in_bloc = self.in_bloc[run, bloc.first : bloc.first + bloc.size]
            decision = bloc.decision(in_bloc)
            stances = bloc.position.copy()
            if decision is not None:
                stances[in_bloc] = decision.stances
            for k, issue in enumerate(bloc.issues):
                if decision is not None and decision.exists:
                    real = float(bloc.real(decision.position)[k])
                    rows.append(
                        {
                            "bloc": bloc.bloc_id,
                            "issue": issue,
                            "actor": "common",
                            "position": real,
                            "in_bloc": True,
                        }
                    )
                for m, member in enumerate(bloc.members):
                    rows.append(
                        {
                            "bloc": bloc.bloc_id,
                            "issue": issue,
                            "actor": member,
                            "position": float(bloc.real(stances[m])[k]),
                            "in_bloc": bool(in_bloc[m]),
                        }
                    )
        return rows
