"""Home Assistant custom integrations of this repository (`sigen_cloud`)."""
