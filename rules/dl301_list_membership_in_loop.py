"""DL301 list-membership-in-loop."""

from __future__ import annotations

import ast
import keyword
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import libcst as cst

from dldoctor.lint.finding import Severity
from dldoctor.lint.names import dotted_name, tf_symbol
from dldoctor.lint.rule import Applicability, Fix, LintContext, Rule
from dldoctor.lint.syntax import code_of, is_none, method_name, string_value, target_names
from dldoctor.lint.textscan import value_text

# Calls that return a list of a size the data decides.
_LIST_FUNCTIONS = {"builtins.list", "builtins.sorted", "os.listdir", "glob.glob", "re.split"}
_TF_LIST_FUNCTIONS = {"gfile.ListDirectory", "gfile.Glob", "io.gfile.listdir", "io.gfile.glob"}
_LIST_METHODS = {"readlines", "split", "rsplit", "splitlines", "tolist"}
# A list display longer than this is taken as "can be large".
_SMALL_DISPLAY = 8
_GROWERS = {"append", "extend", "insert"}
_SHRINKERS = {"remove", "pop", "clear"}
_LIST_ANNOTATIONS = {"builtins.list", "typing.List"}
# A `range` with literal bounds of at most this many numbers is sized by the code.
_FEW = 100
# Calls whose result is as long as their (first) argument, or shorter.
_SAME_SIZE_CALLS = {
    "builtins.enumerate", "builtins.reversed", "builtins.sorted", "builtins.list", "builtins.tuple",
    "builtins.set", "builtins.frozenset", "builtins.iter", "six.iteritems", "six.itervalues", "six.iterkeys",
}
_SAME_SIZE_METHODS = {"items", "keys", "values", "copy", "iteritems", "itervalues", "iterkeys"}
# A module that holds the project's configuration (`from model.config import cfg`): the
# lists it holds (learning-rate steps, scales, class names) are written by hand.
_CONFIG_MODULE = re.compile(r"(?:^|_)(?:config|configs|configuration|cfg|settings|hparams)$")

# -- the trigger: a membership test `in NAME` and a list-like binding of NAME --------
#
# Judged on the text, so that most files are never parsed for this rule; every
# step over-approximates what the rule checks on the tree (a name bound in
# another scope, a membership test outside a loop, `in` in a string all still
# count), so the trigger never says "no" to a file the rule would report on.

# `in NAME` where NAME ends the operand (what follows cannot extend `NAME` into
# an attribute, a call or an arithmetic expression, which the rule ignores).
_MEMBERSHIP = re.compile(  # `in` first, the look-behind after it: a literal prefix scans fast
    r"in(?<![^\W\d]in)[\s\\(]+([^\W\d]\w*)"
    r"(?=[ \t\\]*(?:[\])}:,;\r\n#<>=!]|$|(?:and|or|if|else|for|async|in|not|is)\b))"
)
_FOR_HEADER = re.compile(r"\bfor\b(?P<target>[^\n]*)$")
_NOT_A_TARGET = re.compile(r"\b(?:in|if|not|and|or|else|lambda|is)\b|=")
_KEYWORDS = frozenset(keyword.kwlist)
# A call of a list-producing function or method, and where a list display or
# comprehension can start an operand of the value (`[...]`, `a + [...]`,
# `... else [...]`).
_LIST_CALL = re.compile(r"(?:list|sorted|listdir|glob|Glob|ListDirectory|split|rsplit|splitlines|readlines|tolist)\s*\(")
_DISPLAY = re.compile(r"^[\s(\\]*\[|[+]\s*[(]*\[|\belse\s*[(]*\[")
_LIST_DISPLAY = re.compile(r"\bfor\b|\*")  # a comprehension, or a display with a starred element
# `list[...]`, `List`, `typing.List`, `Optional[List[...]]`, `None | list[...]`, as a string too.
_LIST_ANNOTATION = re.compile(
    r"^[\s\"'(]*(?:(?:\w+\.)*Optional\s*\[\s*[\"']?|None\s*\|\s*)?(?:\w+\.)*(?:list|List)\b"
)
# A list function bound to another name (`from os import listdir as ls`,
# `ls = os.listdir`, `L = list`): calls of that name produce lists too. The
# lookahead keeps the scan in the regular expression engine.
_LIST_FUNCTION = re.compile(
    r"(?:listdir|glob|Glob|ListDirectory|split|sorted|list|List)(?=[ \t]+as[ \t]|[ \t]*(?:[#;\r\n]|$))"
)
_IMPORT_ALIAS = re.compile(r"[ \t]+as[ \t]+([^\W\d]\w*)")
_PLAIN_ALIAS = re.compile(r"([^\W\d]\w*)[ \t]*=[ \t]*(?:\w+[ \t]*\.[ \t]*)*$")
_ANNOTATED_VALUE = re.compile(r"[^=\n]*=(?!=)")


def _list_function_aliases(text: str) -> set[str]:
    aliases = set()
    for match in _LIST_FUNCTION.finditer(text):
        after = _IMPORT_ALIAS.match(text, match.end())
        if after is not None:
            aliases.add(after.group(1))
            continue
        line_start = text.rfind("\n", 0, match.start()) + 1
        before = _PLAIN_ALIAS.search(text, line_start, match.start())
        if before is not None:
            aliases.add(before.group(1))
    return aliases


