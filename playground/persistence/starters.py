"""Start templates: the files a new playground begins with."""

from __future__ import annotations

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

TEMPLATES = {"web": WEB, "python": PYTHON}
TEMPLATE_LABELS = {"web": "Web page", "python": "Python"}
