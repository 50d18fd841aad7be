"""An A/V upload keeps its sound through every ingest door, and stills still come from the video alone."""

from __future__ import annotations

import io

import av
import pytest

from tests.conftest import T0
from tests.support.doors import DOORS, ingest
from tests.support.kvs import frame_numbers, get_images

FPS = 25
AAC_FRAME = 1024  # samples per AAC packet


@pytest.fixture
def stream(invoke):
    invoke("/createStream", {"StreamName": "cam", "DataRetentionInHours": 24})
    return "cam"


def stored_tracks(invoke) -> list[tuple[list[str], int]]:
    """(track codecs, AAC audio samples) of each stored fragment, in key order.

    Samples are counted as coded (1024 per AAC packet): decoding would count the priming samples that an MP4's
    edit list hides in the source but a fragment carries to decode its first samples."""
    store = invoke.services.store
    tracks = []
    for key in sorted(o.key for o in store.list("media/cam/") if o.key.endswith(".mkv")):
        with av.open(io.BytesIO(store.get(key))) as container:
            codecs = [s.codec_context.name for s in container.streams]
            audio = container.streams.audio
            samples = sum(AAC_FRAME for p in container.demux(audio[0]) if p.size) if audio else 0
        tracks.append((codecs, samples))
    return tracks


def source_samples(clip: bytes) -> int:
    with av.open(io.BytesIO(clip)) as container:
        return sum(AAC_FRAME for p in container.demux(container.streams.audio[0]) if p.size)


@pytest.mark.parametrize("door", DOORS)
def test_an_av_upload_keeps_its_audio_and_serves_frame_exact_stills(invoke, stream, clip_factory, tmp_path, door):
    # Given a 6 s MP4 with an AAC track, ingested through one door
    clip = clip_factory(frames=150, fps=FPS, gop=25, container="mp4", audio=True)
    ingest(door, invoke, stream, clip, T0, tmp_path)

    # When the stored fragments are read, and GetImages samples the stream
    tracks = stored_tracks(invoke)
    page = get_images(invoke, stream, T0 + 0.2, T0 + 5.8, interval_ms=800)

    # Then every fragment holds the video and its AAC audio, every source sample once, and the stills are exact
    assert tracks and all(codecs == ["h264", "aac"] for codecs, _ in tracks)
    assert sum(samples for _, samples in tracks) == source_samples(clip)
    assert frame_numbers(page) == [5, 25, 45, 65, 85, 105, 125, 145]


def test_a_video_only_fragment_still_serves_stills(invoke, stream, clip_factory):
    # Given fragments as stored before audio was kept: the video track alone
    clip = clip_factory(frames=100, fps=FPS, gop=25, container="matroska")
    ingest("body", invoke, stream, clip, T0, None)
    assert all(codecs == ["h264"] for codecs, _ in stored_tracks(invoke))

    # When GetImages samples it, then every still is the frame asked for
    assert frame_numbers(get_images(invoke, stream, T0, T0 + 3.5, interval_ms=500)) == [0, 12, 25, 37, 50, 62, 75, 87]


@pytest.mark.parametrize("invoke", ["local"], indirect=True)
def test_a_producer_session_stores_each_clusters_audio(invoke, clip_factory) -> None:
    from stillframe.domain.put_media_headers import PutMediaHeaders
    from stillframe.operations.put_media_session import put_media_session
    from tests.support.producer import sdk_stream

    # Given a stream and an A/V clip sent as a KVS producer sends it (audio as track 2)
    invoke("/createStream", {"StreamName": "cam", "DataRetentionInHours": 1})
    svc = invoke.services
    media = sdk_stream(clip_factory(seconds=3, fps=25, gop=25, audio=True), start_ms=1_795_600_800_000)
    headers = PutMediaHeaders.model_validate({"x-amzn-stream-name": "cam", "x-amzn-fragment-timecode-type": "ABSOLUTE"})
    chunks = [media.header, *(data for _, data in media.clusters)]
    # When the session runs
    acks = list(
        put_media_session(
            chunks, headers, svc.streams.find("cam"), fragments=svc.fragments, deliveries=None, now_ms=lambda: 1
        )
    )
    # Then every cluster is persisted, and its fragment holds the video and the audio
    assert [a.event_type for a in acks].count("PERSISTED") == len(media.clusters)
    records = svc.fragments.covering_candidates(svc.streams.find("cam").media_id, "producer", 0, 10**13)
    assert len(records) == len(media.clusters)
    for record in records:
        with av.open(io.BytesIO(svc.fragments.blob(record))) as container:
            assert [s.type for s in container.streams] == ["video", "audio"]
