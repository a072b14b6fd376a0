"""A lifecycle declared once, next to its status enum: the states, how people read them
(lazy-translated labels), named groups of states, and which state may follow which.

Services move an object only through `check`, templates and notifications read `label`,
lists filter with `values(group)`, and `docs/architecture.md` lists every lifecycle from
`LIFECYCLES`. A declaration that forgets a state's label or transitions fails at import.
"""
from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Generic, TypeVar

from flask_babel import gettext as _

from assembly.errors import InvalidTransition

E = TypeVar("E", bound=enum.Enum)
LIFECYCLES: dict[str, "Lifecycle"] = {}


class Lifecycle(Generic[E]):
    def __init__(self, name: str, states: type[E], *, labels: Mapping[E, object],
                 transitions: Mapping[E, Iterable[E]], groups: Mapping[str, Iterable[E]] | None = None) -> None:
        missing_labels = set(states) - set(labels)
        missing_moves = set(states) - set(transitions)
        if missing_labels or missing_moves:
            raise TypeError(f"lifecycle {name}: no label for {missing_labels or '-'}, "
                            f"no transitions for {missing_moves or '-'}")
        self.name = name
        self.states = states
        self._labels = {state.value: label for state, label in labels.items()}
        self.transitions: dict[E, frozenset[E]] = {state: frozenset(nxt) for state, nxt in transitions.items()}
        self.groups: dict[str, tuple[E, ...]] = {key: tuple(members) for key, members in (groups or {}).items()}
        LIFECYCLES[name] = self

    def label(self, state: E | str) -> str:
        """The state as people read it, in the current language (unknown values as they are)."""
        value = state.value if isinstance(state, enum.Enum) else state
        label = self._labels.get(value)
        return str(label) if label is not None else value

    def allows(self, current: E | str, to: E | str) -> bool:
        return self.states(to) in self.transitions[self.states(current)]

    def check(self, current: E | str, to: E | str, message: str | None = None) -> None:
        """Refuse a move the table does not allow, saying in words which move it was."""
        if not self.allows(current, to):
            raise InvalidTransition(message or _("“%(current)s” cannot become “%(new)s”.",
                                                 current=self.label(current), new=self.label(to)))

    def group(self, name: str) -> tuple[E, ...]:
        return self.groups[name]

    def values(self, group: str) -> tuple[str, ...]:
        """The stored values of a group, for SQL filters."""
        return tuple(state.value for state in self.groups[group])

    def contains(self, group: str, state: E | str) -> bool:
        value = state.value if isinstance(state, enum.Enum) else state
        return value in self.values(group)

    def choices(self, group: str | None = None) -> list[tuple[str, str]]:
        """(value, label) pairs for a select field, in declaration order."""
        members = self.groups[group] if group else tuple(self.states)
        return [(state.value, self.label(state)) for state in members]

    def final_states(self) -> tuple[E, ...]:
        return tuple(state for state, nxt in self.transitions.items() if not nxt)
