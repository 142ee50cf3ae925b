"""Helpers shared by several test modules: plain functions, classes and constants (fixtures live in
tests/conftest.py). A test module imports from here or from conftest, never from another test
module (tests/test_quality.py holds it to that)."""
