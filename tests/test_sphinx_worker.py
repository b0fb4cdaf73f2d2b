"""The offline batch decoder reads the same audio the same way, whatever it decoded before."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest import sphinx_worker
from ingest.offline_stt import BLOCK_REGIONS
from ingest.vad import speech_regions
from tests.support.dialogue import SALES_CALL, render_call, write_mono_wav


@pytest.fixture(scope="module")
def call_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_mono_wav(render_call(SALES_CALL[:8]), tmp_path_factory.mktemp("sphinx") / "c.wav")


def test_a_block_decodes_the_same_after_any_other_block(call_wav: Path) -> None:
    regions = [(r.start, r.end) for r in speech_regions(call_wav)]
    blocks = [regions[n : n + BLOCK_REGIONS] for n in range(0, len(regions), BLOCK_REGIONS)]
    assert len(blocks) >= 2
    in_order = [sphinx_worker.decode_block(str(call_wav), block) for block in blocks]
    # The same process, another history: the blocks again, last first.
    for index in reversed(range(len(blocks))):
        assert sphinx_worker.decode_block(str(call_wav), blocks[index]) == in_order[index]
    assert any(text for block in in_order for text, _words in block)
