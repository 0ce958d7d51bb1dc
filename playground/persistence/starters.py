"""Start templates: the files a new playground begins with."""

from __future__ import annotations

from dataclasses import dataclass

WEB = {
    "index.html": """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>My page</title>
  <link rel="stylesheet" href="style.css">
</head>
<body>
  <main>
    <h1>Hello, Flint</h1>
    <p>Ask the model to change this page.</p>
    <button id="counter">Clicked 0 times</button>
  </main>
  <script src="script.js"></script>
</body>
</html>
""",
    "style.css": """body {
  font-family: system-ui, sans-serif;
  margin: 2rem;
  color: #1f2328;
}

h1 {
  color: #b4441c;
}
""",
    "script.js": """const button = document.getElementById("counter");
let clicks = 0;

button.addEventListener("click", () => {
  clicks += 1;
  button.textContent = `Clicked ${clicks} times`;
});
""",
}

PYTHON = {
    "main.py": """def greet(name):
    return f"Hello, {name}!"


if __name__ == "__main__":
    print(greet("Flint"))
""",
}

# The runtimes a playground can have (Playground.template): its starter's ``kind``.
TEMPLATES = {"web": WEB, "python": PYTHON}
TEMPLATE_LABELS = {"web": "Web page", "python": "Python"}

# --- starters: small complete projects a learner can open and change ----------------

CANVAS_GAME = {
    "index.html": """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Catch the stars</title>
  <link rel="stylesheet" href="style.css">
</head>
<body>
  <main>
    <h1>Catch the stars</h1>
    <p id="score" aria-live="polite">Score: 0 · Missed: 0</p>
    <canvas id="game" width="480" height="320" tabindex="0"
      aria-label="Game: move the basket with the arrow keys or the mouse"></canvas>
    <p class="help">Click the game, then use ← → (or move the mouse). Miss 5 and it starts over.</p>
  </main>
  <script src="game.js"></script>
</body>
</html>
""",
    "style.css": """body {
  font-family: system-ui, sans-serif;
  margin: 1.5rem;
  background: #0f172a;
  color: #e2e8f0;
}

canvas {
  display: block;
  max-width: 100%;
  background: linear-gradient(#1e293b, #0f172a);
  border: 2px solid #334155;
  border-radius: 8px;
}

canvas:focus {
  outline: 3px solid #fbbf24;
}

.help {
  color: #94a3b8;
}
""",
    "game.js": """const canvas = document.getElementById("game");
const ctx = canvas.getContext("2d");
const scoreEl = document.getElementById("score");

const basket = { x: canvas.width / 2, width: 70, speed: 6 };
const keys = new Set();
let stars = [];
let score = 0;
let missed = 0;
let lastSpawn = 0;

function spawnStar(now) {
  const x = 20 + Math.random() * (canvas.width - 40);
  stars.push({ x, y: -10, speed: 1.5 + Math.random() * 2 });
  lastSpawn = now;
}

function update(now) {
  if (keys.has("ArrowLeft")) basket.x -= basket.speed;
  if (keys.has("ArrowRight")) basket.x += basket.speed;
  basket.x = Math.max(basket.width / 2, Math.min(canvas.width - basket.width / 2, basket.x));
  if (now - lastSpawn > 900) spawnStar(now);
  for (const star of stars) star.y += star.speed;
  const inBasket = (s) => Math.abs(s.x - basket.x) < basket.width / 2;
  const caught = stars.filter((s) => s.y > canvas.height - 30 && inBasket(s));
  const fallen = stars.filter((s) => s.y > canvas.height);
  score += caught.length;
  missed += fallen.length;
  stars = stars.filter((s) => !caught.includes(s) && !fallen.includes(s));
  if (missed >= 5) {
    score = 0;
    missed = 0;
    stars = [];
  }
  scoreEl.textContent = `Score: ${score} · Missed: ${missed}`;
}

function drawStar(x, y) {
  ctx.beginPath();
  for (let i = 0; i < 10; i++) {
    const r = i % 2 === 0 ? 10 : 4;
    const a = (Math.PI / 5) * i - Math.PI / 2;
    ctx.lineTo(x + r * Math.cos(a), y + r * Math.sin(a));
  }
  ctx.closePath();
  ctx.fill();
}

function draw() {
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = "#fbbf24";
  for (const star of stars) drawStar(star.x, star.y);
  ctx.fillStyle = "#38bdf8";
  ctx.fillRect(basket.x - basket.width / 2, canvas.height - 20, basket.width, 12);
}

function frame(now) {
  update(now);
  draw();
  requestAnimationFrame(frame);
}

canvas.addEventListener("keydown", (event) => {
  if (event.key.startsWith("Arrow")) event.preventDefault();
  keys.add(event.key);
});
canvas.addEventListener("keyup", (event) => keys.delete(event.key));
canvas.addEventListener("mousemove", (event) => {
  const box = canvas.getBoundingClientRect();
  basket.x = ((event.clientX - box.left) / box.width) * canvas.width;
});

requestAnimationFrame(frame);
""",
}

