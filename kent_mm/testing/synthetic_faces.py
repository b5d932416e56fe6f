"""Synthetic cartoon faces whose expression is carried only by shape.

The expression is drawn *only* in the shape of the brows, eyes and mouth.
Everything else -- background, skin tone, feature colour, face position,
scale, rotation, brightness, noise -- is drawn from the same distribution
for every class, so a model cannot reach a good accuracy from colour or
position statistics alone and has to look at shapes.

Classes are the RAF-DB basic ones, addressed by their official label code
(:data:`kent_mm.datasets.emotions.RAFDB_CODES`).
"""
import math
from typing import Dict

import numpy as np
from PIL import Image, ImageDraw

from kent_mm.datasets.emotions import RAFDB_CODES
from .drawing import (Canvas, Color, blend, curve, jitter, lens,
                      superellipse)

# Per-class shape parameters, in units of the face half-height R.
#   brow_raise: vertical brow offset (positive = higher on the face)
#   brow_slant: inner end lower than outer end by this much (>0 = V, anger;
#               <0 = inner ends raised, sadness / fear)
#   brow_arch:  apex height of the brow curve above its chord
#   eye_open:   eye half-height / half-width
#   eye_scale:  multiplier on the eye half-width
# Mouth and extra marks are class-specific drawing routines further below.
_CLASS_PARAMS: Dict[str, Dict[str, float]] = {
    'surprise': dict(brow_raise=0.14, brow_slant=0.00, brow_arch=0.08,
                     eye_open=1.00, eye_scale=1.20),
    'fear': dict(brow_raise=0.10, brow_slant=-0.11, brow_arch=0.01,
                 eye_open=0.90, eye_scale=1.10),
    'disgust': dict(brow_raise=-0.08, brow_slant=0.05, brow_arch=0.00,
                    eye_open=0.22, eye_scale=1.00),
    'happiness': dict(brow_raise=0.03, brow_slant=0.00, brow_arch=0.04,
                      eye_open=0.35, eye_scale=1.00),
    'sadness': dict(brow_raise=0.03, brow_slant=-0.13, brow_arch=0.00,
                    eye_open=0.50, eye_scale=0.95),
    'anger': dict(brow_raise=-0.08, brow_slant=0.15, brow_arch=-0.01,
                  eye_open=0.26, eye_scale=1.00),
    'neutral': dict(brow_raise=0.00, brow_slant=0.00, brow_arch=0.015,
                    eye_open=0.60, eye_scale=1.00),
}

# Per-sample jitter (std of a normal, clipped at 2 std) for the above. Small
# enough that class clusters do not overlap, large enough that no two samples
# of a class are alike.
_JITTER = dict(brow_raise=0.02, brow_slant=0.025, brow_arch=0.012,
               eye_open=0.06, eye_scale=0.06)


def _random_skin(rng: np.random.Generator) -> Color:
    """A skin tone from a light/dark ramp plus a per-channel tint."""
    light = np.array([250, 222, 196], dtype=float)
    dark = np.array([95, 62, 45], dtype=float)
    tone = light + (dark - light) * rng.uniform(0, 1)
    tone += rng.normal(0, 12, 3)
    return tuple(int(v) for v in np.clip(tone, 0, 255))


def _random_feature_color(rng: np.random.Generator, skin: Color) -> Color:
    """A random dark tone that always contrasts with the skin.

    Brows/eyes/mouth take a random colour so that class cannot be read from
    colour; it is a darkened, re-tinted skin tone so that it stays visible on
    both light and dark skin.
    """
    base = np.array(skin, dtype=float) * rng.uniform(0.05, 0.35)
    base += rng.uniform(0, 25, 3)
    return tuple(int(v) for v in np.clip(base, 0, 255))


def _draw_brows(cv: Canvas, rng: np.random.Generator, prm: Dict[str, float],
                color: Color, lw: float, name: str) -> None:
    base = -0.36 - prm['brow_raise']
    for side in (-1, 1):
        # Small independent per-side jitter so the face is never perfectly
        # symmetric; disgust gets a stronger asymmetry (one brow lower).
        dy = jitter(rng, 0.012)
        if name == 'disgust':
            dy += 0.03 * side * prm['_asym']
        slant = prm['brow_slant'] + jitter(rng, 0.01)
        x_in, x_out = side * 0.13, side * 0.50
        y_in = base + dy + slant / 2
        y_out = base + dy - slant / 2
        cv.line(curve(x_in, x_out, y_in, y_out, prm['brow_arch']),
                lw * prm['_brow_w'], color)


