"""gankit: train generative adversarial networks with PyTorch, and measure them exactly."""

__version__ = "0.1.0"

from gankit.compare import compare  # noqa: E402
from gankit.config import Config, resolve_config  # noqa: E402
from gankit.run import Run, resume, train  # noqa: E402
from gankit.theory import run_theory  # noqa: E402

__all__ = ["Config", "Run", "__version__", "compare", "resolve_config", "resume", "run_theory", "train"]
