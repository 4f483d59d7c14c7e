"""Typed access to the data directories (knowledge/, faq/, rules/): the notices' facts as pydantic models."""
