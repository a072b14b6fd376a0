"""The municipality's administration area."""
