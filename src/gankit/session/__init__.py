"""One call of train or resume: the loop, its budget, observers, divergence, ranks, TensorBoard."""
