"""DL701 argparse-type-bool."""

from __future__ import annotations

import libcst as cst

from dldoctor.lint.finding import Severity
from dldoctor.lint.rule import Applicability, Fix, Rule
from dldoctor.lint.syntax import call_argument, keyword_argument, method_name, string_value

# Keywords that `action="store_true"` / `BooleanOptionalAction` refuse, or that
# mean something the flag's new form cannot keep: no mechanical fix with them.
_NO_FIX_KEYWORDS = {"nargs", "const", "choices", "metavar", "required", "dest"}
_FALSE_DEFAULTS = {"False", "None"}


class ArgparseTypeBool(Rule):
    """
    ## What it does
    Finds `add_argument(..., type=bool)` on an `argparse` parser, argument group or
    subparser.

    ## Why is this bad
    argparse converts the text given on the command line with the `type` callable,
    and `bool` of any non-empty string is `True`: `bool("False")`, `bool("0")` and
    `bool("no")` are all true. A multi-GPU trainer ported from `tf.app.flags` to
    argparse with

        parser.add_argument("--log_device_placement", type=bool, default=False)

    turns placement logging ON when run with `--log_device_placement False`, and the
    log fills with a line per op per step. Nothing fails; the flag just cannot be
    switched off from the command line.

    ## Example
    ```python
    parser.add_argument("--log_device_placement", type=bool, default=False,
                        help="Whether to log device placement.")
    ```

    ## Use instead
    ```python
    parser.add_argument("--log_device_placement", action="store_true",
                        help="Whether to log device placement.")
    ```
    `--log_device_placement` switches it on; leaving it out keeps it off. For a flag
    that defaults to on, `action=argparse.BooleanOptionalAction` (Python 3.9+) gives
    `--x` / `--no-x`.

    ## Fix safety
    Unsafe: the command line changes. `type=bool` becomes `action="store_true"` when
    the default is absent, `False` or `None` (an absent flag is then `False`, not
    `None`), and `action=argparse.BooleanOptionalAction` when the default is anything
    else (where `store_true` would make the flag always on), provided `argparse` or
    `BooleanOptionalAction` is imported under that name. Either way, scripts that pass
    `--flag True` must drop the value (`--flag` / `--no-flag`). No fix is offered for
    positional arguments or with `nargs`, `const`, `choices`, `metavar`, `required` or
    `dest`.
    """

    code = "DL701"
    name = "argparse-type-bool"
    severity = Severity.WARNING
    summary = "argparse type=bool: bool('False') is True, so '--flag False' turns the flag on"
    triggers = ("bool",)
    also_triggers = ("add_argument",)

    VALID = (
        "import argparse\nparser = argparse.ArgumentParser()\n"
        "parser.add_argument('--log_device_placement', action='store_true')\n",
        "import argparse\nparser = argparse.ArgumentParser()\n"
        "parser.add_argument('--fp16', action=argparse.BooleanOptionalAction, default=True)\n",
        "import argparse\nparser = argparse.ArgumentParser()\nparser.add_argument('--lr', type=float, default=0.1)\n",
        "from distutils.util import strtobool\n"
        "parser.add_argument('--pretrained', type=lambda s: bool(strtobool(s)), default=False)\n",
        # A project's own `bool`.
        "def bool(text):\n    return text.lower() in ('1', 'true', 'yes')\nparser.add_argument('--eval', type=bool)\n",
    )
    INVALID = (
        "import argparse\nparser = argparse.ArgumentParser()\n"
        "parser.add_argument('--log_device_placement', type=bool, default=False,\n"
        "                    help='Whether to log device placement.')\n",
        "import argparse\nparser = argparse.ArgumentParser()\ngroup = parser.add_argument_group('model')\n"
        "group.add_argument('--pretrained', type=bool, default=True)\n",
        "parser.add_argument('--use_cuda', default=True, type=bool, help='train on GPU')\n",
    )

    def visit_Call(self, node: cst.Call) -> None:
        if method_name(node) != "add_argument":
            return
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == "type" and self.names.qualify(arg.value) == "builtins.bool":
                break
        else:
            return
        flag = string_value(call_argument(node, 0, None))
        shown = f"`{flag}`" if flag else "this argument"
        self.report(
            arg,
            f"`type=bool` makes argparse call `bool()` on the command-line text, and `bool(\"False\")` is True: "
            f"{shown} is on for any value given (`{flag or '--flag'} False` turns it ON); use "
            "`action=\"store_true\"` (or `argparse.BooleanOptionalAction` for a flag that defaults to on)",
            self._fix(node, arg, flag),
        )

    def _fix(self, node: cst.Call, type_arg: cst.Arg, flag: str | None) -> Fix | None:
        if flag is None or not flag.startswith("-") or unplaceable_args(node):
            return None
        if any(arg.keyword is not None and arg.keyword.value in _NO_FIX_KEYWORDS for arg in node.args):
            return None
        default = keyword_argument(node, "default")
        if default is None or (type(default) is cst.Name and default.value in _FALSE_DEFAULTS):
            quote = _quote_of(call_argument(node, 0, None))
            action: cst.BaseExpression = cst.SimpleString(f"{quote}store_true{quote}")
            description = 'replace type=bool with action="store_true"'
        else:
            action = self._boolean_optional_action()
            if action is None:
                return None
            description = "replace type=bool with action=argparse.BooleanOptionalAction (--flag / --no-flag)"
        args = [arg.with_changes(keyword=cst.Name("action"), value=action) if arg is type_arg else arg for arg in node.args]
        return Fix(description, Applicability.UNSAFE, ((node, node.with_changes(args=args)),))

    def _boolean_optional_action(self) -> cst.BaseExpression | None:
        """`argparse.BooleanOptionalAction` as this module can spell it, or None."""
        if self.names.qualify(cst.Name("BooleanOptionalAction")) == "argparse.BooleanOptionalAction":
            return cst.Name("BooleanOptionalAction")
        if self.names.qualify(cst.Name("argparse")) == "argparse":
            return cst.Attribute(value=cst.Name("argparse"), attr=cst.Name("BooleanOptionalAction"))
        return None


def unplaceable_args(call: cst.Call) -> bool:
    """Whether a `*args` / `**kwargs` splat may pass keywords the fix would clash with."""
    return any(arg.star for arg in call.args)


def _quote_of(literal: cst.BaseExpression | None) -> str:
    """The quote character the flag's own string literal uses (`'` or `"`)."""
    if type(literal) is cst.SimpleString and literal.quote in ("'", '"'):
        return literal.quote
    return '"'
