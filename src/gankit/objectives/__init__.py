"""GAN objectives (pure functions of logits, by name) and the terms beside them (penalties and
weight projections, by name)."""

from gankit.objectives.losses import (
    OBJECTIVES,
    Objective,
    bce_d_loss,
    class_cross_entropy,
    gradient_penalty,
    hinge_d_loss,
    input_gradient_norms,
    least_squares_d_loss,
    least_squares_g_loss,
    minimax_g_loss,
    nonsaturating_g_loss,
    relativistic_d_loss,
    relativistic_g_loss,
    squared_gradient_penalty,
    value_function,
    wasserstein_d_loss,
    wasserstein_g_loss,
)
from gankit.objectives.regularisers import REGULARISERS, DiscriminatorBatch, Regulariser

__all__ = ["OBJECTIVES", "REGULARISERS", "DiscriminatorBatch", "Objective", "Regulariser", "bce_d_loss",
           "class_cross_entropy", "gradient_penalty", "hinge_d_loss", "input_gradient_norms",
           "least_squares_d_loss", "least_squares_g_loss", "minimax_g_loss", "nonsaturating_g_loss",
           "relativistic_d_loss", "relativistic_g_loss", "squared_gradient_penalty", "value_function",
           "wasserstein_d_loss", "wasserstein_g_loss"]
