"""Bad arguments and missing files are refused before torch is imported, so the answer comes at
once (``benchmarks/startup.py`` prints the times); a good command still imports it."""

import subprocess
import sys

import pytest

PROBE = """
import sys
from gankit.cli.app import main
code = main(sys.argv[1:])
print("TORCH" if "torch" in sys.modules else "NO_TORCH", code)
"""


def _run(argv, cwd):
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True,
                          cwd=cwd)
    return done.stdout.splitlines()[-1].split(), done.stderr


@pytest.mark.parametrize("argv, message", [
    (["train", "--data", "missing.csv"], "no such file: 'missing.csv'"),
    (["train", "--data", "missing.npy"], "no such file: 'missing.npy'"),
    (["train", "--data", "nonexist/"], "no such folder: 'nonexist/'"),
    (["train", "--data", "empty.npy"], "'empty.npy' is empty"),
    (["train", "--loss", "nosuch"], "unknown objective 'nosuch'"),
    (["train", "--loss", "hing"], "did you mean 'hinge'"),
    (["train", "--set", "model.arch=dgan"], "did you mean 'dcgan'"),
    (["train", "--activation", "sigmoidd"], "unknown activation 'sigmoidd'"),
    (["train", "--data", "rnig"], "did you mean 'ring'"),
    (["train", "--config", "bad.toml"], "unknown objective 'wgan'"),
    (["train", "--resume", "nowhere"], "run folder 'nowhere' does not exist"),
    (["sample", "nowhere", "--out", "x.csv"], "run folder 'nowhere' does not exist"),
    (["eval", "nowhere"], "run folder 'nowhere' does not exist"),
    (["plot", "nowhere"], "run folder 'nowhere' does not exist"),
])
def test_refused_before_torch_is_imported(tmp_path, argv, message):
    (tmp_path / "empty.npy").write_bytes(b"")
    (tmp_path / "bad.toml").write_text('[train]\nloss = "wgan"\n')
    (marker, code), err = _run(argv, tmp_path)
    assert (marker, code) == ("NO_TORCH", "2"), err
    assert message in err and len(err.strip().splitlines()) == 1, err


def test_a_good_command_goes_on_to_import_torch(tmp_path):
    (marker, code), err = _run(["train", "--data", "ring", "--dry-run"], tmp_path)
    assert (marker, code) == ("TORCH", "0"), err
