// Tests for PluginHost live here.
