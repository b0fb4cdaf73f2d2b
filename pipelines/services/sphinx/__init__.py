"""Offline streaming speech-to-text with pocketsphinx (the en-us model ships in its wheel).

`SphinxSTTService` decodes while the user speaks and finalises on the VAD's stop, drawing
its decoder from a process-wide `DecoderPool` so that calls reuse the ~96 MB decoders.
"""
