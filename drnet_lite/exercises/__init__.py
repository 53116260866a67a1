"""Automatic checks for the notebooks' exercises, one module per notebook.

Every check takes the student's function, tries it on cases it builds itself,
compares the results with the package's own implementation, prints a friendly
verdict ("Correct! ..." or "Not yet. ..." with a hint) and returns ``True`` or
``False``; it never raises on a wrong answer. A notebook imports what it needs
from here:

    >>> from drnet_lite.exercises import check_bounce, solution_if_unsolved   # doctest: +SKIP
    >>> check_bounce(bounce_positions)                                         # doctest: +SKIP
    Correct! ...
    True

In the notebooks every check has one form, ``expect(check_x(answer), ...)``
(:func:`drnet_lite.course.expect`): a student sees the verdict and the hint,
never a traceback; CI fails when a right answer is rejected or a wrong one
accepted. Each exercise is a stub that raises ``NotImplementedError`` (the
checks explain it) followed by a hidden solution cell that ends with
:func:`solution_if_unsolved`. A checker given the stub says so and returns
:data:`UNWRITTEN` (false, but not a failure: ``expect`` runs on), and a cell
after the check that needs the function takes
``package_if_unsolved(f, reference_f)``, so a student's copy (no solutions)
runs from top to bottom before the student has written anything.

=========  ==================================================================
module     notebook: check
=========  ==================================================================
``nb00``   00 start here: :func:`check_relative_change`
``nb01``   01 data: :func:`check_bounce`
``nb02``   02 reconstruction: :func:`check_reconstruction_loss`
``nb03``   03 similarity: :func:`check_similarity_loss`
``nb04``   04 adversarial: :func:`check_scene_pairs`
``nb05``   05 training: :func:`check_sample_frames`
``nb06``   06 swap: :func:`check_swap_matrix`
``nb07``   07 prediction: :func:`check_generation_loop`
``nb08``   08 real video: :func:`check_tiles`
``nb09``   09 KTH: :func:`check_segments`
``nb10``   10 turntable: :func:`check_azimuth_features`, :func:`check_swap_target`
=========  ==================================================================

The machinery they share (calling the student's code safely, printing the
verdict, recognising a stub) is in :mod:`drnet_lite.exercises._common`.
"""
from __future__ import annotations

from ._common import UNWRITTEN, Unwritten, is_stub, package_if_unsolved, solution_if_unsolved
from .nb00 import check_relative_change, reference_relative_change
from .nb01 import check_bounce
from .nb02 import check_reconstruction_loss
from .nb03 import check_similarity_loss
from .nb04 import check_scene_pairs, reference_scene_pairs
from .nb05 import check_sample_frames, reference_sample_frames
from .nb06 import check_swap_matrix
from .nb07 import check_generation_loop
from .nb08 import check_tiles, reference_tiles
from .nb09 import check_segments, reference_segments
from .nb10 import check_azimuth_features, check_swap_target, reference_azimuth_features, reference_swap_target

__all__ = [
    "UNWRITTEN",
    "Unwritten",
    "check_azimuth_features",
    "check_bounce",
    "check_generation_loop",
    "check_reconstruction_loss",
    "check_relative_change",
    "check_sample_frames",
    "check_scene_pairs",
    "check_segments",
    "check_similarity_loss",
    "check_swap_matrix",
    "check_swap_target",
    "check_tiles",
    "is_stub",
    "package_if_unsolved",
    "reference_azimuth_features",
    "reference_relative_change",
    "reference_sample_frames",
    "reference_scene_pairs",
    "reference_segments",
    "reference_swap_target",
    "reference_tiles",
    "solution_if_unsolved",
]
