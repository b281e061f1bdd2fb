"""Reference solutions of the exercises (for instructors). Same module API as ``../student``.

Grade them with ``tinygrad-dnn exercises check --all --solutions``. The student skeletons are generated
from these files (``python -m tinygrad_dnn.exercises.skeletons``).
"""