FORM_VALIDATION = {
    "index.html": """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Sign up</title>
  <link rel="stylesheet" href="style.css">
</head>
<body>
  <main>
    <h1>Join the club</h1>
    <form id="signup" novalidate>
      <label for="name">Name</label>
      <input id="name" name="name" autocomplete="name" aria-describedby="name-error">
      <p class="error" id="name-error" aria-live="polite"></p>

      <label for="email">Email</label>
      <input id="email" name="email" type="email" autocomplete="email"
        aria-describedby="email-error">
      <p class="error" id="email-error" aria-live="polite"></p>

      <label for="password">Password (at least 8 characters, with a number)</label>
      <input id="password" name="password" type="password" autocomplete="new-password"
        aria-describedby="password-error">
      <p class="error" id="password-error" aria-live="polite"></p>

      <label for="age">Age</label>
      <input id="age" name="age" type="number" inputmode="numeric" aria-describedby="age-error">
      <p class="error" id="age-error" aria-live="polite"></p>

      <button type="submit">Sign up</button>
    </form>
    <p id="result" role="status"></p>
  </main>
  <script src="form.js"></script>
</body>
</html>
""",
    "style.css": """body {
  font-family: system-ui, sans-serif;
  margin: 2rem;
  color: #1f2328;
}

form {
  display: grid;
  gap: 0.25rem;
  max-width: 22rem;
}

label {
  font-weight: 600;
  margin-top: 0.5rem;
}

input {
  font: inherit;
  padding: 0.4rem 0.5rem;
  border: 1px solid #8c959f;
  border-radius: 6px;
}

input[aria-invalid="true"] {
  border-color: #cf222e;
  background: #fff5f5;
}

.error {
  color: #cf222e;
  margin: 0;
  min-height: 1.2em;
  font-size: 0.9rem;
}

button {
  margin-top: 1rem;
  font: inherit;
  padding: 0.5rem;
  border: 0;
  border-radius: 6px;
  background: #1f6feb;
  color: white;
}

#result {
  color: #1a7f37;
  font-weight: 600;
}
""",
    "form.js": """const form = document.getElementById("signup");
const result = document.getElementById("result");

// Each rule returns an error message, or "" when the value is fine.
const rules = {
  name: (v) => (v.trim().length < 2 ? "Please enter your name (2 letters or more)." : ""),
  email: (v) =>
    /^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$/.test(v) ? "" : "Please enter an email like ada@example.com.",
  password: (v) =>
    v.length < 8 ? "Use at least 8 characters." : /\\d/.test(v) ? "" : "Add at least one number.",
  age: (v) => {
    const n = Number(v);
    if (v === "" || !Number.isInteger(n)) return "Please enter your age as a whole number.";
    return n >= 13 && n <= 120 ? "" : "You must be between 13 and 120.";
  },
};

function check(input) {
  const message = rules[input.name](input.value);
  document.getElementById(`${input.name}-error`).textContent = message;
  input.setAttribute("aria-invalid", message ? "true" : "false");
  return !message;
}

for (const input of form.elements) {
  if (input.name in rules) input.addEventListener("blur", () => check(input));
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const inputs = [...form.elements].filter((el) => el.name in rules);
  const bad = inputs.filter((input) => !check(input));
  if (bad.length) {
    bad[0].focus();
    result.textContent = "";
    return;
  }
  result.textContent = `Welcome, ${form.elements.name.value.trim()}!`;
  form.reset();
});
""",
}

