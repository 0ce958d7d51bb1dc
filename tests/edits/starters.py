"""The playground's start files, copied here (not imported) so these tests do not
depend on where the rest of the project keeps its templates."""

from __future__ import annotations

INDEX_HTML = """<!doctype html>
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
"""

STYLE_CSS = """body {
  font-family: system-ui, sans-serif;
  margin: 2rem;
  color: #1f2328;
}

h1 {
  color: #b4441c;
}
"""

SCRIPT_JS = """const button = document.getElementById("counter");
let clicks = 0;

button.addEventListener("click", () => {
  clicks += 1;
  button.textContent = `Clicked ${clicks} times`;
});
"""

MAIN_PY = """def greet(name):
    return f"Hello, {name}!"


if __name__ == "__main__":
    print(greet("Flint"))
"""

WEB = {"index.html": INDEX_HTML, "style.css": STYLE_CSS, "script.js": SCRIPT_JS}
PYTHON = {"main.py": MAIN_PY}
