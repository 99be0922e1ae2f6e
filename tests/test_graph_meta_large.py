"""`dldoctor graph meta` on large MetaGraphDefs built with TensorFlow's own protobuf classes: linear time,
bounded memory. The read is timed and its peak RSS measured in a subprocess of its own (ru_maxrss of that
process, not of the test run)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap

import pytest

from conftest import clean_env

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="peak RSS read from /proc/self/status")

if importlib.util.find_spec("tensorflow") is None:  # not imported here: it would weigh on nothing measured, but slow
    pytest.skip("the MetaGraphDefs are built with TensorFlow's protobuf classes", allow_module_level=True)

NODES = 200_000  # the last file: ~18 MB; the first has 1 node in 3 of them

WRITER = textwrap.dedent("""\
    import sys
    from tensorflow.core.protobuf import meta_graph_pb2

    def write(path, nodes, every):
        meta = meta_graph_pb2.MetaGraphDef()
        meta.meta_info_def.tags.append("serve")
        graph = meta.graph_def
        for i in range(0, nodes, every):
            node = graph.node.add()
            node.name = "tower_%d/layer_%d/MatMul" % (i // 1000, i)
            node.op = "MatMul" if i % 2 else "Const"
            node.input.append("tower_%d/layer_%d/input" % (i // 1000, i))
            node.device = "/device:CPU:0"
            node.attr["T"].type = 1
        data = meta.SerializeToString()
        with open(path, "wb") as handle:
            handle.write(data)
        return len(data)

    small = write(sys.argv[1] + "/model.ckpt-100.meta", int(sys.argv[2]), 3)
    large = write(sys.argv[1] + "/model.ckpt-200.meta", int(sys.argv[2]), 1)
    single = write(sys.argv[1] + "/single.meta", int(sys.argv[2]), 1)
    print(small, large, single)
""")

# Runs the real command in this process and reports its wall time and peak RSS: VmHWM, the high-water
# mark of this process's own memory (ru_maxrss would also count the forking parent's, kept across exec).
MEASURE = textwrap.dedent("""\
    import json, sys, time
    from dldoctor.cli import main
    started = time.monotonic()
    try:
        main()
    except SystemExit as stop:
        code = stop.code
    sys.stdout.flush()
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    print(json.dumps({"seconds": time.monotonic() - started, "code": code, "maxrss_kib": peak}), file=sys.stderr)
""")


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    root = tmp_path_factory.mktemp("large-meta")
    (root / "train").mkdir()
    done = subprocess.run([sys.executable, "-c", WRITER, str(root / "train"), str(NODES)], capture_output=True,
                          env=clean_env(TF_CPP_MIN_LOG_LEVEL="3"), timeout=120, check=True, text=True)
    (root / "single").mkdir()
    (root / "train" / "single.meta").rename(root / "single" / "model.ckpt-5.meta")
    sizes = [int(x) for x in done.stdout.split()]
    return root, sizes


def measure(*args, cwd):
    done = subprocess.run([sys.executable, "-c", MEASURE, "graph", "meta", *map(str, args)], cwd=cwd, capture_output=True,
                          env=clean_env(), timeout=120, text=True)
    stats = json.loads(done.stderr.strip().splitlines()[-1])
    return done.stdout, stats


def test_a_large_growing_meta_is_read_in_linear_time_and_bounded_memory(large):
    root, (small, big, _) = large
    assert 12_000_000 < big < 30_000_000, big
    out, stats = measure("train", "--json", cwd=root)
    data = json.loads(out)
    analysis = data["facts"]["analysis"]
    first = (NODES + 2) // 3  # every third node
    assert [f["nodes"] for f in analysis["files"]] == [first, NODES]
    assert analysis["growing"] and analysis["nodes_added"] == NODES - first and analysis["nodes_removed"] == 0
    assert analysis["groups"][0]["pattern"] == "tower_N" and analysis["groups"][0]["scopes"] == NODES // 1000
    assert all("names" not in f for f in analysis["files"])
    # Before: 3.8 s and 134 MB peak for a 28 MB last file (asdict() deep-copied a tuple per node; a list of
    # every node of both files); now 1.3 s and 99 MB.
    assert stats["seconds"] < 8, stats
    assert stats["maxrss_kib"] < 200 * 1024, stats


def test_a_single_large_meta_keeps_no_names(large):
    root, (_, _, single) = large
    out, stats = measure("single", "--json", cwd=root)
    (entry,) = json.loads(out)["facts"]["analysis"]["files"]
    assert entry["nodes"] == NODES and entry["size"] == single and entry["op_types"] == {"Const": NODES // 2, "MatMul": NODES // 2}
    assert stats["seconds"] < 6, stats
    assert stats["maxrss_kib"] < 120 * 1024, stats
