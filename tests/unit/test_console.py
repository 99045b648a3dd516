"""core.console: a line for the user goes out in one write, so processes sharing a pipe
(the ranks of a torchrun job) cannot run two messages together on one line."""

import io
import subprocess
import sys

from gankit.core.console import say


class _Writes(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def write(self, text: str) -> int:
        self.calls.append(text)
        return super().write(text)


def test_a_line_and_its_newline_are_one_write():
    stream = _Writes()
    say("gankit: stopped by SIGINT at step 40", stream)
    assert stream.calls == ["gankit: stopped by SIGINT at step 40\n"]


def test_stderr_is_the_default_and_is_looked_up_at_each_call(capsys):
    say("first")
    say("second")
    assert capsys.readouterr().err == "first\nsecond\n"


def test_lines_from_processes_sharing_one_pipe_arrive_whole():
    # Two writers race on one inherited pipe, as torchrun's ranks do on the job's stderr.
    writer = ("import sys; from gankit.core.console import say\n"
              "for i in range(3000): say(f'{sys.argv[1]} line {i:04d} ' + 'x' * 60)")
    both = f'{sys.executable} -c "{writer}" A & {sys.executable} -c "{writer}" B & wait'
    err = subprocess.run(["sh", "-c", both], capture_output=True, text=True, check=True).stderr
    lines = err.splitlines()
    assert len(lines) == 6000
    assert all(len(line) == len("A line 0000 ") + 60 for line in lines)
