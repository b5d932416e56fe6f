"""Helpers of kent_mm's analysis tools (not part of the kent_mm package).

The tools import them as ``utils.<module>`` with this folder's parent,
``tools/analysis_tools``, on ``sys.path``. ``plotting`` needs matplotlib
and ``inference`` a model: import the module a tool needs.
"""
