"""Typed access to the data in knowledge/, faq/ and rules/: the notices' facts as models."""
