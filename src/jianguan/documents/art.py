"""Demo seal and signature images, drawn with Pillow and Debian's Noto CJK font: so the demo's
documents look like real ones. Real agencies upload a scan of their seal (文书设置), and officers
their signature; nothing here is used once they have."""

from __future__ import annotations

import io
import math
import subprocess
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

RED = (200, 16, 30, 255)
INK = (20, 20, 60, 255)


@lru_cache(maxsize=4)
def font_file(family: str = "Noto Sans CJK SC:bold") -> str:
    """The font file fontconfig finds for ``family`` (fonts-noto-cjk is installed by scripts/system-deps.sh)."""
    found = subprocess.run(["fc-match", "-f", "%{file}", family], capture_output=True, text=True, check=False)
    return found.stdout.strip()


@lru_cache(maxsize=16)
def _font(size: int, family: str) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = font_file(family)
    try:
        return ImageFont.truetype(path, size=size, index=2) if path.endswith(".ttc") else ImageFont.truetype(path, size)
    except OSError:  # no CJK font: a plain seal still marks the place
        return ImageFont.load_default(size=size)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _star(draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float) -> None:
    points = []
    for i in range(10):
        radius = r if i % 2 == 0 else r * 0.382
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    draw.polygon(points, fill=RED)


def seal(agency_name: str, *, size: int = 480) -> bytes:
    """A round red seal: the agency's name along the top arc, a star in the middle, '演示专用' below."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    c, ring = size / 2, size * 0.035
    draw.ellipse((ring / 2, ring / 2, size - ring / 2, size - ring / 2), outline=RED, width=int(ring))
    _star(draw, c, c, size * 0.16)
    chars = list(agency_name)
    letter = _font(int(size * (0.11 if len(chars) <= 14 else 0.085)), "Noto Sans CJK SC:bold")
    span = math.radians(min(250, 22 * len(chars)))
    radius = size * 0.36
    for i, ch in enumerate(chars):
        angle = -math.pi / 2 - span / 2 + span * (i + 0.5) / len(chars)
        glyph = Image.new("RGBA", (int(size * 0.16), int(size * 0.16)), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((glyph.width / 2, glyph.height / 2), ch, font=letter, fill=RED, anchor="mm")
        glyph = glyph.rotate(-math.degrees(angle) - 90, resample=Image.Resampling.BICUBIC)
        x, y = c + radius * math.cos(angle), c + radius * math.sin(angle)
        image.alpha_composite(glyph, (int(x - glyph.width / 2), int(y - glyph.height / 2)))
    draw.text((c, c + size * 0.28), "演示专用", font=_font(int(size * 0.07), "Noto Sans CJK SC:bold"), fill=RED,
              anchor="mm")
    return _png(image)


def signature(name: str, *, height: int = 120) -> bytes:
    """A name written in dark ink on a transparent strip, slightly slanted like a hand signature."""
    letter = _font(int(height * 0.7), "Noto Serif CJK SC:bold")
    width = int(height * 0.8 * max(2, len(name))) + height // 2
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    ImageDraw.Draw(image).text((height // 4, height // 2), name, font=letter, fill=INK, anchor="lm")
    image = image.transform(image.size, Image.Transform.AFFINE, (1, 0.18, -height * 0.09, 0, 1, 0),
                            resample=Image.Resampling.BICUBIC)
    return _png(image)
