"""Figures the playbooks take from the assessment: RAG index size and long-context caching."""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict

from app.recipes.prices import EmbeddingPrice, ServingPrice

# Characters per token of English prose, and bytes per stored vector dimension (float32).
CHARS_PER_TOKEN = 4
BYTES_PER_DIMENSION = 4


class RagFigures(BaseModel):
    """What indexing the material takes: chunks, embedding tokens and cost, index size."""

    model_config = ConfigDict(frozen=True)

    corpus_tokens: int
    chunk_tokens: int
    overlap_tokens: int
    chunks: int
    embedded_tokens: int
    embedding_usd: float
    embedding_label: str
    vector_mb: float
    text_mb: float


class LongContextFigures(BaseModel):
    """Tokens per request with the whole material in the prompt, and what caching saves."""

    model_config = ConfigDict(frozen=True)

    tokens_per_request: int
    fits: bool | None
    context_window: int | None
    monthly_requests: int
    uncached_usd: float
    cached_usd: float
    saving_usd: float
    model_label: str


def rag_figures(
    corpus_tokens: int, embedding: EmbeddingPrice, *, chunk_tokens: int = 512, overlap: int = 64
) -> RagFigures:
    """Chunks of `chunk_tokens` overlapping by `overlap`, each embedded once; float32 vectors."""
    step = chunk_tokens - overlap
    chunks = max(1, math.ceil(max(corpus_tokens - overlap, 1) / step)) if corpus_tokens else 0
    embedded = chunks * chunk_tokens if chunks > 1 else corpus_tokens
    return RagFigures(
        corpus_tokens=corpus_tokens,
        chunk_tokens=chunk_tokens,
        overlap_tokens=overlap,
        chunks=chunks,
        embedded_tokens=embedded,
        embedding_usd=round(embedded * embedding.per_million_tokens / 1e6, 2),
        embedding_label=embedding.label,
        vector_mb=round(chunks * embedding.dimensions * BYTES_PER_DIMENSION / 1e6, 1),
        text_mb=round(embedded * CHARS_PER_TOKEN / 1e6, 1),
    )


def long_context_figures(
    corpus_tokens: int,
    prompt_tokens: int,
    monthly_requests: int,
    row: ServingPrice,
    *,
    context_window: int | None = None,
) -> LongContextFigures:
    """Input cost of a month with the material in every prompt, uncached against cached."""
    per_request = corpus_tokens + prompt_tokens
    uncached = monthly_requests * per_request * row.input / 1e6
    cached = monthly_requests * (corpus_tokens * row.cached_input + prompt_tokens * row.input) / 1e6
    return LongContextFigures(
        tokens_per_request=per_request,
        fits=None if context_window is None else per_request <= context_window,
        context_window=context_window,
        monthly_requests=monthly_requests,
        uncached_usd=round(uncached, 2),
        cached_usd=round(cached, 2),
        saving_usd=round(uncached - cached, 2),
        model_label=row.label,
    )
