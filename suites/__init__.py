"""Suite definitions shipped as package data: one TOML file per suite (see audit.suite)."""