def _draw_eyes(cv: Canvas, rng: np.random.Generator, prm: Dict[str, float],
               color: Color, lw: float, name: str) -> None:
    ew = 0.13 * prm['eye_scale']
    eh = ew * prm['eye_open']
    ey = -0.12
    sclera = blend((255, 255, 255), rng.uniform(150, 255, 3), 0.25)
    gaze_x = rng.uniform(-0.35, 0.35) * ew
    gaze_y = rng.uniform(-0.2, 0.2) * eh
    smiling_eyes = name == 'happiness' and rng.uniform() < 0.4
    for side in (-1, 1):
        ex = side * 0.32
        if smiling_eyes:
            # Closed "^ ^" eyes of a big laugh.
            cv.line(curve(ex - ew, ex + ew, ey + 0.02, ey + 0.02, 0.09),
                    lw, color)
            continue
        cv.ellipse(ex, ey, ew, eh, fill=sclera, outline=color,
                   width=lw * 0.8)
        pr = min(0.055, eh * 0.85)
        cv.ellipse(ex + gaze_x, ey + gaze_y * (eh > 0.05), pr, pr, fill=color)
        if name in ('disgust', 'anger'):
            # Tense lower lid for narrowed eyes.
            cv.line(curve(ex - ew, ex + ew, ey + eh * 0.7, ey + eh * 0.7,
                          0.02), lw * 0.6, color)


def _draw_nose(cv: Canvas, rng: np.random.Generator, color: Color,
               lw: float, name: str) -> None:
    style = rng.integers(3)  # class-independent nose style
    if style == 0:
        cv.line([(0.02, 0.02), (-0.04, 0.20), (0.04, 0.22)], lw * 0.6, color)
    elif style == 1:
        for side in (-1, 1):
            cv.ellipse(side * 0.05, 0.2, 0.022, 0.015, fill=color)
    else:
        cv.line(curve(-0.07, 0.07, 0.2, 0.2, -0.03), lw * 0.6, color)
    if name == 'disgust':
        # Wrinkles across the nose bridge.
        n = int(rng.integers(2, 4))
        for i in range(n):
            y = -0.04 + i * 0.055 + jitter(rng, 0.005)
            cv.line(curve(-0.08, 0.08, y, y, 0.02), lw * 0.6, color)


def _mouth_interior(rng: np.random.Generator, color: Color) -> Color:
    """Dark, slightly red interior of an open mouth."""
    return blend(color, (120, 20, 30), rng.uniform(0.2, 0.5))


def _teeth_color(rng: np.random.Generator) -> Color:
    return blend((255, 255, 250), rng.uniform(180, 255, 3), 0.2)


def _draw_mouth(cv: Canvas, rng: np.random.Generator, color: Color,
                lw: float, name: str, asym: int) -> None:
    my = 0.47 + jitter(rng, 0.02)
    u = rng.uniform
    if name == 'neutral':  # straight closed mouth
        mw = u(0.18, 0.25)
        cv.line(curve(-mw, mw, my, my, jitter(rng, 0.01)), lw, color)
    elif name == 'happiness':  # wide upward smile, open or closed
        mw, up = u(0.27, 0.34), u(0.10, 0.15)
        if u() < 0.5:
            cv.line([(x, my - up * (x / mw) ** 2)
                     for x in np.linspace(-mw, mw, 18)], lw, color)
        else:
            h = u(0.10, 0.16)
            shape = lens(mw, my - 0.02, up, h)
            cv.polygon(shape, _mouth_interior(rng, color), color, lw * 0.8)
            # Upper teeth band following the upper lip.
            teeth = lens(mw * 0.85, my - 0.02 + 0.01, up * 0.85, h * 0.35)
            cv.draw.polygon(cv.pts(teeth), fill=_teeth_color(rng))
    elif name == 'sadness':  # downward curved mouth
        mw, down = u(0.17, 0.24), u(0.07, 0.11)
        cv.line([(x, my - 0.03 + down * (x / mw) ** 2)
                 for x in np.linspace(-mw, mw, 18)], lw, color)
    elif name == 'surprise':  # open mouth, tall oval
        rx, ry = u(0.08, 0.12), u(0.13, 0.17)
        cv.ellipse(0, my + 0.02, rx, ry, fill=_mouth_interior(rng, color),
                   outline=color, width=lw * 0.8)
    elif name == 'fear':  # open, stretched wide horizontal mouth
        rx, ry = u(0.24, 0.31), u(0.05, 0.08)
        shape = superellipse(0, my + 0.02, rx, ry, p=u(3, 5))
        # Pull the corners down a little (grimace).
        shape = [(x, y + 0.04 * (x / rx) ** 2) for x, y in shape]
        cv.polygon(shape, _mouth_interior(rng, color), color, lw * 0.8)
        if u() < 0.5:
            t = superellipse(0, my + 0.02 - ry * 0.6, rx * 0.8, ry * 0.3)
            t = [(x, y + 0.04 * (x / rx) ** 2) for x, y in t]
            cv.draw.polygon(cv.pts(t), fill=_teeth_color(rng))
    elif name == 'disgust':  # asymmetric, one corner raised, wavy lip
        mw = u(0.20, 0.27)
        raise_ = u(0.11, 0.16)
        pts = []
        for x in np.linspace(-mw, mw, 20):
            t = (x / mw * asym + 1) / 2  # 0 at the low corner, 1 at the high
            wave = 0.018 * math.sin(t * 3 * math.pi)
            pts.append((x, my + 0.02 - raise_ * t ** 2 + wave))
        cv.line(pts, lw, color)
        # Raised upper lip / sneer line on the high side.
        hx = asym * mw * 0.6
        cv.line(curve(hx, hx + asym * 0.07, my - 0.06, my - 0.14, 0.0),
                lw * 0.6, color)
    else:  # anger: tight mouth or bared teeth
        if u() < 0.5:
            mw = u(0.12, 0.17)
            cv.line(curve(-mw, mw, my, my, -0.01), lw * 1.4, color)
        else:
            rx, ry = u(0.16, 0.21), u(0.045, 0.065)
            shape = superellipse(0, my, rx, ry, p=6)
            cv.polygon(shape, _teeth_color(rng), color, lw * 0.8)
            cv.line([(-rx, my), (rx, my)], lw * 0.4, color)
            for x in np.linspace(-rx, rx, 6)[1:-1]:
                cv.line([(x, my - ry), (x, my + ry)], lw * 0.4, color)


