import io
import subprocess
import sys

import gankit
from gankit.cli import main
from gankit.config.resolve import resolve_config
from gankit.evaluation import Evaluator
from gankit.session.observers import MetricsLog, ProgressBar
from gankit.store.rundir import RunFolder
from gankit.training.trainer import Trainer


def _trainer(**log):
    return Trainer.from_config(resolve_config("seed", overrides=[{"train": {"steps": 200}, "log": log}]))


def test_progress_to_a_file_is_a_plain_line_every_few_percent(tmp_path):
    trainer = _trainer(log_every=10, eval_every=50)
    folder = RunFolder(tmp_path)
    log, stream = MetricsLog(folder), io.StringIO()
    progress = ProgressBar(trainer, folder, log, enabled=True, stream=stream)
    for step in range(1, 201):
        stats = trainer.step()
        log.on_step(trainer, stats, 0.1 * step, step == 200)
        progress.on_step(trainer, stats, 0.1 * step, step == 200)
    progress.close()
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue()
    assert 15 <= len(lines) <= 22  # one per 5% of the run, and the last step
    assert lines[-1].startswith("step 200/200 (20.0 s) D ") and "a_w1" in lines[-1]


def test_a_piped_cli_run_writes_lines_not_a_bar(tmp_path):
    done = subprocess.run([sys.executable, "-m", "gankit", "train", "--preset", "seed", "--steps", "100",
                           "--no-figures", "--out", str(tmp_path / "r")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "\r" not in done.stderr and done.stderr.count("step ") >= 10


def test_the_python_api_shows_progress_by_default_and_quiet_silences_it(tmp_path, capsys):
    gankit.train(preset="seed", steps=20, out=tmp_path / "a", figures=False)
    err = capsys.readouterr().err
    assert "step 20/20" in err and len(err.splitlines()) <= 22  # lines under pytest, not a flood
    gankit.resume(tmp_path / "a", steps=30, figures=False)
    assert "step 30/30" in capsys.readouterr().err
    gankit.train(preset="seed", steps=20, out=tmp_path / "b", figures=False, progress=False)
    assert "step " not in capsys.readouterr().err
    assert main(["train", "--preset", "seed", "--steps", "20", "--no-figures", "--quiet",
                 "--out", str(tmp_path / "c")]) == 0
    assert "step " not in capsys.readouterr().err


def test_evaluations_during_training_use_the_interim_size_and_the_last_one_the_full_size(
        tmp_path, monkeypatch):
    trainer = _trainer(eval_every=50, eval_samples=8192, interim_eval_samples=1024)
    sizes = []
    real_evaluate = Evaluator.evaluate_members

    def recording(self, n=None, general=False):
        sizes.append(n)
        return real_evaluate(self, n, general)

    monkeypatch.setattr(Evaluator, "evaluate_members", recording)
    log = MetricsLog(RunFolder(tmp_path))
    for step in range(1, 201):
        log.on_step(trainer, trainer.step(), 0.0, step == 200)
    assert sizes == [1024, 1024, 1024, None]  # None: the config's full eval_samples
    assert Evaluator(trainer).interim_samples() == 1024


def _rows(folder):
    return [{k: v for k, v in row.items() if k != "elapsed_s"} for row in folder.metrics.read()]


def test_evaluations_in_the_background_write_the_same_rows_in_order(tmp_path, monkeypatch):
    frozen = []
    real_frozen = Evaluator.frozen

    def counting(self):
        frozen.append(self.trainer.step_count)
        return real_frozen(self)

    monkeypatch.setattr(Evaluator, "frozen", counting)
    folders = {}
    for background in (False, True):
        trainer, folder = _trainer(eval_every=20, log_every=5), RunFolder(tmp_path / str(background))
        folder.create(trainer.config, overwrite=False)
        log = MetricsLog(folder, background=background)
        for step in range(1, 101):
            log.on_step(trainer, trainer.step(), 0.0, step == 100)
            assert all(row["step"] <= step for row in log.new_rows)
        log.close()
        folders[background] = folder
    assert frozen == [20, 40, 60, 80]  # only the background run froze; the last evaluation never
    rows = _rows(folders[True])
    assert rows == _rows(folders[False])
    assert [row["step"] for row in rows] == list(range(5, 101, 5))
    assert "a_w1" in rows[3] and "a_w1" not in rows[2]


def test_a_checkpoint_waits_for_the_rows_before_it(tmp_path):
    from gankit.session.divergence import DivergenceGuard
    from gankit.session.observers import Checkpoints

    trainer, folder = _trainer(eval_every=10, log_every=10), RunFolder(tmp_path)
    folder.create(trainer.config, overwrite=False)
    log = MetricsLog(folder, background=True)
    checkpoints = Checkpoints(folder, DivergenceGuard(trainer, folder), trainer.config, log=log)
    for _ in range(30):
        log.on_step(trainer, trainer.step(), 0.0, False)
    checkpoints.save(trainer)
    assert [row["step"] for row in folder.metrics.read()] == [10, 20, 30]
    log.close()
