"""Re-parsing only the statements that changed gives the tree, the syntax error and the findings a whole parse gives.

Documents are edited as a user edits them (characters and lines typed and deleted, in
one statement and across several, indentation changed, a string left unterminated, a
syntax error made and repaired), version after version through one `Reparser`, and
each version is compared with a fresh whole parse of its text.
"""

from __future__ import annotations

import sys
from pathlib import Path

import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dldoctor import api
from dldoctor.lint import piecewise, reparse, source

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))

EXAMPLES = sorted((REPO / "examples").rglob("*.py"))
YOLO_TRAIN = REPO / "benchmarks" / "realcode" / ".repos" / "ultralytics__yolov5" / "train.py"

# The shapes of a YOLOv5-style `train.py`: a usage docstring whose lines start at the first
# column, imports in a try, decorators, a backslash continuation, a multi-line call, a
# string table, and the `if __name__` entry point with an `else` at the first column.
YOLO_LIKE = '''"""
Train a YOLOv5 model on a custom dataset.

Usage - Single-GPU training:
    $ python train.py --data coco128.yaml --weights yolov5s.pt --img 640
Models:     https://github.com/ultralytics/yolov5/tree/master/models
"""

import argparse
import math
import os
import random
import sys
from copy import deepcopy
from pathlib import Path

try:
    import comet_ml  # must be imported before torch (if installed)
except ImportError:
    comet_ml = None

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn

FILE = Path(__file__).resolve()
ROOT = FILE.parents[0]  # YOLOv5 root directory
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))  # add ROOT to PATH
LOCAL_RANK = int(os.getenv("LOCAL_RANK", -1))  # https://pytorch.org/docs/stable/elastic/run.html
HELP = """
usage: train.py [-h]
--weights   initial weights path
"""


def smart_optimizer(model, name="Adam", lr=0.001, momentum=0.9, decay=1e-5):
    g = [], [], []  # optimizer parameter groups
    bn = tuple(v for k, v in nn.__dict__.items() if "Norm" in k)  # normalization layers
    for v in model.modules():
        for p_name, p in v.named_parameters(recurse=0):
            if p_name == "bias":  # bias (no decay)
                g[2].append(p)
            elif p_name == "weight" and isinstance(v, bn):
                g[1].append(p)
            else:
                g[0].append(p)
    if name == "Adam":
        optimizer = torch.optim.Adam(g[2], lr=lr, betas=(momentum, 0.999))
    else:
        raise NotImplementedError(f"Optimizer {name} not implemented.")
    return optimizer


@torch.no_grad()
def evaluate(model, loader, device):
    model.eval()
    total = 0
    for images, targets in loader:
        total += (model(images.to(device)).argmax(1) == targets.to(device)).sum().item()
    return total


class ModelEMA:
    """Updated Exponential Moving Average (EMA) from https://github.com/rwightman/pytorch-image-models"""

    def __init__(self, model, decay=0.9999, tau=2000, updates=0):
        self.ema = deepcopy(model).eval()  # FP32 EMA
        self.updates = updates
        self.decay = lambda x: decay * (1 - math.exp(-x / tau))


def train(hyp, opt, device):
    save_dir, epochs, batch_size = Path(opt.save_dir), opt.epochs, opt.batch_size
    data = torch.load(opt.weights, map_location="cpu")
    loss = nn.CrossEntropyLoss()
    lf = lambda x: (1 - x / epochs) * (1.0 - hyp["lrf"]) + hyp["lrf"]  # linear
    nb = len(data) \\
        + 1
    for epoch in range(epochs):
        for i, (imgs, targets) in enumerate(data):
            imgs = imgs.to(device, non_blocking=True).float() / 255
            pred = loss(imgs, targets)
            pred.backward()
    return save_dir, nb, lf


def parse_opt(known=False):
    parser = argparse.ArgumentParser()
    parser.add_argument("--weights", type=str, default=ROOT / "yolov5s.pt", help="initial weights path")
    parser.add_argument(
        "--epochs", type=int, default=100,
        help="total training epochs",
    )
    return parser.parse_known_args()[0] if known else parser.parse_args()


if __name__ == "__main__":
    opt = parse_opt()
    train({"lrf": 0.01}, opt, torch.device("cuda" if torch.cuda.is_available() else "cpu"))
else:
    random.seed(0)
    np.random.seed(0)
'''


