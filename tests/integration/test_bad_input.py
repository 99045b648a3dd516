"""Every bad input gets exit status 2, a message naming the problem, no traceback, and leaves
every file that was there before unchanged."""

import hashlib
import pickle
import shutil

import pytest
import torch

from gankit.cli import main

SHORT = ["--preset", "seed", "--steps", "20", "--quiet", "--no-figures",
         "--set", "log.eval_samples=512", "--set", "log.eval_every=10"]


class _CreatesAFile:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A finished run and variants of it broken in one way each."""
    root = tmp_path_factory.mktemp("bad")
    run = root / "run"
    assert main(["train", *SHORT, "--out", str(run)]) == 0
    ckpt = sorted((run / "checkpoints").glob("step_*.pt"))[-1].name

    def variant(name):
        shutil.copytree(run, root / name)
        return root / name

    no_ckpt = variant("no_ckpt")
    for path in (no_ckpt / "checkpoints").iterdir():
        path.unlink()
    truncated = variant("truncated")
    data = (truncated / "checkpoints" / ckpt).read_bytes()
    (truncated / "checkpoints" / ckpt).write_bytes(data[: len(data) // 2])
    evil = variant("evil")
    with open(evil / "checkpoints" / "step_99999999.pt", "wb") as handle:
        pickle.dump({"format_version": 1, "x": _CreatesAFile(str(root / "pwned"))}, handle, protocol=2)
    future = variant("future")
    torch.save({"format_version": 7}, future / "checkpoints" / "step_99999999.pt")
    reshaped = variant("reshaped")
    toml = (reshaped / "config.toml").read_text()
    narrower = toml.replace("d_hidden = [\n    128,\n]", "d_hidden = [\n    64,\n]")
    (reshaped / "config.toml").write_text(narrower)
    assert "64" in (reshaped / "config.toml").read_text()
    mismatched = variant("mismatched")
    state = torch.load(mismatched / "checkpoints" / ckpt, weights_only=True)
    state["config"]["model"]["d_hidden"] = [64]  # the weights say 128
    torch.save(state, mismatched / "checkpoints" / "step_99999999.pt")
    (root / "empty").mkdir()
    (root / "a_file").write_text("not a folder")
    (root / "not_a_run").mkdir()
    (root / "not_a_run" / "paper.txt").write_text("a user's own file")
    configs = {
        "typo_key": "[train]\nstpes = 3\n",
        "typo_section": "[trian]\nsteps = 3\n",
        "wrong_type": '[train]\nsteps = "many"\n',
        "negative_lr": "[train]\nlr_g = -1.0\n",
        "zero_batch": "[train]\nbatch_size = 0\n",
        "zero_steps": "[train]\nsteps = 0\n",
        "ema_above_one": "[train]\nema = 1.5\n",
        "beta_above_one": "[train]\nbetas_g = [0.5, 1.5]\n",
        "unknown_loss": '[train]\nloss = "wgan"\n',
        "unknown_data": '[data]\nname = "parabol"\n',
        "malformed": "[train\nsteps = 3\n",
        "a_range": "[data]\na_min = 3.0\na_max = 1.0\n",
        "data_param": "[data]\namin = 1.0\n",
        "activation": '[model]\nactivation = "sigmoidd"\n',
        "zero_width": "[model]\ng_hidden = [0]\n",
        "device": 'device = "tpu"\n',
        "divergence": '[train]\non_divergence = "retry"\n',
        "not_utf8": None,
    }
    for name, text in configs.items():
        path = root / f"{name}.toml"
        if text is None:
            path.write_bytes(b"\xff\xfe\x00bad")
        else:
            path.write_text(text)
    return root


def _cases():
    def c(name):
        return ["train", "--quiet", "--no-figures", "--config", f"{{root}}/{name}.toml",
                "--out", "{root}/new"]

    return [
        (c("typo_key"), "did you mean 'steps'"),
        (c("typo_section"), "did you mean 'train'"),
        (c("wrong_type"), "train.steps must be of type int"),
        (c("negative_lr"), "train.lr_g must be positive"),
        (c("zero_batch"), "train.batch_size must be positive"),
        (c("zero_steps"), "train.steps must be positive"),
        (c("ema_above_one"), "train.ema must be in [0, 1)"),
        (c("beta_above_one"), "train.betas_g must be two numbers in [0, 1)"),
        (c("unknown_loss"), "unknown objective 'wgan'"),
        (c("unknown_data"), "did you mean 'parabola'"),
        (c("malformed"), "is not valid TOML"),
        (c("a_range"), "data.a_min (3.0) must be below data.a_max (1.0)"),
        (c("data_param"), "unknown parameter data.amin"),
        (c("activation"), "unknown activation 'sigmoidd'"),
        (c("zero_width"), "model.g_hidden must list positive layer widths"),
        (c("device"), "device must be 'cpu', 'cuda' or 'cuda:N'"),
        (c("divergence"), "train.on_divergence must be 'stop' or 'rollback'"),
        (c("not_utf8"), "cannot read config file"),
        (["train", "--config", "{root}/missing.toml"], "does not exist"),
        (["train", *SHORT, "--set", "train.lr_g"], "--set takes KEY=VALUE"),
        (["train", *SHORT, "--set", "train.lrg=0.1"], "did you mean 'lr_g'"),
        (["train", *SHORT, "--set", "train.steps=-3"], "train.steps must be positive"),
        (["train", *SHORT, "--set", "log.keep_checkpoints=0"], "log.keep_checkpoints must be positive"),
        (["train", "--steps", "-5"], "must be positive, got -5"),
        (["train", "--batch-size", "abc"], "train.batch_size must be of type int, got 'abc'"),
        (["train", "--data", "mnist"], "unknown dataset 'mnist'; choose one of"),
        (["train", "--loss", "gan"], "unknown objective 'gan'; choose one of"),
        (["train", "--preset", "fast"], "invalid choice: 'fast'"),
        (["train", "--resume", "{root}/nowhere"], "run folder '{root}/nowhere' does not exist"),
        (["train", "--resume", "{root}/empty"], "is not a gankit run folder (no config.toml)"),
        (["train", "--resume", "{root}/no_ckpt"], "no checkpoint in"),
        (["train", "--resume", "{root}/truncated"], "is corrupt or truncated"),
        (["train", "--resume", "{root}/evil"], "was refused"),
        (["train", "--resume", "{root}/future"], "format version 7"),
        (["train", "--resume", "{root}/reshaped"], "differs from the config saved in the checkpoint"),
        (["train", "--resume", "{root}/run", "--overwrite", "--out", "{root}/x"], "--out cannot be changed"),
        (["train", *SHORT, "--out", "{root}/run"], "is not empty"),
        (["train", *SHORT, "--out", "{root}/a_file"], "exists and is not a folder"),
        (["eval", "{root}/nowhere"], "does not exist"),
        (["eval", "{root}/mismatched"], "discriminator does not match the config"),
        (["train", *SHORT, "--set", "data=ring"], "config key 'data' is a table"),
        (["train", *SHORT, "--seed", "-1"], "seed must be a whole number from 0 to 2^32 - 1"),
        (["train", *SHORT, "--name", "../../x"], "name may hold letters"),
        (["train", *SHORT, "--threads", "100000"], "train.threads must be at most 256"),
        (["train", "--resume", "{root}/run", "--loss", "hinge"], "--loss cannot be changed"),
        (["train", *SHORT, "--out", "{root}/not_a_run"], "holds no gankit run"),
        (["eval", "{root}/run", "--n", "3"], "evaluation needs at least 16 samples"),
        (["eval", "{root}/truncated", "--json"], "is corrupt or truncated"),
        (["plot", "{root}/empty"], "is not a gankit run folder"),
        (["sample", "{root}/run", "--out", "{root}/no/such/dir/x.npy"],
         "folder '{root}/no/such/dir' does not exist"),
        (["sample", "{root}/run", "--out", "{root}/x.txt"], "must end in .npy or .csv"),
        (["sample", "{root}/run", "--n", "0", "--out", "{root}/x.npy"], "must be positive, got 0"),
        (["sample", "{root}/run", "--out", "{root}/new/"], "this run's data ('parabola') are not images"),
        (["sample", "{root}/nowhere", "--out", "{root}/new/"], "does not exist"),
        (["sample", "{root}/nowhere", "--out", "{root}/x.npy"], "does not exist"),
    ]


def _fingerprint(root):
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("argv, message", _cases(), ids=lambda v: v if isinstance(v, str) else None)
def test_bad_input(world, argv, message, capsys):
    before = _fingerprint(world)
    argv = [a.format(root=world) for a in argv]
    with pytest.raises(SystemExit) as exited:
        raise SystemExit(main(argv))
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert message.format(root=world) in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert _fingerprint(world) == before
    assert not (world / "pwned").exists()
    assert not (world / "new").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_named(tmp_path, capsys):
    assert main(["train", *SHORT, "--device", "cuda", "--out", str(tmp_path / "r")]) == 2
    assert "PyTorch sees no CUDA device" in capsys.readouterr().err


def test_debug_shows_the_traceback(world):
    with pytest.raises(Exception, match="does not exist"):
        main(["eval", str(world / "nowhere"), "--debug"])
    with pytest.raises(Exception, match="does not exist"):
        main(["--debug", "eval", str(world / "nowhere")])
