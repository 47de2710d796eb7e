"""nolabel's version, in a module of its own: readable without importing the package root
(which loads every estimator), by setuptools and by the modules that record it."""

__version__ = "0.1.0"