def documents() -> list[tuple[str, str]]:
    found = [("yolo-like", YOLO_LIKE)]
    if YOLO_TRAIN.exists():
        found.append(("yolov5 train.py", YOLO_TRAIN.read_text(encoding="utf-8")))
    found += [(path.name, path.read_text(encoding="utf-8")) for path in EXAMPLES if path.stat().st_size]
    return found


DOCUMENTS = documents()


def whole(text: str) -> cst.Module | str:
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        return f"error at {error.raw_line}:{error.raw_column}"


def incremental(reparser: reparse.Reparser, text: str) -> cst.Module | str:
    try:
        return reparser.parse(text, "utf-8")
    except cst.ParserSyntaxError as error:
        return f"error at {error.raw_line}:{error.raw_column}"


def assert_same_parse(reparser: reparse.Reparser, text: str) -> None:
    expected, got = whole(text), incremental(reparser, text)
    if isinstance(expected, str) or isinstance(got, str):
        assert got == expected, text
    else:
        assert got.deep_equals(expected), text
        assert got.code == expected.code  # libcst's own code, which drops a backslash on a blank line
        ids = [id(node) for node in _nodes(got)]
        assert len(ids) == len(set(ids)), "a node appears twice in one tree"
    assert _problem(text, reparser) == _problem(text, None)  # the same DL000, or none


def _problem(text: str, reparser: reparse.Reparser | None):
    try:
        source.parse(text, "utf-8", reparser)
    except source.SourceProblem as problem:
        return problem.message, problem.line, problem.column
    return None


def _nodes(node: cst.CSTNode):
    yield node
    for child in node.children:
        yield from _nodes(child)


# Edits ---------------------------------------------------------------------------------------

_TYPED = st.sampled_from(list("abcxyz_019 .,:()[]{}=+-*#'\"\\\n\t@") + ['"""', "'''", "    ", "\n\n", "else:", "def f():\n    pass\n"])


@st.composite
def edit(draw, text: str) -> str:
    """One change a user makes: characters typed or deleted anywhere (in a statement, across
    statements), a line inserted, deleted, indented or dedented, a string opened."""
    lines = text.split("\n")
    kind = draw(st.sampled_from(["type", "delete", "line", "drop-line", "indent", "dedent", "string", "replace"]))
    at = draw(st.integers(0, len(text)))
    if kind == "type":
        return text[:at] + draw(_TYPED) + text[at:]
    if kind == "delete":
        return text[:at] + text[at + draw(st.integers(1, 40)):]
    if kind == "replace":  # a selection typed over, possibly across statements
        return text[:at] + draw(_TYPED) + text[at + draw(st.integers(1, 300)):]
    number = draw(st.integers(0, max(len(lines) - 1, 0)))
    if kind == "line":
        lines.insert(number, draw(st.sampled_from(["", "    ", "# note", "    # indented note", "x = 1", "    y = 2", "import os",
                                                   "print(x", "if x:", "@decorator", "else:", "s = '''"])))
    elif kind == "drop-line" and lines:
        del lines[number]
    elif kind == "indent" and lines:
        lines[number] = "    " + lines[number]
    elif kind == "dedent" and lines:
        lines[number] = lines[number][4:] if lines[number].startswith("    ") else lines[number].lstrip()
    elif kind == "string":
        lines[number] = lines[number] + '"""'
    return "\n".join(lines)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_random_edits_parse_as_a_whole_parse(data):
    name, text = data.draw(st.sampled_from(DOCUMENTS[:6]), label="document")
    reparser = reparse.Reparser()
    assert_same_parse(reparser, text)
    for _ in range(data.draw(st.integers(1, 8), label="edits")):
        text = data.draw(edit(text), label="edited")
        assert_same_parse(reparser, text)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_a_syntax_error_and_its_repair(data):
    """Typing breaks the file (an open bracket, a string left open, a stray `else:`) and the next
    keystrokes repair it: every version is what a whole parse says, the error the same DL000."""
    text = YOLO_LIKE
    reparser = reparse.Reparser()
    assert_same_parse(reparser, text)
    lines = text.split("\n")
    number = data.draw(st.integers(0, len(lines) - 1))
    breaking = data.draw(st.sampled_from(["(", '"""', "'", "else:", "\\", "    ", "@d", "def"]))
    broken = "\n".join([*lines[:number], lines[number] + breaking, *lines[number + 1:]])
    assert_same_parse(reparser, broken)
    assert_same_parse(reparser, text)  # repaired: the kept pieces are used again


