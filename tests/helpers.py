"""Small builders shared by several test modules (tests/ is on the path through conftest.py)."""

from html.parser import HTMLParser

import numpy as np


def bars(n: int, size: int = 8, seed: int = 0) -> np.ndarray:
    """``n`` uint8 pictures of one bright vertical bar at a random column on black."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, size, size), np.uint8)
    for image, column in zip(images, rng.integers(0, size, n)):
        image[:, column] = 255
    return images


class HtmlPage(HTMLParser):
    """The tables (as lists of rows of cell texts) and the image sources of a page."""

    def __init__(self, text):
        super().__init__()
        self.tables, self.images, self._cell = [], [], None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = ""
        elif tag == "img":
            self.images.append(dict(attrs)["src"])

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1].append(self._cell.strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def assert_second_member_is_single_run(population, single, steps: int) -> None:
    """Steps a 2-member population (seeds s, s + 1) and a single run of seed s + 1 together;
    then member 1's weights must be the single run's up to the population path's rounding
    (rtol 1e-5, atol 1e-6).

    The one place rounding can exceed that is an entry whose gradient was, at some step, below
    100 x Adam's eps: Adam divides a gradient by about its own size plus eps, so there a
    rounding-sized difference in the gradient becomes a step-sized difference in the weight
    (in test_acgan's ring case on an AMD EPYC, one D weight whose first gradient was 2.2e-9
    moved 7.9e-6 apart; every other entry was equal). Such an entry is held to what two Adam
    runs can differ by, two steps' worth of lr per step; the single run's own gradients say
    which entries they are."""
    import torch

    smallest: dict[str, torch.Tensor] = {}  # per network: each entry's smallest |gradient| so far
    for net, opt in (("g", single.opt_g), ("d", single.opt_d)):
        def recording(grad, *args, _step=opt.step, _net=net, **kwargs):
            seen = smallest.get(_net)
            smallest[_net] = grad.abs() if seen is None else torch.minimum(seen, grad.abs())
            return _step(grad, *args, **kwargs)
        opt.step = recording
    for _ in range(steps):
        population.step()
        single.step()
    networks = (("g", population.generator, single.generator, single.g_flat, single.opt_g),
                ("d", population.discriminator, single.discriminator, single.d_flat, single.opt_d))
    for net, ours, ref, flat, opt in networks:
        for (name, p), q in zip(ours.named_parameters(), ref.parameters(), strict=True):
            start = (q.data_ptr() - flat.data_ptr()) // q.element_size()
            near_zero = (smallest[net][start:start + q.numel()].view_as(q) < 100 * opt.eps)[0]
            apart = (p[1] - q[0]).abs().detach()
            rounding = apart <= 1e-6 + 1e-5 * q[0].abs().detach()
            outside = ~rounding & ~near_zero
            assert not outside.any(), (name, int(outside.sum()), apart.max().item())
            assert (apart[near_zero] <= 2 * steps * opt.lr).all(), name
