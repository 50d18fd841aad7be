// Driven by tests/support/players.py: start(...) asks serve for a session URL with fetch (a cross-origin POST, as a
// web app calling KVS makes it) and plays it in hls.js or dash.js; grab() reads the picture on screen.
"use strict";

const video = document.getElementById("video");
const state = { marks: {}, errors: [], url: null };
window.playerState = state;

function mark(name) {
  if (!(name in state.marks)) state.marks[name] = performance.now();
}

async function sessionUrl(endpoint, kind, body) {
  const operation = kind === "hls" ? "getHLSStreamingSessionURL" : "getDASHStreamingSessionURL";
  const answer = await fetch(`${endpoint}/${operation}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = await answer.json();
  if (!answer.ok) throw new Error(`${operation}: ${answer.status} ${JSON.stringify(json)}`);
  return json.HLSStreamingSessionURL || json.DASHStreamingSessionURL;
}

function attach(kind, url, settings) {
  if (kind === "hls") {
    const hls = new Hls({ enableWorker: true, ...settings });
    hls.on(Hls.Events.ERROR, (_, data) => {
      if (data.fatal) state.errors.push(`hls.js ${data.type} ${data.details}`);
    });
    hls.loadSource(url);
    hls.attachMedia(video);
    video.play().catch(() => {}); // playback starts once media is buffered
    return hls;
  }
  const player = dashjs.MediaPlayer().create();
  player.updateSettings(settings);
  player.on(dashjs.MediaPlayer.events.ERROR, (event) => state.errors.push(`dash.js ${JSON.stringify(event.error)}`));
  // Autoplay by dash.js itself: a play() before dash.js listens leaves it thinking playback is paused (no MPD
  // refreshes then).
  player.initialize(video, url, true);
  return player;
}

function onFirstFrame() {
  if ("requestVideoFrameCallback" in video) {
    video.requestVideoFrameCallback(() => mark("frame"));
  }
}

// settings: the player's own (an Hls config, or dash.js settings); {} for its defaults.
window.start = async (endpoint, kind, body, settings = {}) => {
  mark("start");
  try {
    state.url = await sessionUrl(endpoint, kind, body);
    mark("session");
    video.addEventListener("playing", () => mark("playing"));
    video.addEventListener("error", () => state.errors.push(`video ${video.error && video.error.message}`));
    onFirstFrame();
    window.player = attach(kind, state.url, settings);
  } catch (error) {
    state.errors.push(String(error));
  }
};

// The picture on screen as a PNG data URL, with the media time of that picture.
window.grab = () => {
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext("2d").drawImage(video, 0, 0);
  return { time: video.currentTime, png: canvas.toDataURL("image/png") };
};

// The next picture presented while playing, with its own media time and the wall-clock time it was shown.
window.grabPresented = () =>
  new Promise((resolve) => {
    video.requestVideoFrameCallback((now, metadata) => {
      const shot = window.grab();
      resolve({ ...shot, time: metadata.mediaTime, shownAt: performance.timeOrigin + now });
    });
  });
