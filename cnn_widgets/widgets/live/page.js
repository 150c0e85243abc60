// A page with no kernel (cnn-widgets export): the pad, the image the network gets, the
// probabilities, every map grid and the dense units, computed in the browser by the
// same modules the widgets use (network.js + hub.js, pad.js, views.js), each given a
// small stand-in for its widget model. Nothing is fetched: the modules, the weights
// and the styles are in the page.

class Model {
  constructor(state) { this.state = state; this.handlers = new Map(); this.onSend = null; }
  get(key) { return this.state[key]; }
  set(key, value) { this.state[key] = value; this.trigger(`change:${key}`); }
  save_changes() { this.trigger("saved"); }
  send(message) { if (this.onSend) this.onSend(message); }
  on(name, fn) { if (!this.handlers.has(name)) this.handlers.set(name, new Set()); this.handlers.get(name).add(fn); }
  off(name, fn) { if (this.handlers.has(name)) this.handlers.get(name).delete(fn); }
  trigger(name, ...args) { for (const fn of this.handlers.get(name) || []) fn(...args); }
}

async function load(source) {
  return import(URL.createObjectURL(new Blob([source], { type: "text/javascript" })));
}

function decode(base64) {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

export async function start(config, sources) {
  const [hubModule, padModule, viewsModule] = await Promise.all(
    [sources.network, sources.pad, sources.views].map(load));
  const [h, w, c] = config.header.input_shape;
  const networkModel = new Model({
    header: config.header, weights: decode(config.weights), palettes: config.palettes,
    image: new Uint8Array(new Float32Array(h * w * c).buffer), image_id: 1,
  });
  const hub = hubModule.makeHub(networkModel);
  const host = { getWidget: async () => ({ exports: hub }) };
  window.cnnwHub = hub;

  // the pad: what the kernel would answer, answered here (a finished stroke is kept)
  const padModel = new Model({ ...config.pad, network: "anywidget:page", strokes: [], base: new Uint8Array(0),
                               base_ink: new Uint8Array(0), base_shape: [], exact: false });
  const growing = new Map();
  padModel.onSend = (message) => {
    if (message.type !== "stroke") return;
    const stroke = growing.get(message.id) || { id: message.id, width: message.width, points: [] };
    stroke.points.push(...message.points);
    growing.set(message.id, stroke);
    if (message.end) {
      growing.delete(message.id);
      padModel.trigger("msg:custom", { type: "committed", stroke }, []);
    }
  };
  padModule.default.render({ model: padModel, el: document.getElementById("cnnw-pad"), host });

  const selected = document.getElementById("cnnw-selected");
  for (const view of config.views) {
    const el = document.getElementById(view.id);
    const model = new Model({ ...view.state, network: "anywidget:page", map_index: -1, cell: [] });
    await viewsModule.default.render({ model, el, host });
    for (const control of el.parentElement.querySelectorAll("select[data-trait]")) {
      control.addEventListener("change", () => model.set(control.dataset.trait, control.value));
    }
    if (view.state.kind === "maps") {
      model.on("saved", () => {
        const [row, col] = model.get("cell");
        selected.textContent = `selected: ${view.state.layer} · map ${model.get("map_index")} · cell (${row}, ${col})`;
        for (const other of document.querySelectorAll(".cnnw-page-grid")) other.classList.remove("cnnw-page-chosen");
        el.parentElement.classList.add("cnnw-page-chosen");
      });
    }
  }
  document.body.dataset.ready = "1";
}
