"""A folder of 32x32 RGB photo crops: time to quality of image presets, and where a step's time goes.

The folder is made here, offline: random square windows (32 to 160 pixels a side) of the two
photos scikit-learn ships (``sklearn.datasets.load_sample_images()``: china.jpg and flower.jpg,
427x640 each), downscaled to 32x32 (Lanczos) and saved as PNG files, the same folder for the
same ``--images`` and ``--folder-seed``.

Training (the default): each run is a whole ``gankit train --data FOLDER/ --preset P --seed S``
process, as a user would start it, with ``train.max_seconds`` = ``--seconds`` (the preset's own
step count stays: a run ends at whichever comes first), no figures, no progress bar. Runs go
seed by seed, the presets interleaved within each seed, so that the machine's load falls on all
of them alike. From the run's metrics.jsonl it reports the first ``elapsed_s`` (the run's own
clock, evaluations and snapshots included) at which ``fd`` <= 2 x ``fd_floor`` (the image task's
Frechet distance in a fixed random convolutional feature space, against the held-out reference
half; the floor is the held-out floor half's value), else the best and the last ratio fd/floor;
and the seconds per step (time inside the steps, from run.json's ``step_seconds``).

A preset that evaluates too rarely for a time-to-quality reading on the CPU (``images-gpu``
evaluates every 500 steps: once in 10 minutes) is evaluated more often here (EVAL_EVERY;
``--eval-every PRESET=N``), and the table says so. A variant is ``LABEL=PRESET`` followed by
settings, in one argument: ``--presets images "w24=images model.options.width=24"``.

``--profile``: seconds per training step (``Trainer.step``, no evaluation) of the current
settings against candidates (width, batch, G's norm, threads), interleaved: every candidate
steps in turn, several rounds, median per candidate; and, on plain single-member modules
(outside gankit's population path), the dcgan step in the contiguous and the channels_last
memory format.

    python benchmarks/image_folder.py [--presets images images-gpu] [--seeds 3] [--seconds 600]
        [--first-seed 0] [--eval-every PRESET=N ...] [--images 5000] [--out bench-out/image_folder]
        [--folder-root bench-out]
    python benchmarks/image_folder.py --profile [--rounds 3] [--profile-seconds 4]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

# The GPU preset evaluates every 500 steps, once in ten minutes on 2 CPU cores: here it is
# evaluated every 25 steps (about 30 s), so that the time it reaches the target is seen.
EVAL_EVERY = {"images-gpu": 25}
GANKIT = Path(sys.executable).with_name("gankit")


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


# ---------------------------------------------------------------------------------------------
# The folder


def make_folder(folder: Path, count: int, seed: int) -> Path:
    """``count`` 32x32 RGB crops of scikit-learn's sample photos as PNG files in ``folder``
    (made once: a folder holding exactly ``count`` crops of this seed is kept)."""
    from PIL import Image
    from sklearn.datasets import load_sample_images

    stamp = folder / "made.json"
    wanted = {"count": count, "seed": seed, "size": 32}
    if stamp.exists() and json.loads(stamp.read_text()) == wanted:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    photos = load_sample_images().images  # china.jpg, flower.jpg: uint8 [427, 640, 3]
    rng = np.random.default_rng(seed)
    for i in range(count):
        photo = photos[i % len(photos)]
        h, w = photo.shape[:2]
        side = int(rng.integers(32, 161))
        top, left = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        crop = Image.fromarray(photo[top:top + side, left:left + side])
        if side != 32:
            crop = crop.resize((32, 32), Image.Resampling.LANCZOS)
        crop.save(folder / f"crop{i:05d}.png")
    stamp.write_text(json.dumps(wanted))
    return folder


# ---------------------------------------------------------------------------------------------
# Training runs


def parse_variant(text: str) -> tuple[str, str, list[str]]:
    """``PRESET`` or ``LABEL=PRESET KEY=VALUE ...`` -> (label, preset, settings)."""
    first, *settings = shlex.split(text)
    label, _, preset = first.partition("=")
    return (label, preset or label, settings)


def first_within(rows: list[dict], factor: float = 2.0) -> dict | None:
    for row in rows:
        if "fd" in row and row["fd"] <= factor * row["fd_floor"]:
            return row
    return None


def train(folder: Path, label: str, preset: str, settings: list[str], seed: int, seconds: float,
          eval_every: int | None, out: Path) -> dict:
    run = out / f"{label}-seed{seed}"
    command = [str(GANKIT), "train", "--data", f"{folder}/", "--preset", preset, "--seed", str(seed),
               "--set", f"train.max_seconds={seconds:g}", "--out", str(run), "--overwrite",
               "--quiet", "--no-figures"]
    for setting in settings + ([f"log.eval_every={eval_every}"] if eval_every else []):
        command += ["--set", setting]
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    info = json.loads((run / "run.json").read_text())
    evaluated = [r for r in rows if "fd" in r]
    ratios = [r["fd"] / r["fd_floor"] for r in evaluated]
    hit = first_within(rows)
    steps = rows[-1]["step"]
    return {"label": label, "preset": preset, "seed": seed, "steps": steps, "wall_s": wall,
            "elapsed_s": rows[-1]["elapsed_s"], "s_per_step": info["step_seconds"] / max(steps, 1),
            "hit_s": hit["elapsed_s"] if hit else None, "hit_step": hit["step"] if hit else None,
            "fd_floor": evaluated[-1]["fd_floor"], "best_ratio": min(ratios),
            "best_step": evaluated[ratios.index(min(ratios))]["step"], "last_ratio": ratios[-1],
            "last_fd": evaluated[-1]["fd"], "evals": len(evaluated), "eval_every": eval_every,
            "load": (load_before, os.getloadavg()[0]), "command": " ".join(command)}


def print_table(results: list[dict]) -> None:
    print("\n| variant | seed | steps (elapsed s) | s/step | fd <= 2x floor at | best fd/floor (step) "
          "| last fd/floor | fd floor | load 1-min (start, end) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        hit = "not reached" if r["hit_s"] is None else f"{r['hit_s']:.0f} s (step {r['hit_step']})"
        extra = f" (eval every {r['eval_every']})" if r["eval_every"] else ""
        print(f"| {r['label']}{extra} | {r['seed']} | {r['steps']:,} ({r['elapsed_s']:.0f}) | "
              f"{r['s_per_step']:.3f} | {hit} | "
              f"{r['best_ratio']:.2f} ({r['best_step']:,}) | {r['last_ratio']:.2f} | {r['fd_floor']:.3f} | "
              f"{r['load'][0]:.1f}, {r['load'][1]:.1f} |")
    for label in dict.fromkeys(r["label"] for r in results):
        mine = [r for r in results if r["label"] == label]
        hits = [r["hit_s"] for r in mine if r["hit_s"] is not None]
        median = f", median {statistics.median(hits):.0f} s" if len(hits) == len(mine) else ""
        print(f"{label}: {len(hits)} of {len(mine)} seeds reached fd <= 2x floor{median}; "
              f"median {statistics.median(r['s_per_step'] for r in mine):.3f} s/step")


def run_training(args: argparse.Namespace, folder: Path) -> None:
    variants = [parse_variant(v) for v in args.presets]
    eval_every = dict(EVAL_EVERY)
    eval_every.update({k: int(v) for k, _, v in (item.partition("=") for item in args.eval_every)})
    results = []
    out = Path(args.out)
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        for label, preset, settings in variants:
            print(f"[{time.strftime('%H:%M:%S')}] {label} seed {seed} ({load()})", flush=True)
            r = train(folder, label, preset, settings, seed, args.seconds, eval_every.get(label), out)
            results.append(r)
            hit = "not reached" if r["hit_s"] is None else f"{r['hit_s']:.0f} s"
            print(f"  {r['steps']} steps, {r['s_per_step']:.3f} s/step, fd <= 2x floor: {hit}; best "
                  f"{r['best_ratio']:.2f}x, last {r['last_ratio']:.2f}x (floor {r['fd_floor']:.3f}); "
                  f"{r['wall_s']:.0f} s wall ({load()})", flush=True)
            with open(out / "results.jsonl", "a") as f:
                f.write(json.dumps(r) + "\n")
    print_table(results)


# ---------------------------------------------------------------------------------------------
# Profile


# (preset, settings on top of it); the plain-module rows follow them
PROFILE_CANDIDATES = {
    "w32 b64 (images-gpu)": ("images-gpu", {}),
    "w24 b64": ("images-gpu", {"model.options.width": 24}),
    "w16 b64": ("images-gpu", {"model.options.width": 16}),
    "w32 b32": ("images-gpu", {"train.batch_size": 32}),
    "w24 b32": ("images-gpu", {"model.options.width": 24, "train.batch_size": 32}),
    "w16 b32": ("images-gpu", {"model.options.width": 16, "train.batch_size": 32}),
    "w16 b64 g_norm none": ("images-gpu", {"model.options.width": 16, "model.options.g_norm": "none"}),
    "w32 b64 g_norm none": ("images-gpu", {"model.options.g_norm": "none"}),
    "w16 b64 2 threads": ("images-gpu", {"model.options.width": 16, "train.threads": 2}),
    "w32 b64 2 threads": ("images-gpu", {"train.threads": 2}),
    "w16 b32 pack 2 EMA (images)": ("images", {}),
    "w16 b32 pack 2 EMA, 2 threads": ("images", {"train.threads": 2}),
}


def _trainer(folder: Path, settings: dict, preset: str) -> Any:
    from gankit.config import shortcut_overrides
    from gankit.config.resolve import resolve_config
    from gankit.training.trainer import Trainer

    config = resolve_config(preset, None, shortcut_overrides(data=f"{folder}/", set=settings))
    return Trainer.from_config(config)


def _timed(step: Callable[[], Any], threads: int, seconds: float) -> float:
    """Seconds per call of ``step``: as many calls as fit in about ``seconds`` (at least 2)."""
    import torch

    torch.set_num_threads(threads)
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < 2 or time.perf_counter() - start < seconds:
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _plain_step(width: int, batch: int, channels_last: bool) -> Callable[[], None]:
    """One GAN step (D then G, Adam, nonsaturating) on plain single-member dcgan modules."""
    import torch
    from torch import nn

    from gankit.config.schema import ModelConfig
    from gankit.nets.dcgan import DCGANOptions, build_dcgan

    torch.manual_seed(0)
    model = ModelConfig(arch="dcgan", noise_dim=32)
    g = build_dcgan(model, (3, 32, 32), "generator", DCGANOptions(width=width))
    d = build_dcgan(model, (3, 32, 32), "discriminator", DCGANOptions(width=width))
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    g, d = g.to(memory_format=fmt), d.to(memory_format=fmt)
    opt_g = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
    real = torch.rand(batch, 3, 32, 32).mul(2).sub(1).contiguous(memory_format=fmt)
    loss = nn.functional.softplus

    def step() -> None:
        with torch.no_grad():
            fake = torch.tanh(g(torch.randn(batch, 32)))
        d_loss = loss(-d(real)).mean() + loss(d(fake)).mean()
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = loss(-d(torch.tanh(g(torch.randn(batch, 32))))).mean()
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()

    return step


def run_profile(args: argparse.Namespace, folder: Path) -> None:
    import torch

    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs; {load()}", flush=True)
    trainers = {label: _trainer(folder, settings, preset)
                for label, (preset, settings) in PROFILE_CANDIDATES.items()}
    threads = {label: s.get("train.threads", 1) for label, (_, s) in PROFILE_CANDIDATES.items()}
    plain = {f"plain w{w} b{b} {'channels_last' if cl else 'contiguous'}": (_plain_step(w, b, cl), 1)
             for w, b in ((32, 64), (16, 64), (16, 32)) for cl in (False, True)}
    steps = {label: (trainer.step, threads[label]) for label, trainer in trainers.items()} | plain
    for step, n in steps.values():  # warm-up
        torch.set_num_threads(n)
        step()
        step()
    times: dict[str, list[float]] = {label: [] for label in steps}
    for r in range(args.rounds):
        for label, (step, n) in steps.items():
            times[label].append(_timed(step, n, args.profile_seconds))
        print(f"round {r + 1} of {args.rounds} done ({load()})", flush=True)
    base = statistics.median(times["w32 b64 (images-gpu)"])
    print(f"\nseconds per step, median over {args.rounds} interleaved rounds (each the median of the "
          f"steps in about {args.profile_seconds:g} s); {load()}")
    print("| candidate | s/step | rounds' medians | x images-gpu | images/s (G's batch) |")
    print("|---|---|---|---|---|")
    for label, values in times.items():
        batch = 64 if "b64" in label or label.startswith("plain w32") else 32
        m = statistics.median(values)
        print(f"| {label} | {m:.3f} | {', '.join(f'{v:.3f}' for v in values)} | {m / base:.2f} | "
              f"{batch / m:,.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["images", "images-gpu"],
                        help="presets, or 'LABEL=PRESET KEY=VALUE ...' variants (one argument each)")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=600.0, help="train.max_seconds of each run")
    parser.add_argument("--eval-every", action="append", default=[], metavar="LABEL=N",
                        help=f"log.eval_every for one variant (default: {EVAL_EVERY})")
    parser.add_argument("--images", type=int, default=5000, help="crops in the folder")
    parser.add_argument("--folder-seed", type=int, default=0)
    parser.add_argument("--folder-root", default="bench-out",
                        help="where the folder of crops is made (crops{IMAGES}-{FOLDER_SEED}/), once")
    parser.add_argument("--out", default="bench-out/image_folder")
    parser.add_argument("--profile", action="store_true", help="time the step of candidate settings")
    parser.add_argument("--rounds", type=int, default=3, help="--profile: interleaved rounds")
    parser.add_argument("--profile-seconds", type=float, default=4.0,
                        help="--profile: seconds of steps per candidate and round")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    folder = make_folder(Path(args.folder_root) / f"crops{args.images}-{args.folder_seed}", args.images,
                         args.folder_seed)
    print(f"folder: {folder}/ ({args.images} PNG crops 32x32 of china.jpg and flower.jpg)", flush=True)
    if args.profile:
        run_profile(args, folder)
    else:
        run_training(args, folder)


if __name__ == "__main__":
    main()
