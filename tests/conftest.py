import matplotlib
import pytest
import torch

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _one_thread():
    """Fixed thread count: results then do not depend on the machine's core count."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def poison_steps(monkeypatch):
    """``poison(loss, first, last=None, member=None, value=nan)``: from step ``first`` (to ``last``)
    the step reports ``loss`` ("d_loss" or "g_loss") as ``value`` for every member or one, as a
    diverging run would; only the report is poisoned, the weights train on. With ``last``, each
    step is poisoned once (a rollback passes it again unharmed). Returns the steps poisoned."""
    from gankit.training.trainer import Trainer

    def poison(loss, first, last=None, member=None, value=float("nan")):
        real_step = Trainer.step
        seen = []

        def poisoned(self, progress=None):
            stats = real_step(self, progress)
            if self.step_count >= first and (last is None or self.step_count <= last) \
                    and not (last is not None and self.step_count in seen):
                seen.append(self.step_count)
                broken = getattr(stats, loss).clone()
                broken[slice(None) if member is None else member] = value
                setattr(stats, loss, broken)
            return stats

        monkeypatch.setattr(Trainer, "step", poisoned)
        return seen

    return poison


def pytest_collection_modifyitems(items):
    """Each test is marked by its folder, so ``pytest -m unit`` runs the fast checks alone."""
    for item in items:
        for kind in ("unit", "integration"):
            if f"/tests/{kind}/" in str(item.path):
                item.add_marker(kind)
