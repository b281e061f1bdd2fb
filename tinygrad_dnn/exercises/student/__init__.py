"""Blank student skeletons of the exercises (generated from ``../solutions``; do not edit here).

Students copy them with ``tinygrad-dnn exercises init DIR`` and edit the copies.
"""
