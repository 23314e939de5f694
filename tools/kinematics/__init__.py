"""Named body-motion metrics measured on pose, with uncertainties, and A-vs-B comparison.

A metric is a per-frame signal (a joint angle, a normalised height or width, a speed) reduced
over a stage segment (or the whole clip) by an aggregate (min, max, mean, median, range) -- or a
timing rule (durations, pauses). Measuring one on two videos and applying the comparison rule
gives a labelled, quantitative statement ("knee angle at the bottom: A 71°, B 96° → the knees
bend more in A").

Fair comparison of different people and cameras:

* angles are in degrees and need no normalisation. They are read on MediaPipe's 3-D world
  landmarks when the clip has them, so that they depend far less on where the camera stands;
  "from vertical" angles against a vertical estimated from the clip's standing frames (world
  axes follow the camera, not gravity). Each description ends by saying what it is read on;
* positions, heights and widths stay image-based (2-D): they say where things are in the
  picture, which is what the report shows;
* lengths are divided by the performer's **torso length** (shoulder midpoint to hip midpoint, the
  median over the clip), unit ``TL``. The torso hardly changes length as a person bends knees,
  hips or arms, unlike standing height, and it scales with body size and camera distance alike;
* times are in seconds, read from the sampled frames' timestamps; speeds in ``TL/s``.

Modules (import what you need from them; this file imports nothing, so that reading
:mod:`~viddiff.tools.kinematics.results` does not load the metric engine):

* :mod:`~viddiff.tools.kinematics.results` -- the result types (``MetricValue``,
  ``Measurement``) and the literal types (``Label``, ``Direction``, ``Kind`` ...).
* :mod:`~viddiff.tools.kinematics.signals` -- per-frame body signals and the per-clip
  ``ClipContext`` (scale, frame period, 3-D or 2-D, the estimated vertical).
* :mod:`~viddiff.tools.kinematics.uncertainty` -- per-frame noise, noise floors, and the
  aggregates with the standard uncertainty of their value; the limits of that uncertainty.
* :mod:`~viddiff.tools.kinematics.timing` -- the timing metrics (stage and movement duration,
  longest pause).
* :mod:`~viddiff.tools.kinematics.registry` -- ``MetricSpec``, ``METRICS``, the registration
  helpers, ``get_metric``, ``list_metrics`` and ``measure_metric``.
* :mod:`~viddiff.tools.kinematics.catalogue` -- the definition of every metric.
* :mod:`~viddiff.tools.kinematics.comparison` -- the decision rule (``K_SIGMA``, the minimum
  effect, left/right trust), ``compare_values``, ``compare_metric`` and ``format_value``.

How to add a metric: define it in :mod:`~viddiff.tools.kinematics.catalogue` with ``add``,
``add_bilateral`` or ``register`` (keyword arguments); a new per-frame signal goes into
:mod:`~viddiff.tools.kinematics.signals`, a new timing rule into
:mod:`~viddiff.tools.kinematics.timing`. It is then in ``METRICS``, offered to the tools and
open mode, and compared by the same rule as every other metric.
"""
