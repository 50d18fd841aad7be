// Stillframe viewer, video: an HLS session from this server (GetHLSStreamingSessionURL, as KVS answers it) played
// with the vendored hls.js (viewer/vendor/hls.min.js) over Media Source Extensions. A plain script loaded before
// app.js: it defines `Playback`, which app.js drives; the timeline, the stills and the choice of range stay there.
"use strict";

const SESSION_EXPIRES_S = 3600;
const PLAY_AHEAD_MS = 10 * 60e3;     // a session from the past plays at least this far past the chosen time
const MAX_SESSION_MS = 24 * 3600e3;  // an HLS session's TimestampRange spans at most 24 h

// The request (for Playback.play) that plays `stream` from `t`, epoch ms, to the end of the visible range
// (`viewEndMs`), at least PLAY_AHEAD_MS on: ON_DEMAND when that is all past, else LIVE_REPLAY with no end, so the
// session keeps taking the fragments that arrive while it plays. A session holds only the fragments starting in its
// range, so it starts at the fragment on screen at `t` (`heldFromMs`, null in a gap) and playback seeks to `t`.
function playbackFrom(stream, selector, t, heldFromMs, viewEndMs) {
  const startMs = heldFromMs ?? t;
  const request = { stream, selector, startMs, seekMs: t - startMs };
  const endMs = Math.max(viewEndMs, t + PLAY_AHEAD_MS);
  if (endMs >= Date.now()) return { ...request, mode: "LIVE_REPLAY" };
  return { ...request, mode: "ON_DEMAND", endMs: Math.min(endMs, startMs + MAX_SESSION_MS) };
}

// What GetHLSStreamingSessionURL is asked for `request` (see Playback.play). Every mode asks for the fragments' own
// timestamps in the playlist (EXT-X-PROGRAM-DATE-TIME), which hls.js turns into the wall-clock time on screen.
function sessionBody({ stream, selector, mode, startMs, endMs }) {
  const fragmentSelector = { FragmentSelectorType: selector };
  if (mode !== "LIVE") {
    fragmentSelector.TimestampRange = { StartTimestamp: startMs / 1000 };
    if (endMs !== undefined) fragmentSelector.TimestampRange.EndTimestamp = endMs / 1000;
  }
  return {
    StreamName: stream, PlaybackMode: mode, HLSFragmentSelector: fragmentSelector, ContainerFormat: "FRAGMENTED_MP4",
    DiscontinuityMode: "ON_DISCONTINUITY", DisplayFragmentTimestamp: "ALWAYS", Expires: SESSION_EXPIRES_S,
  };
}

class Playback {
  // video: the <video> element; call(operation, body): the viewer's API call; onTime(ms): the wall-clock time of
  // the frame on screen changed; onError(message): playback could not start or broke off (it is stopped).
  constructor(video, { call, onTime, onError }) {
    this.video = video;
    this.call = call;
    this.onError = onError;
    this.hls = null;
    this.request = null;
    this.attempt = 0;
    const report = () => {
      const ms = this.wallClock();
      if (ms !== null) onTime(ms);
    };
    for (const event of ["timeupdate", "seeked", "pause"]) video.addEventListener(event, report);
  }

  // Chromium plays HLS only through MSE (no native HLS in its <video>), which hls.js needs.
  static supported() {
    return typeof Hls !== "undefined" && Hls.isSupported();
  }

  get active() {
    return this.request !== null;
  }

  get mode() {
    return this.request && this.request.mode;
  }

  // request: { stream, selector, mode: "ON_DEMAND" | "LIVE_REPLAY" | "LIVE", startMs, endMs, seekMs }: the session
  // covers the fragments starting in [startMs, endMs] (none for LIVE) and playback begins seekMs into it.
  async play(request) {
    this.stop();
    const attempt = ++this.attempt;
    this.request = request;
    let answer;
    try {
      answer = await this.call("getHLSStreamingSessionURL", sessionBody(request));
    } catch (error) {
      if (attempt === this.attempt) this.fail(error.message);
      return;
    }
    if (attempt !== this.attempt) return; // stopped, or another play began, while the session was asked for
    // No worker: hls.js would start it from a blob: script, which the viewer's policy (worker-src) refuses.
    const startPosition = request.mode === "LIVE" ? -1 : (request.seekMs || 0) / 1000; // -1: the live edge
    const hls = new Hls({ enableWorker: false, startPosition });
    this.hls = hls;
    hls.on(Hls.Events.ERROR, (_, data) => {
      if (!data.fatal) return;
      const code = data.response && data.response.code ? ` (HTTP ${data.response.code})` : "";
      this.fail(`video: ${data.details}${code}`);
    });
    hls.on(Hls.Events.MANIFEST_PARSED, () => {
      this.video.play().catch((error) => {
        // Autoplay refused (no user gesture): the video's own controls start it.
        if (error.name === "NotAllowedError") this.onError("press play on the video to start it");
      });
    });
    hls.loadSource(answer.HLSStreamingSessionURL);
    hls.attachMedia(this.video);
  }

  stop() {
    this.attempt += 1;
    this.request = null;
    if (this.hls) {
      this.hls.destroy(); // detaches the media source and frees the video element's buffer
      this.hls = null;
    }
  }

  // The time of the frame on screen, epoch ms: the playlist's EXT-X-PROGRAM-DATE-TIME plus the position in that
  // fragment; without one, the session's start plus the position (approximate: the first fragment may start later).
  wallClock() {
    if (!this.hls || !this.request) return null;
    const date = this.hls.playingDate;
    if (date) return date.getTime();
    if (this.request.mode === "LIVE") return null;
    return Math.round(this.request.startMs + this.video.currentTime * 1000);
  }

  fail(message) {
    this.stop();
    this.onError(message);
  }
}
