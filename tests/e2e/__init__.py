"""End-to-end tests: the real app in a subprocess, driven by headless Chromium via Playwright."""
