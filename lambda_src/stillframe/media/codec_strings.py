"""RFC 6381 codecs strings (HLS ``CODECS``, DASH ``@codecs``) read from a track's codec private data.

A player decides from this string alone whether it can play a rendition, before fetching a byte of it, so it is
read from the same codec private data the init segment carries: H.264's profile, constraints and level from the
avcC (or the SPS of Annex B private data), H.265's per ISO/IEC 14496-15 Annex E from the hvcC, AAC's audio object
type from the AudioSpecificConfig, AV1's from the av1C. VP9's Matroska private data is optional, so its string is a
best effort from the decoder's profile and the picture size. HEVC is named ``hvc1`` (parameter sets in the sample
entry), the sample entry the init segment writes: Safari plays HEVC only under that name.
"""

from __future__ import annotations

from stillframe.errors import MediaError

_HEVC_PROFILE_SPACES = ("", "A", "B", "C")
# VP9 levels (Annex A of the VP9 bitstream specification) by the largest picture each allows, in luma samples.
_VP9_LEVELS = (
    (36_864, 10),
    (73_728, 11),
    (122_880, 20),
    (245_760, 21),
    (552_960, 30),
    (983_040, 31),
    (2_228_224, 40),
    (8_912_896, 50),
    (35_651_584, 60),
)
# Audio codecs whose string does not depend on their private data.
_FIXED_AUDIO = {"opus": "opus", "mp3": "mp4a.6B", "flac": "fLaC", "ac3": "ac-3", "eac3": "ec-3"}


def codecs_string(codec: str, extradata: bytes, *, profile: int = 0, pixels: int = 0) -> str:
    """The codecs string of a track of FFmpeg codec ``codec`` with private data ``extradata``.

    ``profile`` and ``pixels`` (luma samples per picture) serve VP9 only. MediaError when the private data a codec
    needs is missing or too short to read.
    """
    if codec == "h264":
        return _avc(extradata)
    if codec == "hevc":
        return _hevc(extradata)
    if codec == "aac":
        return _aac(extradata)
    if codec == "av1":
        return _av1(extradata)
    if codec == "vp9":
        level = next((level for most, level in _VP9_LEVELS if pixels <= most), 62)
        return f"vp09.{max(profile, 0):02d}.{level:02d}.{10 if profile >= 2 else 8:02d}"
    if codec in _FIXED_AUDIO:
        return _FIXED_AUDIO[codec]
    raise MediaError(f"no codecs string is known for {codec}")


def _avc(extradata: bytes) -> str:
    if extradata[:1] == b"\x01" and len(extradata) >= 4:  # avcC: version 1, then the SPS's three bytes
        return "avc1." + extradata[1:4].hex()
    for nal in _annex_b_units(extradata):
        if nal and nal[0] & 0x1F == 7 and len(nal) >= 4:  # the SPS: profile_idc, constraint flags, level_idc
            return "avc1." + nal[1:4].hex()
    raise MediaError("cannot read the H.264 profile and level: the codec private data holds no SPS")


def _hevc(extradata: bytes) -> str:
    if len(extradata) < 13 or extradata[0] != 1:
        raise MediaError("cannot read the H.265 profile and level: the codec private data is not an hvcC")
    space, tier, profile = extradata[1] >> 6, extradata[1] >> 5 & 1, extradata[1] & 0x1F
    compatibility = int.from_bytes(extradata[2:6], "big")
    reversed_flags = int(f"{compatibility:032b}"[::-1], 2)
    constraints = bytearray(extradata[6:12])
    while constraints and not constraints[-1]:
        constraints.pop()  # trailing zero bytes are left out
    parts = [f"{_HEVC_PROFILE_SPACES[space]}{profile}", f"{reversed_flags:X}", f"{'HL'[tier == 0]}{extradata[12]}"]
    return ".".join(["hvc1", *parts, *(f"{byte:X}" for byte in constraints)])


def _aac(extradata: bytes) -> str:
    if not extradata:
        raise MediaError("cannot read the AAC object type: the track has no AudioSpecificConfig")
    object_type = extradata[0] >> 3
    if object_type == 31 and len(extradata) >= 2:  # escape: 32 + the next six bits
        object_type = 32 + ((extradata[0] & 0x07) << 3 | extradata[1] >> 5)
    return f"mp4a.40.{object_type}"


def _av1(extradata: bytes) -> str:
    if len(extradata) < 4 or extradata[0] != 0x81:
        raise MediaError("cannot read the AV1 profile and level: the codec private data is not an av1C")
    profile, level = extradata[1] >> 5, extradata[1] & 0x1F
    tier = "H" if extradata[2] & 0x80 else "M"
    high, twelve = extradata[2] >> 6 & 1, extradata[2] >> 5 & 1
    depth = 12 if twelve else 10 if high else 8
    return f"av01.{profile}.{level:02d}{tier}.{depth:02d}"


def _annex_b_units(data: bytes) -> list[bytes]:
    """The NAL units of an Annex B byte stream (start codes 00 00 01 or 00 00 00 01)."""
    return [unit.rstrip(b"\x00") for unit in data.split(b"\x00\x00\x01")[1:]]  # a 4-byte start code's first zero
