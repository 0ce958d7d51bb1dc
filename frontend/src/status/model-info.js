// "model · backend" in the top bar, from session.ready.

export function installModelInfo({ session }, el) {
  if (!el) return;
  session.on("session.ready", function modelInfo(msg) {
    el.textContent = `${msg.model} · ${msg.backend}`;
  });
}
