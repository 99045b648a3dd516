"""Does ``--compile`` pay off? Compile time against the time it saves, per preset and size.

For each case (the default preset, an MLP, with 1 and 64 members; the digits preset, dcgan, with
1 member) two trainers of the same config are built, one eager and one with
``train.compile = true``. The compiled one's first step is timed (tracing and compiling both
phases; Inductor's on-disk cache is a fresh folder, so it is what a user's first run pays), then
both are stepped in interleaved rounds and the medians compared. The break-even step count is
compile time / time saved per step, set against the preset's own ``train.steps``; evaluation,
logging and start-up are left out (the same with and without compiling).

    python benchmarks/compile_step.py [--rounds 5] [--cases default:1,default:64,digits:1] [--eager-whole]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

# A cold cache, as on a user's first compiled run, set before torch is imported.
os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", tempfile.mkdtemp(prefix="gankit-inductor-"))

import torch  # noqa: E402

from gankit.config.resolve import resolve_config  # noqa: E402
from gankit.training.chunks import MemberChunks  # noqa: E402
from gankit.training.trainer import Trainer  # noqa: E402


def _trainer(preset: str, members: int, compile: bool) -> Trainer:
    return Trainer.from_config(resolve_config(preset, overrides=[
        {"seeds": members, "train": {"compile": compile}}]))


def _seconds_per_step(trainer: Trainer, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        trainer.step()
    return (time.perf_counter() - start) / steps


def measure(preset: str, members: int, rounds: int, whole: bool = False) -> dict[str, float]:
    eager, compiled = _trainer(preset, members, False), _trainer(preset, members, True)
    if whole and isinstance(eager.gradients, MemberChunks):
        eager.gradients = eager.gradients.path  # all members at once, as the compiled step does
    eager.step()  # both past their first step's allocations before anything is timed
    start = time.perf_counter()
    compiled.step()  # traces and compiles d_step and g_step
    first = time.perf_counter() - start
    # eager: past the probe of how to compute a population (training/chunks.py, its first
    # 15 or so steps), so that the plan it settled on is what gets timed
    probe = _seconds_per_step(eager, 20)
    _seconds_per_step(compiled, 3)
    steps = max(5, int(4.0 / probe))  # about 4 s a round and a side
    times: dict[str, list[float]] = {"eager": [], "compiled": []}
    for _ in range(rounds):
        times["eager"].append(_seconds_per_step(eager, steps))
        times["compiled"].append(_seconds_per_step(compiled, steps))
    e, c = statistics.median(times["eager"]), statistics.median(times["compiled"])
    compile_s = first - c
    saved = e - c
    return {"preset_steps": resolve_config(preset).train.steps, "eager": e, "compiled": c,
            "compile_s": compile_s, "break_even": compile_s / saved if saved > 0 else float("inf"),
            "steps_per_round": steps, "spread_e": (max(times["eager"]) - min(times["eager"])) / e,
            "spread_c": (max(times["compiled"]) - min(times["compiled"])) / c}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cases", default="default:1,default:64,digits:1",
                        help="PRESET:MEMBERS, comma-separated")
    parser.add_argument("--eager-whole", action="store_true",
                        help="eager populations all members at once, not in the chunks of members a "
                             "probe picks (training/chunks.py): fusion alone against chunking")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, train.threads as the presets set it (1); "
          f"load average at start {os.getloadavg()}")
    print(f"{'case':<14} {'eager ms':>9} {'compiled':>9} {'speed-up':>8} {'compile s':>9} "
          f"{'break-even':>10} {'preset steps':>12}  pays off?")
    for case in args.cases.split(","):
        preset, members = case.split(":")
        r = measure(preset, int(members), args.rounds, args.eager_whole)
        pays = r["break_even"] <= r["preset_steps"]
        print(f"{case:<14} {r['eager'] * 1e3:9.2f} {r['compiled'] * 1e3:9.2f} "
              f"{r['eager'] / r['compiled']:7.2f}x {r['compile_s']:9.1f} {r['break_even']:10.0f} "
              f"{r['preset_steps']:12d}  {'yes' if pays else 'no'} "
              f"(rounds of {r['steps_per_round']} steps, spread {r['spread_e']:.0%} / {r['spread_c']:.0%}; "
              f"load {os.getloadavg()[0]:.2f})", flush=True)


if __name__ == "__main__":
    main()
