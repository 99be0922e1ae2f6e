"""What a rule knows of the value of each local name, where that knowledge holds.

Rules that follow a value from where it is made to where it is used (DL404: a
softmax output into a cross entropy; DL504: an `np.load` result used as a dict)
need "the value `p` holds here". A rule drives this table from its own visitor
hooks: it enters and leaves functions and blocks, binds names as assignments
complete, and asks for a name at a use. A binding answers only where it
dominates the use in the lexical order the traversal follows: made in the same
block or in an enclosing one, and not since replaced. One made in an `if` branch,
a loop body or a `try` does not answer after that block, so

    if training:
        out = logits
    else:
        out = F.softmax(logits, dim=1)
    loss = criterion(out, y)

knows nothing of `out`: the rule says nothing rather than guess. A function sees
the module's bindings made before its `def`, unless it binds the name itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count

_BLOCK_IDS = count(1)


@dataclass
class _Binding:
    meaning: object
    path: tuple[int, ...]  # the blocks open where it was made


@dataclass
class _Scope:
    defined_at: tuple[int, ...]  # the enclosing scope's blocks where the function was defined
    bindings: dict[str, _Binding] = field(default_factory=dict)
    local: set[str] = field(default_factory=set)  # every name bound here so far, with a meaning or not
    # The conditional blocks open here, kept as blocks open and close: every binding and
    # lookup asks for it, more often than blocks change.
    path: tuple[int, ...] = ()
    outer_paths: list[tuple[int, ...]] = field(default_factory=list)  # `path` outside each open block


class Bindings:
    def __init__(self) -> None:
        self._scopes: list[_Scope] = [_Scope(())]

    # -- structure -----------------------------------------------------------------------
    def enter_function(self, parameters: list[str] = ()) -> None:
        scope = _Scope(self.path())
        scope.local.update(parameters)
        self._scopes.append(scope)

    def leave_function(self) -> None:
        self._scopes.pop()

    @property
    def depth(self) -> int:
        """0 at module level, 1 in a function, 2 in a function in a function."""
        return len(self._scopes) - 1

    def enter_block(self, conditional: bool = True) -> None:
        """A block that may run or not (`if`, loop, `try` bodies): bindings made in it stay in it.
        A `with` body always runs: `conditional=False` keeps its bindings visible after it."""
        scope = self._scopes[-1]
        scope.outer_paths.append(scope.path)
        if conditional:
            scope.path = (*scope.path, next(_BLOCK_IDS))

    def leave_block(self) -> None:
        scope = self._scopes[-1]
        scope.path = scope.outer_paths.pop()

    # -- names ---------------------------------------------------------------------------
    def bind(self, name: str, meaning: object) -> None:
        """`name` now holds `meaning` (None: nothing known, which hides any earlier meaning)."""
        scope = self._scopes[-1]
        scope.local.add(name)
        scope.bindings[name] = _Binding(meaning, scope.path)

    def lookup(self, name: str) -> object | None:
        """What `name` holds at this point, when a dominating binding says so."""
        path = self._scopes[-1].path
        for index in range(len(self._scopes) - 1, -1, -1):
            scope = self._scopes[index]
            binding = scope.bindings.get(name)
            if binding is not None:
                return binding.meaning if _dominates(binding.path, path) else None
            if name in scope.local:
                return None
            path = scope.defined_at
        return None

    def path(self) -> tuple[int, ...]:
        """The conditional blocks open here, in the current function."""
        return self._scopes[-1].path

    def binding_here(self, name: str) -> bool:
        """Whether the current scope itself binds `name` (so far)."""
        return name in self._scopes[-1].local


def _dominates(made: tuple[int, ...], used: tuple[int, ...]) -> bool:
    return len(made) <= len(used) and used[: len(made)] == made


class BlockHooks:
    """Visitor hooks that open and close blocks on a rule's `self.bindings` (a `Bindings`):
    mix into a rule before `Rule`. The rule still enters and leaves functions itself."""

    bindings: Bindings

    def visit_With(self, node) -> None:
        self._always_run = getattr(self, "_always_run", set())
        self._always_run.add(id(node.body))

    def visit_IndentedBlock(self, node) -> None:
        self.bindings.enter_block(conditional=id(node) not in getattr(self, "_always_run", ()))

    def leave_IndentedBlock(self, original_node) -> None:
        self.bindings.leave_block()

    def visit_SimpleStatementSuite(self, node) -> None:
        self.bindings.enter_block(conditional=id(node) not in getattr(self, "_always_run", ()))

    def leave_SimpleStatementSuite(self, original_node) -> None:
        self.bindings.leave_block()
