"""The database: the UTC column type, the models, the engine and the migrations."""