def render_face(label: int, rng: np.random.Generator,
                image_size: int = 100) -> Image.Image:
    """Render one synthetic face for a RAF-DB label.

    Args:
        label: RAF-DB basic label code, 1..7.
        rng: Random generator; every random choice of the image comes from it.
        image_size: Side length of the square output image.

    Returns:
        An RGB :class:`PIL.Image.Image` of ``image_size x image_size``.
    """
    if label not in RAFDB_CODES:
        raise ValueError(f'label must be in 1..7, got {label}')
    name = RAFDB_CODES[label]
    ss = 2  # supersampling factor: draw big, downsample for smooth edges
    size = image_size * ss
    u = rng.uniform

    # Background: random colour plus random blobs (class independent).
    bg = tuple(int(v) for v in rng.integers(0, 256, 3))
    img = Image.new('RGB', (size, size), bg)
    d = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(2, 7))):
        c = blend(bg, rng.integers(0, 256, 3), u(0.2, 0.7))
        x, y = u(-0.2, 1.2, 2) * size
        rx, ry = u(0.05, 0.35, 2) * size
        d.ellipse([x - rx, y - ry, x + rx, y + ry], fill=c)

    # Face geometry (class independent): centre offset, scale, rotation.
    scale = u(0.75, 1.0)
    radius = 0.44 * size * scale  # face half-height
    cx = size / 2 + u(-0.09, 0.09) * size
    cy = size / 2 + u(-0.07, 0.09) * size
    angle = u(-15, 15)

    cv = Canvas(d, cx, cy, radius, angle)
    skin = _random_skin(rng)
    feat = _random_feature_color(rng, skin)

    # Hair behind the head and ears: class-independent distractors.
    if u() < 0.7:
        hair = tuple(int(v) for v in rng.integers(0, 256, 3))
        cv.ellipse(0, -0.18 + u(-0.05, 0.05), 0.88, 0.88 + u(0, 0.1),
                   fill=hair)
    for side in (-1, 1):
        cv.ellipse(side * 0.78, 0.0, 0.11, 0.18, fill=skin)
    cv.ellipse(0, 0, 0.78, 1.0, fill=skin)

    # Class parameters with per-sample jitter.
    prm = {k: v + jitter(rng, _JITTER[k])
           for k, v in _CLASS_PARAMS[name].items()}
    prm['_brow_w'] = u(1.0, 1.8)
    asym = int(rng.choice([-1, 1]))
    prm['_asym'] = asym
    lw = u(0.045, 0.07)  # base line width in face units

    _draw_brows(cv, rng, prm, feat, lw, name)
    _draw_eyes(cv, rng, prm, feat, lw, name)
    _draw_nose(cv, rng, feat, lw, name)
    _draw_mouth(cv, rng, feat, lw, name, asym)

    img = img.resize((image_size, image_size), Image.LANCZOS)

    # Photometric jitter: global contrast/brightness and gaussian noise.
    arr = np.asarray(img, dtype=np.float32)
    contrast = u(0.7, 1.3)
    brightness = u(-30, 30)
    arr = (arr - 128.0) * contrast + 128.0 + brightness
    arr += rng.normal(0, u(2, 8), arr.shape).astype(np.float32)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), 'RGB')
