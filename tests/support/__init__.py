"""Helpers the tests (and the benchmarks) share, one module per kind of thing they build.

Fixtures stay in the conftest files; what is called as a plain function lives here, so no
module imports a test module or a conftest.
"""