CSS_ANIMATION = {
    "index.html": """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Sunrise</title>
  <link rel="stylesheet" href="style.css">
</head>
<body>
  <main class="sky">
    <div class="sun" aria-hidden="true"></div>
    <div class="cloud cloud-1" aria-hidden="true"></div>
    <div class="cloud cloud-2" aria-hidden="true"></div>
    <h1 class="title">Good morning</h1>
    <button class="pulse" type="button">Hover or focus me</button>
  </main>
</body>
</html>
""",
    "style.css": """body {
  margin: 0;
  font-family: system-ui, sans-serif;
}

.sky {
  position: relative;
  height: 100vh;
  overflow: hidden;
  display: grid;
  place-content: center;
  gap: 1rem;
  text-align: center;
  background: linear-gradient(#1e3a8a, #f97316);
  animation: dawn 8s ease-in-out infinite alternate;
}

.sun {
  position: absolute;
  left: calc(50% - 60px);
  bottom: -60px;
  width: 120px;
  height: 120px;
  border-radius: 50%;
  background: radial-gradient(#fde68a, #f59e0b);
  box-shadow: 0 0 60px #fbbf24;
  animation: rise 8s ease-in-out infinite alternate;
}

.cloud {
  position: absolute;
  width: 140px;
  height: 40px;
  border-radius: 40px;
  background: rgb(255 255 255 / 0.85);
  animation: drift 20s linear infinite;
}
.cloud-1 { top: 15%; }
.cloud-2 { top: 30%; animation-duration: 28s; animation-delay: -10s; }

.title {
  position: relative;
  color: white;
  font-size: 2.5rem;
  text-shadow: 0 2px 8px rgb(0 0 0 / 0.4);
  animation: fade-in 2s ease-out both;
}

.pulse {
  position: relative;
  justify-self: center;
  font: inherit;
  padding: 0.6rem 1.2rem;
  border: 0;
  border-radius: 999px;
  background: white;
  color: #9a3412;
  transition: transform 0.2s;
}
.pulse:hover, .pulse:focus-visible { transform: scale(1.1); animation: pulse 1s infinite; }

@keyframes dawn { to { background-position: 0 100%; filter: brightness(1.2); } }
@keyframes rise { to { bottom: 55%; } }
@keyframes drift { from { left: -160px; } to { left: 100%; } }
@keyframes fade-in { from { opacity: 0; transform: translateY(20px); } }
@keyframes pulse { 50% { box-shadow: 0 0 0 12px rgb(255 255 255 / 0.3); } }

/* Respect people who asked their system for less motion. */
@media (prefers-reduced-motion: reduce) {
  *, *::before, *::after { animation: none !important; transition: none !important; }
}
""",
}

