"""CLIP image/text embeddings for the stage localizer (docs/architecture.md), with an on-disk cache.

Modules (import from them directly; this file imports nothing):

* :mod:`~viddiff.tools.clip.weights` -- where weights come from: open_clip's pretrained
  configurations, the local open_clip / Hugging Face caches, the model hub (only when it is
  reachable and not switched off), checkpoint fingerprints, and errors that say how to fix a
  missing download. Needs no torch to import.
* :mod:`~viddiff.tools.clip.model` -- the model: ``ClipSpec``, ``ClipEmbedder``, the
  ``Embedder`` interface, device choice, ``load_clip`` (once per spec and process) and
  ``lazy_embedder``. Imports torch and open_clip.
* :mod:`~viddiff.tools.clip.cache` -- frame embeddings computed at most once: the cache key,
  ``EmbeddingCache`` on disk, the in-process memo and ``embed_video``. Needs no torch to import.
"""
