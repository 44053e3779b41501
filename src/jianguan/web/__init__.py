"""The web shell: layout, navigation, rendering, shared templates and static assets."""
