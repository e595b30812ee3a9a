"""Sentence embeddings for intent by meaning: WordLlama's packaged 256-d model, loaded once, never downloaded.

WordLlama (MIT, numpy only) ships its 16 MB weights and its tokenizer inside the wheel. Its loader looks
for the tokenizer under `<cache_dir>/tokenizers/` and the weights under `<cache_dir>/weights/`, which is
exactly the package's own layout, so pointing `cache_dir` at the package folder with downloads disabled
loads the bundled files and can never reach the network.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # numpy loads with the model, on first use: start-up never pays for it
    import numpy as np
    import numpy.typing as npt

    Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors (one row per text)."""

    def embed(self, texts: Sequence[str]) -> Vectors: ...


class WordLlamaEmbedder:
    """The packaged WordLlama model; the first `embed` loads it (about 0.2 s), later calls take ~0.1 ms."""

    def __init__(self, dim: int = 256) -> None:
        self._dim = dim
        self._model: Any = None
        self._lock = threading.Lock()

    def _loaded(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    import wordllama  # imported here: the real-model path never pays for it

                    package = Path(wordllama.__file__).parent
                    self._model = wordllama.WordLlama.load(
                        config="l2_supercat", dim=self._dim, cache_dir=package, disable_download=True
                    )
        return self._model

    def embed(self, texts: Sequence[str]) -> Vectors:
        import numpy as np

        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        vectors = self._loaded().embed(list(texts), norm=True)
        return np.asarray(vectors, dtype=np.float32)


@lru_cache(maxsize=1)
def default_embedder() -> WordLlamaEmbedder:
    return WordLlamaEmbedder()


@lru_cache(maxsize=4096)
def embed_one(text: str) -> Vectors:
    """One text's vector, cached: the agent loop asks the model several times per turn about the same words."""
    vector: Vectors = default_embedder().embed([text])[0]
    return vector
