"""Settings of the analyses: scoring weights, simulation assumptions, accepted findings.

Every settings section an inventory or a settings file can hold has its
model here, with its documented defaults and its loading (defaults, then the
inventory's own section, then a file or mapping given by the caller). The
loader checks an inventory's sections against these models, so a typo is
reported at load time with its file, line and key path.
"""

from blastradius.settings.weights import Weights, default_weights, load_weights

__all__ = ["Weights", "default_weights", "load_weights"]