def _holds_list(value: str, calls: re.Pattern[str]) -> bool:
    """Whether an assigned value's text could be what the rule calls a list (or `[]`)."""
    if calls.search(value):
        return True
    for display in _DISPLAY.finditer(value):
        inside = value_text(value, display.end(), inside_brackets=True)  # up to the closing bracket
        if not inside.strip() or inside.count(",") >= _SMALL_DISPLAY or _LIST_DISPLAY.search(inside):
            return True
    return False


_AST_LOOPS = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_AST_MEMBERSHIP = (ast.In, ast.NotIn)


def _names_tested_in_loops(tree: ast.AST) -> set[str]:
    """NAME of every `x in NAME` / `x not in NAME` anywhere inside a loop or a comprehension
    (a superset of what the rule checks: its iterable, a nested lambda and all)."""
    names = set()
    stack = [(tree, False)]
    while stack:
        node, in_loop = stack.pop()
        if in_loop and type(node) is ast.Compare:
            for operator, comparator in zip(node.ops, node.comparators):
                if type(operator) in _AST_MEMBERSHIP and type(comparator) is ast.Name:
                    names.add(comparator.id)
        inner = in_loop or isinstance(node, _AST_LOOPS)
        for name in node._fields:
            value = getattr(node, name, None)
            if type(value) is list:
                stack.extend((item, inner) for item in value if isinstance(item, ast.AST))
            elif isinstance(value, ast.AST):
                stack.append((value, inner))
    return names


def _names_tested_for_membership(text: str) -> set[str]:
    names: set[str] = set()
    for match in _MEMBERSHIP.finditer(text):
        name = match.group(1)
        if name in names or name in _KEYWORDS:
            continue
        line_start = text.rfind("\n", 0, match.start()) + 1
        before = text[line_start : match.start()]
        header = _FOR_HEADER.search(before, max(before.rfind("for"), 0))
        if header is not None and not _NOT_A_TARGET.search(header.group("target")):
            continue  # `for x in NAME`, `[... for x in NAME]`
        names.add(name)
    return names


def _bound_to_a_list(text: str, names: set[str]) -> bool:
    """Whether one of `names` is bound, somewhere in `text`, to what could be a list."""
    if not names:
        return False
    aliases = _list_function_aliases(text)
    calls, annotation_pattern = _LIST_CALL, _LIST_ANNOTATION
    if aliases:
        alternatives = "|".join(map(re.escape, sorted(aliases)))
        calls = re.compile(rf"{_LIST_CALL.pattern}|\b(?:{alternatives})\s*\(")
        annotation_pattern = re.compile(rf"{_LIST_ANNOTATION.pattern}|\b(?:{alternatives})\b")
    binding = re.compile(r"(?<![\w.])(?:%s)\s*(:=|=(?!=)|:)" % "|".join(map(re.escape, sorted(names))))
    for match in binding.finditer(text):
        value_start = match.end()
        if match.group(1) == ":":  # a parameter or variable annotation, maybe with a value
            annotation = value_text(text, value_start).split("=", 1)[0]
            if annotation_pattern.search(annotation):
                return True
            assignment = _ANNOTATED_VALUE.match(text, value_start)
            if assignment is None:
                continue
            value_start = assignment.end()
        if _holds_list(value_text(text, value_start), calls):
            return True
    return False


@dataclass(eq=False)
class _Loop:
    """A loop body: a `for` body, a `while` test and body, or a comprehension."""

    names: frozenset[str] = frozenset()  # the variables a comprehension binds
    first_for: cst.CompFor | None = None  # a comprehension's outermost `for`
    active: bool = True  # False while a comprehension's first `iter` (run once) is visited
    # What it iterates over, in the scope `scope`; None for a `while` loop (no bound known).
    iterables: tuple[cst.BaseExpression, ...] | None = None
    scope: _Scope | None = None
    in_assert: bool = False  # a check inside an `assert` statement, run once where it stands


def _is_config_module(module: str | None) -> bool:
    return module is not None and bool(_CONFIG_MODULE.search(module.rsplit(".", 1)[-1]))


def _integer(expr: cst.BaseExpression) -> int | None:
    if type(expr) is cst.Integer:
        return int(expr.evaluated_value)
    if type(expr) is cst.UnaryOperation and type(expr.operator) is cst.Minus:
        inner = _integer(expr.expression)
        return -inner if inner is not None else None
    return None


def _describe(template: str = "", node: cst.CSTNode | None = None) -> Callable[[], str]:
    """Evidence for a message, rendered only if it is reported: code generation is costly."""
    return lambda: template.format(code_of(node)) if node is not None else template


@dataclass(eq=False)
class _Binding:
    kind: str  # "list", "empty" ([] or list()), "other", or "neutral" (keeps what it was)
    evidence: Callable[[], str]
    order: int
    value: cst.BaseExpression | None = None  # `name = value`, for the set-building fix
    config: bool = False  # a name imported from the project's configuration module


@dataclass(eq=False)
class _Change:
    """Something that changes a name: a rebinding, or an in-place change of the list."""

    name: str
    scope: _Scope
    loops: tuple[_Loop, ...]
    order: int
    rebinds: bool  # an assignment or `del` of the name, not a change of the list in place
    growth: str | None = None  # `.append(...)`, `+=`: how the list grows, when it does
    added: cst.BaseExpression | None = None  # what `.extend`/`+=`/`+` adds (None: one element)


