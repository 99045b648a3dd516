"""More than one process: torchrun with gloo on the CPU, against the single-process run."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from gankit.config.resolve import resolve_config
from gankit.session.distributed import join_states, slice_state
from gankit.store.checkpoint import open_latest
from gankit.training.trainer import Trainer

SHORT = ["--preset", "seed", "--quiet", "--no-figures", "--set", "log.eval_samples=1024",
         "--set", "log.eval_every=10", "--set", "log.checkpoint_every=10"]


def _env():
    # One thread per rank, and no stray rendezvous settings from outside.
    return {**{k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "MASTER_ADDR",
                                                                  "MASTER_PORT", "LOCAL_RANK")},
            "OMP_NUM_THREADS": "1"}


def _torchrun(*args, ranks=2, wait=True):
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(ranks),
           "-m", "gankit", "train", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
                            start_new_session=True)
    if not wait:
        return proc
    out, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, err[-3000:]
    return out


def _single(*args):
    done = subprocess.run([sys.executable, "-m", "gankit", "train", *args], capture_output=True, text=True,
                          env=_env(), timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]


def _state(run):
    return open_latest(Path(run) / "checkpoints")["trainer"]


def _assert_states_equal(a, b, exact=True):
    for net in ("generator", "discriminator"):
        for key in a[net]:
            if exact:
                assert torch.equal(a[net][key], b[net][key]), (net, key)
            else:
                torch.testing.assert_close(a[net][key], b[net][key], rtol=1e-4, atol=1e-5)
    for opt in ("opt_g", "opt_d"):
        if exact:
            assert torch.equal(a[opt]["exp_avg_sq"], b[opt]["exp_avg_sq"])


def _summary(run):
    summary = json.loads((Path(run) / "summary.json").read_text())
    summary.pop("world_size", None)
    return summary


def test_slicing_and_joining_a_population_state_round_trips():
    trainer = Trainer.from_config(resolve_config("default", overrides=[{"seeds": 5}]))
    for _ in range(3):
        trainer.step()
    state = trainer.state_dict()
    parts = [slice_state(state, trainer, 0, 2), slice_state(state, trainer, 2, 3)]
    assert parts[1]["members"] == 3 and parts[1]["generator"]["0.weight"].shape[0] == 3
    joined = join_states(parts, trainer)
    _assert_states_equal(joined, state)
    assert torch.equal(joined["opt_d"]["exp_avg"], state["opt_d"]["exp_avg"])
    assert joined["members"] == 5 and len(joined["samplers"]) == 5
    # a slice is what a trainer of those members alone holds
    alone = Trainer.from_config(resolve_config("default", overrides=[{"seeds": 3, "seed": 2}]))
    for _ in range(3):
        alone.step()
    _assert_states_equal(parts[1], alone.state_dict())


def test_members_split_over_two_ranks_equal_one_process_and_resume_with_another_count(tmp_path):
    _single(*SHORT, "--seeds", "3", "--steps", "40", "--out", str(tmp_path / "one"))
    _torchrun(*SHORT, "--seeds", "3", "--steps", "40", "--out", str(tmp_path / "two"))
    _assert_states_equal(_state(tmp_path / "one"), _state(tmp_path / "two"))
    assert _summary(tmp_path / "one") == _summary(tmp_path / "two")
    assert json.loads((tmp_path / "two" / "summary.json").read_text())["world_size"] == 2
    rows = [json.loads(x) for x in (tmp_path / "two" / "metrics.jsonl").read_text().splitlines()]
    assert len(rows[-1]["members"]["a_w1"]) == 3
    # a run trained by two ranks continues in one process, and one trained alone on two ranks
    _single(*SHORT, "--seeds", "3", "--steps", "60", "--out", str(tmp_path / "straight"))
    _single("--resume", str(tmp_path / "two"), "--steps", "60", "--quiet", "--no-figures")
    _torchrun("--resume", str(tmp_path / "one"), "--steps", "60", "--quiet", "--no-figures")
    for resumed in ("one", "two"):
        _assert_states_equal(_state(tmp_path / "straight"), _state(tmp_path / resumed))
        assert _summary(tmp_path / "straight") == _summary(tmp_path / resumed)


def test_data_parallel_ranks_match_one_process_with_the_same_global_batch(tmp_path):
    args = ["--quiet", "--no-figures", "--steps", "20", "--set", "log.eval_samples=1024"]
    _single(*args, "--out", str(tmp_path / "one"))
    _torchrun(*args, "--out", str(tmp_path / "two"))
    _assert_states_equal(_state(tmp_path / "one"), _state(tmp_path / "two"), exact=False)
    assert json.loads((tmp_path / "two" / "summary.json").read_text())["step"] == 20


def test_a_rank_that_dies_ends_the_job_and_leaves_a_resumable_run(tmp_path):
    out = tmp_path / "r"
    proc = _torchrun(*SHORT, "--seeds", "2", "--steps", "100000", "--out", str(out), wait=False)
    deadline = time.time() + 120
    while not [p for p in (out / "checkpoints").glob("step_*.pt") if int(p.stem[5:]) >= 10]:
        assert proc.poll() is None, proc.communicate()
        assert time.time() < deadline
        time.sleep(0.2)
    workers = subprocess.run(["pgrep", "-f", "-P", str(proc.pid), "gankit"], capture_output=True, text=True)
    victim = int(workers.stdout.split()[-1])
    killed_at = time.time()
    os.kill(victim, signal.SIGKILL)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode != 0 and time.time() - killed_at < 90, err[-2000:]
    assert "lost another rank of the job" in err and f"gankit train --resume {out}" in err
    _single("--resume", str(out), "--steps", str(_state(out)["step"] + 10), "--quiet", "--no-figures")


@pytest.mark.parametrize("argv, message", [
    (["--seeds", "3", "--on-divergence", "rollback"], "rollback' is for one process"),
    (["--seeds", "1", "--batch-size", "63"], "must split evenly over 2 ranks"),
])
def test_settings_that_cannot_be_split_are_refused_on_every_rank(tmp_path, argv, message):
    proc = _torchrun(*SHORT, "--steps", "5", *argv, "--out", str(tmp_path / "r"), wait=False)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode != 0 and err.count(message) == 2, err[-2000:]


def test_ctrl_c_stops_every_rank_at_the_same_step_with_a_checkpoint(tmp_path):
    out = tmp_path / "r"
    proc = _torchrun(*SHORT, "--seeds", "2", "--steps", "100000", "--out", str(out), wait=False)
    deadline = time.time() + 120
    while len(list((out / "checkpoints").glob("step_*.pt"))) < 2:
        assert proc.poll() is None and time.time() < deadline, proc.communicate()
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends to the whole group
    _, err = proc.communicate(timeout=120)
    stops = [line for line in err.splitlines() if line.startswith("gankit: stopped by ")]
    # Both ranks stop at the same step; a rank the signal reached after the vote says it stopped
    # for another rank's signal.
    steps = {int(line.split(" at step ")[1].split(";")[0]) for line in stops}
    assert len(stops) == 2 and len(steps) == 1 and any("SIGINT" in line for line in stops), err[-2000:]
    assert _state(out)["step"] == steps.pop()
