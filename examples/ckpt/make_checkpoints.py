"""Write the walk-through's checkpoints into build/ (about 200 KB, a few seconds on a CPU).

    python examples/ckpt/make_checkpoints.py && cd examples/ckpt/build

then run the commands in examples/ckpt/README.md from there.
"""

import os
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import models  # noqa: E402


class Payload:
    """What a hostile checkpoint carries: unpickling it would run a shell command."""

    def __reduce__(self):
        return (os.system, ("echo this would have run",))


def main() -> None:
    out = HERE / "build"
    (out / "runs").mkdir(parents=True, exist_ok=True)
    (out / "models.py").write_text((HERE / "models.py").read_text())
    torch.manual_seed(0)
    model = models.Net()
    state = model.state_dict()
    torch.save(state, out / "net.pt")
    torch.save({"module." + k: v for k, v in state.items()}, out / "ddp.pt")
    torch.save({"epoch": 4, "model_state_dict": state, "optimizer_state_dict": {}, "loss": 0.25}, out / "wrapper.pt")
    torch.save(model, out / "whole.pt")
    torch.save({"weight": torch.zeros(2), "extra": Payload()}, out / "evil.pt")
    data = (out / "net.pt").read_bytes()
    (out / "cut.pt").write_bytes(data[: len(data) // 2])
    torch.save(state, out / "runs" / "net_best.pt")
    torch.save(models.AutoEncoder().state_dict(), out / "runs" / "ae_epoch_3.pt")
    later = time.time() + 60
    os.utime(out / "runs" / "ae_epoch_3.pt", (later, later))  # another model's run saved here last
    print(f"wrote {len(list(out.rglob('*.pt')))} checkpoints to {out}")


if __name__ == "__main__":
    main()
