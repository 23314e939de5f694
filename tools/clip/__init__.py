"""CLIP image/text embeddings for the stage localizer (docs/architecture.md), with an on-disk cache.

Modules (import from them directly; this file imports nothing):

* :mod:`~viddiff.tools.clip.weights` -- where weights come from: open_clip's pretrained
  configurations, the local open_clip / Hugging Face caches, the model hub (only when it is
  reachable and not switched off), checkpoint fingerprints, and errors that say how to fix a
  missing download. Needs no torch to import.
* :mod:`~viddiff.tools.clip.spec` -- what is asked for and what is needed: ``ClipSpec``
  (model, weights, device; its defaults are the run settings' defaults), the ``Embedder``
  interface and ``lazy_embedder``. Needs no torch to import.
* :mod:`~viddiff.tools.clip.model` -- the model: ``ClipEmbedder``, device choice and
  ``load_clip`` (once per spec and process). Imports torch and open_clip (the ``clip``
  extra).
* :mod:`~viddiff.tools.clip.cache` -- frame embeddings computed at most once: the cache key,
  ``EmbeddingCache`` on disk, the in-process memo and ``embed_video``. Needs no torch to import.
"""
