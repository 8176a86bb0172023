"""Gymnasium wrappers that any RL code can use on batterygym's envs: views of the same env and the same money.

- :mod:`batterygym.wrappers.industrial_cap`: ``Industrial-v0`` acted on through an import cap held over a
  block of hours (the water-filling cap and an offset to it).
"""
