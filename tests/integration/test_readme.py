"""README.md's code blocks, run as a new user would run them.

The slow test runs every block verbatim in an empty folder, in the README's order: the shell
blocks through the installed ``gankit`` console script, the Python blocks as scripts, and the
"Python" section's block a second time, as a user runs an example again. The fast tests check
the same text without training: every command parses, every ``train`` line resolves to a valid
config, the Python blocks name nothing they did not import, and the "Python" section's block
overwrites the runs it makes.
"""

import ast
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gankit.cli import build_parser, main

README = Path(__file__).resolve().parents[2] / "README.md"
BIN = Path(sys.executable).parent


def blocks() -> list[tuple[str, str]]:
    """(language, text) of every fenced block, in order."""
    return re.findall(r"^```(\w*)\n(.*?)^```", README.read_text(), flags=re.S | re.M)


def commands() -> list[list[str]]:
    """Every ``gankit`` command line of the shell blocks, comments removed."""
    lines = [line for lang, text in blocks() if lang == "sh" for line in text.splitlines()]
    return [shlex.split(line, comments=True) for line in lines if line.startswith("gankit ")]


def python_section() -> str:
    """The block of the README's "Python" section: the API tour, which must run again as it is."""
    section = README.read_text().split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    (text,) = re.findall(r"^```python\n(.*?)^```", section, flags=re.S | re.M)
    return text


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    src = str(Path(__file__).resolve().parents[2] / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    return env


def test_the_readme_has_the_blocks_the_tests_run():
    languages = [lang for lang, _ in blocks()]
    assert "sh" in languages and "python" in languages
    assert set(languages) <= {"", "sh", "python"}  # a new language would be silently skipped


def test_set_up_block_names_make_targets_that_exist():
    (setup,) = [text for lang, text in blocks() if lang == ""]
    targets = [line.split()[1] for line in setup.splitlines() if line.startswith("make ")]
    assert targets
    makefile = (README.parent / "Makefile").read_text()
    for target in targets:
        assert re.search(rf"^{target}:", makefile, flags=re.M), target


def test_every_readme_command_parses():
    parser = build_parser()
    found = commands()
    assert found
    for argv in found:
        parser.parse_args(argv[1:])  # exits with status 2 on an unknown flag


def test_every_readme_train_command_resolves_a_valid_config(capsys):
    for argv in commands():
        if argv[1] == "train" and not {"--resume", "--config"} & set(argv):
            assert main([*argv[1:], "--dry-run"]) == 0, argv
            capsys.readouterr()


def test_the_python_block_names_nothing_it_did_not_import(tmp_path):
    ruff = shutil.which("ruff", path=str(BIN)) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed")
    for i, (lang, text) in enumerate(blocks()):
        if lang == "python":
            script = tmp_path / f"block{i}.py"
            script.write_text(text)
            done = subprocess.run([ruff, "check", "--isolated", "--select", "F", str(script)],
                                  capture_output=True, text=True)
            assert done.returncode == 0, done.stdout


def test_the_python_section_overwrites_every_run_it_makes():
    """Run twice, a call that makes a run folder without ``overwrite=True`` refuses the folder
    the first run left."""
    calls = [node for node in ast.walk(ast.parse(python_section())) if isinstance(node, ast.Call)
             and isinstance(node.func, ast.Attribute) and node.func.attr in ("train", "compare")]
    assert len(calls) == 3
    for call in calls:
        keywords = {k.arg: k.value for k in call.keywords}
        assert isinstance(keywords.get("overwrite"), ast.Constant) and keywords["overwrite"].value is True, \
            ast.unparse(call)


@pytest.mark.slow
def test_every_readme_block_runs_verbatim(tmp_path):
    if not (BIN / "gankit").exists():
        pytest.skip("the gankit console script is not installed next to this Python")
    env = _env()
    for i, (lang, text) in enumerate(blocks()):
        if lang == "sh":
            done = subprocess.run(["bash", "-e", "-c", text], cwd=tmp_path, env=env,
                                  capture_output=True, text=True, timeout=600)
        elif lang == "python":
            script = tmp_path / f"readme_block{i}.py"
            script.write_text(text)
            again = text == python_section()  # run a second time, over the runs it made
            for time in ("the first time", "the second time")[: 2 if again else 1]:
                done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                                      capture_output=True, text=True, timeout=600)
                assert done.returncode == 0, f"block {i} failed {time}:\n{done.stderr[-2000:]}"
        else:
            continue  # the set-up block: make demo / make test, checked above
        assert done.returncode == 0, f"block {i} ({lang}) failed:\n{done.stderr[-2000:]}"


def test_make_demo_waits_for_its_figures():
    """The README sends the user to runs/demo/figures/ right after `make demo` returns."""
    recipe = re.search(r"^demo:.*\n\t(.*)$", (README.parent / "Makefile").read_text(), flags=re.M).group(1)
    argv = shlex.split(recipe)
    assert argv[0].endswith("gankit") and argv[1] == "train"
    args = build_parser().parse_args(argv[1:])
    assert args.wait_figures and not args.no_figures


def test_every_stated_time_was_written_by_the_timing_script():
    """The times in README.md and docs/THEORY.md sit between the markers that
    benchmarks/readme_timings.py fills, each a measured range."""
    for doc in (README, README.parent / "docs" / "THEORY.md"):
        spans = re.findall(r"<!-- timing:(\w+) -->(.*?)<!-- /timing -->", doc.read_text())
        assert spans, doc
        for key, value in spans:
            assert re.fullmatch(r"\d+(\.\d)?-\d+(\.\d)? (s|min)", value), (doc.name, key, value)
