"""Kill a training process at random moments, resume it, and compare with an uninterrupted run."""

import json
import random
import signal
import subprocess
import sys
import time

import pytest
import torch

from gankit.store.checkpoint import latest_checkpoint, load_checkpoint

# Short and densely checkpointed: a kill lands between two checkpoints ten steps apart. Long
# enough (about 3 s of steps) that a signal sent 0.6 s after the first checkpoint finds it running.
ARGS = ["--preset", "seed", "--steps", "3000", "--quiet", "--no-figures",
        "--set", "log.checkpoint_every=10", "--set", "log.eval_every=200",
        "--set", "log.eval_samples=1024", "--set", "log.log_every=50", "--set", "log.keep_checkpoints=2"]


def _gankit(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "gankit", "train", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _final_state(run_dir):
    state = load_checkpoint(latest_checkpoint(run_dir / "checkpoints"))["trainer"]
    return state, (run_dir / "summary.json").read_bytes()


def _assert_same_run(a, b):
    (state_a, summary_a), (state_b, summary_b) = _final_state(a), _final_state(b)
    assert summary_a == summary_b
    for net in ("generator", "discriminator"):
        for key, tensor in state_a[net].items():
            assert tensor.numpy().tobytes() == state_b[net][key].numpy().tobytes(), (net, key)
    for opt in ("opt_g", "opt_d"):
        assert torch.equal(state_a[opt]["exp_avg_sq"], state_b[opt]["exp_avg_sq"])
    rows_a = [json.loads(x) for x in (a / "metrics.jsonl").read_text().splitlines()]
    rows_b = [json.loads(x) for x in (b / "metrics.jsonl").read_text().splitlines()]
    drop_time = [{k: v for k, v in r.items() if k != "elapsed_s"} for r in rows_a]
    assert drop_time == [{k: v for k, v in r.items() if k != "elapsed_s"} for r in rows_b]


def _wait_for_training(run_dir, proc, timeout=60):
    deadline = time.time() + timeout
    # any checkpoint: the first is deleted two checkpoints (a few milliseconds) later
    while not list((run_dir / "checkpoints").glob("step_*.pt")):
        assert proc.poll() is None, proc.communicate()
        assert time.time() < deadline
        time.sleep(0.02)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("kill") / "reference"
    proc = _gankit(*ARGS, "--out", str(out))
    assert proc.wait(timeout=300) == 0, proc.communicate()
    return out


def _kill_and_resume(reference, out, delay):
    proc = _gankit(*ARGS, "--out", str(out))
    _wait_for_training(out, proc)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    resumed = _gankit("--resume", str(out), "--quiet", "--no-figures")
    assert resumed.wait(timeout=300) == 0, resumed.communicate()
    _assert_same_run(reference, out)


def test_sigkill_then_resume_is_bit_exact(reference, tmp_path):
    _kill_and_resume(reference, tmp_path / "killed", delay=0.2)


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume_is_bit_exact(reference, tmp_path):
    rng = random.Random(1234)
    for trial in range(5):
        _kill_and_resume(reference, tmp_path / f"killed{trial}", delay=rng.uniform(0.02, 0.6))


def test_a_torn_checkpoint_write_is_ignored_on_resume(reference, tmp_path):
    out = tmp_path / "torn"
    proc = _gankit(*ARGS, "--out", str(out))
    _wait_for_training(out, proc)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # what a kill in the middle of a write leaves: a partial temporary file beside the checkpoints
    newest = latest_checkpoint(out / "checkpoints")
    (out / "checkpoints" / f".{newest.name}.abc123.tmp").write_bytes(newest.read_bytes()[:100])
    resumed = _gankit("--resume", str(out), "--quiet", "--no-figures")
    assert resumed.wait(timeout=300) == 0, resumed.communicate()
    _assert_same_run(reference, out)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_sigint_and_sigterm_save_and_say_how_to_resume(reference, tmp_path, sig):
    out = tmp_path / "stopped"
    proc = _gankit(*ARGS, "--out", str(out))
    _wait_for_training(out, proc)
    time.sleep(0.3)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, err
    assert f"gankit train --resume {out}" in err and "Traceback" not in err
    resumed = _gankit("--resume", str(out), "--quiet", "--no-figures")
    assert resumed.wait(timeout=300) == 0, resumed.communicate()
    _assert_same_run(reference, out)
