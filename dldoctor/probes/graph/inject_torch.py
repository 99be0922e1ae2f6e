"""PyTorch autograd graphs kept alive across steps, observed in the script process.

A step is a call to `torch.autograd.backward` (what `loss.backward()` calls).
During the first `steps` steps, before each backward, the user's frames on the
stack are searched for variables holding tensors with a `grad_fn` (directly or
in a list/tuple/dict), and the autograd nodes reachable from each are counted.
`total += loss` makes `total`'s graph grow by one step's graph every step: the
memory of every step's activations stays alive. The original `backward` is
called with the same arguments; nothing is detached or freed by us.
"""

from __future__ import annotations

import functools

from . import inject_state as state

MAX_NODES = 200_000
MAX_ITEMS = 2000
MAX_FRAMES = 3
ESTABLISHED_STEPS = 4


def count_nodes(roots, seen: set) -> int:
    """Autograd nodes reachable from `roots` (grad_fn objects) not already in `seen`."""
    count = 0
    stack = [r for r in roots if r is not None]
    while stack and len(seen) < MAX_NODES:
        node = stack.pop()
        key = id(node)
        if key in seen:
            continue
        seen.add(key)
        count += 1
        for child, _ in getattr(node, "next_functions", ()) or ():
            if child is not None and id(child) not in seen:
                stack.append(child)
    return count


class TorchMonitor:
    def __init__(self, recorder: state.Recorder):
        self.recorder = recorder
        self.tensor_type = None  # torch.Tensor, looked up at the first backward (torch is half-imported now)
        self.steps = 0
        self.variables: dict[str, dict] = {}
        recorder.collectors.append(self)

    def to_json(self, final: bool = False):
        return "torch", {"steps": self.steps, "variables": list(self.variables.values())}

    def _roots(self, value) -> list:
        if isinstance(value, self.tensor_type):
            return [value.grad_fn] if value.grad_fn is not None else []
        if isinstance(value, (list, tuple)):
            items = value[-MAX_ITEMS:]
        elif isinstance(value, dict):
            items = list(value.values())[-MAX_ITEMS:]
        else:
            return []
        return [v.grad_fn for v in items if isinstance(v, self.tensor_type) and v.grad_fn is not None]

    def before_backward(self, frame) -> None:
        if self.tensor_type is None:
            import torch

            self.tensor_type = torch.Tensor
        self.steps += 1
        step = self.steps
        if step > self.recorder.steps + 1:
            return  # observation window over: no more cost
        examined = 0
        while frame is not None and examined < MAX_FRAMES:
            code = frame.f_code
            if state.is_user_file(code.co_filename):
                examined += 1
                for name, value in list(frame.f_locals.items()):
                    roots = self._roots(value)
                    if not roots:
                        continue
                    nodes = count_nodes(roots, set())
                    key = f"{code.co_filename}:{code.co_firstlineno}:{code.co_name}:{name}"
                    entry = self.variables.get(key)
                    if entry is None:
                        entry = self.variables[key] = {
                            "name": name, "container": type(value).__name__, "file": code.co_filename,
                            "function": code.co_name, "function_line": code.co_firstlineno,
                            "backward_line": frame.f_lineno, "nodes": []}
                    entry["nodes"].append([step, nodes])
            frame = frame.f_back
        if step > self.recorder.steps and any(self.growing(v) for v in self.variables.values()):
            self.steps = step - 1  # this backward is not executed
            raise self.recorder.stop("torch", "an autograd graph grows every step", step - 1)
        self.recorder.maybe_write()

    def growing(self, entry: dict) -> bool:
        counts = [n for _, n in entry["nodes"][-(ESTABLISHED_STEPS + 1):]]
        return len(counts) > ESTABLISHED_STEPS and all(b > a for a, b in zip(counts, counts[1:]))


def patch(module, recorder: state.Recorder) -> None:
    """`module` is torch.autograd, just imported."""
    import sys

    monitor = TorchMonitor(recorder)
    original = module.backward

    @functools.wraps(original)
    def backward(*args, **kwargs):
        if recorder.stopping:
            raise state.GraphProbeStop("stopped by dldoctor")
        try:
            monitor.before_backward(sys._getframe(1))
        except state.GraphProbeStop:
            raise
        except Exception as problem:
            recorder.error("backward", problem)
        return original(*args, **kwargs)

    module.backward = backward
