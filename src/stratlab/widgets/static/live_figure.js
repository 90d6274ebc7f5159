// stratlab's live plotly figure: the front end of stratlab.widgets._figure.LiveFigure.
//
// The model's synced state `_figure` is the whole current figure, each trace
// and each top-level layout key as its own JSON text, set anew by the kernel
// after every change (an ordinary widget state update, which no front end can
// miss, however late its model loads).  Each view keeps its own parsed copy and
// re-parses only the texts that changed, so plotly.react sees new objects
// exactly where something changed.
// plotly.js is not part of this module: the first view on a page asks the
// kernel for it once (a "plotly-js?" message answered with the script as a
// binary buffer) and every later figure on the page reuses it.

const BUNDLES = {}; // bundle name -> {promise, resolve, reject, asked: time of the last request}
const RETRY_MS = 15000;

function evaluate(source) {
  // plotly's bundles are UMD: give them a CommonJS `module` so that an AMD
  // loader on the page (JupyterLab's requirejs) does not capture them
  const module = { exports: {} };
  new Function("module", "exports", "define", source)(module, module.exports, undefined);
  return module.exports && module.exports.react ? module.exports : globalThis.Plotly;
}

function loadPlotly(model, bundle) {
  const loaded = globalThis.Plotly;
  if (bundle === "cartesian" && loaded && typeof loaded.react === "function") {
    return Promise.resolve(loaded);
  }
  let b = BUNDLES[bundle];
  if (!b) {
    b = BUNDLES[bundle] = { asked: 0 };
    b.promise = new Promise((resolve, reject) => {
      b.resolve = resolve;
      b.reject = reject;
    });
  }
  if (!b.done) {
    const onMessage = (msg, buffers) => {
      if (!msg || msg.type !== "plotly-js" || msg.bundle !== bundle || b.done) return;
      model.off("msg:custom", onMessage);
      try {
        const view = buffers[0];
        const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
        const plotly = evaluate(new TextDecoder().decode(bytes));
        b.done = true;
        b.resolve(plotly);
      } catch (err) {
        b.done = true;
        b.reject(err);
      }
    };
    model.on("msg:custom", onMessage);
    const now = Date.now();
    if (now - b.asked > RETRY_MS) {
      // the first figure asks; another one asks again if no answer came (its model closed)
      b.asked = now;
      model.send({ type: "plotly-js?", bundle: bundle });
    }
    setTimeout(() => {
      if (!b.done) loadPlotly(model, bundle);
    }, RETRY_MS + 100);
  }
  return b.promise;
}

function render({ model, el }) {
  const div = document.createElement("div");
  div.className = "stratlab-plot";
  el.appendChild(div);
  let plotly = null;
  // this view's copy: the texts of the state it drew, and their parsed objects
  // (plotly.js mutates what it is given, so no two views share them)
  const texts = { data: [], layout: {} };
  const copy = { data: [], layout: {} };
  let config = {};
  let busy = false;
  let pending = false;
  let closed = false;
  let width = 0;

  const update = () => {
    // re-parse only the traces and layout keys whose text changed
    const state = model.get("_figure") || {};
    const data = state.data || [];
    const layout = state.layout || {};
    config = state.config || {};
    copy.data.length = data.length;
    texts.data.length = data.length;
    data.forEach((text, i) => {
      if (texts.data[i] !== text) {
        texts.data[i] = text;
        copy.data[i] = JSON.parse(text);
      }
    });
    for (const key of Object.keys(texts.layout)) {
      if (!(key in layout)) {
        delete texts.layout[key];
        delete copy.layout[key];
      }
    }
    for (const [key, text] of Object.entries(layout)) {
      if (texts.layout[key] !== text) {
        texts.layout[key] = text;
        copy.layout[key] = JSON.parse(text);
      }
    }
  };
  const draw = async () => {
    if (busy) {
      pending = true;
      return;
    }
    busy = true;
    try {
      do {
        pending = false;
        if (closed || plotly === null || width === 0) break;
        const layout = { ...copy.layout, autosize: true };
        delete layout.width;
        await plotly.react(div, [...copy.data], layout, { ...config, responsive: false });
        el.dataset.stratlabDrawn = String(Number(el.dataset.stratlabDrawn || 0) + 1);
      } while (pending && !closed);
    } catch (err) {
      console.error("stratlab: the figure could not be drawn", err);
    } finally {
      busy = false;
    }
  };
  const onChange = () => {
    update();
    draw();
  };
  model.on("change:_figure", onChange);

  // draw once the view has a width (plotly.js falls back to 700 px on a detached
  // element), and follow every later change of width (tabs, sidebars, windows)
  const observer = new ResizeObserver((entries) => {
    const w = Math.round(entries[entries.length - 1].contentRect.width);
    if (w === width || w === 0) return;
    const first = width === 0;
    width = w;
    if (first || plotly === null) draw();
    else plotly.Plots.resize(div);
  });
  observer.observe(el);

  update();
  loadPlotly(model, model.get("_bundle") || "cartesian").then(
    (p) => {
      plotly = p;
      draw();
    },
    (err) => {
      console.error("stratlab: plotly.js could not be loaded", err);
      div.textContent = `stratlab: plotly.js could not be loaded (${err})`;
    },
  );

  return () => {
    closed = true;
    model.off("change:_figure", onChange);
    observer.disconnect();
    if (plotly !== null) plotly.purge(div);
  };
}

export default { render };