def test_every_document_parses_as_a_whole_parse():
    reparser = reparse.Reparser()
    for _, text in DOCUMENTS:
        assert_same_parse(reparser, text)
        assert_same_parse(reparser, text + "\n#7\n")


def test_a_statement_typed_in_reparses_only_that_statement():
    reparser = reparse.Reparser()
    reparser.parse(YOLO_LIKE, "utf-8")
    parsed = reparser.parsed
    edited = YOLO_LIKE.replace("    model.eval()\n", "    model.eval()\n    model.train(\n", 1)
    assert whole(edited) != whole(YOLO_LIKE)
    assert_same_parse(reparser, edited)  # a syntax error: one piece refused, then the whole text
    repaired = edited.replace("    model.train(\n", "    model.train()\n", 1)
    before = reparser.parsed
    assert_same_parse(reparser, repaired)
    assert reparser.parsed - before <= 2  # the one statement (and the check's own parse above)
    assert reparser.parsed - parsed < 10


def test_identical_statements_are_distinct_nodes():
    text = "import os\nimport os\n\n\ndef f():\n    return 1\n\n\ndef f():\n    return 1\n"
    reparser = reparse.Reparser()
    for version in (text, text + "x = 1\n", text):
        assert_same_parse(reparser, version)


@pytest.mark.parametrize(
    "text",
    [
        'x = """\ndef f():\n    pass\n"""\ny = 1\n',  # first-column lines inside a string
        "x = [\n1,\n]\ny = 2\n",  # inside brackets
        "x = 1 + \\\n2\ny = 3\n",  # a continued line
        "if x:\n    a = 1\nelse:\n    a = 2\nb = 3\n",  # a clause at the first column
        "try:\n    import a\nexcept ImportError:\n    a = None\nfinally:\n    pass\n",
        "@d\n@e(\n1)\ndef f():\n    pass\nclass C:\n    pass\n",  # decorators
        "x = f'{a!r:>{width}}'\ny = rb'\\'' \nz = 1\n",  # string prefixes and escapes
        "# only a comment\n\n\nx = 1\n  \ny = 2\n    # indented\nz = 3\n",  # the gap lines
        "\tif x:\n\t\tpass\n",  # indentation error
        "def f():\n\tpass\ndef g():\n        pass\n",  # tabs, then spaces: the file's indentation
        "x = '''\n",  # unterminated
        "x = 1\r\ny = 2\r\n",  # \r line ends
        "",
        "\n\n",
        "x = 1",  # no final newline
        "print 'python 2'\nx = 1\n",
    ],
)
def test_texts_that_a_guess_gets_wrong_or_cannot_cut(text):
    reparser = reparse.Reparser()
    assert_same_parse(reparser, text)
    assert_same_parse(reparser, text + "w = 0\n")


def test_guess_finds_the_statements_cpython_finds():
    for name, text in DOCUMENTS:
        assert reparse.guess(text).starts == piecewise.layout(text).starts, name


def test_memory_stays_under_its_bound_over_a_thousand_versions():
    bound = 20_000
    reparser = reparse.Reparser(max_text=bound)
    text = YOLO_LIKE
    for number in range(1000):
        # A new line typed into a different function each time, and taken back later.
        text = text.replace("    return ", f"    step = {number}\n    return ", 1) if number % 3 else text.replace(
            "    step = ", "    # step = ", 1)
        reparser.parse(text, "utf-8")
        assert reparser.text_kept <= bound
        assert sum(len(key[1]) for key in reparser._kept) == reparser.text_kept
    assert reparser.parse(text, "utf-8").deep_equals(cst.parse_module(text))


