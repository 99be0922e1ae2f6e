"""Pure parts of `dldoctor graph`: projection, protobuf wire reader, retrace reasons, accumulation lines."""

from __future__ import annotations

from dldoctor.probes.graph import chart, growth, metagraph, sources


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _meta(*nodes: tuple[str, str]) -> bytes:
    graph = b"".join(_field(1, _field(1, n.encode()) + _field(2, op.encode())) for n, op in nodes)
    return _field(1, b"meta info") + _field(2, graph)


def test_projection_reaches_the_limit_at_the_observed_rate():
    p = growth.project([(10, 1_000_000), (20, 2_000_000), (30, 3_000_000)], seconds_per_run=0.5)
    assert p.bytes_per_run == 100_000
    assert p.at_run == 30 + -(-(2**31 - 3_000_000) // 100_000)
    assert p.eta_seconds == p.runs_to_limit * 0.5
    flat = growth.project([(1, 500), (2, 500)])
    assert flat.at_run is None
    assert growth.project([(1, 500)]) is None


def test_wire_reader_reads_names_and_types(tmp_path):
    path = tmp_path / "model.ckpt-5.meta"
    path.write_bytes(_meta(("x", "Placeholder"), ("step_100/tag", "Const"), ("step_100", "ImageSummary")))
    (entry,) = metagraph.scan(str(path))
    metagraph.parse_meta(entry, keep_names=True)
    assert entry.step == 5 and entry.nodes == 3 and entry.error is None
    assert entry.op_types == {"Placeholder": 1, "Const": 1, "ImageSummary": 1}
    assert [n for n, _, _ in entry.names] == ["x", "step_100/tag", "step_100"]


def test_wire_reader_rejects_a_truncated_message(tmp_path):
    data = _meta(("x", "Placeholder"), ("y", "Const"))
    path = tmp_path / "m.meta"
    path.write_bytes(data[:-3])
    (entry,) = metagraph.scan(str(path))
    metagraph.parse_meta(entry, keep_names=False)
    assert entry.parsed is False
    assert entry.error.startswith(f"truncated: {len(data) - 3} bytes, but its fields need at least {len(data)}")


def test_wire_reader_tells_corruption_inside_the_graph_from_truncation(tmp_path):
    """A node that runs past the end of its GraphDef, in a file whose fields all fit: corrupt, not cut short."""
    node = _field(1, _field(1, b"x") + _field(2, b"Const"))
    broken = node[:1] + bytes([node[1] + 5]) + node[2:]  # the node claims 5 bytes more than the graph holds
    path = tmp_path / "m.meta"
    path.write_bytes(_field(2, broken) + _field(1, b"meta info"))
    (entry,) = metagraph.scan(str(path))
    metagraph.parse_meta(entry, keep_names=False)
    assert entry.parsed is False and entry.error.startswith("not a MetaGraphDef, or corrupt: field 1 runs past the end")


def test_name_groups_fold_digits():
    groups = growth.group_names([("step_100/tag", "Const", 5), ("step_100", "ImageSummary", 9), ("step_200", "ImageSummary", 9),
                                 ("loss", "Mean", 3)])
    assert (groups[0].pattern, groups[0].nodes, groups[0].scopes, groups[0].examples) == ("step_N", 3, 2, ["step_100", "step_200"])


def test_retrace_reasons_name_the_changing_argument():
    calls = [{"call": i, "args": [{"kind": "tensor", "dtype": "float32", "shape": [i]},
                                  {"kind": "python", "type": "float", "value": "1.0"}]} for i in (1, 2, 3)]
    reasons = growth.retrace_reasons(calls)
    assert reasons == [("shape", "argument 1's shape changes ([1], [2], [3])")]


def test_accumulation_line_found_in_the_function(tmp_path):
    path = tmp_path / "t.py"
    path.write_text("def train():\n    losses = []\n    for s in range(3):\n        losses.append(s)\n    return losses\n")
    assert sources.find_accumulation(str(path), "train", 1, "losses")["line"] == 4
    assert sources.find_accumulation(str(path), "train", 1, "other") is None


def test_sparkline_of_a_step_series():
    values = chart.step_values([[1, 3], [5, 7], [10, 9]], 10)
    assert values == [3, 3, 3, 3, 7, 7, 7, 7, 7, 9]
    assert chart.sparkline([1, 1]) == "▁▁" and chart.sparkline([0, 7], ascii_only=True) == "_#"


def test_what_grows_is_classified_by_what_the_new_ops_hold():
    assert growth.classify({"MergeSummary": 3}, 300, 0) == ("summary", "merge")
    assert growth.classify({"MergeSummary": 3, "HistogramSummary": 3, "Const": 3}, 900, 0) == ("summary", "histogram")
    assert growth.classify({"Const": 2, "ImageSummary": 1}, 9000, 8500) == ("constant", "summary")
    assert growth.classify({"Const": 2, "ImageSummary": 1}, 9000, 1000) == ("summary", "image")  # arrays not the most
    assert growth.classify({"Const": 1, "Assign": 1}, 4200, 4100) == ("constant", "assign")
    causes = growth.gather_causes([({"Const": 1, "ScalarSummary": 1}, 100, 0, 60, ["loss_1"], None),
                                   ({"Const": 1, "AddV2": 1}, 5000, 4900, 4900, ["Const_3"], None),
                                   ({"Mul": 1}, 10, 0, 10, ["mul_9"], None)])
    assert [(c.kind, c.detail) for c in causes] == [("constant", ""), ("summary", "scalar"), ("ops", "")]
    tiny = growth.gather_causes([({"Const": 40, "AddV2": 40}, 400_000, 390_000, 9800, [], None),
                                 ({"Mul": 1}, 10, 0, 10, [], None)])
    assert [c.kind for c in tiny] == ["constant"]  # under a tenth of the ops and of the bytes: not named
