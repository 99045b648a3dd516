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
    then member 1's weights must be the single run's, up to the population path's rounding.

    Rounding is not all within 1e-6: Adam divides each gradient by its own running size, so an
    entry whose gradient is near zero turns a rounding-sized difference into a step-sized one
    (on an AMD EPYC, one ACGAN ring weight of 16,384 moved 7.9e-6 apart in 10 steps at lr 1e-3).
    So nearly every entry must agree to 1e-6 and none may be a tenth of Adam's largest total
    move apart; a member that trained on another member's data or noise differs everywhere."""

    for _ in range(steps):
        population.step()
        single.step()
    largest_move = steps * max(single.config.train.lr_g, single.config.train.lr_d)
    pairs = ((population.generator, single.generator), (population.discriminator, single.discriminator))
    for ours, ref in pairs:
        for (name, p), q in zip(ours.named_parameters(), ref.parameters(), strict=True):
            apart = (p[1] - q[0]).abs().detach()
            beyond = apart > 1e-6 + 1e-5 * q[0].abs().detach()
            assert beyond.float().mean() <= 1e-3, (name, int(beyond.sum()), apart.numel())
            assert apart.max() < 0.1 * largest_move, (name, apart.max().item())