@dataclass(eq=False)
class _Scope:
    kind: str  # "module", "class" or "function" (lambdas included)
    parent: _Scope | None
    bindings: dict[str, list[_Binding]] = field(default_factory=dict)
    globals: set[str] = field(default_factory=set)
    nonlocals: set[str] = field(default_factory=set)
    loops: list[_Loop] = field(default_factory=list)

    def active_loops(self) -> tuple[_Loop, ...]:
        return tuple(loop for loop in self.loops if loop.active)


@dataclass(eq=False)
class _Membership:
    node: cst.Comparison
    left: cst.BaseExpression
    operator: str
    name: str
    scope: _Scope
    loops: tuple[_Loop, ...]
    order: int


class ListMembershipInLoop(Rule):
    """
    ## What it does
    Finds `x in names` and `x not in names` evaluated on every iteration of a
    loop (a `for` or `while` body, or a comprehension) where `names` is a list
    that can be large and that the loop does not change: a name bound, in the
    function or module the loop reads it from, to a list comprehension,
    `list(...)`, `sorted(...)`, `.readlines()`, `.split(...)`,
    `.splitlines()`, `os.listdir(...)`, `glob.glob(...)`, `.tolist()`, a list
    display of more than 8 elements, a parameter annotated as a list
    (`list[str]`, `List[str]`), or `[]` filled with `.append`/`.extend`/`+=` in
    an earlier loop.

    ## Why is this bad
    `x in a_list` compares `x` with the elements one by one: O(len(list)) for
    every test, so a loop of n tests against m names costs O(n·m). Nothing fails;
    the job is just slow, and the slowness grows with the data set. The
    im2txt Flickr30k builder matched about 150,000 caption lines against a list
    of tens of thousands of image file names, and building the TFRecords took
    hours:

        filenames = [x.strip() for x in open(list_file).readlines()]
        for line in lines:
            filename = line.split("#")[0]
            if filename in filenames:   # scans up to 30,000 names, 150,000 times

    A set answers the same question in O(1) per test.

    ## Example
    ```python
    filenames = os.listdir(image_dir)
    for line in fc.readlines():
        filename = line.split("\\t")[0].split("#")[0]
        if filename in filenames:
            captions.setdefault(filename, []).append(line)
    ```

    ## Use instead
    ```python
    filenames = set(os.listdir(image_dir))
    for line in fc.readlines():
        filename = line.split("\\t")[0].split("#")[0]
        if filename in filenames:
            captions.setdefault(filename, []).append(line)
    ```
    Build a set once, before the loop (keep the list under another name if its
    order is needed). Not reported: sets, dicts, tuples, strings, small literal
    lists, a name also bound to something that is not a list, and a list the
    loop changes (`if x not in seen: seen.append(x)` keeps the list in order on
    purpose; use a set beside it, or `dict.fromkeys`, if it grows large).

    Nor where the cost cannot grow with the data: a list the code itself sizes
    (filled by a loop over a handful of literals, a short literal `range`, or a
    list of the project's configuration such as `cfg.TRAIN.STEPSIZE` or
    `FLAGS.scales`, or a comprehension over one), a loop over such a handful of
    items, and a check inside an `assert` (`assert all(l in levels for l in
    range(n))` runs once where it stands; an `assert` inside a loop over the data
    is still reported).

    ## Fix safety
    Unsafe (applied with `--fix --unsafe-fixes`), and offered only where it is
    mechanical: the list has one binding, and its name is used nowhere else in the
    module but in membership tests. Then `[x for ...]` becomes `{x for ...}`,
    `list(...)` / `sorted(...)` becomes `set(...)`, and anything else is wrapped in
    `set(...)`. A set needs hashable elements (`.tolist()` of a 2-D array gives
    lists, which are not), and loses the order and the duplicates of the list.
    """

    code = "DL301"
    name = "list-membership-in-loop"
    severity = Severity.WARNING
    summary = "membership test against a large list inside a loop: O(n·m); build a set once"
    triggers = ("in",)  # then `could_fire` correlates the test with the binding

    @classmethod
    def could_fire(cls, text: str, lowered: str) -> bool:
        return _bound_to_a_list(text, _names_tested_for_membership(text))

    second_look = True

    @classmethod
    def worth_parsing(cls, text: str) -> bool:
        """Only the names that CPython's parser finds in membership tests inside loops
        (a fifth of libcst's cost) must be bound to a list: on large files, the text
        always holds some `in NAME` outside a loop, in a string or in a comment."""
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return True  # newer syntax than this Python's, or broken: libcst decides
        return _bound_to_a_list(text, _names_tested_in_loops(tree))

    VALID = (
        # A set: O(1) membership.
        "import os\nfilenames = set(os.listdir(d))\nfor line in lines:\n    if line in filenames:\n        print(line)\n",
        # The dedupe idiom: the list changes inside the loop.
        "seen = []\nfor x in xs:\n    if x not in seen:\n        seen.append(x)\n",
        # A small literal list.
        "for ext in exts:\n    if ext in ['.jpg', '.png', '.bmp']:\n        print(ext)\n",
        # Rebound to a set before the loop.
        "names = [l.strip() for l in lines]\nnames = set(names)\nfor x in xs:\n    if x in names:\n        pass\n",
        # Outside any loop.
        "import os\nnames = os.listdir(d)\nif 'a.jpg' in names:\n    pass\n",
        # `in` in a `for` header is iteration, not membership.
        "import os\nnames = os.listdir(d)\nfor name in names:\n    print(name)\n",
        # The list is rebuilt on every iteration.
        "for line in lines:\n    parts = line.split()\n    if '--' in parts:\n        pass\n",
        # One entry per configured learning-rate step: the configuration sizes it, not the data.
        "import glob\nfrom model.config import cfg\nkeep = []\nfor step in cfg.TRAIN.STEPSIZE:\n"
        "    keep.append('iter_%d.ckpt' % step)\nstale = [f for f in glob.glob('*.ckpt') if f not in keep]\n",
    )
    INVALID = (
        "import os\nfilenames = os.listdir(image_dir)\nfor line in lines:\n"
        "    if line.split('#')[0] in filenames:\n        print(line)\n",
        "def keep(xs, big: list[str]):\n    return [x for x in xs if x in big]\n",
        "names = [l.strip() for l in open('list.txt').readlines()]\nfor x in xs:\n    if x not in names:\n        pass\n",
        "seen = []\nfor x in xs:\n    seen.append(x)\nfor y in ys:\n    if y in seen:\n        pass\n",
        "ids = x.tolist()\ni = 0\nwhile i < n:\n    if i in ids:\n        pass\n    i += 1\n",
    )

    def __init__(self, context: LintContext) -> None:
        super().__init__(context)
        self._module = _Scope("module", None)
        self._scopes = [self._module]
        self._scope = self._module
        self._order = 0
        self._assigning: list[frozenset[str]] = []  # names the enclosing assignments bind
        self._memberships: list[_Membership] = []
        self._changes: list[_Change] = []
        # Module-wide counts that tell whether a list is used for membership tests only.
        self._occurrences: dict[str, int] = {}
        self._membership_uses: dict[str, int] = {}
        self._asserts = 0  # depth of `assert` statements around this point
        self._bounded_names: dict[tuple[str, int], bool | None] = {}  # None: being judged
        self._bounded_loops: dict[int, bool] = {}

    # -- scopes ------------------------------------------------------------

    def _push_scope(self, kind: str) -> None:
        self._scope = _Scope(kind, self._scope)
        self._scopes.append(self._scope)

    def _pop_scope(self) -> None:
        assert self._scope.parent is not None
        self._scope = self._scope.parent

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._bind(node.name.value, "other")
        self._push_scope("function")
        self._bind_parameters(node.params)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._pop_scope()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._push_scope("function")
        self._bind_parameters(node.params)

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._pop_scope()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._bind(node.name.value, "other")
        self._push_scope("class")

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._pop_scope()

    def visit_Global(self, node: cst.Global) -> None:
        self._scope.globals.update(item.name.value for item in node.names)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        self._scope.nonlocals.update(item.name.value for item in node.names)

    # -- loops -------------------------------------------------------------

    def visit_For_body(self, node: cst.For) -> None:
        self._scope.loops.append(_Loop(iterables=(node.iter,), scope=self._scope, in_assert=self._asserts > 0))

    def leave_For_body(self, node: cst.For) -> None:
        self._scope.loops.pop()

    def visit_While_test(self, node: cst.While) -> None:
        self._scope.loops.append(_Loop(scope=self._scope, in_assert=self._asserts > 0))

    def leave_While_body(self, node: cst.While) -> None:
        self._scope.loops.pop()

    def _enter_comprehension(self, node: cst.BaseComp) -> None:
        names: set[str] = set()
        iterables = []
        for_in: cst.CompFor | None = node.for_in
        while for_in is not None:
            names.update(target_names(for_in.target))
            iterables.append(for_in.iter)
            for_in = for_in.inner_for_in
        self._scope.loops.append(
            _Loop(frozenset(names), node.for_in, iterables=tuple(iterables), scope=self._scope, in_assert=self._asserts > 0)
        )

    def visit_Assert(self, node: cst.Assert) -> None:
        self._asserts += 1

    def leave_Assert(self, original_node: cst.Assert) -> None:
        self._asserts -= 1

    def _leave_comprehension(self) -> None:
        self._scope.loops.pop()

    def visit_ListComp(self, node: cst.ListComp) -> None:
        self._enter_comprehension(node)

    def visit_SetComp(self, node: cst.SetComp) -> None:
        self._enter_comprehension(node)

    def visit_DictComp(self, node: cst.DictComp) -> None:
        self._enter_comprehension(node)

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> None:
        self._enter_comprehension(node)

    def leave_ListComp(self, original_node: cst.ListComp) -> None:
        self._leave_comprehension()

    def leave_SetComp(self, original_node: cst.SetComp) -> None:
        self._leave_comprehension()

    def leave_DictComp(self, original_node: cst.DictComp) -> None:
        self._leave_comprehension()

    def leave_GeneratorExp(self, original_node: cst.GeneratorExp) -> None:
        self._leave_comprehension()

    def visit_CompFor_iter(self, node: cst.CompFor) -> None:
        # The first `iter` of a comprehension runs once, in the enclosing scope.
        # It is visited right after the comprehension's target: its loop is on top.
        if self._scope.loops and self._scope.loops[-1].first_for is node:
            self._scope.loops[-1].active = False

    def leave_CompFor_iter(self, node: cst.CompFor) -> None:
        if self._scope.loops and self._scope.loops[-1].first_for is node:
            self._scope.loops[-1].active = True

    # -- bindings and changes ------------------------------------------------

    def _bind(
        self,
        name: str,
        kind: str,
        evidence: Callable[[], str] = _describe(),
        *,
        rebinds: bool = True,
        growth: str | None = None,
        value: cst.BaseExpression | None = None,
        added: cst.BaseExpression | None = None,
        config: bool = False,
    ) -> None:
        scope = self._module if name in self._scope.globals else self._scope
        self._order += 1
        scope.bindings.setdefault(name, []).append(_Binding(kind, evidence, self._order, value, config))
        self._change(name, rebinds=rebinds, growth=growth, added=added)

    def _change(
        self, name: str, *, rebinds: bool, growth: str | None = None, added: cst.BaseExpression | None = None
    ) -> None:
        if any(name in loop.names for loop in self._scope.loops if loop.active):
            return  # a comprehension's own variable
        self._order += 1
        self._changes.append(_Change(name, self._scope, self._scope.active_loops(), self._order, rebinds, growth, added))

    def _bind_target(
        self,
        target: cst.BaseExpression,
        kind: str,
        evidence: Callable[[], str] = _describe(),
        value: cst.BaseExpression | None = None,
    ) -> None:
        if type(target) is cst.Name:
            self._bind(target.value, kind, evidence, value=value)
        elif type(target) in (cst.Tuple, cst.List):
            for element in target.elements:
                self._bind_target(element.value, "other")
        elif type(target) is cst.StarredElement:
            self._bind_target(target.value, "other")
        elif type(target) is cst.Subscript and type(target.value) is cst.Name:
            self._change(target.value.value, rebinds=False)  # names[i] = ...

    def _bind_parameters(self, params: cst.Parameters) -> None:
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            annotation = param.annotation.annotation if param.annotation is not None else None
            if annotation is not None and self._is_list_annotation(annotation):
                self._bind(param.name.value, "list", _describe("a parameter annotated `{}`", annotation))
            else:
                self._bind(param.name.value, "other")
        for star in (params.star_arg, params.star_kwarg):
            if type(star) is cst.Param:
                self._bind(star.name.value, "other")

    def visit_Assign(self, node: cst.Assign) -> None:
        self._assigning.append(frozenset(n for t in node.targets for n in target_names(t.target)))
        for target in node.targets:
            if type(target.target) is cst.Name and self._is_self_extension(target.target.value, node.value):
                # `names = names + [x]`: grows the list it was.
                value = node.value
                assert type(value) is cst.BinaryOperation
                added = value.right if type(value.left) is cst.Name and value.left.value == target.target.value else value.left
                self._bind(target.target.value, "neutral", rebinds=False, growth="+", added=added)
            else:
                kind = self._value_kind(node.value)
                self._bind_target(target.target, kind, _describe("built by `{}`", node.value), node.value)

    def leave_Assign(self, original_node: cst.Assign) -> None:
        self._assigning.pop()

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._assigning.append(frozenset(target_names(node.target)))
        if node.value is None:
            if type(node.target) is cst.Name:  # `names: list[str]` only declares the name
                self._bind(node.target.value, "neutral", rebinds=False)
            return
        kind = self._value_kind(node.value)
        evidence = _describe("built by `{}`", node.value)
        annotation = node.annotation.annotation
        if kind == "other" and self._is_list_annotation(annotation) and not is_none(node.value):
            kind, evidence = "list", _describe("annotated `{}`", annotation)
        self._bind_target(node.target, kind, evidence)

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        self._assigning.pop()

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._assigning.append(frozenset(target_names(node.target)))
        target = node.target
        if type(target) is cst.Name:
            grows = "+=" if type(node.operator) is cst.AddAssign else None
            self._bind(target.value, "neutral" if grows else "other", rebinds=False, growth=grows, added=node.value)
        elif type(target) is cst.Subscript and type(target.value) is cst.Name:
            self._change(target.value.value, rebinds=False)

    def leave_AugAssign(self, original_node: cst.AugAssign) -> None:
        self._assigning.pop()

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        if type(node.target) is cst.Name:
            self._bind(node.target.value, self._value_kind(node.value), _describe("built by `{}`", node.value))

    def visit_Del(self, node: cst.Del) -> None:
        self._delete(node.target)

    def _delete(self, target: cst.BaseExpression) -> None:
        if type(target) is cst.Name:
            self._bind(target.value, "neutral")
        elif type(target) in (cst.Tuple, cst.List):
            for element in target.elements:
                self._delete(element.value)
        elif type(target) is cst.Subscript and type(target.value) is cst.Name:
            self._change(target.value.value, rebinds=False)  # del names[i]

    def visit_For(self, node: cst.For) -> None:
        self._bind_target(node.target, "other")

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind_target(node.asname.name, "other")

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._bind_target(node.name.name, "other")

    def visit_ExceptStarHandler(self, node: cst.ExceptStarHandler) -> None:
        if node.name is not None:
            self._bind_target(node.name.name, "other")

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            local = alias.evaluated_alias or alias.evaluated_name.split(".")[0]
            configuration = alias.evaluated_alias is not None or "." not in alias.evaluated_name
            configuration = configuration and _is_config_module(alias.evaluated_name)
            self._bind(local, "other", config=configuration)  # `import config as cfg`

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if type(node.names) is cst.ImportStar:
            return
        module = dotted_name(node.module) if node.module is not None else None
        for alias in node.names:
            # `from model.config import cfg`, `from . import config`
            source = module if module is not None else alias.evaluated_name
            self._bind(alias.evaluated_alias or alias.evaluated_name, "other", config=_is_config_module(source))

    def visit_MatchAs(self, node: cst.MatchAs) -> None:
        if node.name is not None:
            self._bind(node.name.value, "other")

    def visit_MatchStar(self, node: cst.MatchStar) -> None:
        if node.name is not None:
            self._bind(node.name.value, "other")

    def visit_MatchMapping(self, node: cst.MatchMapping) -> None:
        if node.rest is not None:
            self._bind(node.rest.value, "other")

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if type(func) is cst.Attribute and type(func.value) is cst.Name:
            method = func.attr.value
            if method in _GROWERS:
                added = node.args[0].value if method == "extend" and node.args else None
                self._change(func.value.value, rebinds=False, growth=f".{method}(...)", added=added)
            elif method in _SHRINKERS:
                self._change(func.value.value, rebinds=False)

    # -- membership tests --------------------------------------------------

    def visit_Name(self, node: cst.Name) -> None:
        self._occurrences[node.value] = self._occurrences.get(node.value, 0) + 1

    def visit_Comparison(self, node: cst.Comparison) -> None:
        for target in node.comparisons:
            if type(target.operator) in (cst.In, cst.NotIn) and type(target.comparator) is cst.Name:
                name = target.comparator.value
                self._membership_uses[name] = self._membership_uses.get(name, 0) + 1
        loops = self._scope.active_loops()
        if not loops:
            return
        left: cst.BaseExpression = node.left
        for target in node.comparisons:
            container = target.comparator
            operator = target.operator
            if type(operator) in (cst.In, cst.NotIn) and type(container) is cst.Name:
                name = container.value
                if not any(name in loop.names for loop in loops) and not any(name in a for a in self._assigning):
                    op = "in" if type(operator) is cst.In else "not in"
                    self._order += 1
                    self._memberships.append(_Membership(node, left, op, name, self._scope, loops, self._order))
            left = container

    # -- judging, once every binding is known --------------------------------

    def leave_Module(self, original_node: cst.Module) -> None:
        self._mark_nonlocal_rebindings()
        changes: dict[tuple[str, int], list[_Change]] = {}
        for change in self._changes:
            scope = self._resolve(change.name, change.scope)
            if scope is not None:
                changes.setdefault((change.name, id(scope)), []).append(change)
        reported: set[int] = set()
        for membership in self._memberships:
            if id(membership.node) in reported:
                continue
            scope = self._resolve(membership.name, membership.scope)
            if scope is None:
                continue
            evidence = self._evidence(membership, scope, changes.get((membership.name, id(scope)), []))
            if evidence is None:
                continue
            reported.add(id(membership.node))
            name = membership.name
            self.report(
                membership.node,
                f"`{code_of(membership.left, 40)} {membership.operator} {name}` tests membership in the list `{name}` ({evidence}) on every "
                f"iteration: O(len({name})) each time, O(n·m) in all — this is how building Flickr30k "
                f"TFRecords took hours. Build a set once, before the loop: `{name} = set({name})`",
                self._set_fix(name, scope),
            )

    def _set_fix(self, name: str, scope: _Scope) -> Fix | None:
        """Build a set instead of the list, where that is mechanical: one binding, and the
        name used nowhere in the module but there and in membership tests."""
        bindings = scope.bindings.get(name, [])
        if len(bindings) != 1 or bindings[0].kind != "list" or bindings[0].value is None:
            return None
        if self._occurrences.get(name, 0) != 1 + self._membership_uses.get(name, 0):
            return None
        value = bindings[0].value
        if type(value) is cst.ListComp:
            new: cst.BaseExpression = cst.SetComp(elt=value.elt, for_in=value.for_in, lpar=value.lpar, rpar=value.rpar)
        elif (
            type(value) is cst.Call
            and self.names.qualify(value.func) in ("builtins.list", "builtins.sorted")
            and len(value.args) == 1
            and value.args[0].keyword is None
            and not value.args[0].star
        ):
            new = value.with_changes(func=cst.Name("set"))
        else:
            new = cst.Call(func=cst.Name("set"), args=[cst.Arg(value)])
        return Fix(f"build `{name}` as a set", Applicability.UNSAFE, ((value, new),))

    def _evidence(self, membership: _Membership, scope: _Scope, changes: list[_Change]) -> str | None:
        """What makes `name` a large list that the loop leaves alone; None when it is not one."""
        bindings = scope.bindings[membership.name]
        if any(b.kind == "other" for b in bindings):
            return None
        # Changed within the membership loop: rebuilt, or grown on purpose (dedupe).
        innermost = membership.loops[-1]
        if any(innermost in change.loops for change in changes):
            return None
        # An outer loop may rebuild the list (fine: a set can be built there too),
        # but not change it in place.
        for loop in reversed(membership.loops[:-1]):
            inside = [change for change in changes if loop in change.loops]
            if any(change.rebinds for change in inside):
                break
            if inside:
                return None
        evidence = self._list_evidence(membership, bindings, changes)
        if evidence is None:
            return None
        # O(n·m) needs both sides to grow with the data: not a check in an `assert`, run
        # once where it stands; not a loop over a handful of items; not a list that the
        # code or its configuration sizes (one entry per learning-rate step).
        if all(loop.in_assert for loop in membership.loops):
            return None
        if all(self._loop_is_bounded(loop) for loop in membership.loops):
            return None
        if self._name_is_bounded(membership.name, scope):
            return None
        return evidence

    def _list_evidence(self, membership: _Membership, bindings: list[_Binding], changes: list[_Change]) -> str | None:
        """How the list the membership test reads was built: the binding in effect before it."""
        lists = [b for b in bindings if b.kind == "list"]
        built = [b for b in bindings if b.kind in ("list", "empty")]
        before = [b for b in built if b.order < membership.order]
        current = before[-1] if before else (built[0] if built else None)
        if current is None:
            return None
        if current.kind == "empty":
            for change in changes:
                if (
                    change.growth
                    and change.order < membership.order
                    and any(loop not in membership.loops for loop in change.loops)
                ):
                    how = "`+=`" if change.growth in ("+=", "+") else f"`{change.growth}`"
                    return f"built from `[]` with {how} in an earlier loop"
            if not lists:
                return None
            before = [b for b in lists if b.order < membership.order]
            current = before[-1] if before else lists[0]
        return current.evidence()

    # -- what sizes a list: the data, or the code and its configuration ----------

    def _loop_is_bounded(self, loop: _Loop) -> bool:
        """Whether the loop runs a number of times that the code fixes (a handful of literals,
        a short literal `range`, a configuration list), not one that the data decides."""
        known = self._bounded_loops.get(id(loop))
        if known is None:
            known = (
                loop.iterables is not None
                and loop.scope is not None
                and all(self._is_bounded(iterable, loop.scope, loop.names) for iterable in loop.iterables)
            )
            self._bounded_loops[id(loop)] = known
        return known

    def _name_is_bounded(self, name: str, scope: _Scope) -> bool:
        """Every binding of the name is sized by the code, and so is every way it grows."""
        key = (name, id(scope))
        if key in self._bounded_names:
            judged = self._bounded_names[key]
            return True if judged is None else judged  # in a cycle, the other bindings decide
        self._bounded_names[key] = None
        bounded = self._judge_name(name, scope)
        self._bounded_names[key] = bounded
        return bounded

    def _judge_name(self, name: str, scope: _Scope) -> bool:
        sized = False
        for binding in scope.bindings.get(name, []):
            if binding.kind == "neutral":
                continue
            if binding.config:
                sized = True
            elif binding.kind == "empty":
                sized = True
            elif binding.value is None or not self._is_bounded(binding.value, scope):
                return False
            else:
                sized = True
        if not sized:
            return False
        for change in self._changes:
            if change.name != name or change.growth is None or self._resolve(name, change.scope) is not scope:
                continue
            if not all(self._loop_is_bounded(loop) for loop in change.loops):
                return False
            if change.added is not None and not self._is_bounded(change.added, change.scope):
                return False
        return True

    def _is_bounded(self, expr: cst.BaseExpression, scope: _Scope, local: frozenset[str] = frozenset()) -> bool:
        """Whether iterating `expr` gives a number of items that the code fixes."""
        if type(expr) in (cst.List, cst.Tuple, cst.Set):
            return len(expr.elements) <= _SMALL_DISPLAY and not any(
                type(e) is cst.StarredElement for e in expr.elements
            )
        if type(expr) is cst.Dict:
            return len(expr.elements) <= _SMALL_DISPLAY and all(type(e) is cst.DictElement for e in expr.elements)
        if type(expr) in (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp):
            names = set(local)
            for_in: cst.CompFor | None = expr.for_in
            while for_in is not None:
                if not self._is_bounded(for_in.iter, scope, frozenset(names)):
                    return False
                names.update(target_names(for_in.target))
                for_in = for_in.inner_for_in
            return True
        if type(expr) is cst.BinaryOperation and type(expr.operator) is cst.Add:
            return self._is_bounded(expr.left, scope, local) and self._is_bounded(expr.right, scope, local)
        if type(expr) is cst.IfExp:
            return self._is_bounded(expr.body, scope, local) and self._is_bounded(expr.orelse, scope, local)
        if type(expr) is cst.Call:
            return self._call_is_bounded(expr, scope, local)
        if type(expr) is cst.Name:
            if expr.value in local:
                return False
            resolved = self._resolve(expr.value, scope)
            return resolved is not None and self._name_is_bounded(expr.value, resolved)
        if type(expr) in (cst.Attribute, cst.Subscript):
            return self._is_configuration(expr, scope, local)
        return False

    def _call_is_bounded(self, call: cst.Call, scope: _Scope, local: frozenset[str]) -> bool:
        qualified = self.names.qualify(call.func)
        positional = [arg.value for arg in call.args if arg.keyword is None and not arg.star]
        if qualified == "builtins.range":
            numbers = [_integer(arg) for arg in positional]
            if positional and all(n is not None for n in numbers):
                try:
                    return len(range(*numbers)) <= _FEW  # type: ignore[arg-type]
                except (TypeError, ValueError):
                    return False
            return len(positional) == 1 and self._is_size_of_bounded(positional[0], scope, local)
        if qualified == "builtins.zip":  # as long as the shortest
            return any(self._is_bounded(arg, scope, local) for arg in positional)
        if qualified in _SAME_SIZE_CALLS or (qualified is None and dotted_name(call.func) in ("iteritems", "itervalues")):
            return bool(positional) and self._is_bounded(positional[0], scope, local)
        func = call.func
        if type(func) is cst.Attribute and func.attr.value in _SAME_SIZE_METHODS and not call.args:
            return self._is_bounded(func.value, scope, local)
        return False

    def _is_size_of_bounded(self, expr: cst.BaseExpression, scope: _Scope, local: frozenset[str]) -> bool:
        """`len(x)` of a bounded `x`, or a number from the configuration."""
        if type(expr) is cst.Call and self.names.qualify(expr.func) == "builtins.len" and len(expr.args) == 1:
            return self._is_bounded(expr.args[0].value, scope, local)
        return type(expr) in (cst.Attribute, cst.Subscript) and self._is_configuration(expr, scope, local)

    def _is_configuration(self, expr: cst.BaseExpression, scope: _Scope, local: frozenset[str]) -> bool:
        """`cfg.TRAIN.STEPSIZE`, `FLAGS.scales`, `config["steps"]`: a value of the project's
        configuration module or its command-line flags."""
        qualified = self.names.qualify(expr) if type(expr) is cst.Attribute else None
        if qualified is not None and (qualified.endswith(".FLAGS") or ".FLAGS." in qualified):
            return True
        root = expr
        while type(root) in (cst.Attribute, cst.Subscript):
            root = root.value
        if type(root) is not cst.Name or root.value in local:
            return False
        resolved = self._resolve(root.value, scope)
        if resolved is None:
            return False
        bindings = [b for b in resolved.bindings.get(root.value, []) if b.kind != "neutral"]
        return bool(bindings) and all(
            b.config or (b.value is not None and type(b.value) is not cst.Name and self._is_flags(b.value))
            for b in bindings
        )

    def _is_flags(self, value: cst.BaseExpression) -> bool:
        qualified = self.names.qualify(value)
        return qualified is not None and qualified.endswith(".FLAGS")

    def _resolve(self, name: str, scope: _Scope) -> _Scope | None:
        """The scope whose binding of `name` code in `scope` reads; None when unknown."""
        current: _Scope | None = scope
        first = True
        while current is not None:
            if current.kind == "module":
                return current if name in current.bindings else None
            if name in current.globals:
                return self._module if name in self._module.bindings else None
            if name in current.nonlocals:
                return None
            if (first or current.kind == "function") and name in current.bindings:
                return current
            first = False
            current = current.parent
        return None

    def _mark_nonlocal_rebindings(self) -> None:
        """A nested function that rebinds a `nonlocal` name makes it unpredictable."""
        for scope in self._scopes:
            for name in scope.nonlocals & scope.bindings.keys():
                outer = scope.parent
                while outer is not None and outer.kind != "module":
                    if outer.kind == "function" and name in outer.bindings and name not in outer.nonlocals:
                        outer.bindings[name].append(_Binding("other", _describe(), 0))
                        break
                    outer = outer.parent

    # -- what a value is -----------------------------------------------------

    def _value_kind(self, value: cst.BaseExpression) -> str:
        if type(value) is cst.ListComp:
            return "list"
        if type(value) is cst.List:
            if not value.elements:
                return "empty"
            if any(type(e) is cst.StarredElement for e in value.elements):
                return "list"
            return "list" if len(value.elements) > _SMALL_DISPLAY else "other"
        if type(value) is cst.Call:
            qualified = self.names.qualify(value.func)
            if qualified in _LIST_FUNCTIONS:
                return "empty" if qualified == "builtins.list" and not value.args else "list"
            if tf_symbol(qualified) in _TF_LIST_FUNCTIONS:
                return "list"
            if (qualified is None or qualified.startswith("builtins.")) and method_name(value) in _LIST_METHODS:
                return "list"  # `f.readlines()`, `line.split()`, `arr.tolist()`; not `os.path.split`
            return "other"
        if type(value) is cst.BinaryOperation and type(value.operator) is cst.Add:
            if "list" in (self._value_kind(value.left), self._value_kind(value.right)):
                return "list"
            return "other"
        if type(value) is cst.IfExp:
            kinds = {self._value_kind(value.body), self._value_kind(value.orelse)}
            return "list" if kinds <= {"list", "empty"} and "list" in kinds else "other"
        return "other"

    def _is_self_extension(self, name: str, value: cst.BaseExpression) -> bool:
        """`name + [...]` or `[...] + name`."""
        if not (type(value) is cst.BinaryOperation and type(value.operator) is cst.Add):
            return False
        sides = (value.left, value.right)
        return any(type(s) is cst.Name and s.value == name for s in sides) and any(
            type(s) in (cst.List, cst.ListComp) for s in sides
        )

    def _is_list_annotation(self, annotation: cst.BaseExpression) -> bool:
        literal = string_value(annotation)
        if literal is not None:  # "list[str]"
            try:
                annotation = cst.parse_expression(literal)
            except cst.ParserSyntaxError:
                return False
        if type(annotation) is cst.BinaryOperation and type(annotation.operator) is cst.BitOr:
            sides = (annotation.left, annotation.right)  # list[str] | None
            return any(self._is_list_annotation(s) for s in sides) and any(is_none(s) for s in sides)
        if type(annotation) is cst.Subscript:
            base = annotation.value
            if self._qualified_type(base) == "typing.Optional" and len(annotation.slice) == 1:
                element = annotation.slice[0].slice
                return type(element) is cst.Index and self._is_list_annotation(element.value)
            annotation = base
        return self._qualified_type(annotation) in _LIST_ANNOTATIONS

    def _qualified_type(self, expr: cst.BaseExpression) -> str | None:
        qualified = self.names.qualify(expr)
        if qualified is None and dotted_name(expr) in ("List", "Optional", "typing.List", "typing.Optional"):
            # A snippet without its `from typing import List`.
            return "typing." + dotted_name(expr).rpartition(".")[2]
        return qualified



