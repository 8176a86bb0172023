"""Gymnasium wrappers that any RL code can use on batterygym's envs: views of the same env and the same money.

- :mod:`batterygym.wrappers.industrial_cap`: ``Industrial-v0`` acted on through an import cap held over a
  block of hours (the water-filling cap and an offset to it).
- :mod:`batterygym.wrappers.items`: ``V2G-v0`` and ``Fleet-v0`` one charger or asset at a time, on its own
  reward, and one item's policy played on every item.
- :mod:`batterygym.wrappers.microgrid_plan`: ``MicrogridBSS-v0``'s look-ahead plan of the station's charging
  and the storage, from the observation; :mod:`batterygym.wrappers.microgrid_knobs` acts on the env through
  that plan's knobs, held over a block of hours.
"""
