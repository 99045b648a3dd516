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
