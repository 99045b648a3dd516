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
    then member 1's weights must be the single run's (up to the population paths' rounding)."""
    import torch

    for _ in range(steps):
        population.step()
        single.step()
    pairs = ((population.generator, single.generator), (population.discriminator, single.discriminator))
    for ours, ref in pairs:
        for p, q in zip(ours.parameters(), ref.parameters(), strict=True):
            torch.testing.assert_close(p[1], q[0], rtol=1e-5, atol=1e-6)
