"""espeak-ng as a Pipecat TTS service; the synthesis itself is `ingest.espeak`."""