JS_TABLE = {
    "index.html": """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Planets</title>
  <link rel="stylesheet" href="style.css">
</head>
<body>
  <main>
    <h1>The planets</h1>
    <label for="filter">Filter</label>
    <input id="filter" type="search" placeholder="Type a name…">
    <table id="planets">
      <caption>Click a column heading to sort.</caption>
      <thead></thead>
      <tbody></tbody>
    </table>
  </main>
  <script src="table.js"></script>
</body>
</html>
""",
    "style.css": """body {
  font-family: system-ui, sans-serif;
  margin: 2rem;
  color: #1f2328;
}

table {
  border-collapse: collapse;
  margin-top: 1rem;
  min-width: 24rem;
}

caption {
  text-align: left;
  color: #57606a;
  padding-bottom: 0.5rem;
}

th, td {
  padding: 0.4rem 0.8rem;
  border-bottom: 1px solid #d0d7de;
  text-align: left;
}

th button {
  font: inherit;
  font-weight: 700;
  border: 0;
  background: none;
  cursor: pointer;
  padding: 0;
}

tbody tr:nth-child(even) {
  background: #f6f8fa;
}

td.number {
  text-align: right;
  font-variant-numeric: tabular-nums;
}
""",
    "table.js": """// The data: change it, add rows or columns, and the table follows.
const planets = [
  { name: "Mercury", moons: 0, diameterKm: 4879, dayHours: 4222.6 },
  { name: "Venus", moons: 0, diameterKm: 12104, dayHours: 2802 },
  { name: "Earth", moons: 1, diameterKm: 12756, dayHours: 24 },
  { name: "Mars", moons: 2, diameterKm: 6792, dayHours: 24.7 },
  { name: "Jupiter", moons: 95, diameterKm: 142984, dayHours: 9.9 },
  { name: "Saturn", moons: 146, diameterKm: 120536, dayHours: 10.7 },
  { name: "Uranus", moons: 28, diameterKm: 51118, dayHours: 17.2 },
  { name: "Neptune", moons: 16, diameterKm: 49528, dayHours: 16.1 },
];

const columns = [
  { key: "name", label: "Planet" },
  { key: "moons", label: "Moons" },
  { key: "diameterKm", label: "Diameter (km)" },
  { key: "dayHours", label: "Day (hours)" },
];

const table = document.getElementById("planets");
const filter = document.getElementById("filter");
let sort = { key: "name", ascending: true };

function renderHead() {
  const row = document.createElement("tr");
  for (const column of columns) {
    const th = document.createElement("th");
    th.scope = "col";
    const sorted = sort.key === column.key;
    th.setAttribute("aria-sort", sorted ? (sort.ascending ? "ascending" : "descending") : "none");
    const button = document.createElement("button");
    button.textContent = column.label + (sorted ? (sort.ascending ? " ▲" : " ▼") : "");
    button.addEventListener("click", () => {
      sort = { key: column.key, ascending: sorted ? !sort.ascending : true };
      render();
    });
    th.append(button);
    row.append(th);
  }
  table.tHead.replaceChildren(row);
}

function renderBody() {
  const text = filter.value.trim().toLowerCase();
  const rows = planets
    .filter((p) => p.name.toLowerCase().includes(text))
    .sort((a, b) => {
      const order = a[sort.key] < b[sort.key] ? -1 : a[sort.key] > b[sort.key] ? 1 : 0;
      return sort.ascending ? order : -order;
    });
  table.tBodies[0].replaceChildren(
    ...rows.map((planet) => {
      const tr = document.createElement("tr");
      for (const column of columns) {
        const td = document.createElement("td");
        const value = planet[column.key];
        td.textContent = typeof value === "number" ? value.toLocaleString("en") : value;
        if (typeof value === "number") td.className = "number";
        tr.append(td);
      }
      return tr;
    }),
  );
}

function render() {
  renderHead();
  renderBody();
}

filter.addEventListener("input", renderBody);
render();
""",
}

TEXT_ADVENTURE = {
    "main.py": '''"""A tiny text adventure: type commands when the program asks (input())."""

ROOMS = {
    "hall": {
        "text": "You are in a dusty hall. Doors lead north and east.",
        "exits": {"north": "library", "east": "kitchen"},
        "items": ["lamp"],
    },
    "library": {
        "text": "Shelves of old books. Something glints under a table.",
        "exits": {"south": "hall"},
        "items": ["key"],
    },
    "kitchen": {
        "text": "A cold kitchen. A locked chest stands in the corner.",
        "exits": {"west": "hall"},
        "items": [],
    },
}


def describe(room):
    info = ROOMS[room]
    print(info["text"])
    if info["items"]:
        print("You see:", ", ".join(info["items"]))
    print("Exits:", ", ".join(info["exits"]))


def play():
    room = "hall"
    bag = []
    print("Commands: go <direction>, take <item>, open chest, look, bag, quit")
    describe(room)
    while True:
        command = input("> ").strip().lower()
        verb, _, noun = command.partition(" ")
        if verb == "quit":
            print("Bye!")
            return
        if verb == "look":
            describe(room)
        elif verb == "bag":
            print("You carry:", ", ".join(bag) or "nothing")
        elif verb == "go" and noun in ROOMS[room]["exits"]:
            room = ROOMS[room]["exits"][noun]
            describe(room)
        elif verb == "take" and noun in ROOMS[room]["items"]:
            ROOMS[room]["items"].remove(noun)
            bag.append(noun)
            print("You take the", noun + ".")
        elif command == "open chest" and room == "kitchen":
            if "key" in bag:
                print("The key turns. Inside: treasure! You win.")
                return
            print("It is locked. Maybe there is a key somewhere?")
        else:
            print("You can't do that here.")


if __name__ == "__main__":
    name = input("What is your name, adventurer? ")
    print(f"Welcome, {name or 'stranger'}!")
    play()
''',
}

