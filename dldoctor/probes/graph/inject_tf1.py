"""TF1 graph growth, observed in the script process: `BaseSession.run` counts the graph's ops.

Before each `Session.run` the session's graph is asked its op count
(`graph.version`, O(1)). Ops that appear between runs after the warm-up are a
growth event: up to a budget, each new op's type, serialized size and creation
traceback (`op.traceback`, recorded by TensorFlow for every op) are tallied by
the user's source line that created it. The serialized graph
(`as_graph_def().ByteSize()`) is sampled a few times for the 2 GB projection.
Once growth is established and `steps` runs are done, the script is stopped.
Nothing here changes what a run computes: the original `run` is called with the
same arguments.
"""

from __future__ import annotations

import functools
import weakref

from . import inject_state as state

MAX_EVENTS_INSPECTED = 60
MAX_OPS_PER_EVENT = 400
MAX_SAMPLE_SECONDS = 2.0
MAX_SERIES = 5000
ESTABLISHED_EVENTS = 3
EMBEDDED_CONST_BYTES = 1024  # a Const this large holds an array (growth.EMBEDDED_CONST_BYTES)


class GraphTrack:
    def __init__(self, number: int, graph):
        self.number = number
        self.ref = weakref.ref(graph)
        self.runs = 0
        self.ops = 0
        self.baseline_ops = 0
        self.series: list[list[int]] = []  # [run, ops] where the count changed, plus the last run
        self.events: list[list[int]] = []  # [run, ops added since the previous run] (the first MAX_SERIES)
        self.event_count = 0
        self.last_event_run = 0
        self.inspected = 0
        self.max_id = 0
        self.sites: dict = {}
        self.untraced_types: dict[str, int] = {}
        self.samples: list[list] = []  # [run, ops, bytes, seconds to serialize]
        self.sample_seconds = 0.0
        self.first_run_at = 0.0
        self.last_run_at = 0.0
        self.finalized = False

    def to_json(self) -> dict:
        series = list(self.series)
        if self.runs and (not series or series[-1][0] != self.runs):
            series.append([self.runs, self.ops])
        sites = sorted(self.sites.values(), key=lambda s: (-s["ops"], -s["bytes"]))
        return {
            "graph": self.number, "runs": self.runs, "baseline_ops": self.baseline_ops, "ops": self.ops,
            "series": series, "events": self.events, "event_count": self.event_count, "events_inspected": self.inspected,
            "sites": sites, "untraced_types": self.untraced_types, "bytes_samples": self.samples,
            "seconds": round(self.last_run_at - self.first_run_at, 6), "finalized": self.finalized,
        }


class Tf1Monitor:
    def __init__(self, recorder: state.Recorder):
        self.recorder = recorder
        self.graphs: dict[int, GraphTrack] = {}
        recorder.collectors.append(self)

    def to_json(self, final: bool = False):
        if final:
            for track in self.graphs.values():
                graph = track.ref()
                if graph is not None:
                    self._sample(graph, track, force=True)
                    track.finalized = bool(getattr(graph, "finalized", False))
        return "tf1", {"graphs": [t.to_json() for t in self.graphs.values() if t.runs]}

    def _track(self, graph) -> GraphTrack:
        track = self.graphs.get(id(graph))
        if track is None or track.ref() is not graph:
            track = GraphTrack(len(self.graphs) + 1, graph)
            self.graphs[id(graph)] = track
        return track

    def before_run(self, session) -> None:
        graph = session.graph
        track = self._track(graph)
        ops = graph.version
        track.runs += 1
        run = track.runs
        track.last_run_at = state.now()
        if run == 1:
            track.first_run_at = track.last_run_at
            track.baseline_ops = ops
            track.series.append([1, ops])
            track.max_id = max((op._id for op in graph.get_operations()), default=0)
        elif ops != track.ops:
            added = ops - track.ops
            if len(track.series) < MAX_SERIES:
                track.series.append([run, ops])
            if run > self.recorder.warmup:
                track.event_count += 1
                track.last_event_run = run
                if len(track.events) < MAX_SERIES:
                    track.events.append([run, added])
                if track.inspected < MAX_EVENTS_INSPECTED:
                    track.inspected += 1
                    self._inspect(graph, track, run)
                    self._sample(graph, track)
            else:
                track.max_id = max((op._id for op in graph.get_operations()), default=track.max_id)
        track.ops = ops
        if run > self.recorder.steps and self.established(track):
            track.runs = run - 1  # this run is not executed
            self._sample(graph, track, force=True)
            raise self.recorder.stop("tf1", f"graph {track.number} grew in {track.event_count} of {run - 1} runs", run - 1)
        self.recorder.maybe_write()

    def established(self, track: GraphTrack) -> bool:
        """Growth keeps going: enough events after the warm-up, the last one in the recent half."""
        if track.event_count < ESTABLISHED_EVENTS:
            return False
        return track.last_event_run >= track.runs - max(self.recorder.steps // 2, 5)

    def _inspect(self, graph, track: GraphTrack, run: int) -> None:
        new = [op for op in graph.get_operations() if op._id > track.max_id]
        if new:
            track.max_id = max(op._id for op in new)
        for op in new[:MAX_OPS_PER_EVENT]:
            try:
                frames = [(f.filename, f.lineno, f.name) for f in op.traceback]
            except Exception:
                frames = []
            chain = state.user_frames_of_stack(frames)
            try:
                size = len(op._node_def)
            except Exception:
                size = 0
            if not chain:
                track.untraced_types[op.type] = track.untraced_types.get(op.type, 0) + 1
                continue
            top = chain[0]
            key = f"{top['file']}:{top['line']}"
            entry = track.sites.get(key)
            if entry is None:
                entry = track.sites[key] = {**top, "chain": chain[1:4], "ops": 0, "bytes": 0, "types": {},
                                            "names": [], "runs": 0, "first_run": run, "last_run": run, "max_op_bytes": 0,
                                            "const_bytes": 0}
            entry["ops"] += 1
            entry["bytes"] += size
            entry["max_op_bytes"] = max(entry["max_op_bytes"], size)
            if op.type == "Const" and size >= EMBEDDED_CONST_BYTES:
                entry["const_bytes"] += size
            entry["types"][op.type] = entry["types"].get(op.type, 0) + 1
            if len(entry["names"]) < 6 and op.name not in entry["names"]:
                entry["names"].append(op.name)
            if entry["last_run"] != run or entry["runs"] == 0:
                entry["runs"] += 1
            entry["last_run"] = run

    def _sample(self, graph, track: GraphTrack, force: bool = False) -> None:
        if track.samples and track.samples[-1][1] == graph.version:
            return
        if not force and track.sample_seconds > MAX_SAMPLE_SECONDS:
            return
        started = state.now()
        try:
            size = graph.as_graph_def().ByteSize()
        except Exception as problem:
            self.recorder.error("as_graph_def", problem)
            return
        spent = state.now() - started
        track.sample_seconds += spent
        track.samples.append([track.runs, graph.version, size, round(spent, 4)])


def patch(module, recorder: state.Recorder) -> None:
    """`module` is tensorflow.python.client.session, just imported."""
    monitor = Tf1Monitor(recorder)
    base = module.BaseSession
    original = base.run

    @functools.wraps(original)
    def run(self, *args, **kwargs):
        if not recorder.stopping:
            try:
                monitor.before_run(self)
            except state.GraphProbeStop:
                raise
            except Exception as problem:
                recorder.error("Session.run", problem)
        else:
            raise state.GraphProbeStop("stopped by dldoctor")
        return original(self, *args, **kwargs)

    base.run = run
