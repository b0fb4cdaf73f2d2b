"""Speech services used by the voice pipelines, one sub-package per provider."""
