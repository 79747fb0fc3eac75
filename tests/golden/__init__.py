"""Golden files of the regression test (tests/test_golden.py): the generator, the comparison and the files."""