CSV_ANALYSIS = {
    "main.py": '''"""Python over a CSV string: read it, then summarise it (standard library)."""

import csv
import io
import statistics
from collections import defaultdict

DATA = """city,month,rain_mm,sunny_days
Lisbon,Jan,100,14
Lisbon,Feb,90,15
Lisbon,Mar,60,19
Oslo,Jan,49,3
Oslo,Feb,36,6
Oslo,Mar,47,10
Nairobi,Jan,58,21
Nairobi,Feb,48,20
Nairobi,Mar,91,17
"""


def load(text):
    rows = list(csv.DictReader(io.StringIO(text)))
    for row in rows:
        row["rain_mm"] = int(row["rain_mm"])
        row["sunny_days"] = int(row["sunny_days"])
    return rows


def by_city(rows):
    groups = defaultdict(list)
    for row in rows:
        groups[row["city"]].append(row)
    return groups


def main():
    rows = load(DATA)
    print(f"{len(rows)} rows, columns: {', '.join(rows[0])}")
    print()
    print(f"{'city':<10}{'avg rain (mm)':>15}{'sunny days':>12}")
    for city, group in sorted(by_city(rows).items()):
        rain = statistics.mean(r["rain_mm"] for r in group)
        sun = sum(r["sunny_days"] for r in group)
        print(f"{city:<10}{rain:>15.1f}{sun:>12}")
    wettest = max(rows, key=lambda r: r["rain_mm"])
    print()
    print(f"Wettest month: {wettest['month']} in {wettest['city']} ({wettest['rain_mm']} mm)")


if __name__ == "__main__":
    main()
''',
}


@dataclass(frozen=True)
class Starter:
    """A project a new playground can start from: ``/?template=<name>``."""

    name: str
    kind: str  # the runtime: "web" (live preview) or "python" (Pyodide)
    label: str
    description: str
    files: dict[str, str]


STARTERS: dict[str, Starter] = {
    s.name: s
    for s in (
        Starter("web", "web", "Web page", "A page, a stylesheet and a script.", WEB),
        Starter("python", "python", "Python", "A Python script that runs in the browser.", PYTHON),
        Starter(
            "canvas-game",
            "web",
            "Canvas game",
            "Catch falling stars: a <canvas>, requestAnimationFrame and the arrow keys.",
            CANVAS_GAME,
        ),
        Starter(
            "form",
            "web",
            "Form with validation",
            "A sign-up form that checks each field and says what to fix.",
            FORM_VALIDATION,
        ),
        Starter(
            "css-animation",
            "web",
            "CSS animation",
            "A sunrise in @keyframes, with reduced motion respected.",
            CSS_ANIMATION,
        ),
        Starter(
            "table",
            "web",
            "Table from an array",
            "A sortable, filterable table built from a JavaScript array.",
            JS_TABLE,
        ),
        Starter(
            "text-adventure",
            "python",
            "Text adventure",
            "A Python game you play by typing commands (input()).",
            TEXT_ADVENTURE,
        ),
        Starter(
            "csv",
            "python",
            "Python over CSV",
            "Read a CSV string with csv and summarise it with statistics.",
            CSV_ANALYSIS,
        ),
    )
}
