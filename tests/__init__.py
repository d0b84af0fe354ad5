"""The test suite is a package, so test modules in different folders may share a basename."""
