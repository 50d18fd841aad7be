"""make demo: the whole job on the embedded default, end to end, with unmodified boto3 clients.

Makes a clip with a running clock, starts ``stillframe serve`` on a temporary data directory,
creates a stream and ingests the clip with ``stillframe put-media``, fetches stills through
GetDataEndpoint + the ``get_images`` paginator, and writes them and a contact sheet to --out.
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from stillframe.client import archived_media_client, clients

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: the dev-only clip generator
from tests.support.synth import make_clip

STREAM = "demo-camera"
CLIP_SECONDS = 12
BIN = Path(sys.executable).parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="demo-out", help="where to write the stills and the contact sheet")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("still-*.jpg"):
        old.unlink()
    with tempfile.TemporaryDirectory(prefix="stillframe-demo-") as tmp:
        start = datetime.now(UTC).replace(microsecond=0)
        clip = Path(tmp) / "clip.mp4"
        clip.write_bytes(
            make_clip(seconds=CLIP_SECONDS, fps=25, width=640, height=360, gop=50, container="mp4", clock_start=start)
        )
        print(f"1. made a {CLIP_SECONDS} s 640x360 H.264 clip with a running clock: {clip.stat().st_size} bytes")
        data = out / "data"  # kept, so the viewer and get-images can look at the stream afterwards
        shutil.rmtree(data, ignore_errors=True)
        server, url = start_server(data)
        try:
            print(f"2. started stillframe serve at {url} (data in {data})")
            ingest(url, clip, start)
            print(f"3. created stream {STREAM!r} and ingested the clip with stillframe put-media")
            stills = fetch_stills(url, start, out)
            sheet = contact_sheet(stills, out / "contact-sheet.jpg")
            print(f"4. fetched {len(stills)} stills (1 per second, producer time) with boto3's get_images paginator")
            print(f"5. wrote {out}/still-*.jpg and {sheet}")
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=20)
            print("6. stopped the server")
    print_next_steps(data, start)
    return 0


def print_next_steps(data: Path, start: datetime) -> None:
    """How to see the stream in the viewer and save its stills with the CLI."""
    command = os.path.relpath(BIN / "stillframe")
    url = "http://127.0.0.1:4577"
    end = datetime.fromtimestamp(start.timestamp() + CLIP_SECONDS - 1, UTC)
    print("Next, serve the demo's data and open the viewer in a browser:")
    print(f"  {command} serve --data-dir {data}")
    print(f"  viewer: {url}/#stream={STREAM}  (click the timeline, then Play to watch the video)")
    print("and, with that server running, save its stills:")
    print(
        f"  {command} get-images --endpoint-url {url} --stream {STREAM} --start {start.isoformat()} "
        f"--end {end.isoformat()} --interval 500 --out {data.parent / 'stills'} --contact-sheet"
    )
    print("or play it in any HLS player (ffplay, VLC, Safari) from a session URL:")
    print(
        f"  aws kinesis-video-archived-media get-hls-streaming-session-url --endpoint-url {url} "
        f"--stream-name {STREAM} --playback-mode ON_DEMAND --hls-fragment-selector "
        f'\'{{"FragmentSelectorType":"PRODUCER_TIMESTAMP","TimestampRange":'
        f'{{"StartTimestamp":"{start.isoformat()}","EndTimestamp":"{end.isoformat()}"}}}}\''
    )


def start_server(data_dir: Path) -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [str(BIN / "stillframe"), "serve", "--data-dir", str(data_dir), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert server.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = server.stdout.readline()
        if not line:
            break
        if "listening on " in line:
            return server, line.split("listening on ", 1)[1].split()[0]
    server.kill()
    raise SystemExit("stillframe serve did not start")


def ingest(url: str, clip: Path, start: datetime) -> None:
    subprocess.run(
        [
            str(BIN / "stillframe"),
            "put-media",
            "--endpoint-url",
            url,
            "--stream",
            STREAM,
            "--create-stream",
            "--retention-hours",
            "24",
            "--producer-start-time",
            start.isoformat(),
            str(clip),
        ],
        check=True,
        stdout=subprocess.DEVNULL,  # the per-fragment JSON acks; the summary goes to stderr
    )


def fetch_stills(url: str, start: datetime, out: Path) -> list[tuple[datetime, Path]]:
    kinesisvideo, _ = clients(url)
    media = archived_media_client(kinesisvideo, STREAM)
    pages = media.get_paginator("get_images").paginate(
        StreamName=STREAM,
        ImageSelectorType="PRODUCER_TIMESTAMP",
        StartTimestamp=start,
        EndTimestamp=datetime.fromtimestamp(start.timestamp() + CLIP_SECONDS - 1, UTC),
        SamplingInterval=1000,
        Format="JPEG",
        FormatConfig={"JPEGQuality": "85"},
        HeightPixels=270,
        PaginationConfig={"PageSize": 5},
    )
    stills = []
    for page in pages:
        for image in page["Images"]:
            stamp = image["TimeStamp"]
            if "ImageContent" not in image:
                print(f"   {stamp.isoformat()}: {image.get('Error')}")
                continue
            path = out / f"still-{stamp.strftime('%H%M%S.%f')[:-3]}.jpg"
            path.write_bytes(base64.b64decode(image["ImageContent"]))
            stills.append((stamp, path))
    return stills


def contact_sheet(stills: list[tuple[datetime, Path]], path: Path, columns: int = 4) -> Path:
    """A grid of the stills under a header naming the stream and range, each labelled with its sample timestamp.

    The black-and-white bars at the top of each picture are the generated clip's frame code (its frame number in
    binary, which the tests read back), not damage.
    """
    if not stills:
        raise SystemExit("no stills came back")
    thumbs = [Image.open(p) for _, p in stills]
    width, height = thumbs[0].size
    label, header = 28, 56
    rows = (len(thumbs) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * width, header + rows * (height + label)), "white")
    draw = ImageDraw.Draw(sheet)
    font, title = ImageFont.load_default(size=18), ImageFont.load_default(size=22)
    first, last = stills[0][0], stills[-1][0]
    draw.text((8, 4), f"{STREAM}  (PRODUCER_TIMESTAMP)", fill="black", font=title)
    draw.text(
        (8, 30),
        f"{first.isoformat()} to {last.isoformat()}, every 1000 ms: {len(stills)} stills "
        "(top bars: the test clip's frame code)",
        fill="black",
        font=font,
    )
    for i, ((stamp, _), thumb) in enumerate(zip(stills, thumbs, strict=True)):
        x, y = (i % columns) * width, header + (i // columns) * (height + label)
        sheet.paste(thumb, (x, y))
        draw.text((x + 6, y + height + 4), stamp.strftime("%H:%M:%S.%f")[:-3] + " UTC", fill="black", font=font)
    sheet.save(path, quality=90)
    return path


if __name__ == "__main__":
    sys.exit(main())
