"""DL301 list-membership-in-loop."""

from __future__ import annotations


import pytest

from dldoctor.lint.registry import all_rules

from lintutil import lint_checked

RULE = all_rules()["DL301"]


def lint(src: str):
    return lint_checked(src, frozenset({"DL301"})).findings


def places(src: str) -> list[tuple[int, int]]:
    return [(f.line, f.column) for f in lint(src)]


def test_definition():
    assert RULE.problems() == []
    assert RULE.code == "DL301" and RULE.name == "list-membership-in-loop"


@pytest.mark.parametrize("src", RULE.VALID)
def test_valid_examples(src):
    assert lint(src) == []


@pytest.mark.parametrize("src", RULE.INVALID)
def test_invalid_examples(src):
    assert RULE.could_fire(src, src.lower())
    assert [f.code for f in lint(src)] and all(f.code == "DL301" for f in lint(src))


def test_im2txt_flickr_builder():
    src = """\
        import tensorflow as tf


        def _process_captions(captions_file, list_file):
          filenames = [x.strip() for x in open(list_file).readlines()]
          with tf.gfile.FastGFile(captions_file, "r") as fc:
            lines = fc.readlines()
            id_to_captions = {}
            for line in lines:
              ll = line.split("\\t")
              filename = ll[0].split("#")[0]
              caption = ll[1]
              if filename in filenames:
                id_to_captions.setdefault(filename, [])
                id_to_captions[filename].append(caption)
          return id_to_captions
        """
    (finding,) = lint(src)
    assert (finding.line, finding.column) == (13, 10)
    assert finding.end_line == 13 and finding.end_column == 31
    assert finding.severity.value == "warning"
    assert finding.message == (
        "`filename in filenames` tests membership in the list `filenames` "
        "(built by `[x.strip() for x in open(list_file).readlines()]`) on every iteration: "
        "O(len(filenames)) each time, O(n·m) in all — this is how building Flickr30k TFRecords "
        "took hours. Build a set once, before the loop: `filenames = set(filenames)`"
    )


@pytest.mark.parametrize(
    "binding",
    [
        "os.listdir(image_dir)",
        "glob.glob(pattern)",
        "sorted(os.listdir(image_dir))",
        "list(names_dict)",
        "open(list_file).read().splitlines()",
        "open(list_file).read().split()",
        "labels.numpy().tolist()",
        "[1, 2, 3, 4, 5, 6, 7, 8, 9]",
        "[*train_names, *val_names]",
        "tf.io.gfile.listdir(image_dir)",
        "os.listdir(a) + os.listdir(b)",
    ],
)
def test_list_producers(binding):
    src = f"""\
        import glob, os
        import tensorflow as tf
        filenames = {binding}
        for line in lines:
            if line in filenames:
                pass
        """
    assert places(src) == [(5, 8)]
    assert f"built by `{binding}`" in lint(src)[0].message


def test_function_reads_module_level_list():
    src = """\
        import os
        FILENAMES = os.listdir("/data/images")

        def keep(lines):
            out = []
            for line in lines:
                if line.split(",")[0] in FILENAMES:
                    out.append(line)
            return out
        """
    assert places(src) == [(7, 12)]


def test_comprehension_is_a_loop():
    src = """\
        big = sorted(names)
        small = [x for x in xs if x in big]
        """
    assert places(src) == [(2, 27)]


def test_generator_and_set_and_dict_comprehensions():
    src = """\
        big = sorted(names)
        a = any(x in big for x in xs)
        b = {x for x in xs if x not in big}
        c = {x: x in big for x in xs}
        """
    assert places(src) == [(2, 9), (3, 23), (4, 9)]


def test_while_loop_body_and_test():
    src = """\
        ids = arr.tolist()
        i = 0
        while i < n:
            if i in ids:
                pass
            i += 1
        while k not in ids:
            k += 1
        """
    assert places(src) == [(4, 8), (7, 7)]


def test_not_in():
    src = """\
        names = f.readlines()
        for x in xs:
            if x not in names:
                print(x)
        """
    (finding,) = lint(src)
    assert (finding.line, finding.column) == (3, 8)
    assert finding.message.startswith("`x not in names` tests membership in the list `names` (built by `f.readlines()`)")


