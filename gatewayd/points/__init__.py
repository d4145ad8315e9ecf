"""The point stage: what a value means, declared once per point and done in one place.

  config.py     the transform keys every point may use (scale/offset, 4-20 mA loop, filter,
                valid range, deadband/heartbeat, alarms) and the old spellings they replace
  transform.py  pure steps and `Transform`: raw value + device quality -> reading or nothing
  alarms.py     the one alarm engine (limits with hysteresis, persistence and delay)
  stage.py      `PointStage`: one per device, called by the runner between read and sink

Pure: no I/O, no clock but the readings' own timestamps.
"""
