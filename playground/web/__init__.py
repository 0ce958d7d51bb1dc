"""HTTP: the pages (new, playground, share, embed), import/export, and the JSON and SSE APIs."""
