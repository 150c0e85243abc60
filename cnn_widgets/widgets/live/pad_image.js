// The pad's image for the network, made in the browser (loaded before pad.js, one module).
//
// Where the browser computes the model, the pad keeps its own raster of the ink (the
// kernel's Ink arithmetic, from the shared BrowserNetwork's `lib`), makes the network's
// image from it once per animation frame (to_mnist for 28×28 inputs) and has the
// network compute every layer: the live views repaint with no kernel message. The
// strokes are kept in localStorage (keyed by the page) for a reloaded page.

function padImage(model, canvas, strokes) {
  const state = {
    hub: null,
    raster: null, // the ink at pad resolution
    baseRaster: null, // the loaded picture scaled to the pad
    liveDrawn: 0, // points of the stroke under the pen already in the raster
    dirty: false, // the raster changed since the network last saw it
    exact: Boolean(model.get("exact")), // the kernel sends a loaded image as it is
    frame: 0,
  };
  const side = () => Math.max(1, Number(model.get("size")) || 280);

  function loadBaseInk() {
    const data = model.get("base_ink");
    const shape = model.get("base_shape") || [];
    state.baseRaster = null;
    if (data && data.byteLength && shape.length === 2 && state.hub) {
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      const small = new Float32Array(bytes.byteLength / 4);
      new Uint8Array(small.buffer).set(bytes);
      state.baseRaster = state.hub.lib.scaleNearest(small, shape[0], shape[1], side());
    }
  }

  function rebuild() {
    const hub = state.hub;
    if (!hub) return;
    const size = side();
    const { committed, pending, live } = strokes();
    state.raster = state.baseRaster ? state.baseRaster.slice() : new Float32Array(size * size);
    for (const stroke of committed) hub.lib.drawStroke(state.raster, size, size, stroke);
    for (const stroke of pending) hub.lib.drawStroke(state.raster, size, size, stroke);
    state.liveDrawn = 0;
    if (live) { hub.lib.drawStroke(state.raster, size, size, live); state.liveDrawn = live.points.length / 2; }
    touched();
  }

  function extendLive() {
    const { live } = strokes();
    if (!state.hub || !state.raster || !live) return;
    const size = side();
    state.hub.lib.drawStroke(state.raster, size, size, live, state.liveDrawn);
    state.liveDrawn = live.points.length / 2;
    touched();
  }

  function touched() {
    const { committed, pending, live } = strokes();
    if (state.exact && !live && !pending.length && !committed.length) return; // the kernel's exact image stands
    state.dirty = true;
    if (!state.frame) state.frame = requestAnimationFrame(compute);
  }

  function compute() {
    state.frame = 0;
    const hub = state.hub;
    if (!hub || !state.raster || !state.dirty || !hub.net) return;
    state.dirty = false;
    const size = side();
    const [rows, cols] = model.get("image_shape") || [28, 28];
    const image = rows === 28 && cols === 28 ? hub.lib.toMnist(state.raster, size, size)
      : hub.lib.resizeBox(state.raster, size, size, rows, cols);
    hub.show(image, "pad");
    canvas.dataset.computed = String(hub.computed);
  }

  return {
    state, loadBaseInk, rebuild, extendLive,
    attach(hub) { state.hub = hub; loadBaseInk(); rebuild(); },
    cancel() { if (state.frame) cancelAnimationFrame(state.frame); },
  };
}

function storageKey() {
  return `cnn_widgets.pad:${window.location.pathname}`;
}

function saveStrokes(strokes) {
  try {
    const kept = strokes.map((s) => ({ id: s.id, width: s.width, points: s.points }));
    if (kept.length) window.localStorage.setItem(storageKey(), JSON.stringify(kept));
    else window.localStorage.removeItem(storageKey());
  } catch (error) { /* no storage (private mode, a file page): nothing kept */ }
}

function loadStrokes() {
  let stored = null;
  try { stored = JSON.parse(window.localStorage.getItem(storageKey()) || "null"); } catch (error) { stored = null; }
  if (!Array.isArray(stored)) return [];
  return stored.filter((s) => s && typeof s.id === "string" && Array.isArray(s.points) && s.points.length >= 2
                              && s.points.every((v) => Number.isFinite(v)));
}

