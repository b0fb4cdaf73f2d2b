"""Offline text-to-speech with espeak-ng, loaded through ctypes from `espeakng_loader`."""