# Findings ------------------------------------------------------------------------------------


def test_findings_are_those_of_a_whole_parse_version_after_version(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.dldoctor]\nselect = ["ALL"]\n', encoding="utf-8")
    path = str(tmp_path / "train.py")
    from server_latency import built_file

    fresh = api.Linter(root=tmp_path)
    editing = api.Linter(root=tmp_path, incremental=True)
    for text in (built_file(), YOLO_LIKE):
        lines = text.split("\n")
        versions = [text]
        for number in range(0, len(lines), max(len(lines) // 6, 1)):
            edited = lines[:number] + [lines[number] + "  # edited", "x = (", "    1)"] + lines[number + 1:]
            versions.append("\n".join(edited))
            versions.append("\n".join(lines[:number] + ["x = (", *lines[number:]]))  # a syntax error
        versions.append(text)
        for version in versions:
            assert editing.lint(version, path) == fresh.lint(version, path)
    assert len(editing._reparser) > 0
    assert fresh._reparser is None  # the command line's linter keeps nothing



def test_a_line_that_is_only_a_backslash_gives_the_whole_parses_tree():
    # Found by the random edits: a backslash typed on a blank line continues it into the next
    # statement. libcst's whole parse drops that backslash from its code; the pieces give the
    # same tree and the same code (the runner maps findings back to the text either way).
    text = "import os\n\\\nimport argparse\nx = 1\n"
    reparser = reparse.Reparser()
    assert_same_parse(reparser, text)
    assert reparser.parse(text, "utf-8").code == cst.parse_module(text).code


# Inside a function -----------------------------------------------------------------------------


def test_an_edit_inside_a_function_reparses_only_its_changed_statements():
    """A keystroke in a long function: the function's header and the statement typed in are
    parsed, the rest of its body is the last version's nodes; the tree is a whole parse's."""
    text = YOLO_LIKE
    reparser = reparse.Reparser()
    reparser.parse(text, "utf-8")
    start = text.index("def train(")
    function = text[start : text.index('\ndef parse_opt', start)]
    edited = text.replace("    model.eval()\n", "    model.eval()  # typed\n", 1)
    assert_same_parse(reparser, edited)
    assert reparser.derived == 1
    assert reparser.parsed_text < len(function) / 2
    again = edited.replace("  # typed\n", "  # typed more\n", 1)
    assert_same_parse(reparser, again)  # from the derived version
    assert reparser.derived == 2


def _edits_inside_bodies(text: str):
    """Versions of `text` edited on indented lines: a comment typed, a statement added at the
    same indentation, the line deleted or doubled, a blank line and a comment inserted."""
    lines = text.split("\n")
    indented = [number for number, line in enumerate(lines) if line.startswith((" ", "\t")) and line.strip()]
    for number in indented[:: max(len(indented) // 8, 1)]:
        line = lines[number]
        indent = line[: len(line) - len(line.lstrip())]
        yield "\n".join([*lines[:number], line + "  # c", *lines[number + 1:]])
        yield "\n".join([*lines[:number], line, indent + "x = 1", *lines[number + 1:]])
        yield "\n".join([*lines[:number], *lines[number + 1:]])
        yield "\n".join([*lines[:number], line, line, *lines[number + 1:]])
        yield "\n".join([*lines[:number], "", indent + "# note", line, *lines[number + 1:]])


def test_edits_inside_every_function_parse_as_a_whole_parse():
    """Edits on the indented lines of every document (some break the syntax): each version is a
    whole parse's tree, code and DL000, whether its function was assembled or parsed whole."""
    derived = 0
    # The documents with the most functions (yolov5's train.py is a test of its own above).
    examples = [document for document in DOCUMENTS if document[1] is not YOLO_LIKE and document[0] != "yolov5 train.py"]
    chosen = [DOCUMENTS[0], *sorted(examples, key=lambda document: -document[1].count("\ndef "))[:3]]
    for _, text in chosen:
        reparser = reparse.Reparser()
        assert_same_parse(reparser, text)
        for version in _edits_inside_bodies(text):
            assert_same_parse(reparser, version)
            assert_same_parse(reparser, text)
        derived += reparser.derived
    assert derived > 20
