"""Local faster-whisper speech-to-text whose model every call in the process shares.

`FasterWhisperSTTService` is Pipecat's `WhisperSTTService` with the model drawn from the
process-wide `ingest.whisper_models.WhisperModelCache` instead of loaded per call.
"""
