"""The embedded local model: llama.cpp in a supervised process, model files fetched and verified."""