@pytest.mark.parametrize(
    "annotation",
    ["list", "list[str]", "List[str]", "typing.List[str]", "t.List", "Optional[List[str]]", "list[str] | None", '"list[str]"'],
)
def test_parameter_annotated_as_a_list(annotation):
    src = f"""\
        import typing
        import typing as t
        from typing import List, Optional

        def match(lines, filenames: {annotation}):
            for line in lines:
                if line in filenames:
                    yield line
        """
    (finding,) = lint(src)
    assert (finding.line, finding.column) == (7, 12)
    assert "a parameter annotated" in finding.message


@pytest.mark.parametrize("annotation", ["set[str]", "tuple", "Sequence[str]", "dict", "str", "None"])
def test_parameter_annotated_otherwise(annotation):
    src = f"""\
        def match(lines, filenames: {annotation}, other):
            for line in lines:
                if line in filenames or line in other:
                    yield line
        """
    assert places(src) == []


def test_empty_list_grown_in_an_earlier_loop():
    src = """\
        seen = []
        for x in xs:
            seen.append(x)
        for y in ys:
            if y in seen:
                pass
        more = []
        for x in xs:
            more += [x]
        hits = [y for y in ys if y in more]
        """
    assert places(src) == [(5, 8), (10, 26)]
    assert "built from `[]` with `.append(...)` in an earlier loop" in lint(src)[0].message


def test_empty_list_not_grown_in_a_loop():
    src = """\
        seen = []
        seen.append(a)
        seen.extend(b)
        for y in ys:
            if y in seen:
                pass
        """
    assert places(src) == []


def test_list_rebuilt_by_an_outer_loop():
    src = """\
        for batch in batches:
            ids = []
            for x in batch:
                ids.append(x.id)
            for y in others:
                if y in ids:
                    pass
        """
    assert places(src) == [(6, 12)]


def test_list_changed_in_place_by_an_outer_loop():
    src = """\
        seen = sorted(start)
        for a in xs:
            for b in ys:
                if b in seen:
                    pass
            seen.append(a)
        """
    assert places(src) == []


def test_report_once_per_comparison():
    src = """\
        big = sorted(names)
        for x in xs:
            if x in big in big:
                pass
        """
    assert places(src) == [(3, 8)]


@pytest.mark.parametrize(
    "src",
    [
        # `in` without the usual spaces still parses, and still triggers the rule.
        "big = sorted(n)\nfor x in xs:\n    if x in(big):\n        pass\n",
        "big = sorted(n)\nfor x in xs:\n    if 'a'in big:\n        pass\n",
        "big = sorted(n)\nfor x in xs:\n    if (x\n        in big):\n        pass\n",
        "big = sorted(n)\nfor x in xs:\n    if (x in\n        big):\n        pass\n",
    ],
)
def test_unusual_spacing_is_triggered(src):
    assert RULE.could_fire(src, src.lower())
    assert len(lint(src)) == 1


