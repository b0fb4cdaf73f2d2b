"""Production providers for the ingest steps: cloud APIs (Deepgram, Anthropic, ElevenLabs) and
a local model (faster-whisper), each behind the `Protocol`s in `ingest.types`.

`ingest.providers.factory` picks one per step from plain settings values and falls back to
the offline engines when a key or model is missing.
"""
