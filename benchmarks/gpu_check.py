"""The prepared GPU check: the CUDA-marked tests, then a one-minute throughput print.

    make gpu-check            (or: python benchmarks/gpu_check.py [--seconds 20])

Needs a CUDA build of PyTorch (the Makefile's constraints pin the CPU build used on the
project's machines: on a GPU machine install torch with CUDA into the venv first). Prints the
member-iterations per second of the seed preset at 1, 64 and 1,024 members on the GPU, beside
one CPU thread, so that anyone with a GPU can see in a few minutes that the CUDA path works.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

import torch

from gankit.config.resolve import resolve_config
from gankit.training.trainer import Trainer
from members_throughput import rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="timing window per measurement")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print(f"gpu-check: torch {torch.__version__} sees no CUDA device; nothing to check here")
        return 1
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}")
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-m", "cuda", "-p", "no:cacheprovider"])
    for device, members in (("cpu", 1), ("cuda", 1), ("cuda", 64), ("cuda", 1024)):
        config = resolve_config("seed", overrides=[{"device": device, "seeds": members}])
        trainer = Trainer.from_config(config)

        def step(trainer: Trainer = trainer, device: str = device) -> None:
            trainer.step()
            if device == "cuda":
                torch.cuda.synchronize()

        print(f"{device:>5} {members:>5} members: {rate(step, args.seconds / 4) * members:>10.0f} "
              "member-it/s", flush=True)
    return tests.returncode


if __name__ == "__main__":
    raise SystemExit(main())
