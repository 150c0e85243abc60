
// ------------------------------------------------------------------ the shared front-end model
// BrowserNetwork's module (network.js above, this below): one per model version in
// a page. `initialize` runs once per model, whatever views show it, and returns the
// hub that the pad and the live views reach with host.getWidget(ref).exports:
//   hub.show(image, origin)  compute every layer of an image and tell the views
//   hub.subscribe(fn)        fn(result) after every computation; returns the unsubscribe
//   hub.latest               the last result: {activations, shapes, probabilities, image, blank, origin}
//   hub.lib                  the preprocessing functions (drawStroke, toMnist, ...)
// The kernel sends the weights once (a binary buffer) and, when the image did not
// come from a pad of this page (a test image, code, a retrained model), that image.

function bytesOf(value) {
  if (!value) return null;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  return null;
}

function floatsOf(value) {
  const bytes = bytesOf(value);
  if (!bytes || !bytes.byteLength) return null;
  const out = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

export function makeHub(model) {
  const listeners = new Set();
  const hub = {
    net: null, latest: null, error: "", computed: 0,
    lib: { drawStroke, toMnist, scaleNearest, resizeBox, forward },
    palettes: {},
    subscribe(fn) { listeners.add(fn); if (hub.latest) fn(hub.latest); return () => listeners.delete(fn); },
    show(image, origin) {
      if (!hub.net) return null;
      let blank = true;
      for (let i = 0; i < image.length; i++) if (image[i] !== 0) { blank = false; break; }
      let result;
      try {
        result = forward(hub.net, image);
        hub.error = "";
      } catch (error) {
        hub.error = String(error && error.message || error);
        return null;
      }
      result.image = image;
      result.blank = blank;
      result.origin = origin;
      hub.latest = result;
      hub.computed += 1;
      for (const fn of listeners) {
        try { fn(result); } catch (error) { console.error("cnn_widgets live view:", error); }
      }
      return result;
    },
  };
  function load() {
    const buffer = bytesOf(model.get("weights"));
    const header = model.get("header");
    if (!buffer || !header || !header.layers) return;
    hub.net = loadNetwork(header, buffer);
    hub.inputShape = header.input_shape;
    hub.classNames = header.class_names;
    const palettes = model.get("palettes") || {};
    for (const [name, values] of Object.entries(palettes)) hub.palettes[name] = Uint8Array.from(values);
    fromKernel();
  }
  function fromKernel() {
    const image = floatsOf(model.get("image"));
    if (image) hub.show(image, "kernel");
    else if (hub.latest) hub.show(hub.latest.image, hub.latest.origin); // new weights, same image
  }
  model.on("change:weights", load);
  model.on("change:image_id", fromKernel);
  load();
  return hub;
}

export default {
  initialize({ model }) {
    return makeHub(model);
  },
};
