"""The preview: the srcdoc document, its isolation (CSP, the sandboxed frame), highlighting."""
