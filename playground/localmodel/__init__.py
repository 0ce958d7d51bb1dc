"""The embedded local model: registry, fetching/verification, and the llama.cpp server.

Pure Python (no Django imports at module level), so scripts and tests can use it.
"""
