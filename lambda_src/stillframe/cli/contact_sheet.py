"""The contact sheet of ``stillframe get-images``: a header (stream, range, interval), then one tile per sample
labelled with its time; a sample with no still is a grey tile that says why (NO_MEDIA, MEDIA_ERROR).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

from stillframe.cli.times import iso_ms

TILE_WIDTH = 240
TILE_HEIGHT = 135  # 16:9; other shapes are fitted inside, centred
LABEL_HEIGHT = 22
HEADER_HEIGHT = 56
COLUMNS = 6
MAX_TILES = 600  # a sheet of a longer range shows its first 600 samples
MISSING_FILL = (200, 200, 200)
MISSING_TEXT = (170, 0, 0)


def thumbnail(path: Path) -> Image.Image:
    """The still at ``path`` scaled to fit one tile, its shape kept."""
    with Image.open(path) as image:
        return ImageOps.contain(image.convert("RGB"), (TILE_WIDTH, TILE_HEIGHT))


def write_contact_sheet(
    path: Path,
    *,
    stream: str,
    selector: str,
    start_ms: int,
    end_ms: int,
    interval_ms: int,
    samples: list[tuple[int, str | None]],
    thumbnails: list[Image.Image | None],
) -> Path:
    """Draw the sheet of a range's samples at ``path`` and return it.

    ``samples`` are (time in ms, the error GetImages gave or None); ``thumbnails`` follow in the same order, None
    where there is no still. Plain values, so the sheet knows nothing of the command that fetched them.
    """
    shown = list(zip(samples, thumbnails, strict=True))[:MAX_TILES]
    rows = max(1, (len(shown) + COLUMNS - 1) // COLUMNS)
    cell_height = TILE_HEIGHT + LABEL_HEIGHT
    sheet = Image.new("RGB", (COLUMNS * TILE_WIDTH, HEADER_HEIGHT + rows * cell_height), "white")
    draw = ImageDraw.Draw(sheet)
    title, small = ImageFont.load_default(size=18), ImageFont.load_default(size=14)
    missing = sum(1 for _, error in samples if error)
    draw.text((8, 6), f"{stream}  ({selector})", fill="black", font=title)
    detail = (
        f"{iso_ms(start_ms)} to {iso_ms(end_ms)}, every {interval_ms} ms: "
        f"{len(samples)} samples, {missing} without a still"
    )
    if len(samples) > MAX_TILES:
        detail += f" (first {MAX_TILES} shown)"
    draw.text((8, 30), detail, fill="black", font=small)
    for index, ((time_ms, error), thumb) in enumerate(shown):
        x = (index % COLUMNS) * TILE_WIDTH
        y = HEADER_HEIGHT + (index // COLUMNS) * cell_height
        if thumb is None:
            draw.rectangle((x + 1, y + 1, x + TILE_WIDTH - 2, y + TILE_HEIGHT - 2), fill=MISSING_FILL)
            draw.text((x + 12, y + TILE_HEIGHT // 2 - 10), error or "NO_MEDIA", fill=MISSING_TEXT, font=title)
        else:
            sheet.paste(thumb, (x + (TILE_WIDTH - thumb.width) // 2, y + (TILE_HEIGHT - thumb.height) // 2))
        label = iso_ms(time_ms)[11:]  # HH:MM:SS.mmmZ; the date is in the header
        colour = MISSING_TEXT if thumb is None else "black"
        draw.text((x + 6, y + TILE_HEIGHT + 3), label, fill=colour, font=small)
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, quality=88)
    return path
