"""Offline neural text-to-speech with Piper, its GPL engine kept in a separate process."""
