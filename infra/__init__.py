"""What deploy uses: environments, names, packaging and one module per kind of resource."""
