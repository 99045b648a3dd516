"""Training: random streams, optimisers, the gradient paths and the :class:`Trainer` that runs
Algorithm 1 through them."""
