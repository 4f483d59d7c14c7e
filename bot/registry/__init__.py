"""The candidate registry: offices' candidate lists, review states, bindings and pushes."""
