"""The issue's targets, judged from one run's rows: met or not, always with the figure."""

from __future__ import annotations

from typing import Any

MAIN = "b1080p-2s"
BFRAMES = "b1080pB-2s"  # 3 B-frames and a B-pyramid: the reference chain is below the key-frame floor


def judge(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every target with its measured figure and verdict (None when the run did not measure it)."""
    by = {(row["key"], row["cores"], row["method"]): row for row in rows}

    def row(key: str, cores: int, method: str) -> dict[str, Any] | None:
        return by.get((f"{MAIN}/{key}", cores, method))

    verdicts = []
    for interval, x_ffmpeg in ((1000, 0.6), (200, 1.0)):
        engine = row(f"page/{interval}ms/jpeg", 1, "engine")
        verdicts.append(_at_most(f"{interval} ms page, 1 core: x single-thread ffmpeg", engine, "x_ffmpeg", x_ffmpeg))
        verdicts.append(_at_most(f"{interval} ms page, 1 core: x decode limit", engine, "x_limit", 1.15))
    verdicts += _b_frame_targets(by)
    one, two = row("page/1000ms/jpeg", 1, "engine"), row("page/1000ms/jpeg", 2, "engine")
    speedup = one["wall"] / two["wall"] if one and two else None
    verdicts.append(_verdict("two cores vs one, multi-fragment 1 s page (throughput ratio)", speedup, ">=", 1.7))
    checked = [r for r in rows if r["method"] in ("engine", "serve") and r.get("least_frames") is not None]
    off = [_name(r) for r in checked if r["frames_decoded"] != r["least_frames"]]
    verdicts.append(
        {
            "target": "frames decoded == reference-chain floor, every engine and serve row",
            "figure": f"{len(checked) - len(off)}/"
            f"{len(checked)} rows exact" + (f"; off: {', '.join(off[:4])}" if off else ""),
            "met": bool(checked) and not off,
        }
    )
    cold = row("page/1000ms/jpeg", 2, "cold")
    verdicts.append(_at_most("cold process, first 1080p page (25 images at 1 s), 2 cores, s", cold, "wall", 1.5))
    imported = row("page/1000ms/jpeg", 2, "import")
    verdicts.append(_at_most("import stillframe.handlers.api, s", imported, "wall", 0.3))
    verdicts.append(_rss("peak RSS, 1080p page, MB", rows, "b1080p", 600))
    verdicts.append(_rss("peak RSS, 4K page, MB", rows, "b2160p", 1500))
    wrong = [_name(r) for r in rows if not r.get("verified", True)]
    verdicts.append(
        {
            "target": "every method returned the right frames",
            "figure": f"{len(wrong)} rows wrong" + (f": {', '.join(wrong[:4])}" if wrong else ""),
            "met": not wrong,
        }
    )
    return verdicts


def _b_frame_targets(by: dict[tuple[str, int, str], dict[str, Any]]) -> list[dict[str, Any]]:
    """B-frame content, one core: against single-thread ffmpeg (in-process and through serve) and the chain floor.

    Each ffmpeg target notes the floor's own ratio to ffmpeg in the same run: a bound below it cannot be met by any
    program that decodes the pictures it shows (the floor is libavcodec's decode of the reference chain plus render).
    """

    def row(key: str, method: str) -> dict[str, Any] | None:
        return by.get((f"{BFRAMES}/{key}", 1, method))

    def floored(verdict: dict[str, Any], key: str) -> dict[str, Any]:
        limit, ffmpeg = row(key, "limit"), row(key, "ffmpeg")
        if limit and ffmpeg:
            floor = limit["wall"] / ffmpeg["wall"]
            bound = float(verdict["target"].rsplit(" ", 1)[1])
            reach = "below the floor: unreachable" if floor > bound else "above the floor"
            verdict["note"] = f"chain floor {floor:.3f}x ffmpeg in this run, bound {reach}"
        return verdict

    page, fast = "page/1000ms/jpeg", "page/200ms/jpeg"
    return [
        floored(
            _at_most("B-frames, 1 s page, 1 core: x single-thread ffmpeg", row(page, "engine"), "x_ffmpeg", 0.35), page
        ),
        floored(_at_most("B-frames, 1 s page, 1 core, serve: x ffmpeg", row(page, "serve"), "x_ffmpeg", 0.45), page),
        floored(_at_most("B-frames, 200 ms page, 1 core, serve: x ffmpeg", row(fast, "serve"), "x_ffmpeg", 0.45), fast),
        _at_most("B-frames, 1 s page, 1 core: x reference-chain floor", row(page, "engine"), "x_limit", 1.10),
    ]


def _at_most(target: str, row: dict[str, Any] | None, field: str, bound: float) -> dict[str, Any]:
    return _verdict(target, row.get(field) if row else None, "<=", bound)


def _verdict(target: str, figure: float | None, op: str, bound: float) -> dict[str, Any]:
    if figure is None:
        return {"target": f"{target} {op} {bound}", "figure": "not measured", "met": None}
    met = figure <= bound if op == "<=" else figure >= bound
    return {"target": f"{target} {op} {bound}", "figure": round(figure, 3), "met": met}


def _rss(target: str, rows: list[dict[str, Any]], prefix: str, bound: float) -> dict[str, Any]:
    sizes = [
        r["peak_rss_mb"]
        for r in rows
        if r["stream"].startswith(prefix)
        and r["span"] == "page"
        and r["method"] in ("engine", "serve")
        and r.get("peak_rss_mb")
    ]
    return _verdict(target + " (largest engine/serve row)", max(sizes) if sizes else None, "<=", bound)


def _name(row: dict[str, Any]) -> str:
    return f"{row['key']}/{row['cores']}c/{row['method']}"


def summary(verdicts: list[dict[str, Any]]) -> str:
    """The verdicts as a Markdown list."""
    marks = {True: "met", False: "NOT MET", None: "not measured"}
    return "\n".join(
        f"- {marks[v['met']]}: {v['target']} — {v['figure']}" + (f" ({v['note']})" if v.get("note") else "")
        for v in verdicts
    )
