// JSON over HTTP for the history, share and autosave parts: same-origin
// credentials; a non-2xx answer throws an Error carrying the server's
// {message, code, detail} (playground/api.py's error shape).

export async function getJson(url) {
  const res = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
  return answer(res);
}

export async function postJson(url, body) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    credentials: "same-origin",
    body: JSON.stringify(body),
  });
  return answer(res);
}

async function answer(res) {
  let data = null;
  try {
    data = await res.json();
  } catch {
    // not JSON
  }
  if (!res.ok) {
    const err = new Error(data?.message ?? `HTTP ${res.status}`);
    err.code = data?.code;
    err.detail = data?.detail;
    throw err;
  }
  return data;
}
