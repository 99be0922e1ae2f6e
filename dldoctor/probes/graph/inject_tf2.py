"""TF2 `tf.function` retracing, observed in the script process.

`Function.__init__` records where each function was defined and created;
`Function.__call__` reads `experimental_get_tracing_count()` before and after
each outermost call, and for a call that traced, what the arguments were
(Python scalars with their values, tensors with dtype and shape), which is what
explains a retrace. The original `__call__` is called with the same arguments.
"""

from __future__ import annotations

import functools
import weakref

from . import inject_state as state

MAX_TRACED_CALLS = 8
MAX_SERIES = 2000  # [call, traces so far] points kept per function, for the chart
ESTABLISHED_TRACES = 3


def describe(value, depth: int = 0) -> dict:
    if isinstance(value, bool) or isinstance(value, (int, float, complex)):
        return {"kind": "python", "type": type(value).__name__, "value": repr(value)[:40]}
    if isinstance(value, str):
        return {"kind": "python", "type": "str", "value": repr(value)[:40]}
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    if shape is not None and dtype is not None:
        kind = "numpy" if type(value).__module__ == "numpy" else "tensor"
        try:
            dims = [None if d is None else int(d) for d in shape]
        except Exception:
            dims = str(shape)
        return {"kind": kind, "dtype": getattr(dtype, "name", str(dtype)), "shape": dims}
    if isinstance(value, (list, tuple)) and depth < 1:
        return {"kind": type(value).__name__, "items": [describe(v, depth + 1) for v in value[:4]], "length": len(value)}
    return {"kind": "object", "type": type(value).__name__}


class FunctionEntry:
    def __init__(self, number: int, python_function, created: list[dict]):
        code = getattr(python_function, "__code__", None)
        self.number = number
        self.name = getattr(python_function, "__qualname__", None) or getattr(python_function, "__name__", repr(python_function))
        self.defined = state.site(code.co_filename, code.co_firstlineno, self.name) if code else None
        self.created = created[0] if created else None
        self.calls = 0
        self.traces = 0
        self.traced_calls: list[dict] = []
        self.recent: list[bool] = []
        self.series: list[list[int]] = []  # [call, traces so far] at each call that traced

    @property
    def creation_key(self) -> str:
        where = self.created or {}
        return f"{where.get('file')}:{where.get('line')}"

    def to_json(self) -> dict:
        return {"number": self.number, "name": self.name, "defined": self.defined, "created": self.created,
                "calls": self.calls, "traces": self.traces, "traced_calls": self.traced_calls, "series": self.series}


class Tf2Monitor:
    def __init__(self, recorder: state.Recorder):
        self.recorder = recorder
        self.entries: dict[int, tuple] = {}  # id(function) -> (weakref or None, entry)
        self.order: list[FunctionEntry] = []
        self.created_at: dict[str, int] = {}
        self.calls = 0
        self.traces = 0
        self.series: list[list[int]] = []  # [call of any tf.function, traces of all so far] at each call that traced
        self.depth = 0
        recorder.collectors.append(self)

    def to_json(self, final: bool = False):
        return "tf2", {"calls": self.calls, "traces": self.traces, "series": self.series,
                       "functions": [e.to_json() for e in self.order if e.calls]}

    def created(self, function, python_function) -> None:
        entry = FunctionEntry(len(self.order) + 1, python_function, state.caller_user_frames(limit=1, skip=3))
        try:
            ref = weakref.ref(function)
        except TypeError:
            ref = None
        self.entries[id(function)] = (ref, entry)
        if len(self.order) < 10000:
            self.order.append(entry)

    def entry(self, function) -> FunctionEntry | None:
        found = self.entries.get(id(function))
        if found is None:
            return None
        ref, entry = found
        if ref is not None and ref() is not function:
            return None
        return entry

    def after_call(self, entry: FunctionEntry, traced: int, args, kwargs) -> None:
        entry.calls += 1
        self.calls += 1
        entry.recent = (entry.recent + [traced > 0])[-5:]
        if traced:
            entry.traces += traced
            self.traces += traced
            if len(entry.series) < MAX_SERIES:
                entry.series.append([entry.calls, entry.traces])
            if len(self.series) < MAX_SERIES:
                self.series.append([self.calls, self.traces])
            if len(entry.traced_calls) < MAX_TRACED_CALLS:
                described = [describe(a) for a in args[:6]] + [dict(describe(v), keyword=k) for k, v in list(kwargs.items())[:6]]
                entry.traced_calls.append({"call": entry.calls, "args": described})
            if entry.traces == 1 and entry.created:
                self.created_at[entry.creation_key] = self.created_at.get(entry.creation_key, 0) + 1
        if self.calls > self.recorder.steps and self.established(entry):
            raise self.recorder.stop("tf2", f"{entry.name} retraced {entry.traces} times in {entry.calls} calls", self.calls)
        self.recorder.maybe_write()

    def established(self, entry: FunctionEntry) -> bool:
        if entry.traces >= ESTABLISHED_TRACES and sum(entry.recent) >= 3:
            return True
        return entry.traces == 1 and self.created_at.get(entry.creation_key, 0) >= ESTABLISHED_TRACES * 2


def patch(module, recorder: state.Recorder) -> None:
    """`module` is tensorflow.python.eager.polymorphic_function.polymorphic_function, just imported."""
    monitor = Tf2Monitor(recorder)
    cls = module.Function
    original_init = cls.__init__
    original_call = cls.__call__

    @functools.wraps(original_init)
    def __init__(self, python_function, *args, **kwargs):
        original_init(self, python_function, *args, **kwargs)
        try:
            monitor.created(self, python_function)
        except Exception as problem:
            recorder.error("tf.function", problem)

    @functools.wraps(original_call)
    def __call__(self, *args, **kwds):
        if recorder.stopping:
            raise state.GraphProbeStop("stopped by dldoctor")
        if monitor.depth:
            return original_call(self, *args, **kwds)
        entry = monitor.entry(self)
        before = 0
        if entry is not None:
            try:
                before = self.experimental_get_tracing_count()
            except Exception:
                entry = None
        monitor.depth += 1
        try:
            result = original_call(self, *args, **kwds)
        finally:
            monitor.depth -= 1
        if entry is not None:
            try:
                traced = self.experimental_get_tracing_count() - before
                monitor.after_call(entry, traced, args, kwds)
            except state.GraphProbeStop:
                raise
            except Exception as problem:
                recorder.error("tf.function call", problem)
        return result

    cls.__init__ = __init__
    cls.__call__ = __call__