NEGATIVES = {
    "set": """\
        names = set(os.listdir(d))
        for x in xs:
            if x in names:
                pass
        """,
    "set comprehension": """\
        names = {x.strip() for x in open(f).readlines()}
        for x in xs:
            if x in names:
                pass
        """,
    "dict": """\
        names = dict.fromkeys(os.listdir(d))
        index = {n: i for i, n in enumerate(os.listdir(d))}
        for x in xs:
            if x in names or x in index:
                pass
        """,
    "tuple": """\
        names = tuple(os.listdir(d))
        exts = ('.jpg', '.png', '.bmp', '.gif', '.tif', '.tiff', '.webp', '.ppm', '.pgm')
        for x in xs:
            if x in names or x in exts:
                pass
        """,
    "string": """\
        vowels = 'aeiou'
        text = open(f).read()
        for c in chars:
            if c in vowels or c in text:
                pass
        """,
    "small literal list": """\
        exts = ['.jpg', '.jpeg', '.png', '.bmp', '.gif', '.tif', '.tiff', '.webp']
        for f in files:
            if f[-4:] in exts:
                pass
        """,
    "rebound to a set before the loop": """\
        filenames = [x.strip() for x in open(list_file).readlines()]
        filenames = set(filenames)
        for line in lines:
            if line in filenames:
                pass
        """,
    "rebound to a set after the loop": """\
        filenames = os.listdir(d)
        for line in lines:
            if line in filenames:
                pass
        filenames = set(filenames)
        """,
    "dedupe: mutated inside the loop": """\
        seen = []
        for x in xs:
            if x not in seen:
                seen.append(x)
        uniq = sorted(start)
        for x in xs:
            if x in uniq:
                uniq.remove(x)
        """,
    "rebound inside the loop": """\
        names = os.listdir(d)
        for x in xs:
            if x in names:
                names = os.listdir(x)
        """,
    "deleted inside the loop": """\
        names = os.listdir(d)
        for x in xs:
            if x in names:
                del names[0]
        """,
    "built per iteration": """\
        for line in lines:
            parts = line.split()
            if "--" in parts:
                pass
        """,
    "outside any loop": """\
        names = os.listdir(d)
        if "a.jpg" in names:
            pass
        ok = "b.jpg" not in names
        """,
    "iterating the list itself": """\
        names = os.listdir(d)
        for name in names:
            print(name)
        upper = [n.upper() for n in names]
        """,
    "never bound": """\
        for x in xs:
            if x in undefined_names:
                pass
        """,
    "attribute": """\
        class Dataset:
            def __init__(self, d):
                self.names = os.listdir(d)

            def keep(self, xs):
                return [x for x in xs if x in self.names]
        """,
    "for header": """\
        names = os.listdir(d)
        for x in names:
            pass
        pairs = [(a, b) for a in names for b in names]
        """,
    "nested function rebinds the name to a set": """\
        names = os.listdir(d)

        def keep(xs):
            names = set(os.listdir(d))
            return [x for x in xs if x in names]
        """,
    "global rebinding in a function": """\
        names = os.listdir(d)

        def freeze():
            global names
            names = set(names)

        def keep(xs):
            return [x for x in xs if x in names]
        """,
    "nonlocal rebinding": """\
        def outer(xs):
            names = os.listdir(d)

            def freeze():
                nonlocal names
                names = set(names)

            freeze()
            return [x for x in xs if x in names]
        """,
    "comprehension variable shadows the list": """\
        big = sorted(names)
        hits = [x in big for big in groups]
        """,
    "the comprehension that builds the list": """\
        names = os.listdir(d)
        names = [n for n in os.listdir(e) if n in names]
        """,
    "first iterable of a comprehension runs once": """\
        big = sorted(names)
        flags = [f for f in (a in big, b in big)]
        """,
    "os.path.split is a tuple": """\
        import os
        parts = os.path.split(path)
        for x in xs:
            if x in parts:
                pass
        """,
    "also bound by a for loop": """\
        names = os.listdir(d)
        for names in groups:
            pass
        for x in xs:
            if x in names:
                pass
        """,
    "lambda is not a loop": """\
        names = os.listdir(d)
        keep = filter(lambda x: x in names, xs)
        """,
}


@pytest.mark.parametrize("src", NEGATIVES.values(), ids=NEGATIVES.keys())
def test_not_reported(src):
    assert places(src) == []


def test_noqa():
    src = """\
        names = os.listdir(d)
        for x in xs:
            if x in names:  # noqa: DL301
                pass
        """
    assert places(src) == []


def test_unsafe_fix_builds_a_set_where_it_is_mechanical():
    from lintutil import fixes

    source = '''
        import os

        def match(lines, image_dir, list_file):
            filenames = [x.strip() for x in open(list_file).readlines()]
            listed = sorted(os.listdir(image_dir))
            ids = labels.tolist()
            for line in lines:
                if line in filenames and line in listed and line not in ids:
                    yield line
    '''
    found = {rendered[0]: applicability for applicability, rendered, _ in fixes(source, "DL301")}
    assert found == {
        "{x.strip() for x in open(list_file).readlines()}": "unsafe",
        "set(os.listdir(image_dir))": "unsafe",
        "set(labels.tolist())": "unsafe",
    }


def test_no_fix_when_the_list_is_used_otherwise():
    from lintutil import fixes

    source = '''
        import os

        def match(lines, image_dir):
            names = os.listdir(image_dir)
            for line in lines:
                if line in names:
                    yield line
            print(names[0])
    '''
    assert places(source) != [] and fixes(source, "DL301") == []


def test_a_long_list_display_over_several_lines():
    # TensorFlow's meta_graph.py: the display spans lines, the test sits in a generator.
    src = """\
        OPS = ["SaveV2",
               "Save", "SaveSlice",
               "LegacySave", "LegacySaveSlice",
               "RestoreV2",
               "Restore", "RestoreSlice",
               "MergeV2Checkpoints"]
        def names(nodes):
            return set(name for name, op in nodes.items() if op in OPS)
        """
    assert places(src) == [(8, 54)]


