"""Screenshots kept as test artifacts (build/browser-artifacts/, gitignored), and what makes one non-trivial."""

from __future__ import annotations

import struct
from pathlib import Path

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    data = Path(path).read_bytes()[:24]
    if not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise AssertionError(f"{path} is not a PNG file")
    return struct.unpack(">II", data[16:24])


def png_problems(path: Path, min_width: int = 200, min_height: int = 100, min_colours: int = 8) -> list[str]:
    """Why `path` is not a useful screenshot (missing, tiny, blank), or [] if it is one."""
    path = Path(path)
    if not path.is_file():
        return [f"{path.name} is missing"]
    try:
        width, height = png_size(path)
    except AssertionError as error:
        return [str(error)]
    problems = []
    if width < min_width or height < min_height:
        problems.append(f"{path.name} is only {width}x{height} px")
    import matplotlib.image
    import numpy as np

    pixels = matplotlib.image.imread(path)  # floats in [0, 1], H x W x (3|4)
    colours = np.unique((pixels[..., :3] * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    if len(colours) < min_colours:
        problems.append(f"{path.name} is nearly blank ({len(colours)} distinct colours)")
    return problems


class Artifacts:
    """Numbered screenshots in one folder, so their order tells the story of the run."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.taken: dict[str, Path] = {}

    def path(self, name: str) -> Path:
        path = self.folder / f"{len(self.taken) + 1:02d}_{name}.png"
        self.taken[name] = path
        return path

    def page(self, page, name: str, full_page: bool = False) -> Path:
        path = self.path(name)
        page.screenshot(path=str(path), full_page=full_page)
        return path

    def element(self, locator, name: str) -> Path:
        path = self.path(name)
        locator.scroll_into_view_if_needed()
        locator.screenshot(path=str(path))
        return path
