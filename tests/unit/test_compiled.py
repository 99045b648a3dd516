"""train.compile: the flag, the refusals, and compiled steps agreeing with eager ones.

Compiled kernels round differently from eager ATen (fused loops sum in another order), so the
agreement is to a tolerance, not bit for bit: after 3 steps, every weight within 1e-5 of eager's
(weights are of order 0.1-1; the float32 epsilon is 1.2e-7) and the losses within a relative
1e-4. Compiling takes 10-40 s per case on 2 CPU cores, so those tests are marked slow.
"""

from __future__ import annotations

import tomllib

import pytest
import torch

from gankit.cli import main
from gankit.config.resolve import resolve_config
from gankit.core.errors import GankitError
from gankit.training import compiled
from gankit.training.compiled import CompiledPath, cpp_compiler
from gankit.training.manual import ManualPath
from gankit.training.trainer import Trainer

SMALL = {"model": {"g_hidden": [32], "d_hidden": [32]}, "train": {"batch_size": 32}}


def _trainer(preset: str = "default", seeds: int = 1, compile: bool = False, **sections) -> Trainer:
    overrides = [SMALL, {"seeds": seeds, "train": {"compile": compile}}, *sections.values()]
    return Trainer.from_config(resolve_config(preset, overrides=overrides))


def test_the_flag_bare_means_true_and_reaches_config_toml(capsys):
    capsys.readouterr()
    assert main(["train", "--compile", "--dry-run"]) == 0
    assert tomllib.loads(capsys.readouterr().out)["train"]["compile"] is True
    assert main(["train", "--compile", "false", "--dry-run"]) == 0
    assert tomllib.loads(capsys.readouterr().out)["train"]["compile"] is False


def test_off_by_default_and_on_wraps_the_chosen_path():
    assert resolve_config().train.compile is False
    assert not isinstance(_trainer().gradients, CompiledPath)
    path = _trainer(compile=True).gradients  # compiling waits for the first step
    assert isinstance(path, CompiledPath) and path.name == f"{path.path.name}, compiled"
    # a population is compiled whole, never in chunks of members (their probe is not traceable)
    assert isinstance(_trainer(seeds=4, compile=True).gradients.path, ManualPath)


def test_no_cpp_compiler_is_refused_in_one_line(monkeypatch):
    from torch._inductor import config as inductor_config

    monkeypatch.delenv("TORCH_INDUCTOR_INSTALL_GXX", raising=False)
    with inductor_config.patch({"cpp.cxx": (None, "no-such-compiler-gankit")}):  # torch's own undo
        assert cpp_compiler() is None
        with pytest.raises(GankitError) as error:
            _trainer(compile=True)
    message = str(error.value)
    assert "C++ compiler" in message and "--compile" in message and "\n" not in message
    _trainer(compile=False)  # eager needs none


def test_a_failing_compiler_at_the_first_step_becomes_one_line(monkeypatch):
    class InvalidCxxCompiler(RuntimeError):  # what torch._inductor.exc raises, by name
        pass

    def broken(*args, **kwargs):
        try:
            raise InvalidCxxCompiler("No working C++ compiler found in cpp.cxx: (None, 'g++')")
        except InvalidCxxCompiler as cause:
            raise RuntimeError("backend='inductor' raised: see above") from cause

    monkeypatch.setattr(compiled.torch, "compile", lambda fn, **kwargs: broken)
    trainer = _trainer(compile=True)
    with pytest.raises(GankitError, match="no working C\\+\\+ compiler") as error:
        trainer.step()
    assert "\n" not in str(error.value)


def test_penalties_that_need_a_double_backward_are_refused():
    with pytest.raises(GankitError, match="r1"):
        _trainer("ring", compile=True)


def test_the_compiled_path_traced_without_inductor_gives_eager_bits():
    """Dynamo's tracing with the eager backend runs the same kernels: the wiring is exact."""
    eager, traced = _trainer(seeds=2), _trainer(seeds=2)
    traced.gradients = CompiledPath(traced.gradients, backend="eager")
    for _ in range(2):
        a, b = eager.step(), traced.step()
    assert torch.equal(a.d_loss, b.d_loss) and torch.equal(a.g_loss, b.g_loss)
    assert torch.equal(eager.g_flat, traced.g_flat) and torch.equal(eager.d_flat, traced.d_flat)


def _agree(eager: Trainer, compiled_trainer: Trainer, steps: int = 3) -> None:
    for _ in range(steps):
        a, b = eager.step(), compiled_trainer.step()
    torch.testing.assert_close(b.d_loss, a.d_loss, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(b.g_loss, a.g_loss, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(compiled_trainer.g_flat, eager.g_flat, rtol=0, atol=1e-5)
    torch.testing.assert_close(compiled_trainer.d_flat, eager.d_flat, rtol=0, atol=1e-5)


needs_compiler = pytest.mark.skipif(cpp_compiler() is None, reason="no C++ compiler for torch.compile")


@pytest.mark.slow
@needs_compiler
@pytest.mark.parametrize("seeds", [1, 3])
def test_compiled_hand_written_path_agrees_with_eager(seeds):
    eager, fast = _trainer(seeds=seeds), _trainer(seeds=seeds, compile=True)
    assert fast.gradients.name.startswith("hand-written")
    _agree(eager, fast)


@pytest.mark.slow
@needs_compiler
def test_compiled_autograd_path_of_a_vmap_population_agrees_with_eager():
    population = {"model": {"population": "vmap"}, "train": {"backward": "autograd"}}
    eager = _trainer(seeds=2, population=population)
    fast = _trainer(seeds=2, compile=True, population=population)
    assert fast.gradients.name == "autograd, compiled"
    _agree(eager, fast)
