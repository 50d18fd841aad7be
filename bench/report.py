"""Turn worker results into rows with ratios, the table, the target verdicts and the results file."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from bench.scenarios import Scenario

DOCS = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
COLUMNS = (
    "scenario",
    "cores",
    "method",
    "images",
    "wall s",
    "img/s",
    "frames decoded / chain floor / key-frame floor",
    "x ffmpeg",
    "x limit",
    "peak RSS MB",
    "ok",
)
BEGIN, END = "<!-- bench-table:begin -->", "<!-- bench-table:end -->"


def make_rows(results: list[tuple[Scenario, dict[str, Any]]]) -> list[dict[str, Any]]:
    """One row per scenario with its best wall time and its ratios to ffmpeg and to the decode limit."""
    rows = []
    for scenario, result in results:
        walls = result.get("wall_s") or [float("nan")]
        # The fastest repetition: other processes on a shared machine only ever add time.
        rows.append({**scenario.to_json(), "key": scenario.key, **result, "wall": min(walls)})
    by = {(row["key"], row["cores"], row["method"]): row for row in rows}
    for row in rows:
        peer = by.get((row["key"], row["cores"], "ffmpeg-mt" if row["cores"] > 1 else "ffmpeg")) or by.get(
            (row["key"], row["cores"], "ffmpeg")
        )
        limit = by.get((row["key"], 1, "limit"))
        compared = row["method"] not in ("limit", "import")
        row["x_ffmpeg"] = row["wall"] / peer["wall"] if peer and compared else None
        row["limit_s"] = limit["wall"] / row["cores"] if limit else None
        row["x_limit"] = row["wall"] / row["limit_s"] if row["limit_s"] and compared else None
        row["least_frames"] = limit["frames_decoded"] if limit else None  # the reference-chain floor
        row["keyframe_frames"] = limit.get("keyframe_frames") if limit else None
        row["paged_frames"] = limit.get("paged_frames") if limit else None  # each page its own decoders
        row["images_per_s"] = row["images"] / row["wall"] if row["images"] and row["wall"] > 0 else None
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table of every row, grouped by scenario."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        frames = "" if row.get("frames_decoded") is None else str(row["frames_decoded"])
        if frames and row.get("least_frames") is not None:
            paged = row.get("paged_frames")
            chain = f"{row['least_frames']}" + (f" (paged {paged})" if paged not in (None, row["least_frames"]) else "")
            frames += f" / {chain} / {_num(row.get('keyframe_frames'), 'd')}"
        lines.append(
            "| "
            + " | ".join(
                [
                    row["key"] if row["method"] not in ("cold", "import") else f"{row['key']} ({row['method']})",
                    str(row["cores"]),
                    row["method"],
                    str(row["images"]),
                    f"{row['wall']:.3f}",
                    _num(row.get("images_per_s"), ".1f"),
                    frames,
                    _num(row.get("x_ffmpeg"), ".2f"),
                    _num(row.get("x_limit"), ".2f"),
                    _num(row.get("peak_rss_mb"), ".0f"),
                    "yes" if row.get("verified", True) else "NO",
                ]
            )
            + " |"
        )
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    import av

    model = ""
    if Path("/proc/cpuinfo").exists():
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    ffmpeg = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True, check=False).stdout
    return {
        "cpu": model,
        "cpus": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "pyav": av.__version__,
        "pyav_ffmpeg": ".".join(map(str, av.library_versions["libavcodec"])),
        "ffmpeg_cli": " ".join(ffmpeg.split()[:3]) if ffmpeg else "missing",
        "load_average_at_start": os.getloadavg(),
    }


def write_results(path: Path, payload: dict[str, Any]) -> None:
    """The results JSON (``latest.json`` is the one to commit)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=1, default=str) + "\n")


def update_docs(markdown: str) -> bool:
    """Replace the table between the markers in docs/performance.md; False when the markers are absent."""
    if not DOCS.exists():
        return False
    text = DOCS.read_text()
    if BEGIN not in text or END not in text:
        return False
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOCS.write_text(f"{head}{BEGIN}\n{markdown}\n{END}{tail}")
    return True


def _num(value: float | None, spec: str) -> str:
    return "" if value is None else format(value, spec)