# -- lists the code or its configuration sizes, not the data ---------------------------

SNAPSHOT_CLEANUP = '''
    import glob
    import os

    from lib.config import cfg


    def stale_snapshots(output_dir):
        found = glob.glob(os.path.join(output_dir, "model_iter_*.ckpt.index"))
        # one snapshot per learning-rate drop is kept
        keep = []
        for step in cfg.TRAIN.LR_STEPS:
            keep.append(os.path.join(output_dir, "model_iter_%d.ckpt.index" % (step + 1)))
        stale = [f for f in found if f not in keep]
        keep = [k.replace(".ckpt.index", ".pkl") for k in keep]
        pickles = [f for f in glob.glob(os.path.join(output_dir, "*.pkl")) if f not in keep]
        return stale, pickles
'''


def test_list_with_one_entry_per_configured_step_is_not_reported():
    assert places(SNAPSHOT_CLEANUP) == []


def test_the_same_list_filled_from_the_data_is_reported_with_the_binding_in_effect():
    src = SNAPSHOT_CLEANUP.replace("for step in cfg.TRAIN.LR_STEPS:", "for step in read_steps(log_file):")
    assert places(src) == [(14, 34), (16, 75)]
    first, second = lint(src)
    # The first test reads the list the loop filled, not the comprehension that rebinds it later.
    assert "(built from `[]` with `.append(...)` in an earlier loop)" in first.message
    assert "(built by `[k.replace(\".ckpt.index\", \".pkl\") for k in keep]`)" in second.message


@pytest.mark.parametrize(
    "source",
    [
        "import config as cfg\nfor s in cfg.SCALES:",
        "from . import config\nfor s in config.TEST.SCALES:",
        "from experiments.default_config import settings\nfor s in settings['scales']:",
        "import tensorflow as tf\nFLAGS = tf.app.flags.FLAGS\nfor s in FLAGS.scales:",
        "for s in (256, 384, 512):",
        "for s in range(3):",
        "for s in [min_size, mid_size, max_size]:",
        "SCALES = (256, 384, 512)\nfor i, s in enumerate(SCALES):",
    ],
)
def test_list_filled_by_a_loop_over_a_handful_of_items(source):
    src = "sizes = []\n" + source + "\n    sizes.append(s * 2)\nfor image in images:\n    if image.shape[0] in sizes:\n        pass\n"
    assert places(src) == []
    data_sized = src.replace("sizes.append(s * 2)", "sizes.extend(os.listdir(str(s)))")
    assert len(places(data_sized)) == 1, data_sized


def test_comprehension_over_a_configured_list_is_not_reported():
    src = """\
        from model.config import cfg
        names = [c.lower() for c in cfg.CLASSES]
        for line in open("annotations.txt"):
            if line.split()[0] not in names:
                continue
        """
    assert places(src) == []
    from_data = src.replace("cfg.CLASSES", "open('classes.txt')")
    assert places(from_data) == [(4, 8)]


@pytest.mark.parametrize("loop", ["range(200)", "range(len(lines))", "range(n)", "lines"])
def test_a_long_or_data_sized_range_still_counts(loop):
    src = f"""\
        kept = []
        for i in {loop}:
            kept.append(i)
        for j in js:
            if j in kept:
                pass
        """
    assert places(src) == [(5, 8)]


def test_a_loop_over_a_handful_of_items_is_not_the_hot_loop():
    src = """\
        import os
        files = os.listdir(image_dir)
        for ext in (".jpg", ".jpeg", ".png"):
            if stem + ext in files:
                path = stem + ext
        """
    assert places(src) == []
    # ...unless it runs inside a loop over the data.
    nested = """\
        import os
        files = os.listdir(image_dir)
        for stem in open("train.txt").read().split():
            for ext in (".jpg", ".jpeg", ".png"):
                if stem + ext in files:
                    path = stem + ext
        """
    assert places(nested) == [(5, 12)]


def test_a_check_in_an_assert_is_not_the_hot_loop():
    src = """\
        import glob
        shards = sorted(glob.glob(tfrecord_dir + "/*.tfrecords"))
        levels = [level_of(s) for s in shards]
        assert all(level in levels for level in range(max_level))
        for batch in batches:
            assert batch.level in levels
        """
    # The generator in the assert runs once; an assert in the loop over batches runs every batch.
    assert places(src) == [(6, 12)]
