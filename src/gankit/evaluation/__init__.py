"""Scoring and showing what a generator makes: the evaluator, D-guided refinement, figures."""

from gankit.evaluation.evaluator import Evaluator

__all__ = ["Evaluator"]
