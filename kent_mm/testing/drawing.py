"""Geometry and drawing helpers of the synthetic face renderer.

Shapes are given in *face units*: centre (0, 0), face half-height 1, y grows
downwards. :class:`Canvas` maps them to image pixels, including an in-plane
rotation. Only numpy and Pillow are used.
"""
import math
from typing import List, Optional, Sequence, Tuple

import numpy as np
from PIL import ImageDraw

Color = Tuple[int, int, int]
Point = Tuple[float, float]


def jitter(rng: np.random.Generator, std: float) -> float:
    """Clipped gaussian jitter, so that outliers never cross class borders."""
    return float(np.clip(rng.normal(0.0, std), -2 * std, 2 * std))


def blend(a: Sequence[float], b: Sequence[float], t: float) -> Color:
    """Linear blend ``a*(1-t) + b*t`` rounded to an RGB tuple."""
    return tuple(int(round(x * (1 - t) + y * t)) for x, y in zip(a, b))


def curve(x0: float, x1: float, y0: float, y1: float, bend: float,
          n: int = 16) -> List[Point]:
    """Points of a chord from (x0,y0) to (x1,y1) bent by a parabola.

    Args:
        x0, x1, y0, y1: End points (face units, y grows downwards).
        bend: Apex height above the chord (positive = bulges upwards).
        n: Number of points.

    Returns:
        List of ``(x, y)`` points.
    """
    pts = []
    for i in range(n):
        t = i / (n - 1)
        pts.append((x0 + (x1 - x0) * t,
                    y0 + (y1 - y0) * t - bend * 4 * t * (1 - t)))
    return pts


def lens(mw: float, my: float, up: float, h: float,
         n: int = 18) -> List[Point]:
    """Closed outline of an open mouth between two parabolas.

    Upper lip: ``y = my - up*(x/mw)^2``; the lower lip hangs ``h`` lower at
    the centre and meets the upper lip at the corners.
    """
    xs = np.linspace(-mw, mw, n)
    upper = [(x, my - up * (x / mw) ** 2) for x in xs]
    lower = [(x, my - up * (x / mw) ** 2 + h * (1 - (x / mw) ** 2))
             for x in xs[::-1]]
    return upper + lower


def superellipse(cx: float, cy: float, rx: float, ry: float, p: float = 4.0,
                 n: int = 40) -> List[Point]:
    """Rounded-rectangle outline ``|x/rx|^p + |y/ry|^p = 1``."""
    out = []
    for t in np.linspace(0, 2 * math.pi, n, endpoint=False):
        c, s = math.cos(t), math.sin(t)
        out.append((cx + rx * math.copysign(abs(c) ** (2 / p), c),
                    cy + ry * math.copysign(abs(s) ** (2 / p), s)))
    return out


class Canvas:
    """Maps face units to image pixels, including the in-plane rotation.

    Rotating the geometry instead of the rendered pixels keeps edges sharp
    and avoids a costly image transform, so ellipses are drawn as polygons.

    Args:
        draw (ImageDraw.ImageDraw): The image to draw on.
        cx, cy (float): Face centre in pixels.
        radius (float): Face half-height in pixels.
        angle_deg (float): In-plane rotation.
    """

    def __init__(self, draw: ImageDraw.ImageDraw, cx: float, cy: float,
                 radius: float, angle_deg: float):
        self.draw = draw
        self.cx, self.cy, self.r = cx, cy, radius
        a = math.radians(angle_deg)
        self._cos, self._sin = math.cos(a) * radius, math.sin(a) * radius

    def p(self, x: float, y: float) -> Point:
        return (self.cx + x * self._cos - y * self._sin,
                self.cy + x * self._sin + y * self._cos)

    def pts(self, pts: Sequence[Point]) -> List[Point]:
        return [self.p(x, y) for x, y in pts]

    def w(self, width: float) -> int:
        """Line width in pixels (at least 1) from face units."""
        return max(1, int(round(width * self.r)))

    def ellipse(self, x: float, y: float, rx: float, ry: float,
                fill: Optional[Color] = None, outline: Optional[Color] = None,
                width: float = 0.0, n: int = 40) -> None:
        """Axis-aligned (in face units) ellipse; ``width`` in face units."""
        t = np.linspace(0, 2 * math.pi, n, endpoint=False)
        pts = list(zip(x + rx * np.cos(t), y + ry * np.sin(t)))
        if fill is not None:
            self.draw.polygon(self.pts(pts), fill=fill)
        if outline is not None and width > 0:
            self.line(pts + [pts[0]], width, outline)

    def line(self, pts: Sequence[Point], width: float, fill: Color) -> None:
        px = self.pts(pts)
        w = self.w(width)
        self.draw.line(px, fill=fill, width=w, joint='curve')
        # Round caps: PIL lines have square ends, which look jagged.
        rad = w / 2
        for (x, y) in (px[0], px[-1]):
            self.draw.ellipse([x - rad, y - rad, x + rad, y + rad], fill=fill)

    def polygon(self, pts: Sequence[Point], fill: Color, outline: Color,
                width: float) -> None:
        pts = list(pts)
        self.draw.polygon(self.pts(pts), fill=fill)
        self.line(pts + [pts[0]], width, outline)
