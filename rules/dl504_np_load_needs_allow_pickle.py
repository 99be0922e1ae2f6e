"""DL504 np-load-needs-allow-pickle."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from dldoctor.lint import target as target_environment
from dldoctor.lint.bindings import Bindings, BlockHooks
from dldoctor.lint.finding import Severity
from dldoctor.lint.names import dotted_name
from dldoctor.lint.rule import Rule
from dldoctor.lint.syntax import call_argument, code_of, keyword_argument, string_value, target_names

_NP_LOAD = "numpy.load"
_NP_SAVES = {"numpy.save"}
# The NumPy release whose `np.load` stopped unpickling object arrays by default.
_REFUSES_SINCE = (1, 16, 3)
# What a Python container is used for: the object a 0-d object array holds.
_CONTAINER_METHODS = {"items", "keys", "values", "get", "iteritems", "iterkeys", "itervalues", "update", "pop"}
_CONTAINER_FUNCTIONS = {"builtins.dict", "builtins.sorted", "builtins.list", "six.iteritems", "six.iterkeys",
                        "six.itervalues"}
# `np.load`'s `encoding` matters only for Python 2 pickles; ASCII is its default.
_DEFAULT_ENCODING = "ascii"


@dataclass(frozen=True)
class _Loaded:
    """The array `np.load` returned (`load`), or the Python object taken out of it
    (`np.load(p).item()`, `np.load(p)[()]`: `unwrapped`)."""

    load: cst.Call
    unwrapped: bool = False
    how: str = ""  # `.item()` or `[()]`


class NpLoadNeedsAllowPickle(BlockHooks, Rule):
    """
    ## What it does
    Finds `np.load` of a file that holds a pickled Python object, without
    `allow_pickle=True`. The evidence is in the same file:

    - the loaded array is unwrapped into a Python object, `np.load(path).item()` or
      `np.load(path)[()]`, and that object is used as a container (`[key]`,
      `.items()`, `.keys()`, iterated, `dict(...)`), directly or through a name or
      `self.<attribute>`: the way TF1 projects read weights saved as
      `np.save("vgg16.npy", {"conv1_1": [W, b], ...})`;
    - `np.load(path, encoding="latin1")` (or `"bytes"`): `encoding` only matters for
      the Python 2 pickles inside object arrays;
    - the module saves a dict to that path with `np.save(path, {...})` (the same path
      expression in both calls).

    Not reported: a call with `allow_pickle` given (a `**kwargs` that may carry it), an
    `.item()` whose value is used as a number (a saved scalar, which needs no pickle),
    a `.npz` archive read by key, and a target NumPy older than 1.16.3. What another
    module saved, or loads, is not seen.

    ## Why is this bad
    Since NumPy 1.16.3 `allow_pickle` defaults to `False`, and a file holding an
    object array (a dict, a list of arrays of different shapes) is refused at load:

        ValueError: Object arrays cannot be loaded when allow_pickle=False

    Code written for older NumPy (pretrained-weight loaders of AlexNet, VGG, facenet
    and many TF1 repositories) crashes on first use in any environment of the last
    years.

    ## Example
    ```python
    weights_dict = np.load("bvlc_alexnet.npy", encoding="bytes").item()
    for op_name in weights_dict:
        ...
    ```

    ## Use instead
    ```python
    # The file is yours or from a source you trust: unpickling it can run code.
    weights_dict = np.load("bvlc_alexnet.npy", encoding="bytes", allow_pickle=True).item()
    ```
    Better, re-save the weights once as plain arrays, `np.savez("alexnet.npz",
    **{f"{op}/{i}": a for op, arrays in weights_dict.items() for i, a in
    enumerate(arrays)})`, and load those with the default `allow_pickle=False`.

    ## Fix safety
    No automatic fix: `allow_pickle=True` lets the file run code when it is loaded
    (DL502 reports it), so whether to trust the file, or to convert it, is the
    project's decision.
    """

    code = "DL504"
    name = "np-load-needs-allow-pickle"
    severity = Severity.ERROR
    summary = "np.load of a pickled object (`.item()`, `[()]`, encoding=) without allow_pickle=True: ValueError on NumPy >= 1.16.3"
    triggers = ("load",)
    also_triggers = (".item()", "[()]", "encoding", "save")
    reads_installed = (("numpy",),)

    VALID = (
        "import numpy as np\nfeatures = np.load('features.npy')\nmean = features.mean(axis=0)\n",
        "import numpy as np\nweights = np.load('vgg16.npy', allow_pickle=True).item()\nw = weights['conv1_1'][0]\n",
        "import numpy as np\nbest_acc = np.load('best_acc.npy').item()\nif acc > best_acc:\n    np.save('best_acc.npy', acc)\n",
        "import numpy as np\ndata = np.load('train.npz')\nx, y = data['x'], data['y']\n",
    )
    INVALID = (
        "import numpy as np\nweights = np.load('vgg16.npy').item()\nfor name, (w, b) in weights.items():\n    print(name, w.shape)\n",
        "import numpy as np\nweights_dict = np.load(path, encoding='bytes').item()\n",
        "import numpy as np\nconfig = np.load(config_path)[()]\nlr = config['lr']\n",
        "import numpy as np\nnp.save('meta.npy', {'classes': classes, 'mean': mean})\nmeta = np.load('meta.npy')\n",
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self.bindings = Bindings()
        self._attributes: dict[str, _Loaded] = {}  # `self.weights` -> what was loaded into it (any class)
        self._reported: set[int] = set()
        self._loads: list[cst.Call] = []  # every np.load without allow_pickle, for the saved-dict evidence
        self._saved_dicts: set[str] = set()  # the path expressions `np.save` wrote a dict to
        self._dicts: set[str] = set()  # names bound to a dict (module-wide, for `np.save(path, d)`)

    # -- scopes and bindings -----------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.bindings.bind(node.name.value, None)
        params = [p.name.value for p in (*node.params.posonly_params, *node.params.params, *node.params.kwonly_params)]
        self.bindings.enter_function(params)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.bindings.leave_function()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.bindings.enter_function([p.name.value for p in node.params.params])

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.bindings.leave_function()

    def leave_Assign(self, original_node: cst.Assign) -> None:
        value = original_node.value
        meaning = self._loaded(value)
        for target in original_node.targets:
            self._bind(target.target, meaning)
            if type(value) in (cst.Dict, cst.DictComp) or (
                type(value) is cst.Call and self.names.qualify(value.func) == "builtins.dict"
            ):
                name = dotted_name(target.target)
                if name is not None:
                    self._dicts.add(name)

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        self._bind(original_node.target, self._loaded(original_node.value) if original_node.value is not None else None)

    def leave_AugAssign(self, original_node: cst.AugAssign) -> None:
        self._bind(original_node.target, None)

    def visit_For(self, node: cst.For) -> None:
        self._container_use(node.iter)
        self._bind(node.target, None)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind(node.asname.name, None)

    def _bind(self, target: cst.BaseExpression, meaning: _Loaded | None) -> None:
        if type(target) is cst.Name:
            self.bindings.bind(target.value, meaning)
        elif type(target) is cst.Attribute:
            name = dotted_name(target)
            if name is not None:
                if meaning is not None:
                    self._attributes[name] = meaning
                else:
                    self._attributes.pop(name, None)
        else:
            for name in target_names(target):
                self.bindings.bind(name, None)

    def _loaded(self, expr: cst.BaseExpression | None) -> _Loaded | None:
        """What `expr` holds of an `np.load` without `allow_pickle`: the array, or the object taken out of it."""
        if type(expr) is cst.Name:
            meaning = self.bindings.lookup(expr.value)
            return meaning if isinstance(meaning, _Loaded) else None
        if type(expr) is cst.Attribute:
            name = dotted_name(expr)
            return self._attributes.get(name) if name is not None else None
        if type(expr) is cst.Call:
            if self._is_unguarded_load(expr):
                return _Loaded(expr)
            if type(expr.func) is cst.Attribute and expr.func.attr.value == "item" and not expr.args:
                array = self._loaded(expr.func.value)
                if array is not None and not array.unwrapped:
                    return _Loaded(array.load, True, ".item()")
            return None
        if type(expr) is cst.Subscript and _is_empty_tuple_index(expr):
            array = self._loaded(expr.value)
            if array is not None and not array.unwrapped:
                return _Loaded(array.load, True, "[()]")
        return None

    def _is_unguarded_load(self, call: cst.Call) -> bool:
        if self.names.qualify(call.func) != _NP_LOAD:
            return False
        return keyword_argument(call, "allow_pickle") is None and not any(arg.star == "**" for arg in call.args) and (
            len([arg for arg in call.args if arg.keyword is None and not arg.star]) < 3  # (file, mmap_mode, allow_pickle)
        )

    # -- evidence ----------------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.names.qualify(node.func)
        if qualified == _NP_LOAD and self._is_unguarded_load(node):
            self._loads.append(node)
            encoding = string_value(keyword_argument(node, "encoding"))
            if encoding is not None and encoding.lower().replace("-", "") != _DEFAULT_ENCODING:
                self._report(node, f"`encoding={encoding!r}` is for the Python 2 pickles in object arrays")
            return
        if qualified in _NP_SAVES:
            path, value = call_argument(node, 0, "file"), call_argument(node, 1, "arr")
            if path is not None and value is not None and self._is_dict(value):
                self._saved_dicts.add(code_of(path, 200))
            return
        if qualified in _CONTAINER_FUNCTIONS and node.args:
            self._container_use(node.args[0].value)
            return
        if type(node.func) is cst.Attribute and node.func.attr.value in _CONTAINER_METHODS:
            self._container_use(node.func.value)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if not _is_empty_tuple_index(node):
            self._container_use(node.value)

    def visit_Comparison(self, node: cst.Comparison) -> None:
        for comparison in node.comparisons:
            if type(comparison.operator) in (cst.In, cst.NotIn):
                self._container_use(comparison.comparator)

    def _container_use(self, expr: cst.BaseExpression) -> None:
        loaded = self._loaded(expr)
        if loaded is not None and loaded.unwrapped:
            self._report(
                loaded.load,
                f"the array is unwrapped with `{loaded.how}` and used as a Python container (`{code_of(expr, 40)}`), "
                "so the file holds a pickled object",
            )

    def _is_dict(self, value: cst.BaseExpression) -> bool:
        if type(value) in (cst.Dict, cst.DictComp):
            return True
        if type(value) is cst.Call and self.names.qualify(value.func) == "builtins.dict":
            return True
        name = dotted_name(value)
        return name is not None and name in self._dicts

    def leave_Module(self, original_node: cst.Module) -> None:
        for load in self._loads:
            path = call_argument(load, 0, "file")
            if path is not None and code_of(path, 200) in self._saved_dicts:
                self._report(load, f"this module saves a dict to `{code_of(path, 40)}` with `np.save`, which stores it pickled")

    def _report(self, load: cst.Call, evidence: str) -> None:
        if id(load) in self._reported:
            return
        version = target_environment.current().version("numpy")
        if version is not None and (target_environment.release(version) or _REFUSES_SINCE) < _REFUSES_SINCE:
            return
        self._reported.add(id(load))
        if version is None:
            numpy = "every NumPy since 1.16.3"
        elif target_environment.installed_here(version):
            numpy = f"the installed NumPy, {version}"
        else:
            numpy = f"the target NumPy, {target_environment.shown(version)} ({target_environment.source(version)})"
        self.report(
            load,
            f"`{code_of(load)}` has no `allow_pickle`, but {evidence}: {numpy} refuses object arrays by default "
            "and this raises `ValueError: Object arrays cannot be loaded when allow_pickle=False`; for a file you "
            "trust pass `allow_pickle=True` (unpickling can run code), or re-save the data as plain arrays "
            "(`np.savez`) or JSON",
        )


def _is_empty_tuple_index(node: cst.Subscript) -> bool:
    """`x[()]`."""
    if len(node.slice) != 1 or type(node.slice[0].slice) is not cst.Index:
        return False
    value = node.slice[0].slice.value
    return type(value) is cst.Tuple and not value.elements
