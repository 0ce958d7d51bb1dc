// Helpers every web task's check may use. They run inside the live preview
// frame, so they see exactly what the learner sees: computed styles, the DOM,
// and what a click does. `base` is what the task's baseline returned before Send.
const $ = (s) => document.querySelector(s);
const $$ = (s) => [...document.querySelectorAll(s)];
const text = (el) => (el ? (el.innerText ?? el.textContent ?? "").trim() : "");
// The element and everything inside it: <h1><u>Hi</u></h1> is an underlined heading too.
const within = (el) => (el ? [el, ...el.querySelectorAll("*")] : []);
const bodyText = () => (document.body ? document.body.innerText : "");
const px = (el, prop) => (el ? parseFloat(getComputedStyle(el).getPropertyValue(prop)) || 0 : 0);
const rgba = (value) => {
  const m = String(value || "").match(/[\d.]+/g);
  if (!m) return [0, 0, 0, 0];
  const c = m.map(Number);
  return c.length === 3 ? [...c, 1] : c;
};
const colorOf = (el, prop = "color") => (el ? rgba(getComputedStyle(el).getPropertyValue(prop)) : null);
// The background a person sees behind an element: the first opaque one up the tree.
const bgOf = (el) => {
  for (let e = el; e; e = e.parentElement) {
    const c = colorOf(e, "background-color");
    if (c[3] > 0.5) return c;
  }
  return [255, 255, 255, 1];
};
const hsl = ([r, g, b]) => {
  r /= 255; g /= 255; b /= 255;
  const max = Math.max(r, g, b), min = Math.min(r, g, b), l = (max + min) / 2;
  if (max === min) return [0, 0, l];
  const d = max - min;
  const s = l > 0.5 ? d / (2 - max - min) : d / (max + min);
  let h = max === r ? (g - b) / d + (g < b ? 6 : 0) : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
  return [h * 60, s, l];
};
const HUES = { red: [[345, 360], [0, 15]], orange: [[15, 45]], yellow: [[45, 70]], green: [[70, 170]],
  blue: [[170, 255]], purple: [[255, 320]], pink: [[320, 345]] };
const isHue = (c, name) => {
  if (!c || c[3] === 0) return false;
  const [h, s, l] = hsl(c);
  return s > 0.2 && l > 0.08 && l < 0.95 && HUES[name].some(([a, b]) => h >= a && h <= b);
};
const lightness = (c) => hsl(c)[2];
const isGray = (c) => !!c && hsl(c)[1] < 0.15;
const visible = (el) => !!el && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden"
  && getComputedStyle(el).opacity !== "0";
const buttons = () => $$("button, input[type=button], input[type=submit]");
const label = (b) => `${b.textContent || b.value || ""} ${b.id || ""} ${b.className || ""} ${b.getAttribute("aria-label") || ""}`;
const counter = () => $("#counter") || buttons().find((b) => /click/i.test(label(b)));
const buttonLike = (re, not = []) => buttons().find((b) => re.test(label(b)) && !not.includes(b));
const firstNumber = (s) => { const m = String(s).match(/-?\d+/); return m ? Number(m[0]) : NaN; };
// Is the element's text (or the element itself) horizontally centred in the page?
const centered = (el) => {
  if (!el) return false;
  let r = el.getBoundingClientRect();
  if (el.firstChild && el.firstChild.nodeType === 3 && el.tagName !== "BUTTON") {
    const range = document.createRange();
    range.selectNodeContents(el);
    r = range.getBoundingClientRect();
  }
  const mid = document.documentElement.clientWidth / 2;
  return Math.abs(r.left + r.width / 2 - mid) < 0.06 * mid * 2;
};
// Did the answer keep the page working? The starter's counter still counts by one.
const counterCounts = () => {
  const b = counter();
  if (!b) return false;
  const before = firstNumber(text(b));
  b.click();
  return firstNumber(text(b)) === before + 1;
};
